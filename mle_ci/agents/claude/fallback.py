"""A result every time: the baseline runs, supervised, for the time left when the model left no valid submission."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from mle_ci.agents.claude.processes import stop_group

BASELINE = (sys.executable, "-m", "mle_ci.agents.baseline")
DEADLINE_MARGIN = 5.0
"""The baseline is stopped this long before the deadline, so the agent can still record its submission."""


def fallback_decision(*, remaining: float, minimum: float) -> tuple[bool, str]:
    """Whether the baseline may run in the time left, and why."""
    if remaining - DEADLINE_MARGIN >= minimum:
        left = "no time limit" if not math.isfinite(remaining) else f"{remaining:.0f}s left"
        return True, f"{left}: running the baseline agent for a submission"
    return False, f"{remaining:.0f}s left, under the {minimum:.0f}s the baseline needs: no fallback"


@dataclass(frozen=True)
class FallbackRun:
    """How the baseline ended: its exit code (None when stopped at the deadline)."""

    exit_code: int | None
    stopped: bool


def run_baseline(env: Mapping[str, str], *, remaining: float) -> FallbackRun:
    """Run the baseline (environment less secrets, output on ours) until it ends or the time left is up."""
    process = subprocess.Popen(BASELINE, env=dict(env), stdin=subprocess.DEVNULL, start_new_session=True)
    limit = None if not math.isfinite(remaining) else max(1.0, remaining - DEADLINE_MARGIN)
    try:
        code = process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        stop_group(process, grace=min(5.0, DEADLINE_MARGIN / 2))
        return FallbackRun(exit_code=None, stopped=True)
    except BaseException:
        stop_group(process, grace=1.0)
        raise
    return FallbackRun(exit_code=code, stopped=False)
