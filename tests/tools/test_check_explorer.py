"""tools/check_explorer.py in headless Chromium on a small site: the page's TensorFlow.js models
(untrained, exported by cnnbook.book.explorer) agree with Keras, and the parity check fails on a
seeded breakage of each thing it compares: the weights (probabilities and activations), the Grad-CAM
layer (the maps). The interface check passes the working page and fails when its script is gone."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import check_explorer  # tools/
import check_site  # tools/: its browser and its server
from cnnbook.book import explorer
from cnnbook.core.models import build_model

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import explorer as directive  # noqa: E402  (book/_ext/explorer.py, the Sphinx extension)

TFJS = ROOT / "node_modules" / "@tensorflow"
TFJS_FILES = [
    "tfjs/dist/tf.min.js",
    "tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
    "tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
]
N = check_explorer.MIN_IMAGES

pytestmark = pytest.mark.skipif(
    not (Path("/usr/bin/chromium").exists() and (TFJS / TFJS_FILES[0]).exists()),
    reason="needs Chromium and TensorFlow.js (apt-get install chromium chromium-driver; npm ci)",
)


def site(
    folder: Path, spec_change=None, weight_change=None, script: bool = True
) -> Path:
    """A page with a full explorer of one untrained baseline, N random images, Keras's answers."""
    static = folder / "_static"
    shutil.copytree(ROOT / "book" / "_static" / "explorer", static / "explorer")
    (static / "tfjs").mkdir(parents=True)
    for f in TFJS_FILES:
        shutil.copy(TFJS / f, static / "tfjs")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, N)
    names = [f"class{i}" for i in range(10)]
    words = {w: w for w in explorer.UI_WORDS + tuple(names)}
    info = {
        "class_names": names,
        "labels": labels.tolist(),
        "test_index": list(range(N)),
        "chapter_mistake": [i < 3 for i in range(N)],
        "models": ["baseline"],
        "words": {"en": words},
    }
    data = static / "explorer-data"
    explorer.write_images(data, images, info)
    model = build_model("baseline", seed=3)
    spec, weights = explorer.model_spec(model, temperature=1.7)
    if spec_change:
        spec_change(spec)
    if weight_change:
        weight_change(weights)
    explorer.write_model(data, "baseline", spec, weights)
    explorer.write_reference(
        folder / "reference", "baseline", explorer.reference(model, images, labels)
    )
    js = '<script src="_static/explorer/explorer.js" defer></script>' if script else ""
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="_static/explorer/explorer.css"></head><body>'
        f"{directive.container_html('full', ['baseline'], words)}{js}</body></html>"
    )
    return folder


@pytest.fixture(scope="module")
def driver():
    d = check_site._browser()
    yield d
    d.quit()


def parity_of(driver, folder: Path) -> tuple[list[dict], list[str]]:
    server, base = check_site._serve(folder)
    try:
        driver.get(base + "/index.html")
        return check_explorer.parity(driver, base + "/reference/")
    finally:
        server.shutdown()


def test_the_browser_agrees_with_keras(driver, tmp_path) -> None:
    reports, problems = parity_of(driver, site(tmp_path))
    assert problems == [], check_explorer.format_reports(reports)
    (r,) = reports
    assert r["backend"] == "wasm" and r["images"] == N and r["mapImages"] == N


def test_wrong_weights_fail_the_parity_check(driver, tmp_path) -> None:
    def shift(weights):
        weights["block3_2_conv/bias"] = weights["block3_2_conv/bias"] + 0.01

    _, problems = parity_of(driver, site(tmp_path, weight_change=shift))
    assert any("max |Δactivation|" in p for p in problems), problems


def test_a_wrong_gradcam_layer_fails_the_parity_check(driver, tmp_path) -> None:
    def earlier(spec):
        spec["gradcam_layer"] = "block2_2_relu"

    _, problems = parity_of(driver, site(tmp_path, spec_change=earlier))
    assert any("Grad-CAM correlation" in p for p in problems), problems


def test_the_interface_works_and_its_check_fails_without_the_script(
    driver, tmp_path
) -> None:
    for script, broken in ((True, False), (False, True)):
        folder = site(tmp_path / str(script), script=script)
        server, base = check_site._serve(folder)
        try:
            driver.get(base + "/index.html")
            problems = check_explorer.interface_problems(driver)
        finally:
            server.shutdown()
        assert bool(problems) == broken, problems


def test_a_report_beyond_each_tolerance_is_named() -> None:
    good = {
        "model": "m",
        "backend": "wasm",
        "images": 100,
        "mapImages": 50,
        "maxProb": 1e-6,
        "maxActivation": 1e-5,
        "minCamPredicted": 0.999,
        "minCamTrue": 0.999,
    }
    assert check_explorer.parity_problems(good) == []
    for key, value, words in (
        ("maxProb", 2e-4, "|Δp|"),
        ("maxActivation", 0.5, "|Δactivation|"),
        ("minCamTrue", 0.5, "Grad-CAM"),
        ("images", 10, "only 10 images"),
    ):
        (problem,) = check_explorer.parity_problems({**good, key: value})
        assert words in problem
    assert json.dumps(check_explorer.format_reports([good]))
