"""Run the grading command line: python -m cnnbook.grading assign | grade | list."""

from cnnbook.grading.cli import main

raise SystemExit(main())
