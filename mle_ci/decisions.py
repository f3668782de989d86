"""Pure decisions of a run: when to stop the child, when to beat, what the child may see, how it ended."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from mle_ci.durations import format_duration
from mle_ci.result import Gate, Metric, RunStatus

WORKFLOW_SECRETS = (
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_RUNTIME_URL",
    "ACTIONS_RESULTS_URL",
    "ACTIONS_CACHE_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
)
"""The workflow's credentials: no child needs them."""

GITHUB_FILE_COMMANDS = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY")
"""Files through which a step talks to the runner: only the harness writes them."""

HARNESS_ONLY_PREFIXES = ("INPUT_", "ACTIONS_ID_TOKEN_REQUEST_")


@dataclass(frozen=True)
class Clocks:
    """Monotonic times a run's decisions depend on; None where the thing has not happened or is off."""

    started: float
    deadline: float | None
    last_activity: float
    last_output: float
    last_beat: float
    stall_timeout: float | None
    heartbeat: float


def stop_reason(clocks: Clocks, now: float) -> str | None:
    """``timeout`` at the deadline, ``stalled`` after too long without output or events, else None."""
    if clocks.deadline is not None and now >= clocks.deadline:
        return "timeout"
    if clocks.stall_timeout is not None and now - clocks.last_activity >= clocks.stall_timeout:
        return "stalled"
    return None


def heartbeat_due(clocks: Clocks, now: float) -> bool:
    """A beat is due when the child and the harness have both been quiet for one interval."""
    if clocks.heartbeat <= 0:
        return False
    return now - max(clocks.last_output, clocks.last_beat) >= clocks.heartbeat


def seconds_to_next_decision(clocks: Clocks, now: float, *, housekeeping: float) -> float:
    """How long the supervisor may sleep before something here can change."""
    candidates = [housekeeping]
    if clocks.deadline is not None:
        candidates.append(clocks.deadline - now)
    if clocks.stall_timeout is not None:
        candidates.append(clocks.last_activity + clocks.stall_timeout - now)
    if clocks.heartbeat > 0:
        candidates.append(max(clocks.last_output, clocks.last_beat) + clocks.heartbeat - now)
    return max(0.0, min(candidates))


@dataclass(frozen=True)
class Progress:
    """What the heartbeat line tells about where the run is."""

    fold: int | None = None
    total_folds: int | None = None
    epoch: int | None = None
    total_epochs: int | None = None
    last_score: float | None = None


def heartbeat_text(clocks: Clocks, now: float, progress: Progress) -> str:
    """One line: elapsed, budget left, fold/epoch, last score, age of the last output."""
    parts = [f"running {format_duration(now - clocks.started)}"]
    if clocks.deadline is not None:
        parts.append(f"{format_duration(max(0.0, clocks.deadline - now))} left")
    else:
        parts.append("no time limit")
    where = []
    if progress.fold is not None:
        of = f"/{progress.total_folds}" if progress.total_folds else ""
        where.append(f"fold {progress.fold}{of}")
    if progress.epoch is not None:
        of = f"/{progress.total_epochs}" if progress.total_epochs else ""
        where.append(f"epoch {progress.epoch}{of}")
    if where:
        parts.append(", ".join(where))
    if progress.last_score is not None:
        parts.append(f"last score {progress.last_score:.6g}")
    parts.append(f"last output {format_duration(now - clocks.last_output)} ago")
    return " · ".join(parts)


def child_environment(
    base: Mapping[str, str],
    *,
    events: str,
    deadline_unix: float | None,
    time_limit: float | None,
    extra: Mapping[str, str],
    keep: tuple[str, ...] = (),
) -> dict[str, str]:
    """The child's environment: the harness's, less the workflow's credentials and inputs, plus the contract."""
    env = {
        name: value
        for name, value in base.items()
        if name in keep
        or not (name in WORKFLOW_SECRETS or name in GITHUB_FILE_COMMANDS or name.startswith(HARNESS_ONLY_PREFIXES))
    }
    # Variables of an outer harness must not leak into this run's child.
    for name in ("MLE_CI_EVENTS", "MLE_CI_DEADLINE", "TIME_LIMIT_SECS"):
        env.pop(name, None)
    env["MLE_CI_EVENTS"] = events
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TQDM_MININTERVAL", "10")
    if deadline_unix is not None:
        env["MLE_CI_DEADLINE"] = f"{deadline_unix:.3f}"
    if time_limit is not None:
        env["TIME_LIMIT_SECS"] = str(math.floor(time_limit))
    env.update(extra)
    return env


def run_status(*, stop: str | None, returncode: int | None, gates: tuple[Gate, ...]) -> RunStatus:
    """How the run ended: the harness's stop wins, then the child's exit, then the gates."""
    if stop == "interrupted":
        return RunStatus.INTERRUPTED
    if stop == "timeout":
        return RunStatus.TIMEOUT
    if stop == "stalled":
        return RunStatus.STALLED
    if returncode != 0:
        return RunStatus.CRASHED
    if not all(gate.passed for gate in gates):
        return RunStatus.FAILED
    return RunStatus.SUCCESS


def min_score_gate(score: float | None, min_score: float | None, metric: Metric) -> Gate | None:
    """The ``min-score`` check, direction-aware; None when no minimum was set."""
    if min_score is None:
        return None
    bound = "at least" if metric.higher_is_better else "at most"
    if score is None:
        return Gate("min-score", False, f"no score was reported; the score must be {bound} {min_score:g}")
    ok = score == min_score or metric.better(score, min_score)
    verdict = "meets" if ok else "misses"
    return Gate(
        "min-score",
        ok,
        f"score {score:.6g} {verdict} min-score {min_score:g} ({metric.direction}: must be {bound} {min_score:g})",
    )
