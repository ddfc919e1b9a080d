"""For every assignment: the solution earns full marks, the blank student version zero on every
question, and a seeded wrong answer loses its question's points (and only those)."""

from __future__ import annotations

from pathlib import Path

import pytest
import nbformat

from cnnbook.grading.assign import build_assignment
from cnnbook.grading.paths import (
    assignment_names,
    autograder_zip,
    solution_notebook,
    student_notebook,
)
from cnnbook.grading.tests import read_autograder_tests

# One seeded wrong answer per question: (old, new) edits of the solution notebook's code, each a
# classic mistake the chapter warns about; the grader must take that question's points.
WRONG: dict[str, dict[str, list[tuple[str, str]]]] = {
    "01_convolution": {
        # the dilation is forgotten: the kernel spans k, not d(k-1)+1
        "q1_output_size": [
            ("return (n + 2 * p - span) // s + 1", "return (n + 2 * p - k) // s + 1")
        ],
        # a flipped kernel: a mathematician's convolution, not TensorFlow's cross-correlation
        "q2_conv2d_loop": [
            ("np.sum(patch * w[:, :, :, o])", "np.sum(patch * w[::-1, ::-1, :, o])")
        ],
        # the stride is ignored in the vectorized version
        "q3_conv2d_vectorized": [
            ("axis=(1, 2))[:, ::stride, ::stride]", "axis=(1, 2))")
        ],
    },
    "02_batchnorm_dropout": {
        # the unbiased variance (ddof=1): not what BatchNorm normalizes with
        "q1_batchnorm_train": [("x.var(axis=axes)", "x.var(axis=axes, ddof=1)")],
        # momentum applied to the new batch instead of the running average
        "q2_running_stats": [
            (
                "np.asarray(moving_mean) * momentum + np.asarray(batch_mean) * (1.0 - momentum)",
                "np.asarray(moving_mean) * (1.0 - momentum) + np.asarray(batch_mean) * momentum",
            )
        ],
        # batch statistics at inference: the output depends on the rest of the batch
        "q3_batchnorm_inference": [
            (
                "(x - moving_mean) / np.sqrt(moving_var + eps)",
                "(x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)",
            )
        ],
        # no 1 / (1 - rate) rescaling: the expected activation shrinks in training
        "q4_dropout": [("return x * mask / (1.0 - rate)", "return x * mask")],
    },
    "03_parameters": {
        # the biases are forgotten
        "q1_conv_params": [
            (
                "return kh * kw * c_in * c_out + (c_out if use_bias else 0)",
                "return kh * kw * c_in * c_out",
            )
        ],  # noqa: E501  (one case per line)
        # the moving mean and variance are forgotten
        "q2_dense_batchnorm_params": [
            ("return 2 * channels, 2 * channels", "return 2 * channels, 0")
        ],
        # BatchNorm's moving statistics counted as trainable
        "q3_count_model": [
            (
                "t, f = batchnorm_params(layer.input.shape[-1])",
                "t, f = sum(batchnorm_params(layer.input.shape[-1])), 0",
            )
        ],
    },
    "05_gradcam": {
        # no ReLU: negative evidence (other classes) is drawn too
        "q1_grad_cam": [
            (
                'cam = np.maximum(np.einsum("nhwk,nk->nhw", feats, grads.mean(axis=(1, 2))), 0.0)',
                'cam = np.einsum("nhwk,nk->nhw", feats, grads.mean(axis=(1, 2)))',
            )
        ],
        # cosine similarity: the maps are not centred first
        "q2_correlation": [
            (
                "a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)",
                "pass",
            )
        ],
        # the model compared with itself: the check can never fail
        "q3_randomization": [
            ("grad_cam(random_model, images))", "grad_cam(model, images))")
        ],
    },
    "06_capstone": {
        # the first images of each class: the seed decides nothing
        "q1_subset": [
            (
                "rng.choice(members, size=per_class, replace=False)",
                "members[:per_class]",
            )
        ],
        # weight decay on the convolutions only
        "q2_regularized_model": [
            (
                'if layer["class_name"] in ("Conv2D", "Dense"):',
                'if layer["class_name"] == "Conv2D":',
            )
        ],  # noqa: E501  (one case per line)
        # baseline minus regularized: every difference has the wrong sign
        "q3_comparison": [
            (
                "(probs_reg, labels), (probs_base, labels)",
                "(probs_base, labels), (probs_reg, labels)",
            )
        ],
    },
    "04_calibration": {
        # bins closed on the wrong side: [lo, hi) instead of (lo, hi]
        "q1_reliability_bins": [
            (
                'np.searchsorted(edges, confidence, side="left")',
                'np.searchsorted(edges, confidence, side="right")',
            )
        ],
        # every non-empty bin weighted equally instead of by its share of the predictions
        "q2_ece": [
            (
                "return float(np.sum(counts[filled] * np.abs(accuracy[filled] - confidence[filled])) / counts.sum())",  # noqa: E501  (one case per line)
                "return float(np.mean(np.abs(accuracy[filled] - confidence[filled])))",
            )
        ],
        # logits multiplied by T instead of divided
        "q3_temperature": [
            (
                "z = np.asarray(logits, dtype=np.float64) / temperature",
                "z = np.asarray(logits, dtype=np.float64) * temperature",
            )
        ],
    },
}

ASSIGNMENTS = assignment_names()
# Cheap (NumPy) assignments also get one grading per seeded mistake, to show the others keep their points.
PER_QUESTION = ["01_convolution", "02_batchnorm_dropout", "04_calibration"]


def test_every_assignment_has_seeded_mistakes_for_every_question(build: Path) -> None:
    for name in ASSIGNMENTS:
        questions = [q.name for q in read_autograder_tests(autograder_zip(name, build))]
        assert sorted(WRONG.get(name, {})) == sorted(questions), name


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_scores_full_marks(build: Path, grade, name: str) -> None:
    report = grade(solution_notebook(name, build))
    assert report.score == report.max_score > 0, report.questions
    assert report.problems == ()


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_blank_student_notebook_scores_zero_everywhere(
    grade, student, name: str
) -> None:
    report = grade(student(name))
    assert report.questions and all(q.score == 0 for q in report.questions), (
        report.questions
    )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_all_seeded_mistakes_each_lose_their_points(
    build: Path, grade, edited_solution, tmp_path: Path, name: str
) -> None:
    edits = [edit for question in WRONG[name].values() for edit in question]
    report = grade(edited_solution(build, name, edits, tmp_path / f"{name}.ipynb"))
    lost = {q.name: q.score < q.max_score for q in report.questions}
    assert all(lost.values()), report.questions


@pytest.mark.parametrize(
    "name, question", [(n, q) for n in PER_QUESTION for q in WRONG[n]]
)
def test_one_seeded_mistake_loses_only_its_question(
    build: Path, grade, edited_solution, tmp_path: Path, name: str, question: str
) -> None:
    report = grade(
        edited_solution(build, name, WRONG[name][question], tmp_path / f"{name}.ipynb")
    )
    for q in report.questions:
        if q.name == question:
            assert q.score < q.max_score, q
        else:
            assert q.score == q.max_score, q


@pytest.fixture(scope="session")
def russian_build(build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Assignment 1 built from its Russian master (booktools.translation), as `make assignments` does."""
    from booktools.translation import write_masters

    sources = tmp_path_factory.mktemp("ru-sources")
    write_masters("ru", sources)
    folder = build / "ru"
    build_assignment("01_convolution", folder, sources)
    return folder


def test_the_russian_assignment_is_the_same_one_in_russian(
    build: Path, russian_build: Path, grade
) -> None:
    english, russian = (
        nbformat.read(student_notebook("01_convolution", b), as_version=4)
        for b in (build, russian_build)
    )
    code = [
        [c.source for c in nb.cells if c.cell_type == "code"]
        for nb in (english, russian)
    ]
    assert code[0] == code[1]  # the same questions, the same public tests
    markdown = " ".join(c.source for c in russian.cells if c.cell_type == "markdown")
    assert "Вопрос 1" in markdown and "Question" not in markdown
    # the same autograder: the Russian solution scores full marks, the blank Russian notebook zero
    solved = grade(solution_notebook("01_convolution", russian_build))
    assert solved.score == solved.max_score > 0, solved.questions
    blank = grade(student_notebook("01_convolution", russian_build))
    assert blank.questions and all(q.score == 0 for q in blank.questions)
