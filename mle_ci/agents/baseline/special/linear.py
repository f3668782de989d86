"""Linear models in numpy: standardised features and an L2-penalised logistic regression fitted by Newton steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Standardiser:
    """Each feature's mean and spread on the rows it was fitted on (a constant feature keeps spread 1)."""

    mean: FloatArray
    scale: FloatArray

    @classmethod
    def fit(cls, x: FloatArray) -> Standardiser:
        scale = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(scale > 1e-12, scale, 1.0))

    def apply(self, x: FloatArray) -> FloatArray:
        return (x - self.mean) / self.scale


@dataclass(frozen=True)
class Logistic:
    """A binary logistic regression on standardised features: weights, then the intercept last."""

    standardiser: Standardiser
    weights: FloatArray

    def probability(self, x: FloatArray) -> FloatArray:
        """The probability of class 1 for each row of raw (not yet standardised) features."""
        return _sigmoid(self.standardiser.apply(x) @ self.weights[:-1] + self.weights[-1])


def _sigmoid(z: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))
    return result


def _penalised_loss(design: FloatArray, y: FloatArray, weights: FloatArray, penalty: FloatArray) -> float:
    z = design @ weights
    # log(1 + e^z) - y z, written to stay finite for large |z|.
    loss = np.logaddexp(0.0, z) - y * z
    return float(loss.mean() + 0.5 * np.sum(penalty * weights**2))


def fit_logistic(x: FloatArray, y: FloatArray, *, l2: float, steps: int = 30) -> Logistic:
    """Minimise the mean log loss plus ``l2 / 2 * |w|²`` (the intercept unpenalised) by Newton's method."""
    standardiser = Standardiser.fit(x)
    design = np.hstack([standardiser.apply(x), np.ones((len(x), 1))])
    rows, width = design.shape
    penalty = np.full(width, l2)
    penalty[-1] = 1e-8  # a vanishing ridge on the intercept keeps the Hessian invertible on one-class data
    prior = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
    weights = np.zeros(width)
    weights[-1] = np.log(prior / (1 - prior))
    loss = _penalised_loss(design, y, weights, penalty)
    for _ in range(steps):
        p = _sigmoid(design @ weights)
        gradient = design.T @ (p - y) / rows + penalty * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design / rows + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        # Halve a step that does not lower the loss: a full Newton step can overshoot on nearly separable data.
        for _ in range(20):
            trial = weights - step
            trial_loss = _penalised_loss(design, y, trial, penalty)
            if trial_loss <= loss:
                break
            step = step / 2
        else:
            break
        weights, loss = trial, trial_loss
        if float(np.abs(step).max()) < 1e-6:
            break
    return Logistic(standardiser, weights)
