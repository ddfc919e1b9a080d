"""A graded submission: per-question scores and messages, printed as a table and saved as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnnbook.core.files import atomic_write_json


@dataclass(frozen=True)
class QuestionScore:
    """The score of one question, its maximum, one line saying why, and each case's outcome."""

    name: str
    score: float
    max_score: float
    message: str
    cases: tuple[bool, ...] = ()


@dataclass(frozen=True)
class GradeReport:
    """Everything a grading run found: scores per question and problems with the notebook itself."""

    assignment: str
    submission: str
    questions: tuple[QuestionScore, ...]
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def score(self) -> float:
        """Points earned over all questions."""
        return float(sum(q.score for q in self.questions))

    @property
    def max_score(self) -> float:
        """Points available over all questions."""
        return float(sum(q.max_score for q in self.questions))

    def scores(self) -> dict[str, float]:
        """{question: score}."""
        return {q.name: q.score for q in self.questions}

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (totals included)."""
        document = asdict(self)
        document.update(score=self.score, max_score=self.max_score)
        return document


def _points(value: float) -> str:
    """Points without a needless '.0'."""
    return f"{value:g}"


def format_table(report: GradeReport) -> str:
    """The per-question score table, the total and the notebook's problems, as plain text."""
    width = max([len("question"), *(len(q.name) for q in report.questions)])
    lines = [
        f"{report.assignment}: {report.submission}",
        f"{'question':<{width}}  {'score':>5}  {'max':>4}  message",
    ]
    for q in report.questions:
        lines.append(
            f"{q.name:<{width}}  {_points(q.score):>5}  {_points(q.max_score):>4}  {q.message}"
        )
    lines.append(
        f"{'total':<{width}}  {_points(report.score):>5}  {_points(report.max_score):>4}"
    )
    lines.extend(f"problem: {p}" for p in report.problems)
    return "\n".join(lines)


def write_report(report: GradeReport, path: Path) -> None:
    """Write the report as JSON, atomically (a reader never sees half a file)."""
    atomic_write_json(path, report.to_json())
