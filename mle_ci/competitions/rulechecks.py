"""The checks MLE-bench's graders share: required columns, row counts, id alignment, probabilities, and the
metric's score with its warnings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mle_ci.competitions.rules import Graded, InvalidSubmission
from mle_ci.metrics import scored

ROW_SUM_TOLERANCE = 1e-6
"""``numpy.isclose(row_sum, 1, atol=1e-6)``: MLE-bench's check of probability rows (rtol 1e-5 included)."""


def score_by_metric(name: str, y_true: object, y_pred: object) -> Graded:
    """The metric's score of the predictions, with the warnings scikit-learn gave."""
    result = scored(name, y_true, y_pred)
    return Graded(result.value, result.warnings)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str = "submission") -> None:
    """Refuse a frame without every one of ``columns``; ``what`` names the frame."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidSubmission(f"the {what} has no column {', '.join(repr(c) for c in missing)}")


def answers_have(answers: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse answers without every one of ``columns``."""
    # a fault of the competition's files, which MLE-bench also reports as an invalid submission
    require_columns(answers, columns, "answers")


def same_length(submission: pd.DataFrame, answers: pd.DataFrame) -> None:
    """Refuse a submission whose row count is not the answers'."""
    if len(submission) != len(answers):
        raise InvalidSubmission(f"expected {len(answers)} rows (as the answers), found {len(submission)}")


def differs(ours: object, theirs: object) -> bool:
    """Whether two columns' values differ anywhere, compared element by element as numpy compares them."""
    return bool((ours != theirs).any())  # type: ignore[attr-defined]


def same_sorted_ids(submission: pd.DataFrame, answers: pd.DataFrame, id_column: str) -> None:
    """Refuse sorted ids that differ from the answers' row for row, showing the first difference."""
    if differs(submission[id_column].values, answers[id_column].values):
        example = _id_example(submission, answers, id_column)
        raise InvalidSubmission(f"the {id_column!r} values, sorted, differ from the answers' ({example})")


def _id_example(submission: pd.DataFrame, answers: pd.DataFrame, id_column: str) -> str:
    ours, theirs = submission[id_column].tolist(), answers[id_column].tolist()
    first = next((n for n, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), 0)
    return f"first difference at sorted row {first + 1}: {ours[first]!r} where the answers have {theirs[first]!r}"


def require_probabilities(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> None:
    """Refuse any value outside [0, 1] in ``columns`` (all of them when None)."""
    values = frame if columns is None else frame[list(columns)]
    if not ((values >= 0) & (values <= 1)).all().all():
        raise InvalidSubmission("every probability must be between 0 and 1")


def rows_sum_to_one(values: pd.DataFrame) -> None:
    """Refuse a row of probabilities that does not sum to 1, as ``numpy.isclose`` judges it."""
    if not np.all(np.isclose(values.sum(axis=1), 1, atol=ROW_SUM_TOLERANCE)):
        raise InvalidSubmission(f"each row of probabilities must sum to 1 (within {ROW_SUM_TOLERANCE:g})")


def merged_warnings(parts: Sequence[Graded]) -> tuple[str, ...]:
    """The warnings of several scores, each once, in order."""
    return tuple(dict.fromkeys(w for p in parts for w in p.warnings))
