"""The time a solver may still spend: a ``time.monotonic()`` deadline, or none."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """A deadline on the monotonic clock (``None``: no limit) that solvers check between steps."""

    deadline: float | None

    def left(self) -> float:
        """Seconds until the deadline; infinite without one."""
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def allows(self, seconds: float) -> bool:
        """Whether a step expected to take ``seconds`` still ends before the deadline."""
        return self.left() > seconds
