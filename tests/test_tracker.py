from __future__ import annotations

import pytest

from mle_ci.contract import MAX_FOLDS
from mle_ci.events import EarlyStopEvent, EpochEvent, FoldEvent, FoldStartEvent, MessageEvent, MetricEvent
from mle_ci.result import RunResult
from mle_ci.resultparts import FoldStatus, RunStatus
from mle_ci.tracker import RunTracker

BASE = RunResult(status=RunStatus.RUNNING)


def test_epochs_without_fold_belong_to_the_fold_in_progress() -> None:
    """Plain `Epoch` lines after `Fold 1 complete` count towards fold 2."""
    t = RunTracker(started_at=0.0)
    t.apply(EpochEvent(ts=1, epoch=1, val_score=0.5))
    t.apply(FoldEvent(ts=2, fold=1, score=0.6, total_folds=3))
    t.apply(EpochEvent(ts=3, epoch=1, val_score=0.55))
    assert t.current_fold is None
    result = t.snapshot(BASE, final=False)
    assert [(f.index, f.status, f.epochs) for f in result.folds] == [
        (1, FoldStatus.COMPLETED, 1),
        (2, FoldStatus.RUNNING, 1),
        (3, FoldStatus.NOT_REACHED, 0),
    ]


def test_final_snapshot_marks_the_unfinished_fold_incomplete() -> None:
    """When the run ends, a fold in progress is incomplete and unreached folds stay not-reached."""
    t = RunTracker(started_at=0.0, total_folds=3)
    t.apply(FoldStartEvent(ts=1, fold=1))
    result = t.snapshot(BASE, final=True)
    assert [f.status for f in result.folds] == [FoldStatus.INCOMPLETE, FoldStatus.NOT_REACHED, FoldStatus.NOT_REACHED]


def test_cv_mean_and_population_std() -> None:
    """CV mean and std are over completed folds (population std, as numpy.std)."""
    t = RunTracker(started_at=0.0)
    for i, score in enumerate([0.6, 0.8], start=1):
        t.apply(FoldEvent(ts=i, fold=i, score=score))
    result = t.snapshot(BASE, final=True)
    assert result.cv_mean == pytest.approx(0.7)
    assert result.cv_std == pytest.approx(0.1)
    assert result.score == pytest.approx(0.7)


def test_direction_comes_from_the_metric_and_picks_the_best_epoch() -> None:
    """With rmse (lower is better) the best epoch is the lowest validation score."""
    t = RunTracker(started_at=0.0)
    t.apply(MetricEvent(ts=0, name="rmse"))
    for epoch, score in enumerate([0.5, 0.3, 0.4], start=1):
        t.apply(EpochEvent(ts=epoch, epoch=epoch, fold=1, val_score=score))
    t.apply(FoldEvent(ts=5, fold=1, score=0.3))
    result = t.snapshot(BASE, final=True)
    assert result.metric.higher_is_better is False
    assert result.folds[0].best_epoch == 2


def test_configured_direction_wins_over_events() -> None:
    """`--direction max` is not overridden by an event's direction."""
    t = RunTracker(started_at=0.0, higher_is_better=True)
    t.apply(FoldEvent(ts=1, fold=1, score=0.3, metric="loss", higher_is_better=False))
    assert t.metric.higher_is_better is True


def test_reported_score_overrides_cv_mean() -> None:
    """A metric event with a value (e.g. an out-of-fold score) becomes the headline score."""
    t = RunTracker(started_at=0.0)
    t.apply(FoldEvent(ts=1, fold=1, score=0.6))
    t.apply(MetricEvent(ts=2, name="auc", value=0.65))
    assert t.snapshot(BASE, final=True).score == 0.65


def test_runs_without_folds_keep_a_plain_curve() -> None:
    """Epochs without any fold event give no folds and epochs without fold numbers."""
    t = RunTracker(started_at=0.0)
    t.apply(EpochEvent(ts=1, epoch=1, loss=1.0))
    t.apply(EarlyStopEvent(ts=2, best_score=0.5))
    result = t.snapshot(BASE, final=True)
    assert result.folds == ()
    assert result.epochs[0].fold is None


def test_messages_and_invalid_events_are_kept_bounded() -> None:
    """Warnings from the child are kept (bounded); invalid events are counted, a few described."""
    t = RunTracker(started_at=0.0)
    for i in range(100):
        t.apply(MessageEvent(ts=i, text=f"w{i}", level="warning"))
        t.record_invalid(f"bad {i}")
    result = t.snapshot(BASE, final=True)
    assert result.invalid_events == 100
    assert len(result.warnings) == 50
    assert sum("invalid progress event" in w for w in result.warnings) == 3


def test_a_fold_number_or_count_past_the_limit_is_an_invalid_event() -> None:
    """A child claiming 100,000 folds (or a count of a billion) gets them skipped as invalid events, so the
    reports list at most ``MAX_FOLDS`` folds; the folds within the limit stand."""
    t = RunTracker(started_at=0.0)
    t.apply(FoldEvent(ts=1, fold=1, score=0.9, total_folds=MAX_FOLDS))
    t.apply(FoldEvent(ts=2, fold=MAX_FOLDS + 1, score=0.1))
    t.apply(FoldStartEvent(ts=3, fold=2, total_folds=10**9))
    t.apply(EpochEvent(ts=4, epoch=1, fold=100_000))
    result = t.snapshot(BASE, final=True)
    assert result.invalid_events == 3
    assert len(result.folds) == MAX_FOLDS
    assert result.folds[0].score == 0.9
    assert f"a fold number or count of {MAX_FOLDS + 1} is past the {MAX_FOLDS} a run can have" in result.warnings[0]


def test_a_fold_reported_again_keeps_its_last_score_and_model() -> None:
    """A fold trained several models: the report of the chosen one replaces the first, CV follows it."""
    t = RunTracker(started_at=0.0)
    t.apply(FoldEvent(ts=1, fold=1, score=0.90, best_epoch=4, model="mlp"))
    t.apply(FoldEvent(ts=2, fold=2, score=0.80, best_epoch=2, model="mlp"))
    t.apply(FoldEvent(ts=3, fold=1, score=0.95, best_epoch=9, model="linear"))
    t.apply(FoldEvent(ts=4, fold=2, score=0.85, best_epoch=7, model="linear"))
    t.apply(FoldEvent(ts=5, fold=3, score=0.75))  # a report without a model leaves the fold's as it was: none
    result = t.snapshot(BASE, final=True)
    assert [(f.index, f.score, f.best_epoch, f.model) for f in result.folds] == [
        (1, 0.95, 9, "linear"),
        (2, 0.85, 7, "linear"),
        (3, 0.75, None, None),
    ]
    assert result.cv_mean == pytest.approx(0.85)
    back = RunResult.from_dict(result.to_dict())
    assert [f.model for f in back.folds] == ["linear", "linear", None]
    assert "model" not in result.to_dict()["folds"][2]


def test_the_agents_own_metric_is_never_relabelled_as_the_competitions() -> None:
    """Graded on AUC, the agent reports RMSE: the scores are shown as RMSE (lower is better), AUC kept as graded."""
    t = RunTracker(started_at=0.0, metric_name="auc", higher_is_better=True)
    t.apply(MetricEvent(ts=0, name="rmse"))
    for fold, score in ((1, 0.4), (2, 0.3)):
        t.apply(FoldEvent(ts=fold, fold=fold, score=score, metric="rmse"))
    result = t.snapshot(BASE, final=True)
    assert (result.metric.name, result.metric.higher_is_better) == ("rmse", False)
    assert result.graded_metric is not None
    assert (result.graded_metric.name, result.graded_metric.higher_is_better) == ("auc", True)
    assert any("graded on auc" in w for w in result.warnings)
    assert RunResult.from_dict(result.to_dict()).graded_metric == result.graded_metric


def test_an_alias_of_the_competitions_metric_is_the_same_metric() -> None:
    """`roc_auc` from the agent on an AUC competition is AUC: nothing is relabelled, nothing warned."""
    t = RunTracker(started_at=0.0, metric_name="auc", higher_is_better=True)
    t.apply(FoldEvent(ts=1, fold=1, score=0.8, metric="ROC-AUC"))
    result = t.snapshot(BASE, final=True)
    assert (result.metric.name, result.graded_metric, result.warnings) == ("auc", None, ())
