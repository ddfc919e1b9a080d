"""Grade one submission against an autograder zip, offline, question by question.

Order: parse the notebook (a broken file scores zero with the reason); run its code cells in a fresh
kernel in an empty folder, each under ``cell_timeout``; only then send each question's test cases
(read from the zip by this process, never written where the kernel can see them) to the kernel,
each question under ``question_timeout``. otter's doctest runner runs the cases; a case's points
count when it passes, so a question can earn part of its points.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cnnbook.grading.kernel import PING_TIMEOUT, CellResult, GradingKernel
from cnnbook.grading.paths import GradingError, assignment_names, autograder_zip
from cnnbook.grading.report import GradeReport, QuestionScore
from cnnbook.grading.submission import SubmissionError, read_submission
from cnnbook.grading.tests import Question, read_autograder_tests

CELL_TIMEOUT = 300.0  # seconds per notebook cell (Grad-CAM builds models; training cells are skipped)
QUESTION_TIMEOUT = 120.0  # seconds for all the test cases of one question
_ERROR_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*)$")

_RUN_CASES = """\
def _cnnbook_run_cases(cases, nonce):
    import json, sys
    from otter.test_files.ok_test import run_doctest
    for i, case in enumerate(cases):
        try:
            passed, message = run_doctest(f"case {i}", case, globals())
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            passed, message = False, f"{type(exc).__name__}: {exc}"
        print(nonce + json.dumps({"case": i, "passed": bool(passed), "message": str(message)[-4000:]}), flush=True)
try:
    _cnnbook_run_cases(%r, %r)
finally:
    del _cnnbook_run_cases
"""


@dataclass(frozen=True)
class Limits:
    """Time limits of a grading run, in seconds."""

    cell: float = CELL_TIMEOUT
    question: float = QUESTION_TIMEOUT
    ping: float = (
        PING_TIMEOUT  # after an interrupt, how long the kernel has to answer again
    )


def failure_line(message: str) -> str:
    """One line out of a doctest failure: the first exception line if there is one, else the last line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    errors = [m.group(1) for m in map(_ERROR_LINE.match, lines) if m]
    line = errors[0] if errors else (lines[-1] if lines else "test failed")
    return line if len(line) <= 200 else line[:199] + "…"


def _parse_cases(stdout: str, nonce: str) -> dict[int, tuple[bool, str]]:
    """{case index: (passed, message)} from the lines the kernel printed after the nonce."""
    import json

    found = {}
    for line in stdout.splitlines():
        if line.startswith(nonce):
            try:
                record = json.loads(line[len(nonce) :])
                found[int(record["case"])] = (
                    record["passed"] is True,
                    str(record["message"]),
                )
            except (ValueError, KeyError, TypeError):
                continue
    return found


def score_question(
    question: Question, outcome: CellResult, nonce: str
) -> QuestionScore:
    """The question's score from the cases the kernel reported; missing cases failed."""
    reported = _parse_cases(outcome.stdout, nonce)
    passed = tuple(reported.get(i, (False, ""))[0] for i in range(len(question.cases)))
    score = sum(p for p, ok in zip(question.points, passed) if ok)
    if all(passed):
        message = "all tests passed"
    else:
        first = next(i for i, ok in enumerate(passed) if not ok)
        if first in reported:
            message = failure_line(reported[first][1])
        elif outcome.status == "ok":
            message = (
                "the test gave no result (did the notebook replace print or stdout?)"
            )
        else:
            message = outcome.error
        message = f"{sum(passed)}/{len(passed)} tests passed; {message}"
    return QuestionScore(
        question.name, float(score), question.max_score, message, passed
    )


def _zero(questions: list[Question], message: str) -> tuple[QuestionScore, ...]:
    """Every question at zero, for the same reason."""
    return tuple(
        QuestionScore(q.name, 0.0, q.max_score, message, (False,) * len(q.cases))
        for q in questions
    )


def _execute(
    cells: tuple[str, ...], questions: list[Question], limits: Limits
) -> tuple[tuple, list[str]]:
    """Run the cells then every question in one kernel; (scores, problems with the cells)."""
    problems: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="cnnbook-grade-"))
    try:
        with GradingKernel(workdir, limits.ping) as kernel:
            for number, source in enumerate(cells, start=1):
                outcome = kernel.run(source, limits.cell)
                if outcome.status != "ok":
                    problems.append(f"code cell {number}: {outcome.error}")
                if outcome.status == "dead":
                    break
            nonce = f"@@cnnbook-{secrets.token_hex(12)}@@"  # drawn after the student's code has run
            scores = tuple(
                score_question(
                    q,
                    kernel.run(_RUN_CASES % (list(q.cases), nonce), limits.question),
                    nonce,
                )
                for q in questions
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return scores, problems


def guess_assignment(path: Path) -> str:
    """The assignment a file is for, from its name (student notebooks are named after it)."""
    names = assignment_names()
    matches = [n for n in names if path.stem == n or path.stem.startswith(n)]
    if len(matches) != 1:
        raise GradingError(
            f"{path.name}: cannot tell which assignment it is; pass --assignment "
            f"({', '.join(names)})"
        )
    return matches[0]


def _known(name: str) -> str:
    """The name itself if it is an assignment; a one-line GradingError otherwise."""
    names = assignment_names()
    if name not in names:
        raise GradingError(
            f"unknown assignment {name!r}: choose one of {', '.join(names)}"
        )
    return name


def grade_submission(
    path: Path,
    assignment: str | None = None,
    autograder: Path | None = None,
    limits: Limits = Limits(),
) -> GradeReport:
    """Grade one notebook; bad notebooks get scores and messages, not exceptions."""
    if not path.is_file():
        raise GradingError(f"{path}: no such submission file")
    try:
        submission = read_submission(path)
    except SubmissionError as exc:
        name = _known(assignment or guess_assignment(path))
        questions = read_autograder_tests(autograder or autograder_zip(name))
        return GradeReport(
            name,
            path.name,
            _zero(questions, "not graded: the file is not a valid notebook"),
            (str(exc),),
        )
    name = _known(assignment or submission.assignment or guess_assignment(path))
    questions = read_autograder_tests(autograder or autograder_zip(name))
    if not submission.cells:
        return GradeReport(
            name,
            path.name,
            _zero(questions, "not graded: the notebook has no code"),
            ("the notebook has no code cells",),
        )
    scores, problems = _execute(submission.cells, questions, limits)
    return GradeReport(name, path.name, scores, tuple(problems))
