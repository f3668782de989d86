from __future__ import annotations

from mle_ci.childenv import child_environment
from mle_ci.console import Progress
from mle_ci.report.runlog import heartbeat_text
from mle_ci.resultparts import Gate, Metric, RunStatus
from mle_ci.stages.clock import Clocks, heartbeat_due, seconds_to_next_decision, stop_reason
from mle_ci.stages.judge import min_score_gate, run_status
from mle_ci.supervisor import StopReason

CLOCKS = Clocks(
    started=100.0,
    deadline=160.0,
    last_activity=100.0,
    last_output=100.0,
    last_beat=100.0,
    stall_timeout=30.0,
    heartbeat=10.0,
)


def test_stop_at_deadline_then_stall() -> None:
    """The deadline stops the run; silence longer than the stall timeout stops it too."""
    assert stop_reason(CLOCKS, 129.9) is None
    assert stop_reason(CLOCKS, 130.0) is StopReason.STALLED
    assert stop_reason(CLOCKS, 160.0) is StopReason.TIMEOUT


def test_heartbeat_only_when_quiet_for_an_interval() -> None:
    """A beat is due after one interval of silence since the last output or beat."""
    assert not heartbeat_due(CLOCKS, 109.9)
    assert heartbeat_due(CLOCKS, 110.0)
    assert not heartbeat_due(CLOCKS.__class__(**{**CLOCKS.__dict__, "heartbeat": 0}), 1000.0)


def test_next_decision_is_the_nearest_event() -> None:
    """The supervisor sleeps until the next beat, stall or deadline, never longer than housekeeping."""
    assert seconds_to_next_decision(CLOCKS, 105.0, housekeeping=60) == 5.0
    assert seconds_to_next_decision(CLOCKS, 105.0, housekeeping=0.25) == 0.25


def test_heartbeat_text_says_where_the_run_is() -> None:
    """Elapsed, budget left, fold and epoch, last score and age of the last output."""
    text = heartbeat_text(elapsed=30.0, left=30.0, since_output=30.0, progress=Progress(2, 5, 3, 10, 0.6871))
    assert text == "running 30s · 30s left · fold 2/5, epoch 3/10 · last score 0.6871 · last output 30s ago"


def test_child_environment_strips_credentials_and_adds_the_contract() -> None:
    """Workflow tokens, inputs, file-command paths and their folder go; the events file, deadline and unbuffered
    output come."""
    base = {
        "PATH": "/bin",
        "GITHUB_TOKEN": "t",
        "ACTIONS_RUNTIME_TOKEN": "t",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "u",
        "INPUT_ANTHROPIC-API-KEY": "k",
        "GITHUB_OUTPUT": "/f",
        "GITHUB_ENV": "/e",
        "GITHUB_PATH": "/p",
        "GITHUB_STATE": "/s",
        "GITHUB_STEP_SUMMARY": "/m",
        "RUNNER_TEMP": "/t",
        "RUNNER_TOOL_CACHE": "/c",
        "GITHUB_WORKSPACE": "/w",
        "MLE_CI_DEADLINE": "1",
    }
    env = child_environment(base, events="/r/e.jsonl", deadline_unix=1000.5, time_limit=59.9, extra={"X": "1"})
    assert env["PATH"] == "/bin"
    assert env["GITHUB_WORKSPACE"] == "/w"
    for name in (
        "GITHUB_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "INPUT_ANTHROPIC-API-KEY",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_PATH",
        "GITHUB_STATE",
        "GITHUB_STEP_SUMMARY",
        "RUNNER_TEMP",
    ):
        assert name not in env
    assert env["RUNNER_TOOL_CACHE"] == "/c"
    assert env["MLE_CI_EVENTS"] == "/r/e.jsonl"
    assert env["MLE_CI_DEADLINE"] == "1000.500"
    assert env["TIME_LIMIT_SECS"] == "59"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["X"] == "1"


def test_run_status_precedence() -> None:
    """Harness stops win over the exit code, the exit code over gates."""
    failed_gate = (Gate("min-score", False, "low"),)
    assert run_status(stop=StopReason.INTERRUPTED, returncode=0, gates=()) is RunStatus.INTERRUPTED
    assert run_status(stop=StopReason.TIMEOUT, returncode=0, gates=()) is RunStatus.TIMEOUT
    assert run_status(stop=StopReason.STALLED, returncode=1, gates=()) is RunStatus.STALLED
    assert run_status(stop=None, returncode=1, gates=failed_gate) is RunStatus.CRASHED
    assert run_status(stop=None, returncode=0, gates=failed_gate) is RunStatus.FAILED
    assert run_status(stop=None, returncode=0, gates=()) is RunStatus.SUCCESS
    assert run_status(stop=None, returncode=124, gates=()) is RunStatus.TIMEOUT


def test_min_score_gate_is_direction_aware() -> None:
    """Higher-is-better needs score >= min; lower-is-better needs score <= min; no score fails."""
    assert min_score_gate(0.8, 0.8, Metric("auc", True)).passed  # type: ignore[union-attr]
    assert not min_score_gate(0.7, 0.8, Metric("auc", True)).passed  # type: ignore[union-attr]
    assert min_score_gate(0.7, 0.8, Metric("rmse", False)).passed  # type: ignore[union-attr]
    assert not min_score_gate(None, 0.8, Metric()).passed  # type: ignore[union-attr]
    assert min_score_gate(0.1, None, Metric()) is None
