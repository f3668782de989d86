"""Competition metrics on numpy arrays, their names and directions, and the cross-validation splits."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

HIGHER_IS_BETTER = {
    "accuracy": True,
    "auc": True,
    "log_loss": False,
    "rmse": False,
    "mse": False,
    "mae": False,
    "rmsle": False,
}
"""The metrics the agent can compute, with their direction."""

REGRESSION_METRICS = frozenset({"rmse", "mse", "mae", "rmsle"})

_ALIASES = {
    "acc": "accuracy",
    "classification_accuracy": "accuracy",
    "roc_auc": "auc",
    "auroc": "auc",
    "roc_auc_score": "auc",
    "logloss": "log_loss",
    "mlogloss": "log_loss",
    "multi_logloss": "log_loss",
    "multiclass_log_loss": "log_loss",
    "cross_entropy": "log_loss",
    "root_mean_squared_error": "rmse",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "root_mean_squared_log_error": "rmsle",
}

_EPS = 1e-15


def canonical_metric(name: str) -> str | None:
    """The agent's name for a metric (``ROC-AUC`` -> ``auc``), or None when it cannot compute it."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    return key if key in HIGHER_IS_BETTER else None


def better(a: float, b: float, higher_is_better: bool) -> bool:
    """Whether score ``a`` is strictly better than ``b``."""
    return a > b if higher_is_better else a < b


def roc_auc(y: NDArray[np.int64], p: FloatArray) -> float:
    """Area under the ROC curve from ranks (ties get their mean rank); 0.5 when only one class is present."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return 0.5
    order = np.argsort(p, kind="mergesort")
    sorted_p = p[order]
    ranks = np.empty(len(p), dtype=np.float64)
    start = 0
    while start < len(p):
        end = start
        while end + 1 < len(p) and sorted_p[end + 1] == sorted_p[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def classification_score(metric: str, y: IntArray, proba: FloatArray) -> float:
    """Score class probabilities (rows × classes) against class indices."""
    if metric == "accuracy":
        return float(np.mean(proba.argmax(axis=1) == y))
    if metric == "auc":
        if proba.shape[1] == 2:
            return roc_auc(y, proba[:, 1])
        # One-vs-rest, macro-averaged, as scikit-learn's multi-class AUC.
        return float(np.mean([roc_auc((y == c).astype(np.int64), proba[:, c]) for c in range(proba.shape[1])]))
    if metric == "log_loss":
        clipped = np.clip(proba, _EPS, 1.0)
        clipped = clipped / clipped.sum(axis=1, keepdims=True)
        return float(-np.mean(np.log(clipped[np.arange(len(y)), y])))
    raise ValueError(f"{metric} does not score class probabilities")


def regression_score(metric: str, y: FloatArray, pred: FloatArray) -> float:
    """Score predictions against targets (rows × columns), averaged over columns."""
    if metric == "rmse":
        return float(np.mean(np.sqrt(np.mean((pred - y) ** 2, axis=0))))
    if metric == "mse":
        return float(np.mean((pred - y) ** 2))
    if metric == "mae":
        return float(np.mean(np.abs(pred - y)))
    if metric == "rmsle":
        diff = np.log1p(np.clip(pred, 0.0, None)) - np.log1p(np.clip(y, 0.0, None))
        return float(np.mean(np.sqrt(np.mean(diff**2, axis=0))))
    raise ValueError(f"{metric} does not score regression predictions")


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
