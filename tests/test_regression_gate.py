"""The regression gate: a run fails when its score is worse than a baseline result's by more than max-regression."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import child

from mle_ci.cli import main
from mle_ci.report import decide_outputs, render_summary
from mle_ci.result import RunResult
from mle_ci.resultparts import BaselineScore, FoldResult, FoldStatus, Metric, RunStatus
from mle_ci.settings import load_settings
from mle_ci.stages.judge import regression_gate

AUC = Metric("auc", higher_is_better=True)
RMSE = Metric("rmse", higher_is_better=False)


def _baseline(score: float, metric: Metric = AUC) -> BaselineScore:
    return BaselineScore(score, metric, "main/result.json")


@pytest.mark.parametrize(
    ("score", "baseline", "limit", "passed"),
    [
        (0.85, 0.9, 0.05, True),  # exactly max-regression worse: passes (0.9 - 0.85 is 0.05000000000000004)
        (0.849, 0.9, 0.05, False),  # a little more: fails
        (0.95, 0.9, 0.0, True),  # better
        (0.9, 0.9, 0.0, True),  # equal, no tolerance
        (0.8999, 0.9, 0.0, False),  # any worsening fails without tolerance
    ],
)
def test_higher_is_better(score: float, baseline: float, limit: float, passed: bool) -> None:
    """With higher-is-better metrics a lower score is the regression."""
    comparison, gate = regression_gate(score, AUC, _baseline(baseline), limit)
    assert gate.name == "regression"
    assert gate.passed is passed
    assert comparison.passed is passed
    assert comparison.delta == pytest.approx(score - baseline)


@pytest.mark.parametrize(
    ("score", "baseline", "limit", "passed"),
    [
        (1.05, 1.0, 0.05, True),  # boundary
        (1.06, 1.0, 0.05, False),
        (0.5, 1.0, 0.0, True),  # lower loss is better
        (0.95, 0.9, 0.05, True),
    ],
)
def test_lower_is_better(score: float, baseline: float, limit: float, passed: bool) -> None:
    """With lower-is-better metrics a higher score is the regression: the same numbers, the other way round."""
    comparison, gate = regression_gate(score, RMSE, _baseline(baseline, RMSE), limit)
    assert gate.passed is passed
    assert comparison.regression == pytest.approx(score - baseline)


def test_the_direction_flips_the_verdict() -> None:
    """0.8 against 0.9 fails for AUC and passes for RMSE."""
    assert not regression_gate(0.8, AUC, _baseline(0.9), 0.05)[1].passed
    assert regression_gate(0.8, RMSE, _baseline(0.9, RMSE), 0.05)[1].passed


def test_different_metrics_cannot_be_compared() -> None:
    """AUC against a baseline in RMSE (or in another direction) fails the gate with both metrics named."""
    comparison, gate = regression_gate(0.9, AUC, _baseline(0.5, RMSE), 1.0)
    assert not gate.passed
    assert "auc (higher is better) differs from the baseline's rmse (lower is better)" in gate.message
    assert comparison.delta is None
    same_direction = regression_gate(0.9, AUC, _baseline(0.5, Metric("accuracy")), 1.0)[1]
    assert not same_direction.passed


def test_different_competitions_cannot_be_compared() -> None:
    """A baseline from another competition fails the gate; an unknown competition on either side does not matter."""
    baseline = BaselineScore(0.5, AUC, "main/result.json", competition="breast-cancer")
    _, gate = regression_gate(0.9, AUC, baseline, 0.0, competition="spaceship-titanic")
    assert not gate.passed
    assert "spaceship-titanic" in gate.message
    assert "breast-cancer" in gate.message
    assert regression_gate(0.9, AUC, baseline, 0.0, competition=None)[1].passed
    assert regression_gate(0.9, AUC, baseline, 0.0, competition="breast-cancer")[1].passed


def test_no_score_fails() -> None:
    """A run without a score cannot show it did not regress."""
    _, gate = regression_gate(None, AUC, _baseline(0.9), 0.1)
    assert not gate.passed
    assert "no score" in gate.message


def _result_file(path: Path, result: RunResult) -> Path:
    path.write_text(json.dumps(result.to_dict()))
    return path


def _scored(score: float, metric: Metric = AUC) -> RunResult:
    return RunResult(RunStatus.SUCCESS, metric=metric, folds=(FoldResult(1, FoldStatus.COMPLETED, score),))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "'base.json' does not exist"),
        ("{not json", "'base.json' is not valid JSON"),
        ('{"schema_version": 1}', "'base.json' is not a usable mle-ci result"),
        (json.dumps(RunResult(RunStatus.CRASHED).to_dict()), "records no score"),
    ],
)
def test_a_bad_baseline_file_is_a_usage_error_before_anything_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    """Missing, corrupt, not a result, or without a score: exit 2, and the command never started."""
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "base.json").write_text(content)
    marker = tmp_path / "ran"
    code = main(["run", "--baseline-result", "base.json", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not marker.exists()
    assert not (tmp_path / "mle-ci-results").exists()


def test_max_regression_must_not_be_negative(tmp_path: Path) -> None:
    """A negative tolerance is a usage error naming the key."""
    from mle_ci.errors import ConfigError

    with pytest.raises(ConfigError, match="--max-regression: expected a number >= 0"):
        load_settings({"max_regression": "-0.1"}, {}, tmp_path)


def test_settings_from_action_inputs(tmp_path: Path) -> None:
    """The action inputs baseline-result and max-regression reach the settings; the file is read at once."""
    _result_file(tmp_path / "base.json", _scored(0.8))
    env = {"INPUT_BASELINE-RESULT": "base.json", "INPUT_MAX-REGRESSION": "0.02"}
    settings = load_settings({}, env, tmp_path)
    assert settings.max_regression == 0.02
    assert settings.baseline is not None
    assert settings.baseline.score == 0.8
    assert settings.baseline.metric == AUC


def _run(tmp_path: Path, baseline: float, limit: str) -> tuple[int, dict[str, Any]]:
    _result_file(tmp_path / "base.json", _scored(baseline, Metric(None)))
    code = main(
        ["run", "--baseline-result", "base.json", "--max-regression", limit, "--", *child("events_lines")],
    )
    return code, json.loads((tmp_path / "mle-ci-results" / "result.json").read_text())


def test_a_run_worse_than_the_baseline_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CV 0.72 against a baseline of 0.75 with max-regression 0.02: exit 1, a failed gate, an error annotation."""
    monkeypatch.chdir(tmp_path)
    outputs = tmp_path / "outputs.txt"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code, result = _run(tmp_path, 0.75, "0.02")
    assert code == 1
    assert result["status"] == "failed"
    assert result["score"] == pytest.approx(0.72)
    assert result["baseline"]["baseline_score"] == 0.75
    assert result["baseline"]["delta"] == pytest.approx(-0.03)
    assert result["baseline"]["passed"] is False
    assert {k: v for k, v in result["gates"][-1].items() if k != "message"} == {"name": "regression", "passed": False}
    stdout = capsys.readouterr().out
    assert any(
        line.startswith("::error title=Gate failed%3A regression::score 0.72 is 0.03 worse")
        for line in stdout.splitlines()
    )
    written = outputs.read_text()
    assert "baseline-score=0.75\n" in written
    assert f"score-delta={result['score'] - 0.75!r}\n" in written
    summary = (tmp_path / "mle-ci-results" / "summary.md").read_text()
    assert "baseline 0.75 (Δ -0.03, max regression 0.02) ❌" in summary.splitlines()[0]


def test_a_run_exactly_at_the_limit_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CV 0.72 against 0.73 with max-regression 0.01: the boundary passes, exit 0."""
    monkeypatch.chdir(tmp_path)
    code, result = _run(tmp_path, 0.73, "0.01")
    assert code == 0
    assert result["baseline"]["passed"] is True
    assert result["gates"][-1]["passed"] is True


def test_renderers_show_the_comparison() -> None:
    """Summary heading and outputs carry the baseline and the delta; without a baseline the outputs are empty."""
    comparison, gate = regression_gate(0.9, AUC, _baseline(0.8), 0.0)
    result = RunResult(RunStatus.SUCCESS, metric=AUC, reported_score=0.9, baseline=comparison, gates=(gate,))
    assert "· baseline 0.8 (Δ +0.1, max regression 0)" in render_summary(result).splitlines()[0]
    outputs = decide_outputs(result, files={})
    assert outputs["baseline-score"] == "0.8"
    assert float(outputs["score-delta"]) == pytest.approx(0.1)
    plain = decide_outputs(RunResult(RunStatus.SUCCESS), files={})
    assert plain["baseline-score"] == plain["score-delta"] == ""
    assert RunResult.from_dict(result.to_dict()).baseline == comparison


def test_min_score_is_held_against_the_graded_score_in_the_competitions_metric(tmp_path: Path) -> None:
    """The agent's CV is RMSE 0.4 (a miss against min-score 0.7 read as accuracy); graded accuracy 0.75 passes."""
    from competitions_toy import make_competition

    from mle_ci.competitions.registry import discover
    from mle_ci.result import Gate
    from mle_ci.stages.judge import judge_submission

    make_competition(tmp_path / "data", config={"metric": "accuracy"})
    competition = discover("toy", tmp_path / "data")
    submission = tmp_path / "submission.csv"
    submission.write_text("id,label\n1,a\n2,b\n3,a\n4,x\n")
    cv_gate = Gate("min-score", False, "score 0.4 misses min-score 0.7")
    result = RunResult(
        status=RunStatus.FAILED,
        metric=Metric("rmse", False),
        graded_metric=Metric("accuracy", True),
        min_score=0.7,
        gates=(cv_gate,),
    )
    judged = judge_submission(result, submission, competition)
    assert judged.grade is not None and judged.grade.score == 0.75
    assert [(g.name, g.passed) for g in judged.gates] == [("min-score", True), ("submission-valid", True)]
    assert judged.gates[0].message.startswith("graded score 0.75 meets min-score 0.7 (higher is better")
    assert judged.status is RunStatus.SUCCESS
    worse = judge_submission(
        replace(result, min_score=0.8, status=RunStatus.SUCCESS, gates=()), submission, competition
    )
    assert [(g.name, g.passed) for g in worse.gates] == [("min-score", False), ("submission-valid", True)]
    assert worse.status is RunStatus.FAILED
