"""Metrics: each one agrees with scikit-learn's, knows its direction, and refuses what it cannot score."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from mle_ci.competitions.metrics import (
    LITE_COMPETITIONS,
    METRICS,
    canonical_label,
    get_metric,
    known_kind,
    score,
)


def sk_log_loss(y_true: object, proba: object) -> float:
    """scikit-learn's log loss under either name of its probability argument."""
    if "y_proba" in inspect.signature(skm.log_loss).parameters:
        return float(skm.log_loss(y_true, y_proba=proba))
    return float(skm.log_loss(y_true, proba))


def test_every_metric_knows_its_direction() -> None:
    """Higher is better for accuracy, AUC, F1 and QWK; lower for the errors and log loss."""
    higher = {name for name, (metric, _) in METRICS.items() if metric.higher_is_better}
    assert higher == {"accuracy", "auc", "f1", "qwk"}


def test_aliases_and_unknown_names() -> None:
    """Aliases map to their metric; an unknown name lists the known ones."""
    assert get_metric("ROC_AUC").name == "auc"
    assert get_metric("logloss").name == "log_loss"
    with pytest.raises(ValueError, match="unknown metric 'brier'; known: accuracy"):
        get_metric("brier")


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
def test_canonical_labels_compare_as_pandas_reads_them(value: object, label: str) -> None:
    """Numbers, booleans and text are canonicalised the way pandas would parse the cells."""
    assert canonical_label(value) == label


def test_accuracy_compares_labels_not_spellings() -> None:
    """``1.0`` and ``1`` are the same label, ``True`` and ``true`` too."""
    assert score("accuracy", ["1", "2", "True", "x"], ["1.0", "3", "true", "x"]) == 0.75
    assert score("accuracy", [1, 2, 3, 4], [1, 2, 3, 5]) == skm.accuracy_score([1, 2, 3, 4], [1, 2, 3, 5])
    assert score("accuracy", np.array([1.0, 2.5, 1e300]), ["1", "2.5", "1e300"]) == 1.0
    assert score("accuracy", np.array([True, False]), ["true", "False"]) == 1.0


def test_binary_auc_matches_sklearn_with_ties() -> None:
    """One probability column: the ROC AUC with tied scores ranked as scikit-learn does."""
    truth = [0, 1, 1, 0, 1, 0, 0, 1]
    scores = [0.1, 0.4, 0.4, 0.4, 0.9, 0.2, 0.9, 0.3]
    assert score("auc", truth, scores) == pytest.approx(skm.roc_auc_score(truth, scores))


def test_several_auc_columns_are_averaged_as_one_vs_rest() -> None:
    """One-hot answers and a probability per class: the macro one-vs-rest AUC."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    proba = rng.dirichlet([1, 1, 1], 60)
    onehot = np.eye(3)[labels]
    expected = skm.roc_auc_score(labels, proba, multi_class="ovr", average="macro")
    assert score("auc", onehot, proba) == pytest.approx(expected)


def test_auc_of_one_class_is_undefined() -> None:
    """Answers of one class only have no AUC."""
    with pytest.raises(ValueError, match="one class only"):
        score("auc", [1, 1, 1], [0.2, 0.3, 0.4])


@given(
    st.lists(st.tuples(st.sampled_from([0, 1]), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])), min_size=2, max_size=40)
)
@settings(max_examples=60, deadline=None)
def test_auc_agrees_with_sklearn_on_random_input(pairs: list[tuple[int, float]]) -> None:
    """Any mix of labels and heavily tied scores gives scikit-learn's AUC."""
    truth = [t for t, _ in pairs]
    if len(set(truth)) < 2:
        return
    preds = [p for _, p in pairs]
    assert score("auc", truth, preds) == pytest.approx(skm.roc_auc_score(truth, preds))


def test_log_loss_matches_sklearn_multiclass_and_binary() -> None:
    """Rows of class probabilities against one-hot answers; one column as P(class 1)."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 50)
    proba = rng.dirichlet([2, 1, 1, 1], 50)
    assert score("log_loss", np.eye(4)[labels], proba) == pytest.approx(sk_log_loss(labels, proba))
    truth = rng.integers(0, 2, 30)
    p1 = rng.uniform(0, 1, 30)
    assert score("log_loss", truth, p1) == pytest.approx(sk_log_loss(truth, p1))


def test_log_loss_of_certain_mistakes_is_finite() -> None:
    """Probabilities of 0 and 1 are clipped to machine epsilon as scikit-learn clips them."""
    value = score("log_loss", [[1, 0], [0, 1]], [[0.0, 1.0], [0.0, 1.0]])
    assert value == pytest.approx(sk_log_loss([0, 1], [[0.0, 1.0], [0.0, 1.0]]))
    assert math.isfinite(value)


def test_regression_errors_match_sklearn() -> None:
    """RMSE, MAE and RMSLE, per column then averaged (scikit-learn's uniform average)."""
    rng = np.random.default_rng(2)
    truth = rng.uniform(0, 5, (40, 2))
    pred = truth + rng.normal(0, 0.5, (40, 2)).clip(-0.9, None)
    assert score("rmse", truth, pred) == pytest.approx(skm.root_mean_squared_error(truth, pred))
    assert score("mae", truth, pred) == pytest.approx(skm.mean_absolute_error(truth, pred))
    expected = skm.root_mean_squared_log_error(truth, pred)
    assert score("rmsle", truth, pred) == pytest.approx(expected)
    assert score("mean_columnwise_rmsle", truth, pred) == pytest.approx(expected)
    single = skm.root_mean_squared_error(truth[:, 0], pred[:, 0])
    assert score("rmse", truth[:, 0], pred[:, 0]) == pytest.approx(single)


def test_rmsle_refuses_values_at_or_below_minus_one() -> None:
    """log1p is undefined at -1 and below."""
    with pytest.raises(ValueError, match="greater than -1"):
        score("rmsle", [1.0, 2.0], [1.0, -1.0])


def test_f1_binary_and_macro_match_sklearn() -> None:
    """F1 of class 1 for 0/1 labels, the macro F1 otherwise."""
    assert score("f1", [0, 1, 1, 0, 1], [0, 1, 0, 1, 1]) == pytest.approx(
        skm.f1_score([0, 1, 1, 0, 1], [0, 1, 0, 1, 1])
    )
    truth, pred = ["a", "b", "c", "a", "b"], ["a", "c", "c", "b", "b"]
    assert score("f1", truth, pred) == pytest.approx(skm.f1_score(truth, pred, average="macro"))
    assert score("f1", ["True", "False"], ["false", "false"]) == 0.0


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=40))
@settings(max_examples=60, deadline=None)
def test_qwk_agrees_with_sklearn(pairs: list[tuple[int, int]]) -> None:
    """Quadratic weighted kappa as scikit-learn's cohen_kappa_score(weights="quadratic")."""
    truth, pred = [t for t, _ in pairs], [p for _, p in pairs]
    if len(set(truth) | set(pred)) < 2:
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = skm.cohen_kappa_score(truth, pred, weights="quadratic")
    if not math.isfinite(expected):
        with pytest.raises(ValueError, match="finite"):
            score("qwk", truth, pred)
        return
    assert score("qwk", truth, pred) == pytest.approx(expected)


def test_score_refuses_mismatched_or_non_finite_input() -> None:
    """Shapes must match, and numeric metrics take finite numbers only."""
    with pytest.raises(ValueError, match="must match"):
        score("rmse", [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite numbers"):
        score("rmse", [1.0, 2.0], [1.0, float("inf")])
    with pytest.raises(ValueError, match="could not convert"):
        score("rmse", [1.0, 2.0], ["x", "1"])


def test_lite_table_covers_the_notes() -> None:
    """The lite competitions of the notes and spaceship-titanic know their metric and direction."""
    assert LITE_COMPETITIONS["spooky-author-identification"] == ("log_loss", False)
    assert LITE_COMPETITIONS["detecting-insults-in-social-commentary"] == ("auc", True)
    assert LITE_COMPETITIONS["nomad2018-predict-transparent-conductors"] == ("mean_columnwise_rmsle", False)
    assert LITE_COMPETITIONS["leaf-classification"] == ("log_loss", False)
    assert LITE_COMPETITIONS["aerial-cactus-identification"] == ("auc", True)
    assert LITE_COMPETITIONS["tabular-playground-series-dec-2021"] == ("accuracy", True)
    assert LITE_COMPETITIONS["denoising-dirty-documents"] == ("rmse", False)
    assert LITE_COMPETITIONS["spaceship-titanic"] == ("accuracy", True)
    assert len(LITE_COMPETITIONS) == 23
    for metric, higher in LITE_COMPETITIONS.values():
        assert get_metric(metric).higher_is_better == higher
    assert known_kind("aerial-cactus-identification") == "image"
    assert known_kind("spaceship-titanic") == "tabular"
    assert known_kind("nope") is None
