"""Run the command-line interface: python -m cnnbook."""

from cnnbook.cli import main

raise SystemExit(main())
