"""When to stop: whether the next fold fits in the time left, and SIGTERM/SIGINT turned into a flag."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType


@dataclass(frozen=True)
class FoldDecision:
    """Whether to start the next fold, the duration expected of it, and why."""

    start: bool
    estimate: float | None
    reason: str


def decide_fold(durations: Sequence[float], remaining: float, *, margin: float) -> FoldDecision:
    """Start a fold only if one as slow as the slowest so far ends before ``remaining - margin`` seconds.

    The first fold starts whenever more than ``margin`` is left: nothing is known of its duration, its epochs
    are cut by the clock, and a partly trained model beats the prior-only submission already on disk. A later
    fold is not padded for safety: one the clock cuts after all is left out of the submission
    (:meth:`~mle_ci.agents.baseline.selection.Candidates.refusal`), so it costs only time that would otherwise
    go unused, where padding gave up a fold that would have finished.
    """
    if remaining <= margin:
        return FoldDecision(False, None, f"{remaining:.0f}s left, no more than the {margin:.0f}s margin")
    if not durations:
        return FoldDecision(True, None, "the first fold always starts while time is left")
    estimate = max(durations)
    if estimate + margin > remaining:
        return FoldDecision(
            False, estimate, f"a fold should take {estimate:.0f}s but {remaining:.0f}s are left (margin {margin:.0f}s)"
        )
    return FoldDecision(True, estimate, f"a fold should take {estimate:.0f}s, {remaining:.0f}s are left")


def folds_started(durations: Sequence[float], budget: float, *, margin: float) -> int:
    """How many folds start when folds take ``durations`` seconds in turn and ``budget`` seconds are left."""
    done: list[float] = []
    left = budget
    for seconds in durations:
        if not decide_fold(done, left, margin=margin).start:
            break
        done.append(seconds)
        left -= seconds
    return len(done)


class StopSignal:
    """SIGTERM and SIGINT set a flag that training reads between steps; the agent then writes up and exits 0."""

    def __init__(self) -> None:
        self.received: int | None = None

    def install(self) -> None:
        """Handle SIGTERM and SIGINT in this (main) thread from now on."""
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def is_set(self) -> bool:
        return self.received is not None

    def name(self) -> str:
        return "" if self.received is None else signal.Signals(self.received).name
