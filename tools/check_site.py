"""`make check-site`: the built book checked in a real headless browser, at desktop and phone width.

Serves _build/html on 127.0.0.1 and drives Debian's Chromium through selenium (chromium-driver).
Per page: no console errors; every formula rendered (each `.math` element Sphinx writes holds a
MathJax node, and no raw $...$, \\(...\\) or \\[...\\] is left in the text); no raw Markdown or MyST in the
text; every image loaded, with alt text that is not a file name; a 390-px-wide screenshot saved
under _build/screenshots/. The search page must find "Grad-CAM". The student edition
(`make book-student`) is checked the same way when it is built, and so is each translated edition
(_build/html/ru/, issue 19), with more: `<html lang>` is the edition's language, at most 3% of the
prose's words are in Latin script (code, formulas, citations, the bibliography and the names of
cnnbook.book.words.KEPT excluded), no English word in the interface around it (buttons, search box,
sidebars), and the language switcher leads to the same page in the other language and back; the
Russian search finds a word in another form (the Russian stemmer). Exit code 1 with one line per
problem; without Chromium, one line that says how to get it.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import sys
import threading
from pathlib import Path

import check_explorer  # tools/: the live explorer's parity and interface checks

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
STUDENT_HTML = ROOT / "_build" / "student" / "_build" / "html"  # `make book-student`
REFERENCE = (
    ROOT / "_build" / "explorer" / "reference"
)  # `make explorer`: Keras's answers
REFERENCE_URL = "/__explorer_reference__/"  # where the check's server serves them
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
DESKTOP, PHONE = (1280, 900), (390, 844)
RAW_MARKUP = [
    r"\|\s*[-—–]+\s*\|",
    r"(\|[^|\n]*){3,}\|",
    r"\{glue",
    r"\{cite",
    r"\{numref",
    r"^:::",
    r"```\{",
    r"\{doc\}",
]  # noqa: E501  (one case per line)
RAW_MATH = (
    r"\$[^$\n]*[\\^_{}][^$\n]*\$"  # $...$ holding TeX (a backslash, ^, _ or braces)
    r"|\\\((?:(?!\\\)).)*\\\)|\\\[(?:(?!\\\]).)*\\\]"
)  # Sphinx's \(...\) and \[...\], as MathJax left them
# Every element Sphinx writes for a formula (span.math inline, div.math displayed) must hold the node
# MathJax renders it into; [formulas, rendered, the first unrendered ones' TeX].
MATH_JS = """
const main = document.querySelector('main') || document.body;
const maths = [...main.querySelectorAll('.math')];
const raw = maths.filter(e => !e.querySelector('mjx-container'));
return [maths.length, maths.length - raw.length, raw.slice(0, 3).map(e => e.textContent.trim().slice(0, 60))];
"""
TRANSLATED = {
    "ru": "градиенты"
}  # each translated edition, and a search for a word in another form
MAX_LATIN_SHARE = 0.03  # of the words of a translated page's prose
# A translated page's prose: main without code, formulas, citations and the bibliography, nor what is
# marked as another language (the switcher's "English").
PROSE_JS = """
const main = document.querySelector('article') || document.querySelector('main') || document.body;
const clone = main.cloneNode(true);
clone.querySelectorAll('pre, code, script, style, mjx-container, .MathJax, .math, [lang]:not([lang=""]),'
  + ' a[href*="references.html#"], .citation, .bibliography')
  .forEach(e => e.remove());
return clone.innerText;
"""
# The interface around the prose: visible text outside main, and the words of buttons and fields.
INTERFACE_JS = """
const main = document.querySelector('main');
const out = [];
for (const el of document.querySelectorAll('body *')) {
  if ((main && main.contains(el) && !el.closest('.bd-header-article, .prev-next-area, .dropdown-menu'))
      || el.closest('[lang]:not(html)') || ['SCRIPT', 'STYLE', 'CODE', 'PRE'].includes(el.tagName)) continue;
  for (const a of ['placeholder', 'title', 'aria-label', 'data-bs-title', 'alt'])
    if (el.getAttribute(a)) out.push(el.getAttribute(a));
  for (const n of el.childNodes)
    if (n.nodeType === 3 && n.textContent.trim()) out.push(n.textContent.trim());
}
return [document.documentElement.lang, out];
"""
SWITCHER_JS = """
return [...document.querySelectorAll('a.language-switcher-link')].map(a => [a.hreflang, a.href]);
"""
FILE_NAME_ALT = re.compile(r"^[\w./-]*\.(png|jpe?g|svg|gif)$|[0-9a-f]{32,}", re.I)


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A quiet static server for folder on a free port of 127.0.0.1 (and REFERENCE under
    REFERENCE_URL, for the explorer's parity check)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: D102
            pass

        def translate_path(self, path: str) -> str:  # noqa: D102
            if path.startswith(REFERENCE_URL):
                return str(REFERENCE / path[len(REFERENCE_URL) :].split("?")[0])
            return super().translate_path(path)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _browser():
    """Headless Chromium with console logging, flags for a closed network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def _wait_until_rendered(driver) -> None:
    """Wait for the page's load event and for MathJax's first typesetting."""
    driver.execute_async_script(
        "const done = arguments[0];"
        "const wait = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " ? MathJax.startup.promise.then(() => done()) : done();"
        "document.readyState === 'complete' ? wait() : window.addEventListener('load', wait);"
    )


# Wide content on a phone must scroll inside its own box (a table, an equation, a code block);
# content that sticks out of the viewport without a scrollable box is clipped or drags the page.
CLIPPED_JS = """
const vw = document.documentElement.clientWidth, out = [];
const wide = 'main table, main mjx-container[display="true"], main pre, main img';
for (const el of document.querySelectorAll(wide)) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || (el.scrollWidth <= el.clientWidth + 1 && r.right <= vw + 1)) continue;
  let ok = false;
  for (let a = el; a && a.tagName !== 'MAIN'; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX;
    if ((o === 'auto' || o === 'scroll') && a.getBoundingClientRect().right <= vw + 1) { ok = true; break; }
  }
  if (!ok) out.push(el.tagName.toLowerCase() + ' wider than the screen and not scrollable: '
                    + (el.innerText || el.getAttribute('alt') || '').slice(0, 60).replace(/\\s+/g, ' '));
}
if (document.documentElement.scrollWidth > vw + 1)
  out.push('the page scrolls sideways (' + document.documentElement.scrollWidth + ' px wide)');
return out;
"""


def _console_errors(driver, name: str) -> list[str]:
    """The console errors logged since the last call, one line each."""
    return [
        f"{name}: console error: {entry['message'][:160]}"
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]


def _math_problems(driver) -> list[str]:
    """One line if a formula of the page was not rendered by MathJax (the two counts differ)."""
    formulas, rendered, raw = driver.execute_script(MATH_JS)
    if rendered == formulas:
        return []
    return [
        f"{formulas - rendered} of {formulas} formulas not rendered by MathJax, e.g. {raw}"
    ]


def latin_share(text: str) -> tuple[float, list[str]]:
    """The share of a translated text's words written in Latin script, and those words (names kept in
    every language, cnnbook.book.words.KEPT, and identifiers do not count)."""
    from cnnbook.book.words import latin_words

    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    latin = latin_words(text)
    return (len(latin) / len(words) if words else 0.0), latin


def interface_words(texts: list[str]) -> list[str]:
    """The English words left in a translated page's interface (buttons, fields, sidebars)."""
    from cnnbook.book.words import latin_words

    allowed = {
        "GitHub",
        "Colab",
        "ipynb",
        "md",
        "pdf",
        "Jupyter",
        "Binder",
        "JupyterHub",
        "CIFAR-10",
        "Ctrl",  # the search box's shortcut, Ctrl+K: the key's name
    }
    return sorted({w for t in texts for w in latin_words(t) if w not in allowed})


def _translation_problems(driver, url: str, lang: str) -> list[str]:
    """A translated page: its language, the Latin share of its prose, its interface's words, its
    switcher (the other language's page exists and links back here)."""
    problems = []
    share, latin = latin_share(driver.execute_script(PROSE_JS))
    if share > MAX_LATIN_SHARE:
        common = sorted(set(latin), key=latin.count, reverse=True)[:12]
        problems.append(
            f"{share:.1%} of the prose's words in Latin script (at most {MAX_LATIN_SHARE:.0%}): {common}"
        )
    html_lang, texts = driver.execute_script(INTERFACE_JS)
    if html_lang != lang:
        problems.append(f"<html lang={html_lang!r}>, not {lang!r}")
    english = interface_words(texts)
    if english:
        problems.append(f"English in the interface: {english[:12]}")
    return problems + _switcher_problems(driver, url, lang)


def _switcher_problems(driver, url: str, lang: str) -> list[str]:
    """The language switcher of the page at url leads to a page in the other language that links back."""
    links = driver.execute_script(SWITCHER_JS)
    if not links:
        return ["no language switcher"]
    url = driver.current_url  # where a redirecting page (index.html) led
    problems = []
    for other, href in links:
        driver.get(href)
        _wait_until_rendered(driver)
        there_lang, _ = driver.execute_script(INTERFACE_JS)
        back = [h for to, h in driver.execute_script(SWITCHER_JS) if to == lang]
        if there_lang != other or back != [url]:
            problems.append(
                f"the switcher to {other!r} leads to {href} (lang {there_lang!r}), which links back to {back}, not {url}"
            )
    driver.get(url)
    _wait_until_rendered(driver)
    return problems


def _page_problems(
    driver,
    url: str,
    name: str,
    shots: Path | None = None,
    lang: str = "en",
    site: bool = False,
) -> list[str]:
    """Everything wrong with one page at desktop width, then a phone-width screenshot (a page of a
    built site, `site`, must have the language switcher)."""
    problems = []
    driver.set_window_size(*DESKTOP)
    driver.get(url)
    _wait_until_rendered(driver)
    problems += _console_errors(driver, name)
    if lang != "en":
        problems += [f"{name}: {p}" for p in _translation_problems(driver, url, lang)]
    elif TRANSLATED and site and not driver.execute_script(SWITCHER_JS):
        problems.append(f"{name}: no language switcher")
    text = driver.execute_script(
        "const main = document.querySelector('main') || document.body;"
        "const clone = main.cloneNode(true);"
        "clone.querySelectorAll('pre, code, script, style, mjx-container, .MathJax').forEach(e => e.remove());"
        "return clone.innerText;"
    )
    for pattern in RAW_MARKUP:
        for match in re.finditer(pattern, text, re.M):
            problems.append(
                f"{name}: raw markup {match.group(0)!r} near "
                f"{text[max(0, match.start() - 40) : match.end() + 40]!r}"
            )
    for match in re.finditer(RAW_MATH, text, re.S):
        problems.append(f"{name}: unrendered math {match.group(0)[:60]!r}")
    problems += [f"{name}: {p}" for p in _math_problems(driver)]
    explorer = driver.execute_script("return !!document.querySelector('.cnn-explorer')")
    if explorer:
        problems += [f"{name}: {p}" for p in check_explorer.interface_problems(driver)]
    images = driver.execute_script(
        "return [...document.querySelectorAll('main img')].map(i => "
        "[i.currentSrc || i.src, i.complete && i.naturalWidth > 0, i.getAttribute('alt') || '']);"
    )
    for src, loaded, alt in images:
        short = src.rsplit("/", 1)[-1]
        if not loaded:
            problems.append(f"{name}: image {short} did not load")
        if not alt.strip() or FILE_NAME_ALT.search(alt.strip()):
            problems.append(
                f"{name}: image {short} has no descriptive alt text ({alt!r})"
            )
    width, height = (
        PHONE  # a phone: mobile viewport emulation, then the page loaded again
    )
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )
    driver.get(url)
    _wait_until_rendered(driver)
    problems += [
        f"{name} (390 px): {p}"
        for p in driver.execute_script(CLIPPED_JS) + _math_problems(driver)
    ]
    if explorer:  # it works on a phone, and what it shows fits the screen
        problems += [
            f"{name} (390 px): {p}"
            for p in check_explorer.interface_problems(driver)
            + driver.execute_script(CLIPPED_JS)
        ]
    driver.save_screenshot(str((shots or SHOTS) / f"{name}-390px.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return list(dict.fromkeys(problems + _console_errors(driver, f"{name} (390 px)")))


def _search_problems(driver, base: str, query: str = "Grad-CAM") -> list[str]:
    """The search page must list results for the query ("Grad-CAM"; a Russian word in a translation)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.set_window_size(*DESKTOP)
    driver.get(f"{base}/search.html?q={query}")
    try:
        WebDriverWait(driver, 20).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li")
        )
    except Exception:
        return [f"search.html: no result for {query!r}"]
    _wait_network_idle(
        driver
    )  # the results' summaries are fetched after the list is shown
    return _console_errors(driver, "search.html")


def _wait_network_idle(driver, quiet: float = 0.5, timeout: float = 20) -> None:
    """Wait until the page has started no download for `quiet` seconds (or the timeout): a page
    left with fetches in flight logs their failure when the server stops, on the next page."""
    import time

    count, since, end = -1, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < end:
        now = driver.execute_script(
            "return performance.getEntriesByType('resource').length"
        )
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def _check_edition(
    driver, root: Path, sub: str, shots: Path, prefix: str, lang: str = "en"
) -> tuple[int, list[str]]:
    """Every page of one built site (root/sub, served from root so that the language switcher's links
    resolve) and its search; the number of pages and the problems found."""
    shots.mkdir(parents=True, exist_ok=True)
    html = root / sub
    pages = sorted(
        p for p in html.glob("*.html") if p.name not in ("search.html", "genindex.html")
    )
    server, base = _serve(root)
    base = f"{base}/{sub}".rstrip("/")
    try:
        problems = [
            p
            for page in pages
            for p in _page_problems(
                driver, f"{base}/{page.name}", page.stem, shots, lang, site=True
            )
        ]
        problems += _search_problems(driver, base, TRANSLATED.get(lang, "Grad-CAM"))
        if not prefix:  # the reader edition: the explorer's numbers against Keras's
            problems += _parity_problems(driver, base, pages)
    finally:
        server.shutdown()
    return len(pages), [f"{prefix}{p}" for p in problems]


def _parity_problems(driver, base: str, pages: list[Path]) -> list[str]:
    """The explorer page's TensorFlow.js results against Keras's (check_explorer), table printed."""
    page = next(
        (p for p in pages if 'class="cnn-explorer"' in p.read_text("utf-8")), None
    )
    if page is None:
        return []
    if not (REFERENCE / "fast.reference.json").is_file():
        return [f"{REFERENCE} is missing: run `make explorer` (make book does)"]
    driver.set_window_size(*DESKTOP)
    driver.get(f"{base}/{page.name}")
    _wait_until_rendered(driver)
    reports, problems = check_explorer.parity(driver, REFERENCE_URL)
    print(check_explorer.format_reports(reports))
    return [f"{page.stem}: {p}" for p in problems] + _console_errors(driver, page.stem)


def main() -> int:
    """Check every page of the reader edition, and of the student edition when it is built; print one
    line per problem; 0 if none."""
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        print(
            "check-site needs Chromium: `apt-get install chromium chromium-driver` (Debian), then rerun",
            file=sys.stderr,
        )
        return 1
    if not (HTML / "index.html").exists():
        print(f"{HTML} is missing: run `make book` first", file=sys.stderr)
        return 1
    editions = [(HTML, "", SHOTS, "", "en")]
    if (STUDENT_HTML / "index.html").exists():
        editions.append((STUDENT_HTML, "", SHOTS / "student", "student/", "en"))
    for root, _, shots, prefix, _ in list(editions):
        for lang in TRANSLATED:
            if not (root / lang / "index.html").exists():
                print(
                    f"{root / lang} is missing: run `make book` (it builds every language)",
                    file=sys.stderr,
                )
                return 1
            editions.append((root, lang, shots / lang, f"{prefix}{lang}/", lang))
    shutil.rmtree(SHOTS, ignore_errors=True)
    driver = _browser()
    try:
        checked = [
            _check_edition(driver, root, sub, shots, prefix, lang)
            for root, sub, shots, prefix, lang in editions
        ]
    finally:
        driver.quit()
    problems = [p for _, found in checked for p in found]
    for line in problems:
        print(line)
    counts = " + ".join(
        f"{n} {prefix or 'reader/'}"
        for (n, _), (_, _, _, prefix, _) in zip(checked, editions)
    )
    print(
        f"check-site: {counts} pages, {len(problems)} problems; screenshots in {editions[0][2].relative_to(ROOT)}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
