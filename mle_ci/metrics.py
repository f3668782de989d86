"""Competition metrics by name: one implementation of each, through scikit-learn as MLE-bench's graders call it.

The grader, the references and the baseline's validation scores all call ``score`` here, so an agent chooses its
models on the metric it is graded on. Several target columns: ``auc`` is the macro AUC over the columns (the
answers one-hot or multi-label), ``log_loss`` reads one probability column per class (or one column for the
positive class), ``rmse``/``mae``/``rmsle`` average the per-column errors (``multioutput="uniform_average"``),
``accuracy`` compares labels of one column. scikit-learn's warnings (an undefined AUC, probabilities not summing
to one) are returned, not raised: MLE-bench's graders run with them silenced, so they never change a verdict.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    """A metric's name and direction, and the constraints it puts on every predicted value."""

    name: str
    higher_is_better: bool
    numeric: bool
    probabilities: bool
    rows_sum_to_one: bool
    above_minus_one: bool
    regression: bool
    description: str

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` is strictly better than ``b`` on this metric."""
        return a > b if self.higher_is_better else a < b


@dataclass(frozen=True)
class Scored:
    """A metric's value and the warnings scikit-learn gave while computing it."""

    value: float
    warnings: tuple[str, ...] = ()


def _sklearn_metrics() -> Any:
    """scikit-learn's ``metrics`` module, imported at the first score: the harness lists and validates without it."""
    from sklearn import metrics  # noqa: PLC0415 - scikit-learn is heavy; only a score needs it

    return metrics


def _numpy() -> Any:
    """numpy, imported at the first score: the run's tracker imports this module for ``same_metric`` alone."""
    import numpy  # noqa: PLC0415 - 80 ms of every supervised run's start-up (-X importtime)

    return numpy


def _one_column(values: Any) -> Any:
    array = _numpy().asarray(values)
    return array.ravel() if array.ndim == 2 and array.shape[1] == 1 else array


def _accuracy(y_true: Any, y_pred: Any) -> float:
    return float(_sklearn_metrics().accuracy_score(_one_column(y_true), _one_column(y_pred)))


def _auc(y_true: Any, y_pred: Any) -> float:
    return float(_sklearn_metrics().roc_auc_score(_one_column(y_true), _one_column(y_pred), average="macro"))


def _log_loss(y_true: Any, y_pred: Any) -> float:
    return float(_sklearn_metrics().log_loss(_one_column(y_true), _one_column(y_pred)))


def _rmse(y_true: Any, y_pred: Any) -> float:
    return float(_sklearn_metrics().root_mean_squared_error(y_true, y_pred))


def _mse(y_true: Any, y_pred: Any) -> float:
    return float(_sklearn_metrics().mean_squared_error(y_true, y_pred))


def _mae(y_true: Any, y_pred: Any) -> float:
    return float(_sklearn_metrics().mean_absolute_error(y_true, y_pred))


def _rmsle(y_true: Any, y_pred: Any) -> float:
    return float(_sklearn_metrics().root_mean_squared_log_error(y_true, y_pred))


def _f1(y_true: Any, y_pred: Any) -> float:
    truth, pred = _one_column(y_true), _one_column(y_pred)
    np = _numpy()
    binary = {str(v) for v in np.unique(np.concatenate([truth.astype(str), pred.astype(str)]))} <= {"0", "1"}
    return float(_sklearn_metrics().f1_score(truth, pred, average="binary" if binary else "macro"))


def _qwk(y_true: Any, y_pred: Any) -> float:
    return float(_sklearn_metrics().cohen_kappa_score(_one_column(y_true), _one_column(y_pred), weights="quadratic"))


_Scorer = Callable[[Any, Any], float]


def _metric(
    name: str,
    higher: bool,
    description: str,
    *,
    numeric: bool = True,
    prob: bool = False,
    rows: bool = False,
    regression: bool = False,
) -> Metric:
    return Metric(
        name, higher, numeric, prob, rows, name in ("rmsle", "mean_columnwise_rmsle"), regression, description
    )


METRICS: dict[str, tuple[Metric, _Scorer]] = {
    m.name: (m, f)
    for m, f in (
        (_metric("accuracy", True, "share of exactly right labels", numeric=False), _accuracy),
        (_metric("auc", True, "area under the ROC curve (mean over columns)", prob=True), _auc),
        (_metric("log_loss", False, "log loss of class probabilities", prob=True, rows=True), _log_loss),
        (_metric("rmse", False, "root mean squared error", regression=True), _rmse),
        (_metric("mse", False, "mean squared error", regression=True), _mse),
        (_metric("mae", False, "mean absolute error", regression=True), _mae),
        (_metric("rmsle", False, "root mean squared log error", regression=True), _rmsle),
        (_metric("mean_columnwise_rmsle", False, "RMSLE averaged over the target columns", regression=True), _rmsle),
        (_metric("f1", True, "F1 (of class 1 when binary, else macro)", numeric=False), _f1),
        (_metric("qwk", True, "quadratic weighted kappa"), _qwk),
    )
}
"""Every metric by its canonical name, with its scikit-learn scorer."""

ALIASES = {
    "acc": "accuracy",
    "classification_accuracy": "accuracy",
    "roc_auc": "auc",
    "auroc": "auc",
    "roc_auc_score": "auc",
    "mean_columnwise_auc": "auc",
    "logloss": "log_loss",
    "mlogloss": "log_loss",
    "multi_logloss": "log_loss",
    "multiclass_log_loss": "log_loss",
    "multi_class_log_loss": "log_loss",
    "cross_entropy": "log_loss",
    "root_mean_squared_error": "rmse",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "root_mean_squared_log_error": "rmsle",
    "quadratic_weighted_kappa": "qwk",
    "mcrmsle": "mean_columnwise_rmsle",
}


def _key(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return ALIASES.get(key, key)


def find_metric(name: str) -> Metric | None:
    """The metric of this name or alias (``ROC-AUC`` -> ``auc``), ``None`` when unknown."""
    entry = METRICS.get(_key(name))
    return None if entry is None else entry[0]


def same_metric(a: str | None, b: str | None) -> bool:
    """Whether two names (or aliases) name the same metric; unknown names are compared as written."""
    if a is None or b is None:
        return a is b
    return _key(a) == _key(b)


def get_metric(name: str) -> Metric:
    """The metric of this name or alias; ``ValueError`` naming the known ones otherwise."""
    metric = find_metric(name)
    if metric is None:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
    return metric


def scored(metric: str, y_true: Any, y_pred: Any) -> Scored:
    """The metric of predictions against answers as scikit-learn computes it, with its warnings.

    ``ValueError`` (scikit-learn's own message) when the metric cannot be computed; a NaN or infinite value is
    returned as it is, since MLE-bench keeps such a score.
    """
    spec = get_metric(metric)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = METRICS[spec.name][1](y_true, y_pred)
        except (TypeError, IndexError) as exc:
            raise ValueError(str(exc)) from None
    messages = tuple(dict.fromkeys(str(w.message).splitlines()[0] for w in caught if str(w.message)))
    return Scored(value=value, warnings=messages)


def score(metric: str, y_true: Any, y_pred: Any) -> float:
    """The metric of predictions against answers; ``ValueError`` when it is undefined or not a finite number."""
    result = scored(metric, y_true, y_pred)
    if not math.isfinite(result.value):
        reason = f": {result.warnings[0]}" if result.warnings else ""
        raise ValueError(f"{get_metric(metric).name} is not a finite number{reason}")
    return result.value
