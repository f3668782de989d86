"""The supervision stage's clock: when to stop the child, when to beat, how long to sleep; pure decisions."""

from __future__ import annotations

from dataclasses import dataclass

from mle_ci.supervisor import StopReason


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


def stop_reason(clocks: Clocks, now: float) -> StopReason | None:
    """``TIMEOUT`` at the deadline, ``STALLED`` after too long without output or events, else None."""
    if clocks.deadline is not None and now >= clocks.deadline:
        return StopReason.TIMEOUT
    if clocks.stall_timeout is not None and now - clocks.last_activity >= clocks.stall_timeout:
        return StopReason.STALLED
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
