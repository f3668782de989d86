"""What a grading rule is, and how one is run on a submission as MLE-bench's ``Grader`` runs it.

Each MLE-bench lite competition's ``grade.py`` is a rule in the module of its metric family (``aucrules``,
``labelrules``, ``loglossrules``, ``regressionrules``): its checks, its alignment, its metric.

A rule takes the submission and the answers as MLE-bench reads them (``pandas.read_csv`` with round-trip floats)
and returns the score or raises ``InvalidSubmission``; any other exception also makes the file invalid, as in
MLE-bench's ``Grader``. The steps follow MLE-bench's graders in order, including where they differ from a strict
reading: rows matched by position (nomad2018, and taxi after sorting both by key), extra columns ignored where they
are, unscored rows (-1) dropped from jigsaw's answers, labels compared as pandas typed them. Tests hold every rule
against MLE-bench's own verdicts and scores on crafted files (tests/golden/lite).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from mle_ci.errors import MleCiError


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
