"""The harness's own lines in a run's log: the command started, its budget and plan, the heartbeat, how it ended."""

from __future__ import annotations

import shlex
from collections.abc import Callable

from mle_ci.console import Progress
from mle_ci.durations import format_duration
from mle_ci.hardware.model import HardwareProfile, TrainingPlan
from mle_ci.supervisor import ChildExit, StopReason

COMMAND_CHARS = 200
"""The longest command shown in the log; a longer one is cut with an ellipsis."""


def command_text(command: tuple[str, ...], hide: Callable[[str], str], limit: int = COMMAND_CHARS) -> str:
    """The command as a shell would show it, on one line, its secrets hidden before it is shortened when long (a
    secret cut in two would no longer be recognised)."""
    text = hide(shlex.join(command)).replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def budget_phrase(timeout: float | None, grace: float, stall_timeout: float | None) -> str:
    """`` with timeout 30m, grace 30s; stall timeout 10m`` for the started line; empty without limits."""
    parts = []
    if timeout:
        parts.append(f"timeout {format_duration(timeout)}, grace {format_duration(grace)}")
    if stall_timeout:
        parts.append(f"stall timeout {format_duration(stall_timeout)}")
    return f" with {'; '.join(parts)}" if parts else ""


def plan_phrase(plan: TrainingPlan, profile: HardwareProfile) -> str:
    """The hardware plan the child is given, in one line."""
    if plan.device == "cuda":
        names = sorted({gpu.name for gpu in profile.gpus})
        where = f"{plan.gpu_count}× {', '.join(names)}" if names else f"{plan.gpu_count} GPU(s)"
    else:
        where = f"CPU ({profile.cpu_count} cores)"
    return f"plan: {plan.device} on {where}, batch size {plan.batch_size}, AMP {plan.amp}, {plan.num_workers} workers"


def heartbeat_text(*, elapsed: float, left: float | None, since_output: float, progress: Progress) -> str:
    """One line: elapsed, budget left (None: no time limit), fold/epoch, last score, age of the last output."""
    parts = [f"running {format_duration(elapsed)}"]
    parts.append("no time limit" if left is None else f"{format_duration(max(0.0, left))} left")
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
    parts.append(f"last output {format_duration(since_output)} ago")
    return " · ".join(parts)


def pid_list(pids: tuple[int, ...], shown: int = 10) -> str:
    """``pid 1, 2, 3 and 7 more``."""
    more = f" and {len(pids) - shown} more" if len(pids) > shown else ""
    return "pid " + ", ".join(str(pid) for pid in pids[:shown]) + more


def ending_note(child: ChildExit, *, timeout: float | None, stall_timeout: float | None) -> str:
    """How the command ended, how long it took, and what was left of its processes."""
    took = format_duration(child.ended - child.started)
    if child.stop_reason is StopReason.TIMEOUT:
        how = f"stopped at the {format_duration(timeout or 0)} time limit"
    elif child.stop_reason is StopReason.STALLED:
        how = f"stopped after {format_duration(stall_timeout or 0)} without output or events"
    elif child.stop_reason is StopReason.INTERRUPTED:
        how = "stopped because the harness was interrupted"
    elif child.signal is not None:
        how = f"killed by {child.signal_name}"
    else:
        how = f"exited with code {child.returncode}"
    extra = " (SIGKILL after the grace period)" if child.killed else ""
    left = f"; {child.leftovers_killed} leftover process(es) ended" if child.leftovers_killed else ""
    if child.survivors:
        left += f"; {len(child.survivors)} survived SIGKILL ({pid_list(child.survivors)})"
    return f"command {how}{extra} after {took}{left}"


def process_warnings(child: ChildExit) -> list[str]:
    """What the run's processes did that people should know: left running, escaped the cgroup, survived."""
    warnings = []
    if child.leftovers_killed:
        warnings.append(f"the command left {child.leftovers_killed} process(es) running; they were killed")
    if child.escaped:
        warnings.append(
            f"{len(child.escaped)} process(es) had left the run's cgroup ({pid_list(child.escaped)}); "
            "they were found in the process tree and killed"
        )
    if child.survivors:
        warnings.append(
            f"{len(child.survivors)} process(es) of the run were still running after SIGKILL "
            f"({pid_list(child.survivors)}); they may affect later steps on this machine"
        )
    return warnings
