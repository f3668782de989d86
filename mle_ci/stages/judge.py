"""The judging stage: every decision on how a run ended — its status, its gates (min-score, regression, GPU idle,
runner files, a valid submission) and the graded verdict — from the facts the supervision gathered."""

from __future__ import annotations

import math
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mle_ci.competitions.model import ValidationReport
from mle_ci.contract import ExitCode
from mle_ci.report.traceback import find_crash_site
from mle_ci.result import RunResult
from mle_ci.resultparts import BaselineComparison, BaselineScore, Gate, Metric, RunStatus
from mle_ci.runnerwatch import Tampering
from mle_ci.signaltrap import SignalTrap
from mle_ci.stages.gpuwatch import GpuVerdict
from mle_ci.stages.supervise import Watched
from mle_ci.supervisor import StopReason

if TYPE_CHECKING:
    from mle_ci.competitions.model import Competition, GradeReport
    from mle_ci.settings import Settings

CANCELLED_CHECK_SECONDS = 2.0
"""The most a cancelled run spends checking its submission: the runner kills 7.5 s after its SIGINT, and every
report must be written before that."""


_STOPPED = {
    StopReason.INTERRUPTED: RunStatus.INTERRUPTED,
    StopReason.TIMEOUT: RunStatus.TIMEOUT,
    StopReason.STALLED: RunStatus.STALLED,
}


def run_status(*, stop: StopReason | None, returncode: int | None, gates: tuple[Gate, ...]) -> RunStatus:
    """How the run ended: the harness's stop wins, then the child's exit, then the gates."""
    if stop is not None:
        return _STOPPED[stop]
    if returncode == ExitCode.TIMEOUT:  # the child's own budget rule, as GNU timeout says it
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


def _same_metric(run: Metric, baseline: Metric) -> bool:
    """Metrics match when their directions do and their names (where both are known) are the same word."""
    if run.higher_is_better != baseline.higher_is_better:
        return False
    if run.name is None or baseline.name is None:
        return True
    return run.name.strip().lower().replace("-", "_") == baseline.name.strip().lower().replace("-", "_")


def _metric_text(metric: Metric) -> str:
    return f"{metric.name or 'score'} ({metric.direction})"


def regression_gate(
    score: float | None,
    metric: Metric,
    baseline: BaselineScore,
    max_regression: float,
    *,
    competition: str | None = None,
) -> tuple[BaselineComparison, Gate]:
    """The ``regression`` check: the score may be worse than the baseline's by at most ``max_regression``.

    Worse is read in the run's metric direction; exactly ``max_regression`` worse still passes. Different
    metrics (or competitions, where both are known) cannot be compared and fail the gate, as does a run without
    a score.
    """
    b = baseline.score

    def comparison(delta: float | None, regression: float | None, passed: bool) -> BaselineComparison:
        return BaselineComparison(b, baseline.metric.name, baseline.source, max_regression, delta, regression, passed)

    if competition is not None and baseline.competition is not None and competition != baseline.competition:
        message = (
            f"the run is on {competition} but the baseline in {baseline.source} on {baseline.competition}: "
            "the scores cannot be compared"
        )
        return comparison(None, None, False), Gate("regression", False, message)
    if not _same_metric(metric, baseline.metric):
        message = (
            f"the run's metric {_metric_text(metric)} differs from the baseline's {_metric_text(baseline.metric)} "
            f"in {baseline.source}: the scores cannot be compared"
        )
        return comparison(None, None, False), Gate("regression", False, message)
    if score is None:
        message = f"no score was reported to compare with the baseline's {b:.6g} ({baseline.source})"
        return comparison(None, None, False), Gate("regression", False, message)
    delta = score - b
    regression = -delta if metric.higher_is_better else delta
    # Floating-point subtraction must not fail a run that is exactly max-regression worse.
    passed = regression <= max_regression or math.isclose(regression, max_regression, rel_tol=1e-9, abs_tol=1e-12)
    if regression > 0:
        how = f"{regression:.6g} worse than"
    elif regression < 0:
        how = f"{-regression:.6g} better than"
    else:
        how = "equal to"
    verdict = "within" if passed else "more than"
    message = (
        f"score {score:.6g} is {how} the baseline's {b:.6g} ({metric.direction}): {verdict} "
        f"max-regression {max_regression:g}"
    )
    return comparison(delta, regression, passed), Gate("regression", passed, message)


def gpu_idle_gate(gpus: GpuVerdict | None, *, fail_on_idle: bool) -> Gate | None:
    """The ``gpu-idle`` check (``--fail-on-idle-gpu``): every watched GPU was in use; None when not asked or the
    GPUs were not watched."""
    if not fail_on_idle or gpus is None or not gpus.sampled:
        return None
    if not gpus.idle:
        return Gate("gpu-idle", True, "every GPU was in use")
    return Gate("gpu-idle", False, f"{len(gpus.idle)} GPU(s) sat idle while the command ran (--fail-on-idle-gpu)")


def runner_files_gate(found: tuple[Tampering, ...]) -> Gate | None:
    """The failed ``runner-files`` gate when the child changed a runner file; None when it changed none."""
    if not found:
        return None
    listed = ", ".join(t.phrase for t in found)
    back = "put back as they were" if all(t.restored for t in found) else "not all could be put back"
    return Gate("runner-files", False, f"the command changed the runner's files while it ran: {listed}; {back}")


def baseline_gate(result: RunResult, settings: Settings) -> tuple[BaselineComparison | None, Gate | None]:
    """The regression gate against ``baseline-result``, when one was given."""
    if settings.baseline is None:
        return None, None
    limit = settings.max_regression or 0.0
    return regression_gate(result.score, result.metric, settings.baseline, limit, competition=result.competition)


def judge_run(watched: Watched, settings: Settings, *, late_signal: int | None = None) -> RunResult:
    """The run's gates and status from what the supervision saw; ``late_signal`` came after the command ended:
    the run was cancelled then, and ends as interrupted as in any other phase (exit 130)."""
    record, child = watched.record, watched.child
    comparison, regression = baseline_gate(record, settings)
    candidates = (
        min_score_gate(record.score, settings.min_score, record.metric),
        gpu_idle_gate(watched.gpus, fail_on_idle=settings.fail_on_idle_gpu),
        regression,
        runner_files_gate(watched.tampering),
    )
    gates = tuple(gate for gate in candidates if gate is not None)
    status = run_status(stop=child.stop_reason, returncode=child.returncode, gates=gates)
    errors = list(record.errors)
    crash = None
    if status is RunStatus.CRASHED:
        crash = find_crash_site(list(watched.tail), str(settings.workspace))
        how = f"was killed by {child.signal_name}" if child.signal_name else f"exited with code {child.returncode}"
        errors.append(f"the command {how}")
    if late_signal is not None and status is not RunStatus.INTERRUPTED:
        status = RunStatus.INTERRUPTED
        errors.append(f"{signal.Signals(late_signal).name} after the command ended: the run was cancelled")
    return replace(record, status=status, gates=gates, crash=crash, errors=tuple(errors), baseline=comparison)


def check_seconds(result: RunResult, settings: Settings, mono_start: float) -> float | None:
    """How long the submission's check may take: what is left of the time limit and its grace (at least the
    grace), and no more than a cancelled run can wait for before the runner kills it."""
    seconds = None
    if settings.timeout:
        left = mono_start + settings.timeout + settings.grace - time.monotonic()
        seconds = max(settings.grace, left)
    if result.status is RunStatus.INTERRUPTED:
        seconds = min(seconds or CANCELLED_CHECK_SECONDS, CANCELLED_CHECK_SECONDS)
    return seconds


def _graded_gates(result: RunResult, grade: GradeReport | None, competition: Competition) -> tuple[Gate, ...]:
    """The run's gates, with ``min-score`` held against the graded score in the competition's metric."""
    if grade is None or grade.score is None or result.min_score is None:
        return result.gates
    metric = Metric(competition.spec.metric, competition.spec.higher_is_better)
    graded = min_score_gate(grade.score, result.min_score, metric)
    assert graded is not None
    graded = replace(graded, message=f"graded {graded.message}")
    return tuple(graded if g.name == "min-score" else g for g in result.gates) + (
        () if any(g.name == "min-score" for g in result.gates) else (graded,)
    )


def judge_submission(
    result: RunResult,
    path: Path,
    competition: Competition,
    *,
    seconds: float | None = None,
    trap: SignalTrap | None = None,
) -> RunResult:
    """Validate the submission the run left (and grade it when the answers exist) within ``seconds`` and bounded
    memory (:mod:`mle_ci.competitions.isolated`); invalid, or not checkable, fails the run; a signal ``trap``
    receives meanwhile ends it as interrupted."""
    # Only a run with a competition pays for the check's libraries (pandas): 0.34 s to import once the stages are
    # loaded (best of 5, on the development machine).
    from mle_ci.competitions.isolated import Cancel, check_submission  # noqa: PLC0415

    cancel = None
    if trap is not None:
        seen = len(trap.received)
        cancel = Cancel(trap.read_fd, lambda: len(trap.received) > seen)
    checked = check_submission(path, competition, seconds=seconds, cancel=cancel)
    if checked.cancelled:
        return replace(result, status=RunStatus.INTERRUPTED, errors=(*result.errors, str(checked.problem)))
    validation = checked.validation or ValidationReport(False, (str(checked.problem),), None, str(path))
    grade = checked.grade
    if validation.valid:
        gate = Gate("submission-valid", True, f"{path.name} is valid ({validation.rows} rows)")
    else:
        shown = "; ".join(validation.problems[:3]) + (" …" if len(validation.problems) > 3 else "")
        gate = Gate("submission-valid", False, f"{path.name} is not a valid submission: {shown}")
    gates = (*_graded_gates(result, grade, competition), gate)
    status = result.status
    if status in (RunStatus.SUCCESS, RunStatus.FAILED):
        # only the gates decide between these two, and the graded score may have changed one
        status = RunStatus.SUCCESS if all(g.passed for g in gates) else RunStatus.FAILED
    return replace(
        result,
        status=status,
        gates=gates,
        validation=validation,
        grade=grade,
        submission=str(path) if path.exists() else result.submission,
    )
