"""MLE-bench's grading rules scored by AUC: one probability column, each class column, or multi-label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mle_ci.competitions.rulechecks import (
    answers_have,
    merged_warnings,
    require_columns,
    same_length,
    same_sorted_ids,
    score_by_metric,
)
from mle_ci.competitions.rules import Graded, InvalidSubmission


@dataclass(frozen=True)
class AucById:
    """AUC of one probability column, rows matched by sorting both files by id (MLE-bench's AUC graders)."""

    id_column: str
    target: str

    def inputs(self, submission: pd.DataFrame, answers: pd.DataFrame) -> tuple[object, object]:
        """The answers' and the submission's target column, row for row, after MLE-bench's checks."""
        answers_have(answers, (self.id_column, self.target))
        require_columns(submission, (self.id_column, self.target))
        same_length(submission, answers)
        try:
            pd.to_numeric(submission[self.target])
        except ValueError:
            raise InvalidSubmission(f"column {self.target!r} is not numeric") from None
        if submission[self.target].min() < 0 or submission[self.target].max() > 1:
            raise InvalidSubmission(f"column {self.target!r} must hold probabilities between 0 and 1")
        submission = submission.sort_values(self.id_column)
        answers = answers.sort_values(self.id_column)
        same_sorted_ids(submission, answers, self.id_column)
        return answers[self.target].to_numpy(), submission[self.target].to_numpy()

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The AUC."""
        return score_by_metric("auc", *self.inputs(submission, answers))


@dataclass(frozen=True)
class AucPerColumnById:
    """The mean of each class column's AUC, every column checked and aligned as ``AucById`` (ranzcr)."""

    id_column: str
    classes: tuple[str, ...]

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The mean column AUC."""
        answers_have(answers, self.classes)
        require_columns(submission, self.classes)
        same_length(submission, answers)
        parts = [AucById(self.id_column, c).grade(submission, answers) for c in self.classes]
        return Graded(float(np.average([p.value for p in parts])), merged_warnings(parts))


@dataclass(frozen=True)
class AucPerColumnExact:
    """The mean of each class column's AUC; exactly the id and class columns, the same ids (plant pathology)."""

    id_column: str
    classes: tuple[str, ...]

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The mean column AUC."""
        expected = {self.id_column, *self.classes}
        if set(answers.columns) != expected:
            raise InvalidSubmission(f"the answers' columns are not {sorted(expected)}")
        same_length(submission, answers)
        if set(submission.columns) != expected:
            raise InvalidSubmission(f"the columns must be exactly {', '.join([self.id_column, *self.classes])}")
        submission = submission.sort_values(by=self.id_column).reset_index(drop=True)
        answers = answers.sort_values(by=self.id_column).reset_index(drop=True)
        if not all(submission[self.id_column] == answers[self.id_column]):
            raise InvalidSubmission(f"the {self.id_column!r} values differ from the answers'")
        parts = [score_by_metric("auc", answers[c], submission[c]) for c in self.classes]
        return Graded(float(np.mean([p.value for p in parts])), merged_warnings(parts))


@dataclass(frozen=True)
class AucMultiLabelScored:
    """Macro AUC over the class columns, rows whose answers are all -1 left out (unscored), by id (jigsaw)."""

    id_column: str
    classes: tuple[str, ...]

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The mean column AUC over the scored rows."""
        require_columns(submission, (self.id_column,))
        require_columns(submission, self.classes)
        answers_have(answers, (self.id_column, *self.classes))
        same_length(submission, answers)
        submission = submission.set_index(self.id_column).sort_index()
        answers = answers.set_index(self.id_column).sort_index()
        scored_rows = answers[list(self.classes)].sum(axis=1) >= 0
        answers = answers[scored_rows]
        # MLE-bench indexes the submission with the answers' mask: the ids must align, and every other column
        # of the submission is scored against the answers' columns by position
        submission = submission[scored_rows]
        return score_by_metric("auc", answers.to_numpy(), submission.to_numpy())
