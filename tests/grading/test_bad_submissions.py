"""Bad submissions get a score and a one-line message, never a crash of the grader."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from cnnbook.grading.grade import Limits
from cnnbook.grading.paths import autograder_zip, solution_notebook, student_notebook
from cnnbook.grading.tests import hidden_cases, read_autograder_tests

NAME = "01_convolution"
SHORT = Limits(cell=3.0, question=20.0)


def _solution_cells(build: Path) -> list[str]:
    """The code cells of the assignment's solution notebook."""
    notebook = json.loads(solution_notebook(NAME, build).read_text(encoding="utf-8"))
    return [
        "".join(c["source"])
        for c in notebook["cells"]
        if c["cell_type"] == "code"
        and "otter_ignore" not in c["metadata"].get("tags", [])
    ]


def test_a_notebook_that_raises_loses_only_what_depends_on_the_cell(
    build, grade, notebook_with_cells, tmp_path
) -> None:
    cells = _solution_cells(build)
    broken = [
        c + "\nraise RuntimeError('boom')" if "def conv2d_loop" in c else c
        for c in cells
    ]
    report = grade(notebook_with_cells(NAME, broken, tmp_path / "raises.ipynb"))
    assert any("RuntimeError: boom" in p for p in report.problems)
    assert (
        report.scores()["q1_output_size"] == 4
        and report.scores()["q3_conv2d_vectorized"] == 4
    )
    assert (
        report.scores()["q2_conv2d_loop"] == 5
    )  # the function was defined before the raise


def test_an_endless_loop_times_out_and_the_other_questions_are_graded(
    build, grade, notebook_with_cells, tmp_path
) -> None:
    cells = _solution_cells(build) + ["while True:\n    pass"]
    report = grade(
        notebook_with_cells(NAME, cells, tmp_path / "loops.ipynb"), limits=SHORT
    )
    assert any("timed out after 3 s" in p for p in report.problems)
    assert report.score == report.max_score


def test_a_function_that_loops_in_a_test_costs_its_question_only(
    build, grade, notebook_with_cells, tmp_path
) -> None:
    cells = _solution_cells(build) + [
        "def conv_output_size(n, k, p=0, s=1, d=1):\n    while True:\n        pass"
    ]
    report = grade(
        notebook_with_cells(NAME, cells, tmp_path / "slow.ipynb"),
        limits=Limits(cell=3.0, question=4.0),
    )
    scores = report.scores()
    assert (
        scores["q1_output_size"] == 0
        and scores["q2_conv2d_loop"] == 5
        and scores["q3_conv2d_vectorized"] == 4
    )
    assert "timed out after 4 s" in report.questions[0].message


def test_an_uninterruptible_loop_stops_the_run_with_a_message(
    build, grade, notebook_with_cells, tmp_path
) -> None:
    cells = [
        "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass"
    ]
    report = grade(
        notebook_with_cells(
            NAME, cells + _solution_cells(build), tmp_path / "stuck.ipynb"
        ),
        limits=Limits(cell=2.0, question=5.0, ping=2.0),
    )
    assert report.score == 0
    assert any(
        "stopped responding" in q.message or "timed out" in q.message
        for q in report.questions
    )


def test_a_notebook_that_kills_its_kernel_scores_zero_with_a_message(
    grade, notebook_with_cells, tmp_path
) -> None:
    report = grade(
        notebook_with_cells(NAME, ["import os\nos._exit(3)"], tmp_path / "exits.ipynb")
    )
    assert report.score == 0 and any("kernel died" in p for p in report.problems)


def test_invalid_json_scores_zero_with_a_one_line_reason(grade, tmp_path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    report = grade(path, NAME)
    assert report.score == 0 and report.max_score > 0
    assert (
        len(report.problems) == 1
        and "invalid JSON" in report.problems[0]
        and "\n" not in report.problems[0]
    )


def test_json_that_is_not_a_notebook_scores_zero(grade, tmp_path) -> None:
    for i, text in enumerate(
        [
            "[1, 2]",
            '{"cells": "nope", "nbformat": 4}',
            "\xff\xfe".encode("latin-1").decode("latin-1"),
        ]
    ):  # noqa: E501  (one case per line)
        path = tmp_path / f"odd{i}.ipynb"
        path.write_text(text, encoding="latin-1")
        report = grade(path, NAME)
        assert report.score == 0 and "not" in report.problems[0]


def test_a_missing_module_is_named(grade, notebook_with_cells, tmp_path) -> None:
    report = grade(
        notebook_with_cells(
            NAME, ["import no_such_module_xyz"], tmp_path / "missing.ipynb"
        )
    )
    assert report.score == 0
    assert report.problems == (
        "code cell 1: ModuleNotFoundError: No module named 'no_such_module_xyz'",
    )


def test_reading_the_hidden_tests_finds_nothing(
    build, grade, notebook_with_cells, tmp_path
) -> None:
    snoop = (
        "import glob, os\nfound = glob.glob('**/*.py', recursive=True) + glob.glob('**/*autograder*', recursive=True)\n"  # noqa: E501  (one case per line)
        "assert not found, found\nopen('tests/q1_output_size.py').read()"
    )
    report = grade(
        notebook_with_cells(
            NAME, [snoop] + _solution_cells(build), tmp_path / "snoop.ipynb"
        )
    )
    assert report.problems == (
        "code cell 1: FileNotFoundError: [Errno 2] No such file or directory: "
        "'tests/q1_output_size.py'",
    )
    assert (
        report.score == report.max_score
    )  # the rest of the notebook is graded normally


def test_hidden_tests_are_not_in_the_student_files(build) -> None:
    from cnnbook.grading.paths import assignment_names

    for name in assignment_names():
        student_dir = student_notebook(name, build).parent
        text = "\n".join(
            p.read_text(encoding="utf-8") for p in student_dir.rglob("*") if p.is_file()
        )
        hidden = hidden_cases(read_autograder_tests(autograder_zip(name, build)))
        assert hidden, name
        for _, code in hidden:
            assert code not in text and "# HIDDEN" not in text
        assert "BEGIN SOLUTION" not in text
        with zipfile.ZipFile(autograder_zip(name, build)) as archive:
            assert any(n.startswith("tests/") for n in archive.namelist())


def test_the_command_line_prints_a_table_and_writes_json(build, tmp_path) -> None:
    result_file = tmp_path / "result.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnnbook.grading",
            "grade",
            str(student_notebook(NAME, build)),
            "--json",
            str(result_file),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "q1_output_size" in done.stdout and "total" in done.stdout
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert (
        result["score"] == 0
        and result["max_score"] == 13
        and len(result["questions"]) == 3
    )


def test_command_line_errors_are_one_line_with_exit_code_1(build, tmp_path) -> None:
    for args in (
        ["grade", str(tmp_path / "absent.ipynb")],
        ["grade", str(tmp_path), "--assignment", "nope"],
        ["assign", "nope"],
        ["grade", "x.ipynb", "--cell-timeout", "-1"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "cnnbook.grading", *args],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 1, args
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("error:"), (
            done.stderr
        )
