"""Command line: ``python -m cnnbook.grading assign | grade | list`` (errors: one line, exit code 1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnnbook.core.exceptions import CnnbookError
from cnnbook.core.files import REPOSITORY_ROOT

RESULTS_DIR = REPOSITORY_ROOT / "_build" / "grades"


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line with exit code 1."""

    def error(self, message: str) -> None:
        """Print 'error: message' and exit 1."""
        print(f"error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(1)


def _positive(text: str) -> float:
    """An argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value:g} must be > 0 seconds")
    return value


def _parser() -> argparse.ArgumentParser:
    """The argument parser of the three commands."""
    parser = _OneLineParser(prog="python -m cnnbook.grading", description=__doc__)
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_OneLineParser
    )
    commands.add_parser("list", help="the assignments")
    assign = commands.add_parser(
        "assign", help="generate student notebooks and autograder zips"
    )
    assign.add_argument("names", nargs="*", help="assignments to build (default: all)")
    assign.add_argument(
        "--build",
        type=Path,
        default=None,
        help="build folder (default: _build/assignments)",
    )
    assign.add_argument(
        "--sources",
        type=Path,
        default=None,
        help="folder of the masters (default: assignments/; a translation's copy of them)",
    )
    grade = commands.add_parser("grade", help="grade one submitted notebook")
    grade.add_argument("submission", type=Path)
    grade.add_argument(
        "--assignment",
        default=None,
        help="default: from the notebook's metadata or name",
    )
    grade.add_argument(
        "--autograder",
        type=Path,
        default=None,
        help="default: the built autograder zip",
    )
    grade.add_argument(
        "--json",
        type=Path,
        default=None,
        help="result file (default: _build/grades/<name>.json)",
    )
    grade.add_argument(
        "--cell-timeout", type=_positive, default=None, help="seconds per notebook cell"
    )
    grade.add_argument(
        "--question-timeout", type=_positive, default=None, help="seconds per question"
    )
    return parser


def _assign(args: argparse.Namespace) -> None:
    """Build the named assignments (all by default)."""
    from cnnbook.grading.assign import build_assignment
    from cnnbook.grading.paths import SOURCES_DIR, assignment_names, source_file

    sources = args.sources or SOURCES_DIR
    for name in args.names or assignment_names(sources):
        source_file(name, sources)
        print(f"{name}: {build_assignment(name, args.build, sources)}")


def _grade(args: argparse.Namespace) -> None:
    """Grade one submission, print the table and write the JSON result."""
    from cnnbook.grading.grade import (
        CELL_TIMEOUT,
        QUESTION_TIMEOUT,
        Limits,
        grade_submission,
    )
    from cnnbook.grading.report import format_table, write_report

    limits = Limits(
        args.cell_timeout or CELL_TIMEOUT, args.question_timeout or QUESTION_TIMEOUT
    )
    report = grade_submission(args.submission, args.assignment, args.autograder, limits)
    target = args.json or RESULTS_DIR / f"{args.submission.stem}.json"
    write_report(report, target)
    print(format_table(report))
    print(f"result: {target}")


def main(argv: list[str] | None = None) -> int:
    """Run one command; a CnnbookError or OSError is one line on stderr and exit code 1."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            from cnnbook.grading.paths import assignment_names

            print("\n".join(assignment_names()))
        elif args.command == "assign":
            _assign(args)
        else:
            _grade(args)
    except (CnnbookError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
