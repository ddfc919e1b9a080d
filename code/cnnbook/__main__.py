"""Run the command-line interface: python -m cnnbook."""

from cnnbook.core.cli import main

raise SystemExit(main())
