"""The competition metric on the agent's arrays (through ``mle_ci.metrics``, as the grader computes it), and folds.

The agent scores its validation rows with the very function the grader uses, so it chooses models on the metric
it is graded on; only the shapes differ: the agent holds class indices and probability rows, the grader CSV cells.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mle_ci.metrics import find_metric, get_metric
from mle_ci.metrics import score as metric_score

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SUPPORTED = ("accuracy", "auc", "log_loss", "qwk", "f1", "rmse", "mse", "mae", "rmsle", "mean_columnwise_rmsle")
"""The metrics the agent can optimise."""

HIGHER_IS_BETTER = {name: get_metric(name).higher_is_better for name in SUPPORTED}
"""The metrics the agent can compute, with their direction."""

REGRESSION_METRICS = frozenset(name for name in SUPPORTED if get_metric(name).regression)

LOG_TARGET_METRICS = frozenset({"rmsle", "mean_columnwise_rmsle"})
"""Regression metrics on log1p of the target: the agent learns on that scale."""


def canonical_metric(name: str) -> str | None:
    """The metric's canonical name (``ROC-AUC`` -> ``auc``), or None when the agent cannot compute it."""
    metric = find_metric(name)
    return metric.name if metric is not None and metric.name in SUPPORTED else None


def better(a: float, b: float, higher_is_better: bool) -> bool:
    """Whether score ``a`` is strictly better than ``b``."""
    return a > b if higher_is_better else a < b


def _one_hot(y: IntArray, classes: int) -> FloatArray:
    return np.eye(classes, dtype=np.float64)[y]


def _column_auc(truth: FloatArray, proba: FloatArray) -> float:
    """The mean AUC of the columns whose rows hold both classes (a fold may lack a rare class entirely)."""
    defined = [j for j in range(truth.shape[1]) if 0.0 < truth[:, j].mean() < 1.0]
    if not defined:
        raise ValueError("AUC is undefined: no column holds both classes in these rows")
    return float(np.mean([metric_score("auc", truth[:, j], proba[:, j]) for j in defined]))


def classification_score(metric: str, y: IntArray, proba: FloatArray) -> float:
    """Score class probabilities (rows x classes) against class indices."""
    classes = proba.shape[1]
    if metric in ("accuracy", "qwk", "f1"):
        return metric_score(metric, y, proba.argmax(axis=1))
    if metric == "auc":
        if classes == 2:
            return _column_auc(_one_hot(y, 2)[:, 1:], proba[:, 1:])
        return _column_auc(_one_hot(y, classes), proba)
    if metric == "log_loss":
        return metric_score("log_loss", _one_hot(y, classes), proba)
    raise ValueError(f"{metric} does not score class probabilities")


def multilabel_score(metric: str, y: FloatArray, proba: FloatArray) -> float:
    """Score one probability per label column (rows x labels) against 0/1 answers."""
    if metric == "auc":
        return _column_auc(y, proba)
    if metric == "log_loss":
        return float(np.mean([metric_score("log_loss", y[:, j], proba[:, j]) for j in range(y.shape[1])]))
    raise ValueError(f"{metric} does not score several labels")


def regression_score(metric: str, y: FloatArray, pred: FloatArray) -> float:
    """Score predictions against targets (rows x columns), averaged over columns."""
    if metric not in REGRESSION_METRICS:
        raise ValueError(f"{metric} does not score regression predictions")
    if metric in LOG_TARGET_METRICS:
        pred = np.clip(pred, 0.0, None)
    return metric_score(metric, y, pred)


def fold_indices(n: int, folds: int, seed: int, labels: IntArray | None = None) -> list[IntArray]:
    """Validation indices of each fold: shuffled, and stratified by ``labels`` when given."""
    rng = np.random.default_rng(seed)
    assignment = np.empty(n, dtype=np.int64)
    if labels is None:
        order = rng.permutation(n)
        assignment[order] = np.arange(n) % folds
    else:
        # Deal each class's shuffled rows round-robin, continuing where the previous class stopped.
        offset = 0
        for cls in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == cls))
            assignment[members] = (np.arange(len(members)) + offset) % folds
            offset += len(members)
    return [np.flatnonzero(assignment == k).astype(np.int64) for k in range(folds)]
