"""Pure choices for the tabular fold model: the linear part's penalty and its share of the blend with the MLPs.

Both are chosen on the fold's validation rows by the competition metric, ties going to the lower validation loss.
The share comes from a coarse grid that stops at one half: on a few hundred rows the validation rows cannot tell a
90/10 blend from 60/40 (measured on the demos' splits, a finely chosen weight did worse on the test rows than a
coarse one), and the MLPs never get less than half the say, so a weak linear model on a non-linear task costs
little while a strong one on a nearly linear task adds the accuracy it has.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.metrics import better

LINEAR_SHARES = (0.0, 0.25, 0.5)
"""The linear model's weight in the blend, as tried (the MLPs get the rest)."""


@dataclass(frozen=True)
class Candidate:
    """One option scored on the validation rows: the metric and the loss (cross-entropy or squared error)."""

    score: float
    loss: float


def pick(candidates: Sequence[Candidate], higher_is_better: bool) -> int:
    """Index of the best candidate: best metric, then lowest loss, then the earliest (NaN scores never win)."""
    if not candidates:
        raise ValueError("nothing to pick from")
    best: int | None = None
    for index, candidate in enumerate(candidates):
        if math.isnan(candidate.score):
            continue
        if best is None:
            best = index
            continue
        leader = candidates[best]
        if better(candidate.score, leader.score, higher_is_better) or (
            candidate.score == leader.score and candidate.loss < leader.loss
        ):
            best = index
    return 0 if best is None else best


def mix(mlp: NDArray[np.float64], linear: NDArray[np.float64], share: float) -> NDArray[np.float64]:
    """The blend of two models' outputs (class probabilities or values): ``share`` of ``linear``, the rest MLP."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share is between 0 and 1, not {share}")
    return mlp * (1.0 - share) + linear * share


def log_loss(labels: NDArray[np.int64], proba: NDArray[np.float64]) -> float:
    """Mean cross-entropy of class probabilities (clipped away from 0)."""
    picked = np.clip(proba[np.arange(len(labels)), labels], 1e-15, 1.0)
    return float(-np.mean(np.log(picked)))


def squared_error(target: NDArray[np.float64], pred: NDArray[np.float64]) -> float:
    """Mean squared error on the model's (scaled) target scale."""
    return float(np.mean((pred - target) ** 2))
