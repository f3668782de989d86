"""MLE-bench's grading rules that compare labels: accuracy, and quadratic weighted kappa."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mle_ci.competitions.rulechecks import (
    answers_have,
    require_columns,
    same_length,
    same_sorted_ids,
    score_by_metric,
)
from mle_ci.competitions.rules import Graded, InvalidSubmission


@dataclass(frozen=True)
class AccuracyById:
    """Accuracy of one label column, rows matched by sorting by id; ``as_text`` compares ``str`` of each cell."""

    id_column: str
    target: str
    as_text: bool = False

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The accuracy."""
        answers_have(answers, (self.target, self.id_column))
        same_length(submission, answers)
        require_columns(submission, (self.target,))
        require_columns(submission, (self.id_column,))
        submission = submission.sort_values(self.id_column)
        answers = answers.sort_values(self.id_column)
        same_sorted_ids(submission, answers, self.id_column)
        if self.as_text:
            submission = submission.assign(**{self.target: submission[self.target].astype(str)})
            answers = answers.assign(**{self.target: answers[self.target].astype(str)})
        return score_by_metric("accuracy", answers[self.target].to_numpy(), submission[self.target].to_numpy())


@dataclass(frozen=True)
class KappaById:
    """Quadratic weighted kappa of one label column; the same set of ids, rows matched by sorting (aptos)."""

    id_column: str
    target: str

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The kappa."""
        require_columns(submission, (self.target,))
        answers_have(answers, (self.target,))
        if submission.empty:
            raise InvalidSubmission("the submission has no rows")
        if set(submission[self.id_column]) != set(answers[self.id_column]):
            raise InvalidSubmission(f"the set of {self.id_column!r} values differs from the answers'")
        submission = submission.sort_values(by=self.id_column)
        answers = answers.sort_values(by=self.id_column)
        # MLE-bench passes the prediction first; kappa is symmetric
        return score_by_metric("qwk", submission[self.target].values, answers[self.target].values)
