"""JUnit XML for a run: one suite, one test case per fold, plus a ``run`` case when the run itself went wrong."""

from __future__ import annotations

import math
import shlex
from datetime import UTC, datetime

from mle_ci.report._text import (
    child_exit_phrase,
    clean_line,
    clean_result,
    clean_text,
    ending_phrase,
    exact_number,
    format_score,
    passes_min_score,
    progress_phrase,
)
from mle_ci.report.junitxml import Case, Outcome, Suite, document, suite_element, suites_element
from mle_ci.report.submission import grade_phrase
from mle_ci.result import RunResult
from mle_ci.resultparts import FoldResult, FoldStatus, RunStatus

LOG_LINES = 40
"""Output lines quoted in a ``run`` error; dorny/test-reporter rejects reports over 64 KiB."""

LOG_LINE_CHARS = 500

_ABORTED = (
    RunStatus.CRASHED,
    RunStatus.TIMEOUT,
    RunStatus.STALLED,
    RunStatus.INTERRUPTED,
    RunStatus.GPU_UNAVAILABLE,
)


def render_junit(result: RunResult, *, suite_name: str = "mle-ci") -> str:
    """JUnit XML for ``result``, valid whatever the child printed, with ``time`` on every element."""
    return document(suites_element([suite_element(junit_suite(result, suite_name=suite_name))], disabled="0"))


def junit_suite(result: RunResult, *, suite_name: str = "mle-ci") -> Suite:
    """The run's test suite: its folds, the GPU preflight and submission checks, and a ``run`` case when needed."""
    result = clean_result(result)
    classname = f"mle-ci.{result.competition or 'run'}"
    cases = [_fold_case(result, fold, classname) for fold in result.folds]
    preflight = _preflight_case(result, classname)
    if preflight is not None:
        cases.insert(0, preflight)
    submission = _submission_case(result, classname)
    if submission is not None:
        cases.append(submission)
    run_case = _run_case(result, classname)
    if run_case is not None:
        cases.append(run_case)
    return Suite(
        clean_text(suite_name),
        tuple(cases),
        seconds=_seconds(result.duration_s),
        timestamp=_timestamp(result.started_at),
        properties=tuple(_properties(result).items()),
    )


def _fold_case(result: RunResult, fold: FoldResult, classname: str) -> Case:
    """The test case of one fold: passed, failed (below min-score), error (cut short) or skipped."""
    name = f"fold-{fold.index}"
    stdout = f"score={exact_number(fold.score) or 'none'} best_epoch={_or_none(fold.best_epoch)} epochs={fold.epochs}"
    if fold.early_stopped:
        stdout += " early_stopped=true"
    if fold.model is not None:
        stdout += f" model={fold.model}"
    outcome: Outcome | None = None
    if fold.status is FoldStatus.COMPLETED:
        if not passes_min_score(result, fold.score):
            outcome = Outcome("failure", _below_min(result, name, fold.score), type="min-score")
    elif fold.status is FoldStatus.INCOMPLETE:
        ending = ending_phrase(result)
        reached = f" ({fold.epochs} epoch{'s' if fold.epochs != 1 else ''} done)" if fold.epochs else ""
        message = f"{name} did not finish{reached}: {ending}"
        outcome = Outcome("error", message, type=result.status.value, output=_crash_text(result) or None)
    elif fold.status is FoldStatus.NOT_REACHED:
        outcome = Outcome("skipped", f"{name} was not reached: {ending_phrase(result)}")
    else:
        outcome = Outcome("skipped", f"{name} was still running when this report was written")
    return Case(name, classname, _seconds(fold.seconds), stdout, outcome)


def _preflight_case(result: RunResult, classname: str) -> Case | None:
    """The ``gpu-preflight`` case, on machines with a GPU and when a required one was missing: error or pass."""
    if result.hardware is None or result.diagnosis is None:
        return None
    if not result.hardware.gpus and result.status is not RunStatus.GPU_UNAVAILABLE:
        return None  # a CPU machine running a CPU job: nothing to test
    profile, diagnosis = result.hardware, result.diagnosis
    names = ", ".join(gpu.name for gpu in profile.gpus) or "none"
    stdout = (
        f"cuda_usable={'true' if diagnosis.cuda_usable else 'false'} gpus={len(profile.gpus)} ({names}) "
        f"driver={profile.driver_version or 'none'} torch={profile.torch_version or 'none'}"
    )
    findings = "\n".join(f"[{f.severity.value}] {f.code}: {clean_text(f.sentence)}" for f in diagnosis.findings)
    outcome = None
    if result.status is RunStatus.GPU_UNAVAILABLE:
        errors = [f for f in diagnosis.findings if f.severity.value == "error"] or list(diagnosis.findings)
        first = errors[0] if errors else None
        message = "a GPU was required but CUDA is unusable" + (f": {clean_text(first.cause)}" if first else "")
        outcome = Outcome("error", message, type="gpu-unavailable", output=findings or None)
    seconds = profile.cuda_check.seconds if profile.cuda_check.seconds is not None else 0.0
    return Case("gpu-preflight", classname, _seconds(seconds), f"{stdout}\n{findings}".strip(), outcome)


def _submission_case(result: RunResult, classname: str) -> Case | None:
    """The ``submission-valid`` case: failed with every problem when the submission is invalid or missing."""
    check = result.validation
    if check is None:
        return None
    stdout = f"valid={'true' if check.valid else 'false'} rows={_or_none(check.rows)} path={clean_text(check.path)}"
    if result.grade is not None:
        stdout += f"\ngrade: {clean_text(grade_phrase(result.grade))}"
    outcome = None
    if not check.valid:
        problems = "\n".join(clean_text(p) for p in check.problems)
        first = clean_text(check.problems[0]) if check.problems else "invalid"
        outcome = Outcome("failure", f"invalid submission: {first}", type="submission", output=problems)
    return Case("submission-valid", classname, 0.0, stdout, outcome)


def _run_case(result: RunResult, classname: str) -> Case | None:
    """The ``run`` case: always without folds, and with folds only when the run as a whole went wrong."""
    status = result.status
    if result.folds and status in (RunStatus.SUCCESS, RunStatus.RUNNING):
        return None
    stdout = (
        f"status={status.value} score={exact_number(result.score) or 'none'} "
        f"exit_code={int(result.exit_code)} epochs={len(result.epochs)}"
    )
    failed_gates = [g for g in result.gates if not g.passed]
    outcome = None
    if status is RunStatus.RUNNING:
        outcome = Outcome("skipped", "the run was still going when this report was written")
    elif status is RunStatus.FAILED and failed_gates:
        message = "; ".join(clean_text(g.message) or f"{g.name} failed" for g in failed_gates)
        outcome = Outcome("failure", message, type="gate", output=_details(result))
    elif status is not RunStatus.SUCCESS:
        outcome = Outcome("error", _run_message(result), type=status.value, output=_details(result))
    return Case("run", classname, _seconds(result.duration_s), stdout, outcome)


def _run_message(result: RunResult) -> str:
    """One line saying how the run ended, where it got to, and where it crashed."""
    message = f"{ending_phrase(result)}; it got to {progress_phrase(result)}"
    if result.crash is not None:
        crash = result.crash
        message += f"; the traceback ends at {clean_text(crash.file)}:{crash.line}"
        if crash.exception:
            message += f" ({clean_text(crash.exception)})"
    elif result.status in _ABORTED and result.status is not RunStatus.CRASHED:
        how = child_exit_phrase(result)
        message += f"; child: {how}" if how else ""
    return message


def _details(result: RunResult) -> str:
    """The body of a ``run`` error: crash site, the harness's errors and the last lines of output."""
    parts = [_crash_text(result)]
    if result.errors:
        parts.append("Errors:\n" + "\n".join(f"- {clean_text(e)}" for e in result.errors))
    failed = [g for g in result.gates if not g.passed]
    if failed:
        parts.append("Failed gates:\n" + "\n".join(f"- {g.name}: {clean_text(g.message)}" for g in failed))
    tail = result.log_tail[-LOG_LINES:]
    if tail:
        lines = "\n".join(clean_line(line, limit=LOG_LINE_CHARS) for line in tail)
        parts.append(f"Last {len(tail)} lines of output:\n{lines}")
    return "\n\n".join(p for p in parts if p) or ending_phrase(result)


def _crash_text(result: RunResult) -> str:
    crash = result.crash
    if crash is None:
        return ""
    where = f" in {clean_text(crash.function)}" if crash.function else ""
    exception = f"\n{clean_text(crash.exception)}" if crash.exception else ""
    return f"Crash site: {clean_text(crash.file)}:{crash.line}{where}{exception}"


def _below_min(result: RunResult, name: str, score: float | None) -> str:
    if result.min_score is None:
        return f"{name} failed"
    minimum = format_score(result.min_score)
    direction = result.metric.direction
    if score is None:
        return f"{name} finished without a score; min-score is {minimum} ({direction})"
    side = "below" if result.metric.higher_is_better else "above"
    return f"{name} score {format_score(score)} is {side} min-score {minimum} ({direction})"


def _properties(result: RunResult) -> dict[str, str]:
    return {
        "status": result.status.value,
        "score": exact_number(result.score),
        "cv_mean": exact_number(result.cv_mean),
        "cv_std": exact_number(result.cv_std),
        "metric": clean_text(result.metric.name or ""),
        "direction": result.metric.direction,
        "exit_code": str(int(result.exit_code)),
        "command": clean_text(shlex.join(result.command)),
        "competition": clean_text(result.competition or ""),
        "min_score": exact_number(result.min_score),
        # the folds above are the handed-in node's, when the agent searched: these name it
        **({"nodes": str(len(result.nodes))} if result.nodes else {}),
        **({"best_node": str(result.best_node)} if result.best_node is not None else {}),
    }


def _seconds(value: float | None) -> float:
    """Seconds fit for a ``time`` attribute: finite and not negative."""
    return value if value is not None and math.isfinite(value) and value > 0 else 0.0


def _timestamp(started_at: float | None) -> str | None:
    if started_at is None or not math.isfinite(started_at):
        return None
    try:
        return datetime.fromtimestamp(started_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return None


def _or_none(value: int | None) -> str:
    return "none" if value is None else str(value)
