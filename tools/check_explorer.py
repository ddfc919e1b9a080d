"""The live explorer in headless Chromium (tools/check_site.py runs it on every page that has one).

Parity, on the reader edition: for each model the page offers, window.cnnExplorer.parity runs every
exported test image through the page's TensorFlow.js model and compares with the Keras float32
answers cnnbook.book.explorer wrote to _build/explorer/reference: max |Δ probability| and
max |Δ activation| (every map layer, on the first 50 images) at most 1e-4, and the Grad-CAM maps of
the predicted and the true class correlating at least 0.99 with cnnbook.lessons.gradcam's.

The interface, on every edition, at desktop and at phone width (390 px): a model is chosen and
predicts the first image, a click on a test image and on a class update the page, and (full variant)
a drawing made with pointer events gets a prediction.
"""

from __future__ import annotations

import time

MAX_PROBABILITY_DIFFERENCE = 1e-4
MAX_ACTIVATION_DIFFERENCE = 1e-4
MIN_GRADCAM_CORRELATION = 0.99
MIN_IMAGES = 50
STATE_JS = "return document.querySelectorAll('.cnn-explorer')[arguments[0]].dataset.state || ''"
PARITY_JS = """
const done = arguments[arguments.length - 1];
cnnExplorer.parity(arguments[0], arguments[1]).then(done, e => done({error: String(e)}));
"""


def _wait_state(driver, index: int, timeout: float = 60) -> str:
    """Wait until explorer number index is 'ready' or 'error' (or the timeout); its state."""
    state, end = "", time.monotonic() + timeout
    while time.monotonic() < end:
        state = driver.execute_script(STATE_JS, index)
        if state in ("ready", "error"):
            break
        time.sleep(0.05)
    return state


def parity_problems(report: dict) -> list[str]:
    """What a parity report (cnnExplorer.parity) shows wrong, one line each."""
    if "error" in report:
        return [f"parity: {report['error']}"]
    name, problems = report["model"], []
    checks = (
        (report["images"] >= MIN_IMAGES, f"only {report['images']} images compared"),
        (
            report["mapImages"] >= MIN_IMAGES,
            f"activation maps compared on {report['mapImages']} images only",
        ),
        (
            report["maxProb"] <= MAX_PROBABILITY_DIFFERENCE,
            f"max |Δp| {report['maxProb']:.2e} > {MAX_PROBABILITY_DIFFERENCE:g}",
        ),
        (
            report["maxActivation"] <= MAX_ACTIVATION_DIFFERENCE,
            f"max |Δactivation| {report['maxActivation']:.2e} > {MAX_ACTIVATION_DIFFERENCE:g}",
        ),
        (
            min(report["minCamPredicted"], report["minCamTrue"])
            >= MIN_GRADCAM_CORRELATION,
            "Grad-CAM correlation with cnnbook.lessons.gradcam "
            f"{min(report['minCamPredicted'], report['minCamTrue']):.4f} < {MIN_GRADCAM_CORRELATION}",
        ),
    )
    problems += [f"parity of {name}: {text}" for ok, text in checks if not ok]
    return problems


def parity(driver, reference_url: str) -> tuple[list[dict], list[str]]:
    """Every offered model's parity report on the loaded page, and the problems."""
    models = driver.execute_script(
        "return JSON.parse(document.querySelector('.cnn-explorer').dataset.models)"
    )
    driver.set_script_timeout(600)
    reports = [driver.execute_async_script(PARITY_JS, m, reference_url) for m in models]
    return reports, [p for r in reports for p in parity_problems(r)]


def format_reports(reports: list[dict]) -> str:
    """The parity reports as one table (printed by make check-site, copied into closing notes)."""
    lines = [
        "model      backend images  max|Δp|   max|Δact|  min Grad-CAM r (predicted, true)"
    ]
    for r in reports:
        if "error" not in r:
            lines.append(
                f"{r['model']:<10} {r['backend']:<7} {r['images']:>6}  {r['maxProb']:.1e}   "
                f"{r['maxActivation']:.1e}    {r['minCamPredicted']:.6f}, {r['minCamTrue']:.6f}"
            )
    return "\n".join(lines)


def _draw(driver, index: int) -> None:
    """A stroke across explorer number index's drawing pad, with pointer events."""
    from selenium.webdriver.common.action_chains import ActionChains

    pad = driver.find_elements("css selector", ".cnn-explorer .cnn-explorer-pad")[index]
    chain = ActionChains(driver).move_to_element_with_offset(pad, -40, -40)
    chain.click_and_hold().move_by_offset(40, 30).move_by_offset(30, 40).release()
    chain.perform()


def interface_problems(driver) -> list[str]:
    """Drive every explorer of the loaded page: choose a model, pick an image, click a class, draw."""
    problems = []
    roots = driver.find_elements("css selector", ".cnn-explorer")
    for i, root in enumerate(roots):
        buttons = root.find_elements("css selector", "[data-model]")
        if not buttons:
            problems.append(
                f"explorer {i + 1}: no model to choose (its script did not run)"
            )
            continue
        buttons[0].click()
        if _wait_state(driver, i) != "ready":
            status = root.find_element("css selector", ".cnn-explorer-status").text
            return problems + [
                f"explorer {i + 1}: no prediction after choosing a model ({status})"
            ]
        thumbs = root.find_elements("css selector", ".cnn-explorer-thumb")
        rows = root.find_elements("css selector", ".cnn-explorer-row")
        if len(rows) != 10 or not thumbs:
            problems.append(
                f"explorer {i + 1}: {len(rows)} class rows, {len(thumbs)} test images"
            )
            continue
        thumbs[-1].click()
        if _wait_state(driver, i) != "ready":
            problems.append(f"explorer {i + 1}: no prediction after picking an image")
        heading = root.find_element("css selector", ".cnn-explorer-cam h4").text
        root.find_elements("css selector", ".cnn-explorer-row")[3].click()
        if root.find_element(
            "css selector", ".cnn-explorer-cam h4"
        ).text == heading and not (
            root.find_elements("css selector", ".cnn-explorer-row")[3].get_attribute(
                "aria-pressed"
            )
            == "true"
        ):
            problems.append(
                f"explorer {i + 1}: clicking a class does not show its Grad-CAM"
            )
        if root.get_attribute("data-variant") == "full":
            before = driver.execute_script(
                "return cnnExplorer.timings.interaction.length"
            )
            root.find_element(
                "css selector", ".cnn-explorer-pad"
            ).location_once_scrolled_into_view
            _draw(driver, 0)
            time.sleep(0.1)
            state = _wait_state(driver, i)
            after = driver.execute_script(
                "return cnnExplorer.timings.interaction.length"
            )
            if state != "ready" or after <= before:
                problems.append(f"explorer {i + 1}: a drawing gets no prediction")
    return problems
