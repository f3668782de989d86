"""MLE-bench's grading rules scored by log loss: one column per class, or one binary column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from mle_ci.competitions.rulechecks import (
    answers_have,
    require_columns,
    require_probabilities,
    rows_sum_to_one,
    same_length,
    score_by_metric,
)
from mle_ci.competitions.rules import Graded, InvalidSubmission

Columns = Literal["exact_count", "exact_set", "superset"]


@dataclass(frozen=True)
class LogLossOneHot:
    """Log loss of one probability column per class against one-hot answers, rows matched by id.

    ``columns`` is how strictly the submission's columns are held: ``exact_count`` (the shape must be rows x
    (classes + 1), and the probabilities are the columns after the first: spooky), ``exact_set`` (the id and the
    classes, nothing else: leaf) or ``superset`` (extra columns ignored: dog breeds).
    """

    id_column: str
    classes: tuple[str, ...]
    columns: Columns

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The log loss."""
        self._check(submission, answers)
        wanted = list(answers.columns)
        missing = [c for c in wanted if c not in submission.columns]
        if missing:
            raise InvalidSubmission(f"the submission has no column {', '.join(repr(c) for c in missing)}")
        require_columns(submission, (self.id_column,))
        answers_have(answers, (self.id_column,))
        submission = submission[[c for c in wanted if c in submission.columns]]
        submission = submission.sort_values(by=self.id_column).reset_index(drop=True)
        answers = answers.sort_values(by=self.id_column).reset_index(drop=True)
        if submission[self.id_column].tolist() != answers[self.id_column].tolist():
            raise InvalidSubmission(f"the {self.id_column!r} values differ from the answers'")
        y_true = answers.drop(columns=[self.id_column]).to_numpy()
        y_pred = submission.drop(columns=[self.id_column]).to_numpy()
        return score_by_metric("log_loss", y_true, y_pred)

    def _check(self, submission: pd.DataFrame, answers: pd.DataFrame) -> None:
        classes = list(self.classes)
        if self.columns == "exact_count":
            if submission.shape != (len(answers), len(classes) + 1):
                raise InvalidSubmission(
                    f"expected {len(answers)} rows and {len(classes) + 1} columns, found "
                    f"{submission.shape[0]} rows and {submission.shape[1]} columns"
                )
            rows_sum_to_one(submission.iloc[:, 1:])
            require_probabilities(submission.iloc[:, 1:])
            return
        if self.columns == "exact_set":
            if set(submission.columns) != {self.id_column, *classes}:
                raise InvalidSubmission(
                    f"the columns must be exactly {self.id_column!r} and the {len(classes)} classes"
                )
        else:
            require_columns(submission, classes)
            require_columns(submission, (self.id_column,))
        same_length(submission, answers)
        if self.columns == "exact_set":
            answers_have(answers, (self.id_column, *classes))
        rows_sum_to_one(submission[classes])
        require_probabilities(submission, classes)


@dataclass(frozen=True)
class BinaryLogLossById:
    """Log loss of one probability column; the same set of ids, rows matched by sorting (dogs vs cats)."""

    id_column: str
    target: str

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The log loss."""
        answers_have(answers, (self.id_column, self.target))
        require_columns(submission, (self.id_column, self.target))
        if set(submission[self.id_column]) != set(answers[self.id_column]):
            raise InvalidSubmission(f"the set of {self.id_column!r} values differs from the answers'")
        same_length(submission, answers)
        if not ((submission[self.target] >= 0) & (submission[self.target] <= 1)).all():
            raise InvalidSubmission(f"column {self.target!r} must hold probabilities between 0 and 1")
        submission = submission.sort_values(self.id_column)
        answers = answers.sort_values(self.id_column)
        return score_by_metric("log_loss", answers[self.target], submission[self.target])
