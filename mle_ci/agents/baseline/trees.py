"""Gradient-boosted trees, the tabular candidate that is not a network: scikit-learn's HistGradientBoosting.

Trees split on thresholds, so they take what networks find hard on feature rows: a fare that jumps at one place
on the map, a rule that starts on a date, interactions of a few columns. They train on the CPU in seconds on the
feature rows the networks get (at most 200,000 rows by the reader's cap), and compete with the MLPs and the linear
model on the same out-of-fold rows (:mod:`mle_ci.agents.baseline.selection`), so they are handed in only where
they score better there.

One model per output where the task has several (each label of a multi-label task, each target of a multi-target
regression); a class missing from a fold's training rows gets no probability from that fold. Regression targets
are fitted on the model's scale (``TargetScaler``: standardised, log1p first for RMSLE), so the outputs mix with
the networks' in the same ensemble code. Early stopping is scikit-learn's own (10% of the training rows held out,
from 10,000 rows up), the rest its defaults; nothing is tuned on the competition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.data import Dataset

TREE_CANDIDATES: tuple[str, ...] = ("gbdt",)
"""The tree models a tabular fold trains beside the networks, by name."""

MAX_TREE_CLASSES = 20
"""Boosting grows one tree per class per round: with more classes the trees are left out. 99 classes on 634 rows of
192 features (leaf-classification's shape) took 35 s per fold on two cores, where 7 classes take a few."""


def trees_fit(dataset: Dataset) -> bool:
    """Whether the task's rows suit the trees: no more than ``MAX_TREE_CLASSES`` classes."""
    return dataset.y_class is None or dataset.outputs <= MAX_TREE_CLASSES


@dataclass(frozen=True)
class TreeFit:
    """A fold's trees: their outputs on the validation rows and on the test rows, and their boosting rounds."""

    val_outputs: NDArray[np.float64]
    test_outputs: NDArray[np.float64]
    rounds: int


def fit_trees(dataset: Dataset, *, train_rows: NDArray[np.int64], val_rows: NDArray[np.int64], seed: int) -> TreeFit:
    """Boosted trees fitted on the feature rows ``train_rows``: class probabilities, label probabilities (a
    multi-label task) or values on the model's scale (regression), on ``val_rows`` and on the test rows."""
    from sklearn.ensemble import (  # noqa: PLC0415 - scikit-learn is heavy; only a tree fit needs it
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    x, x_test = dataset.inputs(images=False)
    train, val, test = (np.asarray(part, dtype=np.float32) for part in (x[train_rows], x[val_rows], x_test))
    val_out, test_out = np.zeros((len(val), dataset.outputs)), np.zeros((len(test), dataset.outputs))
    if dataset.y_class is not None:
        model: Any = HistGradientBoostingClassifier(random_state=seed).fit(train, dataset.y_class[train_rows])
        val_out[:, model.classes_], test_out[:, model.classes_] = model.predict_proba(val), model.predict_proba(test)
        return TreeFit(val_out, test_out, int(model.n_iter_))
    assert dataset.y_value is not None
    targets = np.asarray(dataset.y_value, dtype=np.float64).reshape(len(x), -1)
    rounds = 0
    for column in range(dataset.outputs):
        y = targets[train_rows, column]
        if not dataset.multilabel:
            model = HistGradientBoostingRegressor(random_state=seed).fit(train, y)
            val_out[:, column], test_out[:, column] = model.predict(val), model.predict(test)
        elif len(np.unique(y)) < 2:  # one label value in these rows: nothing to split on
            val_out[:, column], test_out[:, column] = y[0], y[0]
            continue
        else:
            model = HistGradientBoostingClassifier(random_state=seed).fit(train, y.astype(np.int64))
            val_out[:, column], test_out[:, column] = model.predict_proba(val)[:, 1], model.predict_proba(test)[:, 1]
        rounds = max(rounds, int(model.n_iter_))
    return TreeFit(val_out, test_out, rounds)
