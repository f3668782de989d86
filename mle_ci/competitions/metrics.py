"""Competition metrics by name, each knowing its direction and what a prediction must look like.

Computed with numpy so that grading needs no scikit-learn; tests hold every metric against scikit-learn's.
Several target columns: ``auc`` is the mean column-wise AUC (one-vs-rest macro AUC when the answers are
one-hot), ``log_loss`` reads one probability column per class, ``rmse``/``mae``/``rmsle`` average the
per-column errors (scikit-learn's ``multioutput="uniform_average"``), ``accuracy`` compares every cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mle_ci.competitions.model import CompetitionKind

FloatArray = NDArray[np.float64]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Metric:
    """A metric's name and direction, and the constraints it puts on every predicted value."""

    name: str
    higher_is_better: bool
    numeric: bool
    probabilities: bool
    rows_sum_to_one: bool
    above_minus_one: bool
    description: str


def canonical_label(value: object) -> str:
    """A label or id as pandas would compare it: ``1``, ``1.0`` and `` 1`` alike, ``true`` as ``True``."""
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | float | np.integer | np.floating):
        return _canonical_number(float(value))
    text = str(value)
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        return _canonical_number(float(stripped))
    if stripped.lower() in ("true", "false"):
        return stripped.capitalize()
    return text


def _canonical_number(number: float) -> str:
    if math.isfinite(number) and number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def _labels(values: Any) -> NDArray[np.str_]:
    array = np.asarray(values)
    if array.dtype.kind == "b":
        return np.where(array, "True", "False")
    whole = array.dtype.kind == "f" and bool(np.all((np.mod(array, 1.0) == 0.0) & (np.abs(array) < 2.0**53)))
    if array.dtype.kind in "iu" or whole:
        # whole numbers need no parsing: their canonical label is the integer's digits
        return array.astype(np.int64).astype(str)
    array = array.astype(object)
    return np.array([canonical_label(v) for v in array.ravel()], dtype=str).reshape(array.shape)


def _numbers(values: Any) -> FloatArray:
    array = np.asarray(values)
    if array.dtype.kind in "biuf":
        return array.astype(np.float64)
    flat = [float(canonical_label(v)) for v in array.ravel()]
    return np.array(flat, dtype=np.float64).reshape(array.shape)


def _columns(values: FloatArray) -> FloatArray:
    return values.reshape(-1, 1) if values.ndim == 1 else values


def _binary_truth(values: Any) -> FloatArray:
    """Answers of a binary metric as 0/1 (``True``/``False`` accepted)."""
    labels = _labels(values)
    truth = np.where((labels == "1") | (labels == "True"), 1.0, 0.0)
    if not np.all((labels == "1") | (labels == "True") | (labels == "0") | (labels == "False")):
        raise ValueError("the answers of a binary metric must be 0/1")
    return truth


def _average_ranks(values: FloatArray) -> FloatArray:
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    bounds = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    # tied values share the mean of the 1-based positions they occupy
    mean_rank = (bounds[:-1] + bounds[1:] + 1) / 2.0
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, np.diff(bounds))
    return ranks


def _binary_auc(truth: FloatArray, scores: FloatArray) -> float:
    positives = truth == 1.0
    n_pos = int(positives.sum())
    n_neg = len(truth) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC is undefined when the answers hold one class only")
    ranks = _average_ranks(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _auc(y_true: Any, y_pred: Any) -> float:
    truth = _columns(_binary_truth(y_true))
    scores = _columns(_numbers(y_pred))
    return float(np.mean([_binary_auc(truth[:, j], scores[:, j]) for j in range(truth.shape[1])]))


def _log_loss(y_true: Any, y_pred: Any) -> float:
    truth = _columns(_binary_truth(y_true))
    probs = _columns(_numbers(y_pred))
    if probs.shape[1] == 1:
        # one column holds the probability of the positive class, as scikit-learn reads a 1-d y_pred
        truth = np.hstack([1.0 - truth, truth])
        probs = np.hstack([1.0 - probs, probs])
    eps = float(np.finfo(np.float64).eps)
    clipped = np.clip(probs, eps, 1.0 - eps)
    return float(np.mean(-np.sum(truth * np.log(clipped), axis=1)))


def _rmse(y_true: Any, y_pred: Any) -> float:
    error = _columns(_numbers(y_true)) - _columns(_numbers(y_pred))
    return float(np.mean(np.sqrt(np.mean(error**2, axis=0))))


def _mae(y_true: Any, y_pred: Any) -> float:
    error = _columns(_numbers(y_true)) - _columns(_numbers(y_pred))
    return float(np.mean(np.mean(np.abs(error), axis=0)))


def _rmsle(y_true: Any, y_pred: Any) -> float:
    truth, pred = _columns(_numbers(y_true)), _columns(_numbers(y_pred))
    if np.any(truth <= -1.0) or np.any(pred <= -1.0):
        raise ValueError("RMSLE needs values greater than -1")
    return _rmse(np.log1p(truth), np.log1p(pred))


def _accuracy(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(_labels(y_true) == _labels(y_pred)))


def _one_column(values: Any, metric: str) -> NDArray[np.str_]:
    labels = _labels(values)
    if labels.ndim == 2 and labels.shape[1] != 1:
        raise ValueError(f"{metric} takes one target column")
    return labels.ravel()


def _f1(y_true: Any, y_pred: Any) -> float:
    truth, pred = _one_column(y_true, "F1"), _one_column(y_pred, "F1")
    seen = set(truth) | set(pred)
    if seen <= {"0", "1"} or seen <= {"False", "True"}:
        positive = "1" if seen <= {"0", "1"} else "True"
        return _f1_of(truth == positive, pred == positive)
    return float(np.mean([_f1_of(truth == label, pred == label) for label in sorted(seen)]))


def _f1_of(truth: NDArray[np.bool_], pred: NDArray[np.bool_]) -> float:
    tp = int(np.sum(truth & pred))
    wrong = int(np.sum(truth ^ pred))
    # scikit-learn's zero_division default scores an empty class 0
    return 0.0 if tp == 0 else 2.0 * tp / (2.0 * tp + wrong)


def _qwk(y_true: Any, y_pred: Any) -> float:
    truth = _numbers(_one_column(y_true, "QWK"))
    pred = _numbers(_one_column(y_pred, "QWK"))
    labels = np.unique(np.concatenate([truth, pred]))
    k = len(labels)
    if k < 2:
        raise ValueError("QWK is undefined when answers and predictions hold one label only")
    observed = np.zeros((k, k), dtype=np.float64)
    np.add.at(observed, (np.searchsorted(labels, truth), np.searchsorted(labels, pred)), 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    index = np.arange(k, dtype=np.float64)
    # weights by position among the labels, as scikit-learn's cohen_kappa_score
    weights = (index[:, None] - index[None, :]) ** 2 / (k - 1) ** 2
    return float(1.0 - np.sum(weights * observed) / np.sum(weights * expected))


_Scorer = Callable[[Any, Any], float]


def _metric(
    name: str, higher: bool, description: str, *, numeric: bool = True, prob: bool = False, rows: bool = False
) -> Metric:
    return Metric(name, higher, numeric, prob, rows, name in ("rmsle", "mean_columnwise_rmsle"), description)


METRICS: dict[str, tuple[Metric, _Scorer]] = {
    m.name: (m, f)
    for m, f in (
        (_metric("accuracy", True, "share of exactly right labels", numeric=False), _accuracy),
        (_metric("auc", True, "area under the ROC curve (mean over columns)", prob=True), _auc),
        (_metric("log_loss", False, "log loss of class probabilities", prob=True, rows=True), _log_loss),
        (_metric("rmse", False, "root mean squared error"), _rmse),
        (_metric("mae", False, "mean absolute error"), _mae),
        (_metric("rmsle", False, "root mean squared log error"), _rmsle),
        (_metric("mean_columnwise_rmsle", False, "RMSLE averaged over the target columns"), _rmsle),
        (_metric("f1", True, "F1 (of class 1 when binary, else macro)", numeric=False), _f1),
        (_metric("qwk", True, "quadratic weighted kappa"), _qwk),
    )
}

ALIASES = {
    "roc_auc": "auc",
    "mean_columnwise_auc": "auc",
    "logloss": "log_loss",
    "multi_class_log_loss": "log_loss",
    "quadratic_weighted_kappa": "qwk",
    "mcrmsle": "mean_columnwise_rmsle",
}


def get_metric(name: str) -> Metric:
    """The metric of this name or alias; ``ValueError`` naming the known ones otherwise."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
    return METRICS[key][0]


def score(metric: str, y_true: Any, y_pred: Any) -> float:
    """The metric of predictions against answers, arrays of shape (n,) or (n, columns); ``ValueError`` if undefined."""
    spec = get_metric(metric)
    true_array, pred_array = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    if true_array.shape != pred_array.shape or true_array.size == 0:
        raise ValueError(f"answers {true_array.shape} and predictions {pred_array.shape} must match and not be empty")
    if spec.numeric and not np.all(np.isfinite(_numbers(y_pred))):
        raise ValueError("predictions must be finite numbers")
    value = METRICS[spec.name][1](y_true, y_pred)
    if not math.isfinite(value):
        raise ValueError(f"{spec.name} is not a finite number")
    return value


# (metric, higher_is_better) of MLE-bench's lite split (experiments/splits/low.txt) and spaceship-titanic (dev)
LITE_COMPETITIONS: dict[str, tuple[str, bool]] = {
    "aerial-cactus-identification": ("auc", True),
    "aptos2019-blindness-detection": ("qwk", True),
    "denoising-dirty-documents": ("rmse", False),
    "detecting-insults-in-social-commentary": ("auc", True),
    "dog-breed-identification": ("log_loss", False),
    "dogs-vs-cats-redux-kernels-edition": ("log_loss", False),
    "histopathologic-cancer-detection": ("auc", True),
    "jigsaw-toxic-comment-classification-challenge": ("auc", True),
    "leaf-classification": ("log_loss", False),
    "mlsp-2013-birds": ("auc", True),
    "new-york-city-taxi-fare-prediction": ("rmse", False),
    "nomad2018-predict-transparent-conductors": ("mean_columnwise_rmsle", False),
    "plant-pathology-2020-fgvc7": ("auc", True),
    "random-acts-of-pizza": ("auc", True),
    "ranzcr-clip-catheter-line-classification": ("auc", True),
    "siim-isic-melanoma-classification": ("auc", True),
    "spooky-author-identification": ("log_loss", False),
    "tabular-playground-series-dec-2021": ("accuracy", True),
    "tabular-playground-series-may-2022": ("auc", True),
    "text-normalization-challenge-english-language": ("accuracy", True),
    "text-normalization-challenge-russian-language": ("accuracy", True),
    "the-icml-2013-whale-challenge-right-whale-redux": ("auc", True),
    "spaceship-titanic": ("accuracy", True),
}

# the lite competitions whose data are images; the others are read from CSV files (text and audio included)
IMAGE_COMPETITIONS: frozenset[str] = frozenset(
    {
        "aerial-cactus-identification",
        "aptos2019-blindness-detection",
        "denoising-dirty-documents",
        "dog-breed-identification",
        "dogs-vs-cats-redux-kernels-edition",
        "histopathologic-cancer-detection",
        "plant-pathology-2020-fgvc7",
        "ranzcr-clip-catheter-line-classification",
        "siim-isic-melanoma-classification",
    }
)

# (id column, target columns) where the sample submission's first column is not the id, as MLE-bench's graders read
COLUMN_OVERRIDES: dict[str, tuple[str, tuple[str, ...]]] = {
    "detecting-insults-in-social-commentary": ("Comment", ("Insult",)),
}


def known_kind(competition_id: str) -> CompetitionKind | None:
    """The kind of a known lite competition, ``None`` for an unknown one."""
    if competition_id in IMAGE_COMPETITIONS:
        return "image"
    return "tabular" if competition_id in LITE_COMPETITIONS else None
