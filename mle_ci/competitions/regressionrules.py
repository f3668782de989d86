"""MLE-bench's grading rules for numeric targets: RMSE matched by id or by key, RMSLE by position."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mle_ci.competitions.rulechecks import (
    answers_have,
    differs,
    merged_warnings,
    require_columns,
    same_length,
    score_by_metric,
)
from mle_ci.competitions.rules import Graded, InvalidSubmission


@dataclass(frozen=True)
class RmseById:
    """RMSE of one numeric column; rows matched by sorting by id, the sorted ids equal (denoising)."""

    id_column: str
    target: str

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The RMSE."""
        answers_have(answers, (self.id_column, self.target))
        answers[self.target].astype(float)
        require_columns(submission, (self.id_column,))
        require_columns(submission, (self.target,))
        try:
            submission[self.target].astype(float)
        except ValueError:
            raise InvalidSubmission(f"column {self.target!r} must hold numbers") from None
        same_length(submission, answers)
        submission = submission.sort_values(by=self.id_column).sort_index(axis=1)
        answers = answers.sort_values(by=self.id_column).sort_index(axis=1)
        if differs(submission[self.id_column].values, answers[self.id_column].values):
            raise InvalidSubmission(f"the {self.id_column!r} values, sorted, differ from the answers'")
        # MLE-bench passes them the other way round; RMSE is symmetric
        return score_by_metric("rmse", submission[self.target], answers[self.target])


@dataclass(frozen=True)
class RmseSortedByKey:
    """RMSE of one numeric column after sorting both files by key; the keys are not compared (taxi fares)."""

    id_column: str
    target: str

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The RMSE."""
        answers_have(answers, (self.target, self.id_column))
        require_columns(submission, (self.target,))
        require_columns(submission, (self.id_column,))
        submission = submission.sort_values(self.id_column)
        answers = answers.sort_values(self.id_column)
        return score_by_metric("rmse", answers[self.target], submission[self.target])


@dataclass(frozen=True)
class RmsleByPosition:
    """The mean of each target column's RMSLE, rows matched by position, not by id (nomad2018)."""

    targets: tuple[str, ...]

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The mean column RMSLE."""
        answers_have(answers, self.targets)
        for target in self.targets:
            require_columns(submission, (target,))
        same_length(submission, answers)
        parts = [score_by_metric("rmsle", answers[t], submission[t]) for t in self.targets]
        return Graded(sum(p.value for p in parts) / len(parts), merged_warnings(parts))
