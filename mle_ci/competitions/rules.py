"""How each MLE-bench lite competition's ``grade.py`` reads a submission: its checks, its alignment, its metric.

A rule takes the submission and the answers as MLE-bench reads them (``pandas.read_csv`` with round-trip floats)
and returns the score or raises ``InvalidSubmission``; any other exception also makes the file invalid, as in
MLE-bench's ``Grader``. The steps follow MLE-bench's graders in order, including where they differ from a strict
reading: rows matched by position (nomad2018, and taxi after sorting both by key), extra columns ignored where they
are, unscored rows (-1) dropped from jigsaw's answers, labels compared as pandas typed them. Tests hold every rule
against MLE-bench's own verdicts and scores on crafted files (tests/golden/lite).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from mle_ci.errors import MleCiError
from mle_ci.metrics import scored

ROW_SUM_TOLERANCE = 1e-6
"""``numpy.isclose(row_sum, 1, atol=1e-6)``: MLE-bench's check of probability rows (rtol 1e-5 included)."""


class InvalidSubmission(MleCiError):
    """The submission breaks one of the competition's rules; the message says which."""


@dataclass(frozen=True)
class Graded:
    """A rule's score and the warnings scikit-learn gave on the way."""

    value: float
    warnings: tuple[str, ...] = ()


class Rule(Protocol):
    """A competition's grading rule."""

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The score of a submission against the answers; ``InvalidSubmission`` when a rule is broken."""
        ...


def _metric(name: str, y_true: object, y_pred: object) -> Graded:
    result = scored(name, y_true, y_pred)
    return Graded(result.value, result.warnings)


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str = "submission") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidSubmission(f"the {what} has no column {', '.join(repr(c) for c in missing)}")


def _answers_have(answers: pd.DataFrame, columns: Sequence[str]) -> None:
    # a fault of the competition's files, which MLE-bench also reports as an invalid submission
    _require(answers, columns, "answers")


def _same_length(submission: pd.DataFrame, answers: pd.DataFrame) -> None:
    if len(submission) != len(answers):
        raise InvalidSubmission(f"expected {len(answers)} rows (as the answers), found {len(submission)}")


def _differs(ours: object, theirs: object) -> bool:
    """Whether two columns' values differ anywhere, compared element by element as numpy compares them."""
    return bool((ours != theirs).any())  # type: ignore[attr-defined]


def _same_sorted_ids(submission: pd.DataFrame, answers: pd.DataFrame, id_column: str) -> None:
    if _differs(submission[id_column].values, answers[id_column].values):
        example = _id_example(submission, answers, id_column)
        raise InvalidSubmission(f"the {id_column!r} values, sorted, differ from the answers' ({example})")


def _id_example(submission: pd.DataFrame, answers: pd.DataFrame, id_column: str) -> str:
    ours, theirs = submission[id_column].tolist(), answers[id_column].tolist()
    first = next((n for n, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), 0)
    return f"first difference at sorted row {first + 1}: {ours[first]!r} where the answers have {theirs[first]!r}"


def _probabilities(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> None:
    values = frame if columns is None else frame[list(columns)]
    if not ((values >= 0) & (values <= 1)).all().all():
        raise InvalidSubmission("every probability must be between 0 and 1")


def _rows_sum_to_one(values: pd.DataFrame) -> None:
    if not np.all(np.isclose(values.sum(axis=1), 1, atol=ROW_SUM_TOLERANCE)):
        raise InvalidSubmission(f"each row of probabilities must sum to 1 (within {ROW_SUM_TOLERANCE:g})")


@dataclass(frozen=True)
class AucById:
    """AUC of one probability column, rows matched by sorting both files by id (MLE-bench's AUC graders)."""

    id_column: str
    target: str

    def inputs(self, submission: pd.DataFrame, answers: pd.DataFrame) -> tuple[object, object]:
        """The answers' and the submission's target column, row for row, after MLE-bench's checks."""
        _answers_have(answers, (self.id_column, self.target))
        _require(submission, (self.id_column, self.target))
        _same_length(submission, answers)
        try:
            pd.to_numeric(submission[self.target])
        except ValueError:
            raise InvalidSubmission(f"column {self.target!r} is not numeric") from None
        if submission[self.target].min() < 0 or submission[self.target].max() > 1:
            raise InvalidSubmission(f"column {self.target!r} must hold probabilities between 0 and 1")
        submission = submission.sort_values(self.id_column)
        answers = answers.sort_values(self.id_column)
        _same_sorted_ids(submission, answers, self.id_column)
        return answers[self.target].to_numpy(), submission[self.target].to_numpy()

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The AUC."""
        return _metric("auc", *self.inputs(submission, answers))


@dataclass(frozen=True)
class AucPerColumnById:
    """The mean of each class column's AUC, every column checked and aligned as ``AucById`` (ranzcr)."""

    id_column: str
    classes: tuple[str, ...]

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The mean column AUC."""
        _answers_have(answers, self.classes)
        _require(submission, self.classes)
        _same_length(submission, answers)
        parts = [AucById(self.id_column, c).grade(submission, answers) for c in self.classes]
        return Graded(float(np.average([p.value for p in parts])), _merged(parts))


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
        _same_length(submission, answers)
        if set(submission.columns) != expected:
            raise InvalidSubmission(f"the columns must be exactly {', '.join([self.id_column, *self.classes])}")
        submission = submission.sort_values(by=self.id_column).reset_index(drop=True)
        answers = answers.sort_values(by=self.id_column).reset_index(drop=True)
        if not all(submission[self.id_column] == answers[self.id_column]):
            raise InvalidSubmission(f"the {self.id_column!r} values differ from the answers'")
        parts = [_metric("auc", answers[c], submission[c]) for c in self.classes]
        return Graded(float(np.mean([p.value for p in parts])), _merged(parts))


@dataclass(frozen=True)
class AucMultiLabelScored:
    """Macro AUC over the class columns, rows whose answers are all -1 left out (unscored), by id (jigsaw)."""

    id_column: str
    classes: tuple[str, ...]

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The mean column AUC over the scored rows."""
        _require(submission, (self.id_column,))
        _require(submission, self.classes)
        _answers_have(answers, (self.id_column, *self.classes))
        _same_length(submission, answers)
        submission = submission.set_index(self.id_column).sort_index()
        answers = answers.set_index(self.id_column).sort_index()
        scored_rows = answers[list(self.classes)].sum(axis=1) >= 0
        answers = answers[scored_rows]
        # MLE-bench indexes the submission with the answers' mask: the ids must align, and every other column
        # of the submission is scored against the answers' columns by position
        submission = submission[scored_rows]
        return _metric("auc", answers.to_numpy(), submission.to_numpy())


@dataclass(frozen=True)
class AccuracyById:
    """Accuracy of one label column, rows matched by sorting by id; ``as_text`` compares ``str`` of each cell."""

    id_column: str
    target: str
    as_text: bool = False

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The accuracy."""
        _answers_have(answers, (self.target, self.id_column))
        _same_length(submission, answers)
        _require(submission, (self.target,))
        _require(submission, (self.id_column,))
        submission = submission.sort_values(self.id_column)
        answers = answers.sort_values(self.id_column)
        _same_sorted_ids(submission, answers, self.id_column)
        if self.as_text:
            submission = submission.assign(**{self.target: submission[self.target].astype(str)})
            answers = answers.assign(**{self.target: answers[self.target].astype(str)})
        return _metric("accuracy", answers[self.target].to_numpy(), submission[self.target].to_numpy())


@dataclass(frozen=True)
class KappaById:
    """Quadratic weighted kappa of one label column; the same set of ids, rows matched by sorting (aptos)."""

    id_column: str
    target: str

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The kappa."""
        _require(submission, (self.target,))
        _answers_have(answers, (self.target,))
        if submission.empty:
            raise InvalidSubmission("the submission has no rows")
        if set(submission[self.id_column]) != set(answers[self.id_column]):
            raise InvalidSubmission(f"the set of {self.id_column!r} values differs from the answers'")
        submission = submission.sort_values(by=self.id_column)
        answers = answers.sort_values(by=self.id_column)
        # MLE-bench passes the prediction first; kappa is symmetric
        return _metric("qwk", submission[self.target].values, answers[self.target].values)


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
        _require(submission, (self.id_column,))
        _answers_have(answers, (self.id_column,))
        submission = submission[[c for c in wanted if c in submission.columns]]
        submission = submission.sort_values(by=self.id_column).reset_index(drop=True)
        answers = answers.sort_values(by=self.id_column).reset_index(drop=True)
        if submission[self.id_column].tolist() != answers[self.id_column].tolist():
            raise InvalidSubmission(f"the {self.id_column!r} values differ from the answers'")
        y_true = answers.drop(columns=[self.id_column]).to_numpy()
        y_pred = submission.drop(columns=[self.id_column]).to_numpy()
        return _metric("log_loss", y_true, y_pred)

    def _check(self, submission: pd.DataFrame, answers: pd.DataFrame) -> None:
        classes = list(self.classes)
        if self.columns == "exact_count":
            if submission.shape != (len(answers), len(classes) + 1):
                raise InvalidSubmission(
                    f"expected {len(answers)} rows and {len(classes) + 1} columns, found "
                    f"{submission.shape[0]} rows and {submission.shape[1]} columns"
                )
            _rows_sum_to_one(submission.iloc[:, 1:])
            _probabilities(submission.iloc[:, 1:])
            return
        if self.columns == "exact_set":
            if set(submission.columns) != {self.id_column, *classes}:
                raise InvalidSubmission(
                    f"the columns must be exactly {self.id_column!r} and the {len(classes)} classes"
                )
        else:
            _require(submission, classes)
            _require(submission, (self.id_column,))
        _same_length(submission, answers)
        if self.columns == "exact_set":
            _answers_have(answers, (self.id_column, *classes))
        _rows_sum_to_one(submission[classes])
        _probabilities(submission, classes)


@dataclass(frozen=True)
class BinaryLogLossById:
    """Log loss of one probability column; the same set of ids, rows matched by sorting (dogs vs cats)."""

    id_column: str
    target: str

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The log loss."""
        _answers_have(answers, (self.id_column, self.target))
        _require(submission, (self.id_column, self.target))
        if set(submission[self.id_column]) != set(answers[self.id_column]):
            raise InvalidSubmission(f"the set of {self.id_column!r} values differs from the answers'")
        _same_length(submission, answers)
        if not ((submission[self.target] >= 0) & (submission[self.target] <= 1)).all():
            raise InvalidSubmission(f"column {self.target!r} must hold probabilities between 0 and 1")
        submission = submission.sort_values(self.id_column)
        answers = answers.sort_values(self.id_column)
        return _metric("log_loss", answers[self.target], submission[self.target])


@dataclass(frozen=True)
class RmseById:
    """RMSE of one numeric column; rows matched by sorting by id, the sorted ids equal (denoising)."""

    id_column: str
    target: str

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The RMSE."""
        _answers_have(answers, (self.id_column, self.target))
        answers[self.target].astype(float)
        _require(submission, (self.id_column,))
        _require(submission, (self.target,))
        try:
            submission[self.target].astype(float)
        except ValueError:
            raise InvalidSubmission(f"column {self.target!r} must hold numbers") from None
        _same_length(submission, answers)
        submission = submission.sort_values(by=self.id_column).sort_index(axis=1)
        answers = answers.sort_values(by=self.id_column).sort_index(axis=1)
        if _differs(submission[self.id_column].values, answers[self.id_column].values):
            raise InvalidSubmission(f"the {self.id_column!r} values, sorted, differ from the answers'")
        # MLE-bench passes them the other way round; RMSE is symmetric
        return _metric("rmse", submission[self.target], answers[self.target])


@dataclass(frozen=True)
class RmseSortedByKey:
    """RMSE of one numeric column after sorting both files by key; the keys are not compared (taxi fares)."""

    id_column: str
    target: str

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The RMSE."""
        _answers_have(answers, (self.target, self.id_column))
        _require(submission, (self.target,))
        _require(submission, (self.id_column,))
        submission = submission.sort_values(self.id_column)
        answers = answers.sort_values(self.id_column)
        return _metric("rmse", answers[self.target], submission[self.target])


@dataclass(frozen=True)
class RmsleByPosition:
    """The mean of each target column's RMSLE, rows matched by position, not by id (nomad2018)."""

    targets: tuple[str, ...]

    def grade(self, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
        """The mean column RMSLE."""
        _answers_have(answers, self.targets)
        for target in self.targets:
            _require(submission, (target,))
        _same_length(submission, answers)
        parts = [_metric("rmsle", answers[t], submission[t]) for t in self.targets]
        return Graded(sum(p.value for p in parts) / len(parts), _merged(parts))


def _merged(parts: Sequence[Graded]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for p in parts for w in p.warnings))


def read_frame(path: Path) -> pd.DataFrame:
    """A CSV file as MLE-bench reads it (round-trip floats; an empty file is an empty frame).

    ``InvalidSubmission`` when pandas cannot read it at all (MLE-bench's ``grade_csv`` stops with the error).
    """
    try:
        with warnings.catch_warnings():
            # pandas 3 deprecates the argument MLE-bench still passes; passing it keeps its reading exactly
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return pd.read_csv(path, float_precision="round_trip")
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InvalidSubmission(f"pandas cannot read {path.name} as CSV: {_first_line(exc)}") from None


def run_rule(rule: Rule, submission: pd.DataFrame, answers: pd.DataFrame) -> Graded:
    """A rule's score; ``InvalidSubmission`` for a broken rule or any failure on the way, as MLE-bench's ``Grader``."""
    try:
        return rule.grade(submission.copy(), answers.copy())
    except InvalidSubmission:
        raise
    except Exception as exc:  # MLE-bench counts any failure of its grader as an invalid file
        raise InvalidSubmission(f"the grader failed on it: {type(exc).__name__}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
