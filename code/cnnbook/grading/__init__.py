"""Autograded assignments built from the book's lessons (otter-grader): build, grade, report.

The top layer of the package: it may import ``cnnbook.lessons`` and ``cnnbook.core``; nothing in the
package imports it (``lint-imports`` checks both). ``python -m cnnbook.grading --help``.
"""
