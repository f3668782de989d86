"""Several models per fold, one submission: each candidate's out-of-fold outputs and test mean, and the choice.

Every fold trains each candidate model of the task (for tables the MLPs and a linear model, see
``models.TABULAR_CANDIDATES``) on the same rows. The submission comes from the candidate whose out-of-fold score,
over every validation row so far, is the best: rows no candidate was fitted on, so the choice is made without the
test answers, and it is made again after each fold, so the file on disk is always the current choice's fold mean.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.metrics import better
from mle_ci.agents.baseline.submission import Ensemble

RowScorer = Callable[[NDArray[np.int64]], Callable[[NDArray[np.float64]], float]]
"""Given train rows, a function scoring model outputs for exactly those rows in the competition's metric."""


@dataclass(frozen=True)
class CandidateFit:
    """One candidate's model of one fold: its best epoch and score, its outputs on the fold's rows and the test."""

    name: str
    best_epoch: int
    best_score: float
    val_outputs: NDArray[np.float64]
    test_outputs: NDArray[np.float64]


def choose(scores: Mapping[str, float], *, higher_is_better: bool) -> str:
    """The candidate with the best out-of-fold score; a tie goes to the one listed first (the default model)."""
    if not scores:
        raise ValueError("no candidate to choose from")
    chosen = next(iter(scores))
    for name, score in scores.items():
        if better(score, scores[chosen], higher_is_better):
            chosen = name
    return chosen


@dataclass(frozen=True)
class Choice:
    """After a fold: the candidate the submission now comes from, and the folds whose reported score must change."""

    name: str
    report: tuple[int, ...]
    changed: bool
    scores: dict[str, float]
    """The out-of-fold score of each remaining candidate the choice was made on."""


class Candidates:
    """The folds' models, per candidate: out-of-fold outputs, the running mean of test outputs, the fold fits.

    A candidate that misses a fold the first one has (cut short by the deadline or a stop) cannot be compared on
    the same rows any more and drops out; the first candidate is the one whose folds decide what is used at all.
    """

    def __init__(
        self,
        names: Sequence[str],
        *,
        rows: int,
        outputs: int,
        prior: NDArray[np.float64],
        score_rows: RowScorer,
        higher_is_better: bool,
    ) -> None:
        if not names:
            raise ValueError("at least one candidate model is needed")
        self.names = tuple(names)
        self.oof = {name: np.zeros((rows, outputs)) for name in self.names}
        self.ensembles = {name: Ensemble(prior=prior) for name in self.names}
        self.fits: dict[str, dict[int, CandidateFit]] = {name: {} for name in self.names}
        self.seconds: dict[int, float] = {}
        self.covered = np.zeros(rows, dtype=bool)
        self.dropped: set[str] = set()
        self.chosen = self.names[0]
        self._score_rows = score_rows
        self._higher_is_better = higher_is_better

    @property
    def folds(self) -> int:
        """Folds whose models are in the submission."""
        return len(self.seconds)

    @property
    def first(self) -> str:
        return self.names[0]

    def add(self, fold: int, val_rows: NDArray[np.int64], fits: Sequence[CandidateFit], seconds: float) -> Choice:
        """A fold's fits (the first candidate's among them); which candidate the submission comes from now."""
        by_name = {fit.name: fit for fit in fits}
        if self.first not in by_name:
            raise ValueError(f"fold {fold} has no {self.first} model")
        for name in self.names:
            fit = by_name.get(name)
            if fit is None:
                self.dropped.add(name)
                continue
            self.oof[name][val_rows] = fit.val_outputs
            self.ensembles[name].add(fit.test_outputs)
            self.fits[name][fold] = fit
        self.covered[val_rows] = True
        self.seconds[fold] = seconds
        before = self.chosen
        scores = self.scores()
        self.chosen = choose(scores, higher_is_better=self._higher_is_better)
        changed = self.chosen != before
        return Choice(self.chosen, tuple(sorted(self.seconds)) if changed else (fold,), changed, scores)

    def refusal(self, fits: Sequence[CandidateFit], cut: Collection[str]) -> str | None:
        """Why a fold's models stay out of the submission, or None to add them; ``cut`` names the candidates the
        clock or a stop request cut short in that fold.

        The first fold is used even cut short, as far as it got: a partly trained model beats the prior, and a
        candidate missing from it drops out. Once folds are in, a fold with any candidate cut short is left out
        whole: a cut would otherwise drop a candidate from the race (perhaps the one the submission comes from)
        or add a half-trained model to the fold mean.
        """
        if not fits:
            return "no usable model"
        if self.folds and cut:
            return f"cut short ({', '.join(cut)})"
        return None

    def scores(self) -> dict[str, float]:
        """Each remaining candidate's score over every out-of-fold row so far (the first candidate first)."""
        rows = np.flatnonzero(self.covered)
        score = self._score_rows(rows)
        return {name: score(self.oof[name][rows]) for name in self.names if name not in self.dropped}

    @property
    def ensemble(self) -> Ensemble:
        """The chosen candidate's fold mean: what the submission holds."""
        return self.ensembles[self.chosen]

    def fit(self, fold: int) -> CandidateFit:
        """The chosen candidate's model of ``fold``."""
        return self.fits[self.chosen][fold]
