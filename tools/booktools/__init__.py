"""Build tooling of the book, outside the runtime package: no chapter, lesson or reader imports it.

`notebooks` writes the Colab notebooks and the site's download notebooks from the chapters (jupytext reads
the MyST, nbconvert preprocessors transform the cells; `myst` renders the roles and directives, found by
myst-parser's markdown-it parser, as plain Markdown; `citations` formats the references with
sphinxcontrib-bibtex's style), `editions` derives the student edition's configuration. Run with tools/ on
the path: ``PYTHONPATH=tools python -m booktools.notebooks`` (`make notebooks` does).
"""
