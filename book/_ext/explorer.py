"""Sphinx extension: the ``{explorer}`` directive, the book's networks live in the page (issue 20).

``make explorer`` puts TensorFlow.js (npm, package.json) and cnnbook.book.explorer's export (the
models, the test images, the page's words in each language) in _build/explorer/static; this
extension adds that folder to the static files of every edition, so they are served from the book's
own ``_static/`` (no CDN), and each page with the directive loads book/_static/explorer/explorer.js.
Without that folder (no Node.js), the directive writes one line saying what to install instead.

    ```{explorer}
    :variant: short
    ```

``full`` (the default): models, test images, drawing and upload, probabilities with and without the
Calibration chapter's temperature, Grad-CAM for any class, activation maps; ``short``: no drawing and
no activation maps (the Visualization chapter).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.application import Sphinx

from cnnbook.book.words import translate

EXPORT = Path(
    "_build", "explorer", "static"
)  # beside book/, written by `make explorer`
NEEDED = ("explorer-data/images.json", "tfjs/tf.min.js", "tfjs/tf-backend-wasm.min.js")
MISSING = (
    "The live explorer is not in this build: it needs Node.js 18 or newer with npm; "
    "install them and build the book again."
)


def export_folder(app: Sphinx) -> Path:
    """The folder make explorer writes (the repository is book/'s parent)."""
    return Path(app.srcdir).resolve().parent / EXPORT


def ready(app: Sphinx) -> bool:
    """Whether TensorFlow.js and the exported models are there."""
    return all((export_folder(app) / name).is_file() for name in NEEDED)


def _add_static(app: Sphinx, config) -> None:
    """config-inited: serve the export from _static/ (explorer-data/, tfjs/)."""
    if ready(app):
        config.html_static_path = [*config.html_static_path, str(export_folder(app))]


class ExplorerDirective(Directive):
    """The explorer's container: its script fills it in the reader's browser."""

    option_spec = {"variant": lambda v: directives.choice(v, ("full", "short"))}

    def run(self) -> list[nodes.Node]:
        """A raw HTML block: the container with the page's words, or the line saying what's missing."""
        env = self.state.document.settings.env
        app = env.app
        lang = app.config.language or "en"
        if not ready(app):
            text = html.escape(translate(MISSING, lang))
            return [
                nodes.raw(
                    "", f'<p class="cnn-explorer-missing">{text}</p>', format="html"
                )
            ]
        info = json.loads((export_folder(app) / NEEDED[0]).read_text(encoding="utf-8"))
        env.metadata[env.docname]["explorer"] = True
        markup = container_html(
            self.options.get("variant", "full"), info["models"], info["words"][lang]
        )
        return [nodes.raw("", markup, format="html")]


def container_html(variant: str, models: list[str], words: dict[str, str]) -> str:
    """The element explorer.js fills: its variant, the models it offers, the page's words."""
    text = json.dumps(words, ensure_ascii=False).replace("</", "<\\/")
    return (
        f'<div class="cnn-explorer" data-variant="{variant}" '
        f'data-models="{html.escape(json.dumps(models))}">'
        f'<script type="application/json" class="cnn-explorer-words">{text}</script>'
        '<div class="cnn-explorer-body"></div></div>'
    )


def _page_files(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """html-page-context: the explorer's script and style on the pages that have it, only; and on
    such a page without formulas or notebook outputs, no MathJax (myst-nb has Sphinx load it on
    every page: 270 kB compressed that the explorer's page would download for nothing)."""
    if doctree is None or not app.env.metadata.get(pagename, {}).get("explorer"):
        return
    app.add_css_file("explorer/explorer.css")
    app.add_js_file("explorer/explorer.js", defer="defer")
    if _needs_mathjax(doctree):
        return
    scripts = context.get("script_files", [])
    scripts[:] = [
        s for s in scripts if not _is_mathjax(s)
    ]  # in place: the builder's list


def _needs_mathjax(doctree: nodes.document) -> bool:
    """Whether a page has a formula or a code cell's output (which may hold LaTeX)."""
    if any(
        True
        for _ in doctree.findall(
            lambda n: isinstance(n, (nodes.math, nodes.math_block))
        )
    ):
        return True
    return any(
        "cell_output" in n.get("classes", []) for n in doctree.findall(nodes.container)
    )


def _is_mathjax(script) -> bool:
    """Whether an entry of the page's script list is MathJax or its configuration."""
    filename = str(getattr(script, "filename", script) or "")
    body = (getattr(script, "attributes", {}) or {}).get("body", "")
    return "mathjax" in filename.lower() or "window.MathJax" in body


def setup(app: Sphinx) -> dict:
    """Register the directive and the handlers."""
    app.add_directive("explorer", ExplorerDirective)
    app.connect("config-inited", _add_static)
    app.connect("html-page-context", _page_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
