/* The live explorer (page "Explore the networks", issue 20): the book's trained networks in the
 * reader's browser with TensorFlow.js. Each model is the list of operations cnnbook.book.explorer
 * exported from its .keras file (model.json "layers"), with its weights in the TF.js weights format
 * (tf.io.loadWeights). Grad-CAM's gradients come from TF.js autodiff (tf.grad): the scores of all
 * ten classes at once, from the maps of the Grad-CAM layer through the rest of the network.
 * TensorFlow.js (npm, package.json) and the weights load only when the reader first picks a model.
 * `make check-site` compares the results with Keras (window.cnnExplorer.parity). */
(function () {
  "use strict";
  const HERE = new URL(".", document.currentScript.src); // _static/explorer/
  const DATA = new URL("../explorer-data/", HERE); // cnnbook.book.explorer's files
  const TFJS = new URL("../tfjs/", HERE); // TensorFlow.js from node_modules
  const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
  const SHOWN_CHANNELS = 16;
  const timings = { firstPrediction: [], interaction: [] };

  /* ---------- TensorFlow.js, loaded on first use ---------- */
  function loadScript(url) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = url;
      s.onload = resolve;
      s.onerror = () => reject(new Error("could not load " + url));
      document.head.appendChild(s);
    });
  }
  let tfReady = null;
  function tfjs() {
    if (!tfReady) {
      tfReady = (async () => {
        await loadScript(new URL("tf.min.js", TFJS).href); // TF.js with its gradients and CPU backend
        await loadScript(new URL("tf-backend-wasm.min.js", TFJS).href);
        tf.wasm.setWasmPaths(TFJS.href);
        let ok = false;
        try {
          ok = new URLSearchParams(location.search).get("tfjs-backend") !== "cpu" && await tf.setBackend("wasm");
        } catch (e) {
          ok = false;
        }
        if (!ok) await tf.setBackend("cpu"); // no WebAssembly: TF.js's plain JavaScript backend
        await tf.ready();
        return tf;
      })();
    }
    return tfReady;
  }

  async function fetchJson(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error("could not load " + url + " (" + response.status + ")");
    return response.json();
  }

  /* ---------- a network: the exported operations, run with TF.js ---------- */
  class Net {
    constructor(spec, weights) {
      this.spec = spec;
      this.w = weights;
      this.layers = spec.layers;
      this.cut = this.layers.findIndex((l) => l.name === spec.gradcam_layer);
      this.maps = new Set(spec.maps);
      if (this.cut < 0) throw new Error(spec.name + ": no layer " + spec.gradcam_layer);
    }
    static async load(name) {
      const spec = await fetchJson(new URL(name + ".json", DATA).href);
      const weights = await tf.io.loadWeights(spec.weightsManifest, DATA.href);
      return new Net(spec, weights);
    }
    activate(x, fn) {
      if (fn === "relu") return tf.relu(x);
      if (fn === "gelu_tanh") { // Keras's gelu(approximate=True)
        const inner = tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
        return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
      }
      if (fn === "linear") return x;
      throw new Error("unknown activation " + fn);
    }
    apply(op, x) {
      const w = this.w;
      switch (op.op) {
        case "scale": return tf.add(tf.mul(x, op.scale), op.offset);
        case "affine": return tf.add(tf.mul(x, w[op.scale]), w[op.shift]);
        case "conv2d": {
          let y = tf.conv2d(x, w[op.kernel], op.strides, op.padding);
          if (op.bias) y = tf.add(y, w[op.bias]);
          return this.activate(y, op.activation);
        }
        case "maxpool": return tf.maxPool(x, op.size, op.strides, op.padding);
        case "globalmaxpool": return tf.max(x, [1, 2]);
        case "flatten": return tf.reshape(x, [x.shape[0], -1]);
        case "dense": {
          let y = tf.matMul(x, w[op.kernel]);
          if (op.bias) y = tf.add(y, w[op.bias]);
          return this.activate(y, op.activation);
        }
        case "activation": return this.activate(x, op.activation);
        default: throw new Error("unknown operation " + op.op);
      }
    }
    head(a, maps) { // from the Grad-CAM layer's maps to the logits (keeping map layers' outputs in maps)
      let y = a;
      for (let i = this.cut + 1; i < this.layers.length; i++) {
        y = this.apply(this.layers[i], y);
        if (maps && this.maps.has(this.layers[i].name)) maps[this.layers[i].name] = y;
      }
      return y;
    }
    /* One image (32x32x3 pixel values 0-255) -> logits, the maps of every map layer, and the
     * Grad-CAM map of each of the ten classes (divided by its maximum), as plain arrays. One
     * image at a time (a click during a computation waits for it). */
    analyse(pixels) {
      const run = () => this.analyseNow(pixels);
      this.queue = (this.queue || Promise.resolve()).then(run, run);
      return this.queue;
    }
    async analyseNow(pixels) {
      const forward = tf.tidy(() => { // up to the Grad-CAM layer, on the fast backend (WebAssembly)
        let x = tf.tensor4d(pixels, [1, 32, 32, 3], "float32");
        const maps = {};
        for (let i = 0; i <= this.cut; i++) {
          x = this.apply(this.layers[i], x);
          if (this.maps.has(this.layers[i].name)) maps[this.layers[i].name] = x;
        }
        return { features: x, maps };
      });
      const result = { maps: {}, cams: [] };
      for (const [name, t] of Object.entries(forward.maps)) {
        result.maps[name] = { shape: t.shape.slice(1), data: await t.data() };
      }
      const features = await forward.features.data();
      const shape = forward.features.shape;
      tf.dispose([forward.features, ...Object.values(forward.maps)]);
      // The rest, and its gradients, on TF.js's CPU backend: the WebAssembly backend's MaxPoolGrad
      // sends no gradient through a pooling window whose maximum is 0 (all of a ReLU's zeros), where
      // TensorFlow sends it to the window's first maximum, as the CPU backend does; Grad-CAM's
      // weights (the mean gradients) depend on that choice. The part after the Grad-CAM layer is small.
      const fast = tf.getBackend();
      if (fast !== "cpu") await tf.setBackend("cpu");
      try {
        const out = tf.tidy(() => {
          const a = tf.tensor4d(features, shape);
          const later = {};
          const logits = this.head(a, later);
          const k = logits.shape[1];
          const tiled = tf.tile(a, [k, 1, 1, 1]); // one copy of the maps per class
          const eye = tf.eye(k);
          const grads = tf.grad((m) => tf.sum(tf.mul(this.head(m), eye)))(tiled); // d y_c / d A
          const alpha = tf.mean(grads, [1, 2]); // (k, channels)
          const cam = tf.relu(tf.sum(tf.mul(tiled, tf.reshape(alpha, [k, 1, 1, -1])), 3));
          const peak = tf.max(cam, [1, 2], true);
          const cams = tf.where(tf.greater(peak, 0), tf.div(cam, tf.maximum(peak, 1e-30)), tf.zerosLike(cam));
          return { logits, cams, later };
        });
        result.logits = Array.from(await out.logits.data());
        for (const [name, t] of Object.entries(out.later)) {
          result.maps[name] = { shape: t.shape.slice(1), data: await t.data() };
        }
        const [k, h, w] = out.cams.shape;
        const camData = await out.cams.data();
        for (let c = 0; c < k; c++) result.cams.push(camData.slice(c * h * w, (c + 1) * h * w));
        result.camShape = [h, w];
        tf.dispose([out.logits, out.cams, ...Object.values(out.later)]);
      } finally {
        if (fast !== "cpu") await tf.setBackend(fast);
      }
      return result;
    }
  }

  function softmax(z, T) {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp((v - m) / T));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  }

  const nets = {};
  async function net(name) {
    await tfjs();
    if (!nets[name]) nets[name] = Net.load(name);
    return nets[name];
  }
  let imagesPromise = null;
  function images() {
    if (!imagesPromise) {
      imagesPromise = (async () => {
        const info = await fetchJson(new URL("images.json", DATA).href);
        const response = await fetch(new URL("images.bin", DATA).href);
        info.pixels = new Uint8Array(await response.arrayBuffer());
        info.image = (i) => info.pixels.subarray(i * 3072, (i + 1) * 3072);
        return info;
      })();
    }
    return imagesPromise;
  }

  /* ---------- drawing ---------- */
  const COLORMAP = [[48, 18, 59], [70, 107, 227], [41, 187, 236], [49, 241, 147], [163, 253, 61], [237, 208, 58], [251, 128, 34], [212, 52, 5], [122, 4, 3]]; // turbo
  function colour(v) {
    const x = Math.min(1, Math.max(0, v)) * (COLORMAP.length - 1);
    const i = Math.min(COLORMAP.length - 2, Math.floor(x));
    const f = x - i;
    return COLORMAP[i].map((a, j) => Math.round(a + f * (COLORMAP[i + 1][j] - a)));
  }
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  function pixelCanvas(pixels, size, label) { // RGB uint8 32x32 -> a canvas shown size x size
    const c = el("canvas", { width: 32, height: 32, role: "img", "aria-label": label });
    const ctx = c.getContext("2d");
    const img = ctx.createImageData(32, 32);
    for (let i = 0; i < 1024; i++) {
      img.data.set([pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2], 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
    c.style.width = c.style.height = size + "px";
    return c;
  }
  function mapCanvas(values, h, w, rgba) { // values in [0, 1] -> an h x w canvas
    const c = el("canvas", { width: w, height: h });
    const ctx = c.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) img.data.set(rgba(values[i]), 4 * i);
    ctx.putImageData(img, 0, 0);
    return c;
  }

  /* ---------- one explorer on a page ---------- */
  class Explorer {
    constructor(root) {
      this.root = root;
      this.short = root.dataset.variant === "short";
      this.words = JSON.parse(root.querySelector("script.cnn-explorer-words").textContent);
      this.model = null;
      this.pixels = null;
      this.camClass = null;
      this.result = null;
      this.build();
    }
    t(key, ...args) {
      let text = this.words[key] || key;
      for (const a of args) text = text.replace("{}", a);
      return text;
    }
    cls(i) { return this.words[this.info.class_names[i]] || this.info.class_names[i]; }
    async build() {
      const r = this.root;
      this.status = el("p", { class: "cnn-explorer-status", role: "status", "aria-live": "polite" }, this.t("Choose a model to load it in your browser."));
      const models = el("div", { class: "cnn-explorer-models", role: "group", "aria-label": this.t("Model") });
      for (const name of JSON.parse(r.dataset.models)) {
        models.append(el("button", { type: "button", "data-model": name, onclick: () => this.choose(name) }, name));
      }
      this.grid = el("div", { class: "cnn-explorer-grid" });
      this.preview = el("div", { class: "cnn-explorer-preview" });
      this.probs = el("div", { class: "cnn-explorer-probs" });
      this.cam = el("div", { class: "cnn-explorer-cam" });
      this.maps = el("div", { class: "cnn-explorer-maps" });
      const panels = [
        el("section", { class: "cnn-explorer-panel" }, el("h4", {}, this.t("Model")), models, this.status),
        el("section", { class: "cnn-explorer-panel images" }, el("h4", {}, this.t("Test images")),
          el("p", { class: "cnn-explorer-note" }, "★ " + this.t("marked: the Visualization chapter's most confident mistakes")), this.grid),
      ];
      if (!this.short) panels.push(this.drawPanel());
      panels.push(el("section", { class: "cnn-explorer-panel" }, el("h4", {}, this.t("What the network gets (32 × 32)")), this.preview));
      panels.push(el("section", { class: "cnn-explorer-panel" }, el("h4", {}, this.t("Probabilities")),
        el("p", { class: "cnn-explorer-note" }, this.t("Click a class for its Grad-CAM.")), this.probs));
      panels.push(el("section", { class: "cnn-explorer-panel" }, this.cam));
      if (!this.short) {
        this.layerSelect = el("select", { "aria-label": this.t("Layer"), onchange: () => this.showMaps() });
        panels.push(el("section", { class: "cnn-explorer-panel" }, el("h4", {}, this.t("Activation maps")),
          el("label", {}, this.t("Layer") + " ", this.layerSelect), this.maps));
      }
      r.querySelector(".cnn-explorer-body").replaceChildren(...panels);
      try {
        this.info = await images();
      } catch (e) {
        return this.fail(e);
      }
      for (let i = 0; i < this.info.count; i++) {
        const label = this.cls(this.info.labels[i]) + (this.info.chapter_mistake[i] ? " ★" : "");
        const b = el("button", { type: "button", class: "cnn-explorer-thumb" + (this.info.chapter_mistake[i] ? " mistake" : ""),
          title: label, "data-index": i, onclick: () => this.pick(this.info.image(i), i) },
        pixelCanvas(this.info.image(i), 32, label));
        this.grid.append(b);
      }
      this.pixels = this.info.image(0);
      this.trueClass = this.info.labels[0];
      this.showPreview();
    }
    drawPanel() {
      const size = 160;
      const pad = el("canvas", { width: size, height: size, class: "cnn-explorer-pad", "aria-label": this.t("Draw or upload") });
      const ctx = pad.getContext("2d");
      const clear = () => { ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, size, size); };
      clear();
      const ink = el("input", { type: "color", value: "#1f3a93", "aria-label": this.t("Colour") });
      let down = false;
      const at = (e) => { const b = pad.getBoundingClientRect(); return [(e.clientX - b.left) * size / b.width, (e.clientY - b.top) * size / b.height]; };
      pad.addEventListener("pointerdown", (e) => { down = true; pad.setPointerCapture?.(e.pointerId); ctx.beginPath(); ctx.moveTo(...at(e)); });
      pad.addEventListener("pointermove", (e) => {
        if (!down) return;
        ctx.strokeStyle = ink.value; ctx.lineWidth = 14; ctx.lineCap = ctx.lineJoin = "round";
        ctx.lineTo(...at(e)); ctx.stroke();
      });
      const up = () => { if (down) { down = false; this.pick(this.fromCanvas(pad), null); } };
      pad.addEventListener("pointerup", up);
      pad.addEventListener("pointerleave", up);
      const upload = el("input", { type: "file", accept: "image/*", onchange: (e) => { // shown as its label
        const file = e.target.files[0];
        if (!file) return;
        const img = new Image();
        img.onload = () => { // centre-crop to a square, then the drawing pad
          const s = Math.min(img.width, img.height);
          ctx.drawImage(img, (img.width - s) / 2, (img.height - s) / 2, s, s, 0, 0, size, size);
          URL.revokeObjectURL(img.src);
          this.pick(this.fromCanvas(pad), null);
        };
        img.src = URL.createObjectURL(file);
      } });
      return el("section", { class: "cnn-explorer-panel" }, el("h4", {}, this.t("Draw or upload")), pad,
        el("div", { class: "cnn-explorer-tools" }, ink,
          el("button", { type: "button", onclick: clear }, this.t("Clear")),
          el("button", { type: "button", onclick: () => this.pick(this.fromCanvas(pad), null) }, this.t("Use the drawing"))),
        el("label", { class: "cnn-explorer-upload" }, this.t("Upload an image"), upload));
    }
    fromCanvas(canvas) { // scaled to 32 x 32 by the browser (smoothing on), RGB
      const small = el("canvas", { width: 32, height: 32 });
      const ctx = small.getContext("2d");
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(canvas, 0, 0, 32, 32);
      const rgba = ctx.getImageData(0, 0, 32, 32).data;
      const rgb = new Uint8Array(3072);
      for (let i = 0; i < 1024; i++) rgb.set(rgba.subarray(4 * i, 4 * i + 3), 3 * i);
      return rgb;
    }
    showPreview() {
      const label = this.trueClass === null ? "" : this.t("true class: {}", this.cls(this.trueClass));
      this.preview.replaceChildren(pixelCanvas(this.pixels, 128, label || this.t("What the network gets (32 × 32)")), el("p", {}, label));
    }
    fail(e) {
      this.status.textContent = this.t("The explorer could not start: {}", e.message || String(e));
      this.root.dataset.state = "error";
    }
    async choose(name) {
      const started = performance.now();
      for (const b of this.root.querySelectorAll("[data-model]")) b.setAttribute("aria-pressed", String(b.dataset.model === name));
      this.status.textContent = this.t("Loading TensorFlow.js and the {} model…", name);
      this.root.dataset.state = "loading";
      try {
        this.model = await net(name);
        this.backend = tf.getBackend();
      } catch (e) {
        return this.fail(e);
      }
      if (this.layerSelect) {
        this.layerSelect.replaceChildren(...this.model.spec.maps.map((m) => el("option", { value: m }, m)));
        this.layerSelect.value = this.model.spec.maps[0];
      }
      this.camClass = null;
      await this.run(started, "firstPrediction");
      this.status.textContent = this.t("{} is ready ({} backend). Pick an image.", name, this.backend) + " " + this.status.textContent;
    }
    async pick(pixels, index) {
      this.pixels = pixels;
      this.trueClass = index === null ? null : this.info.labels[index];
      this.camClass = null;
      for (const b of this.grid.children) b.setAttribute("aria-pressed", String(Number(b.dataset.index) === index));
      this.showPreview();
      if (this.model) await this.run(performance.now(), "interaction");
    }
    async run(started, kind) {
      this.root.dataset.state = "computing";
      try {
        this.result = await this.model.analyse(this.pixels);
      } catch (e) {
        return this.fail(e);
      }
      this.showProbabilities();
      this.showCam();
      this.showMaps();
      const ms = performance.now() - started;
      timings[kind].push(ms);
      this.status.textContent = this.t("Computed in {} ms.", Math.round(ms));
      this.root.dataset.state = "ready";
    }
    showProbabilities() {
      const z = this.result.logits;
      const T = this.model.spec.temperature;
      const raw = softmax(z, 1), scaled = softmax(z, T);
      const predicted = raw.indexOf(Math.max(...raw));
      const pct = (p) => (100 * p).toLocaleString(document.documentElement.lang || "en", { maximumFractionDigits: 1, minimumFractionDigits: 1 }) + "%";
      const legend = el("p", { class: "cnn-explorer-legend" },
        el("span", { class: "bar raw" }), " " + this.t("without temperature") + "  ",
        el("span", { class: "bar scaled" }), " " + this.t("with temperature T = {}", T.toLocaleString(document.documentElement.lang || "en", { maximumFractionDigits: 2, minimumFractionDigits: 2 })));
      const rows = raw.map((p, c) => el("button", { type: "button", class: "cnn-explorer-row" + (c === predicted ? " predicted" : ""), "data-class": c,
        "aria-pressed": String(c === (this.camClass ?? predicted)), onclick: () => { this.camClass = c; this.showCam(); this.showProbabilities(); } },
      el("span", { class: "name" }, this.cls(c) + (c === predicted ? " (" + this.t("predicted") + ")" : "")),
      el("span", { class: "bars" },
        el("span", { class: "bar raw", style: "width:" + (100 * p).toFixed(1) + "%" }),
        el("span", { class: "bar scaled", style: "width:" + (100 * scaled[c]).toFixed(1) + "%" })),
      el("span", { class: "value" }, pct(p) + " / " + pct(scaled[c]))));
      this.predicted = predicted;
      this.probs.replaceChildren(legend, ...rows);
      this.root.dataset.predicted = this.info.class_names[predicted];
    }
    showCam() {
      const c = this.camClass ?? this.predicted;
      const [h, w] = this.result.camShape;
      const size = 160;
      const canvas = el("canvas", { width: size, height: size, role: "img", "aria-label": this.t("Grad-CAM for the class {}", this.cls(c)) });
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(pixelCanvas(this.pixels, 32, ""), 0, 0, size, size);
      ctx.imageSmoothingEnabled = true; // the h x w map, bilinear, over the image
      ctx.globalAlpha = 0.5;
      ctx.drawImage(mapCanvas(this.result.cams[c], h, w, (v) => [...colour(v), 255]), 0, 0, size, size);
      this.cam.replaceChildren(el("h4", {}, this.t("Grad-CAM for the class {}", this.cls(c))), canvas);
    }
    showMaps() {
      if (!this.layerSelect || !this.result) return;
      const name = this.layerSelect.value;
      const { shape, data } = this.result.maps[name];
      const [h, w, k] = shape;
      const mean = new Float64Array(k);
      for (let i = 0; i < h * w; i++) for (let c = 0; c < k; c++) mean[c] += data[i * k + c];
      const order = Array.from(mean.keys()).sort((a, b) => mean[b] - mean[a]).slice(0, SHOWN_CHANNELS);
      const tiles = order.map((c) => {
        const values = new Float32Array(h * w);
        let lo = Infinity, hi = -Infinity;
        for (let i = 0; i < h * w; i++) { values[i] = data[i * k + c]; lo = Math.min(lo, values[i]); hi = Math.max(hi, values[i]); }
        const span = hi > lo ? hi - lo : 1;
        const canvas = mapCanvas(values.map((v) => (v - lo) / span), h, w, (v) => { const g = Math.round(255 * v); return [g, g, g, 255]; });
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", this.t("channel {}", c));
        return el("figure", {}, canvas, el("figcaption", {}, this.t("channel {}", c)));
      });
      this.maps.replaceChildren(el("p", { class: "cnn-explorer-note" }, this.t("the {} channels with the largest mean activation of {}", order.length, name)),
        el("div", { class: "cnn-explorer-tiles" }, ...tiles));
    }
  }

  /* ---------- the check's hook: the browser's numbers against Keras's (tools/check_site.py) ---------- */
  function correlation(a, b) {
    const n = a.length;
    let ma = 0, mb = 0;
    for (let i = 0; i < n; i++) { ma += a[i] / n; mb += b[i] / n; }
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < n; i++) { const x = a[i] - ma, y = b[i] - mb; ab += x * y; aa += x * x; bb += y * y; }
    if (aa === 0 && bb === 0) return a.every((v, i) => v === b[i]) ? 1 : 0; // two constant maps
    return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
  }
  async function parity(name, referenceBase) {
    const model = await net(name);
    const info = await images();
    const index = await fetchJson(referenceBase + name + ".reference.json");
    const buffer = await (await fetch(referenceBase + name + ".reference.bin")).arrayBuffer();
    const ref = {};
    for (const e of index) ref[e.name] = { shape: e.shape, data: new Float32Array(buffer, e.offset, e.shape.reduce((a, b) => a * b, 1)) };
    const probs = ref.probabilities;
    const nMaps = ref["map:" + model.spec.maps[0]].shape[0];
    const report = { model: name, backend: await tfjs().then(() => tf.getBackend()), images: info.count, mapImages: nMaps, maxProb: 0, maxActivation: 0, minCamPredicted: 1, minCamTrue: 1, camPredicted: [], camTrue: [] };
    for (let i = 0; i < info.count; i++) {
      const r = await model.analyse(info.image(i));
      const p = softmax(r.logits, 1);
      const keras = probs.data.subarray(10 * i, 10 * i + 10);
      p.forEach((v, c) => { report.maxProb = Math.max(report.maxProb, Math.abs(v - keras[c])); });
      const predicted = keras.indexOf(Math.max(...keras));
      const size = r.camShape[0] * r.camShape[1];
      for (const [key, cls, field, all] of [["cam:predicted", predicted, "minCamPredicted", "camPredicted"], ["cam:true", info.labels[i], "minCamTrue", "camTrue"]]) {
        const kerasCam = ref[key].data.subarray(size * i, size * (i + 1));
        const rho = correlation(r.cams[cls], kerasCam);
        report[field] = Math.min(report[field], rho);
        report[all].push(rho);
      }
      if (i < nMaps) {
        for (const m of model.spec.maps) {
          const mine = r.maps[m].data, theirs = ref["map:" + m].data, n = mine.length;
          for (let j = 0; j < n; j++) report.maxActivation = Math.max(report.maxActivation, Math.abs(mine[j] - theirs[n * i + j]));
        }
      }
    }
    return report;
  }

  window.cnnExplorer = { parity, timings, explorers: [] };
  for (const root of document.querySelectorAll(".cnn-explorer")) window.cnnExplorer.explorers.push(new Explorer(root));
})();
