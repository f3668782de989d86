"""Simple reference models of a demo split, and the synthetic leaderboard made from their predictions.

A demo's leaderboard is deterministic (fixed seeds throughout). Five simple scikit-learn models are each fitted
``FITS_PER_MODEL`` times, on bootstrap resamples of the public training rows, and predict the test rows. Each
team blends two of these fits (probabilities or values averaged with a weight drawn uniformly from [0, 1]; the
model of each fit drawn with weights 1..5 by the rank of its first fit's test score, so stronger models are more
common) and is scored on the real test answers. So scores differ the way teams' models do, not by luck of the
draw: the thresholds sit where simple models and their blends land, a good model reaches a medal, gold needs
beating blends of the best simple models, and the sample submission lands at the bottom.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mle_ci.metrics import get_metric, score

# teams' probabilities are kept off 0 and 1, as Kaggle teams clip theirs so one sure mistake does not ruin a log loss
PROBABILITY_FLOOR = 1e-3


FITS_PER_MODEL = 3


def _classifiers(seed: int) -> list[Any]:
    from sklearn import (  # noqa: PLC0415 - scikit-learn is heavy; only building a demo's leaderboard needs it
        discriminant_analysis,
        ensemble,
        naive_bayes,
        neighbors,
        pipeline,
        preprocessing,
        tree,
    )

    return [
        naive_bayes.GaussianNB(),
        tree.DecisionTreeClassifier(max_depth=4, random_state=seed),
        pipeline.make_pipeline(preprocessing.StandardScaler(), neighbors.KNeighborsClassifier(n_neighbors=15)),
        discriminant_analysis.LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
        ensemble.RandomForestClassifier(n_estimators=30, random_state=seed, n_jobs=1),
    ]


def _regressors(seed: int) -> list[Any]:
    from sklearn import (  # noqa: PLC0415 - scikit-learn is heavy; only building a demo's leaderboard needs it
        dummy,
        ensemble,
        linear_model,
        neighbors,
        tree,
    )

    return [
        dummy.DummyRegressor(),
        tree.DecisionTreeRegressor(max_depth=3, random_state=seed),
        neighbors.KNeighborsRegressor(n_neighbors=15),
        linear_model.Ridge(alpha=0.1),
        ensemble.RandomForestRegressor(n_estimators=30, min_samples_leaf=5, random_state=seed, n_jobs=1),
    ]


def _is_regression(metric: str) -> bool:
    return metric in ("rmse", "mae", "rmsle")


def reference_fits(
    metric: str, x_train: NDArray[Any], y_train: NDArray[Any], x_test: NDArray[Any], seed: int
) -> list[list[NDArray[np.float64]]]:
    """Test outputs (class probabilities, or values) of each reference model fitted on bootstrap resamples."""
    rng = np.random.default_rng(seed)
    regression = _is_regression(metric)
    models = _regressors(seed) if regression else _classifiers(seed)
    outputs: list[list[NDArray[np.float64]]] = [[] for _ in models]
    from threadpoolctl import threadpool_limits  # noqa: PLC0415 - 2 ms of mle-ci run's start-up (python -X importtime)

    # one BLAS thread: fits this small run many times faster than with threads contending for the cores
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # a reference model that converges slowly is still a plausible team; its warnings are noise here
        warnings.simplefilter("ignore")
        for _ in range(FITS_PER_MODEL):
            rows = rng.integers(0, len(y_train), size=len(y_train))
            for model, fits in zip(models, outputs, strict=True):
                model.fit(x_train[rows], y_train[rows])
                if regression:
                    fits.append(np.asarray(model.predict(x_test), dtype=np.float64))
                else:
                    fits.append(_all_classes(model, x_test, np.unique(y_train)))
    return outputs


def _all_classes(model: Any, x_test: NDArray[Any], classes: NDArray[Any]) -> NDArray[np.float64]:
    """Probabilities over every class, a column of zeros for a class the bootstrap left out."""
    proba = np.zeros((len(x_test), len(classes)))
    proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(x_test)
    return proba


def team_prediction(metric: str, output: NDArray[np.float64], classes: NDArray[Any]) -> NDArray[Any]:
    """A team's submission values from blended model outputs: labels, P(class 1), clipped rows, or values."""
    if _is_regression(metric):
        return output
    if metric == "accuracy":
        labels: NDArray[Any] = classes[np.argmax(output, axis=1)]
        return labels
    proba = np.clip(output, PROBABILITY_FLOOR, 1.0)
    proba /= proba.sum(axis=1, keepdims=True)
    return proba[:, 1] if metric == "auc" else proba


def synthetic_leaderboard(
    metric: str,
    y_true: NDArray[np.float64],
    fits: Sequence[Sequence[NDArray[np.float64]]],
    classes: NDArray[Any],
    *,
    teams: int,
    seed: int,
) -> list[float]:
    """Scores of ``teams`` teams, best first: each a blend of two reference fits, scored on the answers."""
    higher = get_metric(metric).higher_is_better
    full = [score(metric, y_true, team_prediction(metric, f[0], classes)) for f in fits]
    ranks = np.argsort(np.argsort(full if higher else [-s for s in full])) + 1.0
    weights = ranks / ranks.sum()
    rng = np.random.default_rng(seed + 1)
    scores = []
    for _ in range(teams):
        first, second = (fits[int(rng.choice(len(fits), p=weights))] for _ in range(2))
        blend = rng.uniform()
        output = blend * first[int(rng.integers(len(first)))] + (1.0 - blend) * second[int(rng.integers(len(second)))]
        scores.append(round(score(metric, y_true, team_prediction(metric, output, classes)), 5))
    return sorted(scores, reverse=higher)
