"""Sphinx extension: each page loads every script once (sphinx-thebe 0.3.1 registers its inline
configuration twice under Jupyter Book 1, which logs "Identifier 'THEBE_JS_URL' has already been
declared" on every page). `make check-site` fails if a console error comes back."""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated entries of the page's script list, keeping the first of each."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(getattr(script, "filename", script) or ""), attributes.get("body", ""))  # None and "" alike
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    """Register the html-page-context handler."""
    app.connect("html-page-context", _unique_scripts, priority=1)  # before a handler that ends the event
    return {"parallel_read_safe": True, "parallel_write_safe": True}
