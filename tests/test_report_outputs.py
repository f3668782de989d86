"""Tests for deciding the step outputs of a run."""

from __future__ import annotations

import math

from mle_ci.report.outputs import decide_outputs
from mle_ci.result import RunResult
from mle_ci.resultparts import FoldResult, FoldStatus, Metric, RunStatus

KEYS = {
    "status",
    "exit-code",
    "score",
    "score-std",
    "cv-mean",
    "metric",
    "direction",
    "folds",
    "submission",
    "junit",
    "summary",
    "result",
    "gpu-name",
    "gpu-util-mean",
    "gpu-idle",
    "valid-submission",
    "grade-score",
    "medal",
    "duration-seconds",
    "model",
    "input-tokens",
    "output-tokens",
    "cost-usd",
    "submission-producer",
    "baseline-score",
    "score-delta",
    "nodes",
    "best-node",
}

FOLDS = (
    FoldResult(1, FoldStatus.COMPLETED, score=0.1),
    FoldResult(2, FoldStatus.COMPLETED, score=0.2),
    FoldResult(3, FoldStatus.INCOMPLETE),
    FoldResult(4, FoldStatus.NOT_REACHED),
)


def test_every_documented_output_is_present_as_a_string() -> None:
    """All output keys exist and every value is a string."""
    outputs = decide_outputs(RunResult(status=RunStatus.SUCCESS), files={})
    assert set(outputs) == KEYS
    assert all(isinstance(v, str) for v in outputs.values())


def test_numbers_keep_full_precision() -> None:
    """Scores are written so that they read back to the very same float."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FOLDS, duration_s=12.3456789012345)
    outputs = decide_outputs(result, files={})
    assert float(outputs["score"]) == result.score
    assert outputs["score"] == repr(result.cv_mean)
    assert float(outputs["score-std"]) == result.cv_std
    assert float(outputs["cv-mean"]) == result.cv_mean
    assert outputs["duration-seconds"] == "12.3456789012345"


def test_reported_score_is_the_headline_score() -> None:
    """``score`` is the run's reported score when there is one, ``cv-mean`` stays the fold mean."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FOLDS, reported_score=0.25)
    outputs = decide_outputs(result, files={})
    assert outputs["score"] == "0.25"
    assert outputs["cv-mean"] == repr(result.cv_mean)


def test_unknown_numbers_are_empty() -> None:
    """Without folds or a score, score, std and mean are empty strings."""
    outputs = decide_outputs(RunResult(status=RunStatus.CRASHED), files={})
    assert outputs["score"] == outputs["score-std"] == outputs["cv-mean"] == ""


def test_non_finite_score_is_empty() -> None:
    """A NaN or infinite score is treated as unknown."""
    for value in (math.nan, math.inf):
        assert decide_outputs(RunResult(status=RunStatus.SUCCESS, reported_score=value), files={})["score"] == ""


def test_folds_counts_completed_folds_only() -> None:
    """``folds`` is the number of folds that finished with a score."""
    assert decide_outputs(RunResult(status=RunStatus.CRASHED, folds=FOLDS), files={})["folds"] == "2"


def test_file_outputs_come_from_the_files_mapping() -> None:
    """``junit``, ``summary`` and ``result`` are the given paths, empty when not given."""
    outputs = decide_outputs(
        RunResult(status=RunStatus.SUCCESS), files={"junit": "out/junit.xml", "result": "out/result.json"}
    )
    assert (outputs["junit"], outputs["summary"], outputs["result"]) == ("out/junit.xml", "", "out/result.json")


def test_status_exit_code_metric_direction_and_submission() -> None:
    """Status, exit code, metric name, direction and submission path are passed through."""
    result = RunResult(
        status=RunStatus.TIMEOUT,
        metric=Metric("rmse", higher_is_better=False),
        submission="out/submission.csv",
    )
    outputs = decide_outputs(result, files={})
    assert outputs["status"] == "timeout"
    assert outputs["exit-code"] == "124"
    assert outputs["metric"] == "rmse"
    assert outputs["direction"] == "lower"
    assert outputs["submission"] == "out/submission.csv"


def test_gpu_outputs_are_empty_until_the_result_has_gpu_data() -> None:
    """GPU name and utilisation exist but are empty."""
    outputs = decide_outputs(RunResult(status=RunStatus.SUCCESS), files={})
    assert outputs["gpu-name"] == outputs["gpu-util-mean"] == ""
