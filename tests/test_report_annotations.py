"""Tests for deciding the annotations of a run."""

from __future__ import annotations

import dataclasses

import pytest

from mle_ci.report.annotations import MAX_PER_LEVEL, Annotation, decide_annotations
from mle_ci.result import RunResult
from mle_ci.resultparts import CrashSite, EpochRecord, FoldResult, FoldStatus, Gate, Metric, RunStatus

FOLDS = (
    FoldResult(1, FoldStatus.COMPLETED, score=0.70, best_epoch=3, epochs=5, seconds=60.0),
    FoldResult(2, FoldStatus.COMPLETED, score=0.68, best_epoch=4, epochs=5, seconds=61.0),
    FoldResult(3, FoldStatus.INCOMPLETE, epochs=2),
)


def _levels(annotations: tuple[Annotation, ...], level: str) -> list[Annotation]:
    return [a for a in annotations if a.level == level]


def test_crash_is_an_error_at_the_crash_site() -> None:
    """A crashed run gives an error at the traceback's file and line, naming the exception and progress."""
    result = RunResult(
        status=RunStatus.CRASHED,
        child_exit_code=1,
        duration_s=125.0,
        folds=FOLDS,
        total_folds=5,
        epochs=(EpochRecord(epoch=2, fold=3, total_epochs=10),),
        crash=CrashSite("src/model.py", 42, "forward", "RuntimeError: shapes differ"),
    )
    (error,) = _levels(decide_annotations(result), "error")
    assert (error.file, error.line, error.title) == ("src/model.py", 42, "Crash: RuntimeError")
    assert error.message.startswith("RuntimeError: shapes differ\n")
    assert "exit code 1" in error.message
    assert "forward()" in error.message
    assert "fold 3/5" in error.message
    assert "epoch 2/10" in error.message


def test_crash_without_site_is_an_error_without_a_file() -> None:
    """A crash with no traceback in the workspace still gets an error, with no file."""
    result = RunResult(status=RunStatus.CRASHED, child_signal="SIGSEGV", duration_s=3.0)
    (error,) = _levels(decide_annotations(result), "error")
    assert error.file is None
    assert error.line is None
    assert "killed by SIGSEGV" in error.message
    assert "no progress was reported" in error.message


def test_timeout_error_says_budget_duration_and_progress() -> None:
    """A timeout names the budget, how long it ran and where it got to."""
    result = RunResult(
        status=RunStatus.TIMEOUT,
        duration_s=1805.0,
        timeout_s=1800.0,
        folds=FOLDS,
        total_folds=5,
        last_score=0.61,
    )
    (error,) = _levels(decide_annotations(result), "error")
    assert error.title == "Timeout"
    assert "30m00s" in error.message
    assert "30m05s" in error.message
    assert "fold 3/5" in error.message
    assert "last score 0.61" in error.message


def test_stall_error_says_how_long_and_progress() -> None:
    """A stalled run is an error saying it stalled, after how long, and how far it got."""
    result = RunResult(status=RunStatus.STALLED, duration_s=600.0, epochs=(EpochRecord(epoch=4),))
    (error,) = _levels(decide_annotations(result), "error")
    assert error.title == "Stalled"
    assert "stalled" in error.message
    assert "10m00s" in error.message
    assert "epoch 4" in error.message


def test_interrupted_run_is_an_error() -> None:
    """A cancelled run is reported as interrupted."""
    (error,) = decide_annotations(RunResult(status=RunStatus.INTERRUPTED, duration_s=12.0))
    assert error.level == "error"
    assert error.title == "Interrupted"


def test_each_failed_gate_is_an_error() -> None:
    """Every failed gate gives its own error with the gate's message; passed gates give none."""
    result = RunResult(
        status=RunStatus.FAILED,
        gates=(
            Gate("min-score", False, "score 0.61 is below min-score 0.65"),
            Gate("submission", True, "valid"),
            Gate("gpu-idle", False, "GPU idle 90% of the run"),
        ),
    )
    errors = _levels(decide_annotations(result), "error")
    assert [e.title for e in errors] == ["Gate failed: min-score", "Gate failed: gpu-idle"]
    assert errors[0].message == "score 0.61 is below min-score 0.65"


def test_failed_run_without_a_reason_still_gets_an_error() -> None:
    """A failed run with no failed gate and no error message gets a generic error with the exit code."""
    result = RunResult(status=RunStatus.FAILED, child_exit_code=2, duration_s=1.0)
    (error,) = decide_annotations(result)
    assert error.level == "error"
    assert "exit code 2" in error.message


def test_harness_errors_become_errors() -> None:
    """The result's own error messages are error annotations."""
    result = RunResult(status=RunStatus.FAILED, errors=("CUDA is unusable: CPU-only torch wheel",))
    (error,) = decide_annotations(result)
    assert error.message == "CUDA is unusable: CPU-only torch wheel"


def test_cv_score_is_a_notice_with_spread_metric_and_direction() -> None:
    """The notice gives mean ± std over N folds, the metric and its direction."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FOLDS[:2], metric=Metric("rmse", higher_is_better=False))
    (notice,) = _levels(decide_annotations(result), "notice")
    assert notice.message == "CV score 0.69 ± 0.01 over 2 folds (rmse, lower is better)."
    assert notice.title == "Score"


def test_reported_score_notice_includes_cv_when_known() -> None:
    """A score reported for the whole run leads, with the CV spread after it."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FOLDS[:2], reported_score=0.695, metric=Metric("auc"))
    (notice,) = _levels(decide_annotations(result), "notice")
    assert notice.message == "Score 0.695; CV 0.69 ± 0.01 over 2 folds (auc, higher is better)."


def test_no_score_means_no_notice() -> None:
    """Without any score there is no notice."""
    assert _levels(decide_annotations(RunResult(status=RunStatus.SUCCESS)), "notice") == []


def test_successful_run_has_only_the_score_notice() -> None:
    """A clean success yields just the notice."""
    annotations = decide_annotations(RunResult(status=RunStatus.SUCCESS, reported_score=0.9))
    assert [a.level for a in annotations] == ["notice"]


def test_warnings_become_warnings() -> None:
    """The result's warnings are warning annotations, blank ones dropped."""
    result = RunResult(status=RunStatus.SUCCESS, warnings=("GPU idle for 5m", "  "))
    assert [a.message for a in _levels(decide_annotations(result), "warning")] == ["GPU idle for 5m"]


def test_annotations_are_ordered_errors_warnings_notices() -> None:
    """Errors come first, then warnings, then notices."""
    result = RunResult(
        status=RunStatus.TIMEOUT,
        timeout_s=10.0,
        duration_s=10.0,
        warnings=("w",),
        reported_score=1.0,
    )
    assert [a.level for a in decide_annotations(result)] == ["error", "warning", "notice"]


def test_more_than_ten_per_level_keeps_nine_and_counts_the_rest() -> None:
    """With 15 warnings, 9 are kept and the 10th says 6 more were dropped."""
    result = RunResult(status=RunStatus.SUCCESS, warnings=tuple(f"warning {i}" for i in range(15)))
    warnings = _levels(decide_annotations(result), "warning")
    assert len(warnings) == MAX_PER_LEVEL
    assert [w.message for w in warnings[:9]] == [f"warning {i}" for i in range(9)]
    assert warnings[-1].message.startswith("6 more warnings")


def test_exactly_ten_per_level_are_all_kept() -> None:
    """Ten warnings fit without a summary annotation."""
    result = RunResult(status=RunStatus.SUCCESS, warnings=tuple(f"w{i}" for i in range(10)))
    assert [a.message for a in decide_annotations(result)] == [f"w{i}" for i in range(10)]


def test_errors_are_capped_too() -> None:
    """Many failed gates plus a crash stay within ten errors."""
    gates = tuple(Gate(f"g{i}", False, f"m{i}") for i in range(20))
    result = RunResult(status=RunStatus.CRASHED, gates=gates)
    errors = _levels(decide_annotations(result), "error")
    assert len(errors) == MAX_PER_LEVEL
    assert errors[-1].message.startswith("12 more errors")


def test_control_characters_from_the_child_are_cleaned() -> None:
    """Terminal escapes in warnings do not reach the annotation."""
    (warning,) = decide_annotations(RunResult(status=RunStatus.SUCCESS, warnings=("\x1b[33mslow\x1b[0m",)))
    assert warning.message == "slow"


def test_annotation_is_frozen() -> None:
    """Annotations are immutable values."""
    annotation = Annotation("notice", "hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        annotation.message = "changed"  # type: ignore[misc]
