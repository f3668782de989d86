"""Pure decisions of a run: when to stop the child, when to beat, how it ended."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mle_ci.contract import ExitCode
from mle_ci.durations import format_duration
from mle_ci.resultparts import BaselineComparison, BaselineScore, Gate, Metric, RunStatus


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


def run_status(*, stop: str | None, returncode: int | None, gates: tuple[Gate, ...]) -> RunStatus:
    """How the run ended: the harness's stop wins, then the child's exit, then the gates."""
    if stop == "interrupted":
        return RunStatus.INTERRUPTED
    if stop == "timeout":
        return RunStatus.TIMEOUT
    if stop == "stalled":
        return RunStatus.STALLED
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
