"""Build tooling of the book, outside the runtime package: no chapter, lesson or reader imports it.

`notebooks` writes the Colab notebooks and the site's download notebooks from the chapters (jupytext
reads the MyST; `myst` renders the roles and directives as plain Markdown; `citations` formats the
references), `editions` derives the student edition's configuration. Run with tools/ on the path:
``PYTHONPATH=tools python -m booktools.notebooks`` (`make notebooks` does).
"""
