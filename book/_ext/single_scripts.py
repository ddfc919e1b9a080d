"""Sphinx extension: each page loads every script once (sphinx-thebe 0.3.1 registers its inline
configuration twice under Jupyter Book 1, which logs "Identifier 'THEBE_JS_URL' has already been
declared" on every page; MathJax came twice, once deferred by sphinx.ext.mathjax and once more from
the configured script files). `make check-site` fails if a console error comes back.

The list is filtered in place, after every other handler: it is the builder's own list, to which
handlers append while the event runs (sphinx.ext.mathjax adds ``window.MathJax = {...}`` and MathJax
itself). An earlier version replaced it with a new list at the start of the event, which dropped
those scripts, and every formula stayed raw TeX (issue 17)."""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated entries of the page's script list: one per file (the first in load order, with
    its attributes) and one per inline body."""
    scripts = context.get("script_files", [])
    seen, unique = set(), []
    for script in sorted(
        scripts, key=lambda s: getattr(s, "priority", 500)
    ):  # the order Sphinx writes
        attributes = getattr(script, "attributes", {}) or {}
        filename = str(getattr(script, "filename", script) or "")  # None and "" alike
        key = ("file", filename) if filename else ("body", attributes.get("body", ""))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: the context holds the builder's own list


def setup(app):
    """Register the html-page-context handler, after every other one (they all run: emit_firstresult
    calls each handler before it picks a result)."""
    app.connect("html-page-context", _unique_scripts, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
