"""Metrics: one implementation of each, through scikit-learn; directions, names, column semantics and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from mle_ci.competitions.csvtable import canonical_label
from mle_ci.competitions.lite import LITE, LITE_SPLIT
from mle_ci.metrics import METRICS, find_metric, get_metric, score, scored


def test_every_metric_knows_its_direction() -> None:
    """Higher is better for accuracy, AUC, F1 and QWK; lower for the errors and log loss."""
    higher = {name for name, (metric, _) in METRICS.items() if metric.higher_is_better}
    assert higher == {"accuracy", "auc", "f1", "qwk"}
    assert get_metric("auc").better(0.9, 0.8)
    assert get_metric("rmse").better(0.8, 0.9)
    assert not get_metric("rmse").better(0.9, 0.9)


def test_aliases_and_unknown_names() -> None:
    """Aliases map to their metric, spelled in any case or with hyphens; an unknown name lists the known ones."""
    assert get_metric("ROC-AUC").name == "auc"
    assert get_metric("logloss").name == "log_loss"
    assert get_metric("Root Mean Squared Error").name == "rmse"
    assert find_metric("brier") is None
    with pytest.raises(ValueError, match="unknown metric 'brier'; known: accuracy"):
        get_metric("brier")


def test_several_columns_average_per_column() -> None:
    """Several target columns: AUC and RMSE are the means of the per-column values."""
    truth = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    pred = np.array([[0.9, 0.2], [0.3, 0.4], [0.6, 0.8], [0.1, 0.5]])
    per_column = [skm.roc_auc_score(truth[:, j], pred[:, j]) for j in range(2)]
    assert score("auc", truth, pred) == pytest.approx(np.mean(per_column), abs=1e-15)
    rmse = [math.sqrt(np.mean((truth[:, j] - pred[:, j]) ** 2)) for j in range(2)]
    assert score("rmse", truth, pred) == pytest.approx(np.mean(rmse), abs=1e-15)
    assert score("mean_columnwise_rmsle", truth, pred) == score("rmsle", truth, pred)


def test_log_loss_one_hot_and_binary() -> None:
    """Rows of class probabilities against one-hot answers; one column as P(class 1); sure mistakes stay finite."""
    truth = np.eye(3)[[0, 1, 2, 0]]
    pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4]])
    assert score("log_loss", truth, pred) == pytest.approx(-np.mean(np.log([0.7, 0.8, 0.6, 0.3])), abs=1e-12)
    assert score("log_loss", [0, 1], [0.2, 0.9]) == pytest.approx(-np.mean(np.log([0.8, 0.9])), abs=1e-12)
    assert math.isfinite(score("log_loss", [0, 1], [1.0, 0.0]))


def test_scikit_learn_warnings_are_returned_not_raised() -> None:
    """An undefined AUC comes back as NaN with scikit-learn's warning; ``score`` refuses it with that reason."""
    result = scored("auc", [1, 1], [0.2, 0.3])
    assert math.isnan(result.value)
    assert result.warnings == ("Only one class is present in y_true. ROC AUC score is not defined in that case.",)
    with pytest.raises(ValueError, match="auc is not a finite number: Only one class"):
        score("auc", [1, 1], [0.2, 0.3])
    rows = scored("log_loss", [0, 1], [[0.5, 0.4], [0.5, 0.6]])
    assert "do not sum to one" in rows.warnings[0]


def test_bad_input_is_a_value_error() -> None:
    """Mismatched lengths and text where numbers belong are scikit-learn's ValueErrors."""
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        score("rmse", [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="could not convert"):
        score("rmse", [1.0, 2.0], ["x", "1"])


def test_kappa_and_f1() -> None:
    """QWK as cohen_kappa_score(weights="quadratic"); F1 of class 1 for 0/1 labels, the macro F1 otherwise."""
    a, b = [0, 1, 2, 3, 4, 2], [0, 2, 2, 3, 3, 1]
    assert score("qwk", a, b) == skm.cohen_kappa_score(a, b, weights="quadratic")
    assert score("f1", [0, 1, 1, 0], [0, 1, 0, 0]) == skm.f1_score([0, 1, 1, 0], [0, 1, 0, 0])
    assert score("f1", ["a", "b", "c"], ["a", "c", "c"]) == skm.f1_score(
        ["a", "b", "c"], ["a", "c", "c"], average="macro"
    )


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("1", "1"),
        ("1.0", "1"),
        (" 7 ", "7"),
        ("007", "7"),
        (2.5, "2.5"),
        (True, "True"),
        ("true", "True"),
        ("cat", "cat"),
        (" cat", " cat"),
        (3, "3"),
        ("1e3", "1000"),
    ],
)
def test_canonical_labels(value: object, label: str) -> None:
    """Cells compared as labels by the strict checks: numbers, booleans and text canonicalised."""
    assert canonical_label(value) == label


def test_the_lite_table_matches_mle_bench() -> None:
    """The 22 of experiments/splits/low.txt in order, each with a known metric of its direction."""
    assert len(LITE_SPLIT) == 22
    assert LITE_SPLIT[0] == "aerial-cactus-identification"
    assert LITE_SPLIT[-1] == "the-icml-2013-whale-challenge-right-whale-redux"
    for lite in LITE.values():
        assert get_metric(lite.metric).higher_is_better == lite.higher_is_better
        assert (lite.rule is None) == (lite.id == "spaceship-titanic")
    assert LITE["nomad2018-predict-transparent-conductors"].metric == "mean_columnwise_rmsle"
    assert LITE["text-normalization-challenge-english-language"].sample_submission == "private/sample_submission.csv"
