"""Pure decisions of a run: when to stop the child, when to beat, how it ended."""

from __future__ import annotations

from dataclasses import dataclass

from mle_ci.durations import format_duration
from mle_ci.result import Gate, Metric, RunStatus


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
    gpu: str | None = None
    """``GPU 87 % 5.2/80 GB`` from the latest samples, when GPUs are watched."""


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
    if progress.gpu:
        parts.append(progress.gpu)
    parts.append(f"last output {format_duration(now - clocks.last_output)} ago")
    return " · ".join(parts)


TIMEOUT_EXIT = 124


def run_status(*, stop: str | None, returncode: int | None, gates: tuple[Gate, ...]) -> RunStatus:
    """How the run ended: the harness's stop wins, then the child's exit, then the gates."""
    if stop == "interrupted":
        return RunStatus.INTERRUPTED
    if stop == "timeout":
        return RunStatus.TIMEOUT
    if stop == "stalled":
        return RunStatus.STALLED
    if returncode == TIMEOUT_EXIT:
        # The command ran out of its own time budget (GNU timeout's code; agents that finish early say so).
        return RunStatus.TIMEOUT
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
