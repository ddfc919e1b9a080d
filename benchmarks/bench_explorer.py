"""How heavy and how fast the live explorer is (page "Explore the networks", issue 20).

Run from the repository root after `make book`, nothing else CPU-heavy running:

    .venv/bin/python benchmarks/bench_explorer.py [--repeat 5] [--output PATH]

In headless Chromium (Debian's chromium + chromium-driver), against _build/html served on
127.0.0.1, each repeat in a fresh browser (empty cache), for each model the page offers:

  first_load_bytes   what the page downloads before a model is chosen (the navigation and every
                     resource, Resource Timing's transferSize: HTML, CSS, scripts, fonts, the test
                     images), from a server that compresses text files with gzip as GitHub Pages
                     does; first_load_uncompressed_bytes the same files' sizes, and
                     explorer_bytes the explorer's own part of the compressed first load
  first_prediction   ms from the click on the model to its first prediction drawn (TensorFlow.js,
                     its WebAssembly module and the model's weights downloaded and started)
  interaction        ms from a click on another test image to its prediction, Grad-CAM and
                     activation maps drawn (the median of 5 clicks)

and, with --export, the seconds `python -m cnnbook.book.explorer` takes (what `make explorer`
adds to a clean build). Medians over the repeats go to benchmarks/results/explorer.json with the CPU.
Targets (issue 20): first load <= 1.5 MB, first prediction <= 2 s, each interaction <= 200 ms,
export <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
OUTPUT = ROOT / "benchmarks" / "results" / "explorer.json"
PAGE = "explore.html"
BYTES_JS = """
const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
const sum = (list, key) => list.reduce((total, e) => total + (e[key] || 0), 0);
const own = entries.filter(e => e.name.includes('/_static/explorer'));
return [sum(entries, 'transferSize'), sum(entries, 'decodedBodySize'), sum(own, 'transferSize')];
"""
TEXT = {
    ".html",
    ".js",
    ".css",
    ".json",
    ".svg",
    ".txt",
    ".map",
}  # what GitHub Pages gzips


def _compressing_server(folder: Path):
    """A static server for folder that sends text files gzip-compressed when the browser accepts it."""
    import functools
    import gzip
    import http.server
    import threading

    class Compressing(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            path = Path(self.translate_path(self.path))
            accepts = "gzip" in self.headers.get("Accept-Encoding", "")
            if not (accepts and path.is_file() and path.suffix in TEXT):
                return super().do_GET()
            body = gzip.compress(path.read_bytes(), 6)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Compressing, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _ready(driver, timeout: float = 60) -> bool:
    """Wait for the page's first explorer to be ready (or fail)."""
    import check_explorer

    return check_explorer._wait_state(driver, 0, timeout) == "ready"


def one_model(base: str, model: str, clicks: int = 5) -> dict:
    """A fresh browser: the page's weight, the model's first prediction, clicks on images."""
    import check_site

    driver = check_site._browser()
    try:
        driver.set_window_size(*check_site.DESKTOP)
        driver.get(f"{base}/{PAGE}")
        check_site._wait_until_rendered(driver)
        root = driver.find_element("css selector", ".cnn-explorer")
        while not root.find_elements("css selector", ".cnn-explorer-thumb"):
            time.sleep(0.05)  # the test images are part of the first load
        time.sleep(0.5)
        compressed, uncompressed, own = driver.execute_script(BYTES_JS)
        root.find_element("css selector", f"[data-model='{model}']").click()
        if not _ready(driver):
            raise RuntimeError(f"{model}: no first prediction")
        thumbs = root.find_elements("css selector", ".cnn-explorer-thumb")
        for i in range(clicks):
            thumbs[10 * i + 5].click()
            if not _ready(driver):
                raise RuntimeError(f"{model}: no prediction after a click")
        timings = driver.execute_script("return cnnExplorer.timings")
        return {
            "first_load_bytes": compressed,
            "first_load_uncompressed_bytes": uncompressed,
            "explorer_bytes": own,
            "first_prediction_ms": timings["firstPrediction"][0],
            "interaction_ms": statistics.median(timings["interaction"]),
        }
    finally:
        driver.quit()


def export_seconds() -> float:
    """Wall-clock seconds of the export `make explorer` runs (into a temporary folder)."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cnnbook.book.explorer",
                f"{out}/data",
                "--reference",
                f"{out}/ref",
            ],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Measure, print a table, write the JSON."""
    import check_site

    parser = argparse.ArgumentParser(prog="bench_explorer.py")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--export", action="store_true", help="also time the export")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not (check_site.HTML / PAGE).is_file():
        print(
            f"{check_site.HTML / PAGE} is missing: run `make book` first",
            file=sys.stderr,
        )
        return 1
    from cnnbook.core.files import atomic_write_text
    from cnnbook.core.precision import cpu_description

    models = json.loads(
        (check_site.HTML / "_static" / "explorer-data" / "images.json").read_text()
    )["models"]
    server, base = _compressing_server(check_site.HTML)
    try:
        runs = {m: [one_model(base, m) for _ in range(args.repeat)] for m in models}
    finally:
        server.shutdown()
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_description(),
        "repeats": args.repeat,
        "browser": "headless Chromium (Debian), TensorFlow.js WebAssembly backend",
        "models": {
            m: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            for m, rs in runs.items()
        },
    }
    if args.export:
        result["export_seconds"] = statistics.median(export_seconds() for _ in range(3))
    print(f"bench_explorer on {result['cpu']}, median of {args.repeat}")
    print(
        "model      first load, kB (uncompressed; explorer's)  first prediction, ms  interaction, ms"
    )
    for m, r in result["models"].items():
        load = (
            f"{r['first_load_bytes'] / 1000:.0f} ({r['first_load_uncompressed_bytes'] / 1000:.0f};"
            f" {r['explorer_bytes'] / 1000:.0f})"
        )
        print(
            f"{m:<10} {load:>35}  {r['first_prediction_ms']:>20.0f}  {r['interaction_ms']:>15.0f}"
        )
    if "export_seconds" in result:
        print(f"export: {result['export_seconds']:.1f} s")
    atomic_write_text(args.output, json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
