"""The tests of an autograder zip (otter's OK format), read without executing them, with their points."""

from __future__ import annotations

import ast
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from otter.test_files.ok_test import OKTestFile

from cnnbook.grading.paths import GradingError


@dataclass(frozen=True)
class Question:
    """One graded question: its name, its test cases (doctest code) and the points of each case."""

    name: str
    cases: tuple[str, ...]
    points: tuple[float, ...]
    hidden: tuple[bool, ...]

    @property
    def max_score(self) -> float:
        """The points the question is worth."""
        return float(sum(self.points))


def _literal_test(source: str, origin: str) -> dict[str, Any]:
    """The ``test = {...}`` dict of an OK test file, read with ast.literal_eval (nothing is executed)."""
    try:
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and [
                getattr(t, "id", None) for t in node.targets
            ] == ["test"]:
                return ast.literal_eval(node.value)
    except (SyntaxError, ValueError) as exc:
        raise GradingError(f"{origin}: not an OK-format test file ({exc})") from None
    raise GradingError(f"{origin}: no `test = {{...}}` in the test file")


def question_from_spec(spec: dict[str, Any], origin: str) -> Question:
    """A Question from an OK test dict; otter resolves how the points split over the cases."""
    parsed = OKTestFile.from_spec(spec, path=origin)
    return Question(
        parsed.name,
        tuple(c.body for c in parsed.test_cases),
        tuple(float(c.points) for c in parsed.test_cases),
        tuple(bool(c.hidden) for c in parsed.test_cases),
    )


def read_autograder_tests(path: Path) -> list[Question]:
    """Every question of an autograder zip, in question order (q1, q2, ...)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(
                (
                    n
                    for n in archive.namelist()
                    if PurePosixPath(n).parent.name == "tests" and n.endswith(".py")
                ),
                key=_question_order,
            )
            specs = [
                (n, _literal_test(archive.read(n).decode("utf-8"), f"{path.name}:{n}"))
                for n in names
            ]
    except FileNotFoundError:
        raise GradingError(
            f"{path}: no autograder zip; run `make assignments` first"
        ) from None
    except zipfile.BadZipFile:
        raise GradingError(
            f"{path}: not a zip file; rebuild it with `make assignments`"
        ) from None
    if not specs:
        raise GradingError(f"{path}: the autograder zip holds no tests")
    return [question_from_spec(spec, name) for name, spec in specs]


def _question_order(name: str) -> tuple[int, str]:
    """Sort key: questions are named q<number>_<what>, and q2 comes before q10."""
    stem = PurePosixPath(name).stem
    number = re.match(r"q(\d+)", stem)
    return (int(number.group(1)) if number else 0, stem)


def hidden_cases(questions: list[Question]) -> list[tuple[str, str]]:
    """(question, doctest code) of every hidden case."""
    return [
        (q.name, code)
        for q in questions
        for code, hidden in zip(q.cases, q.hidden)
        if hidden
    ]
