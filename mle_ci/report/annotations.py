"""Deciding the PR check annotations of a run; writing them as workflow commands is the GitHub adapter's job."""

from __future__ import annotations

from dataclasses import dataclass

from mle_ci.hardware.model import Severity
from mle_ci.report._text import (
    clean_result,
    clean_text,
    cv_phrase,
    ending_phrase,
    format_score,
    metric_phrase,
    progress_phrase,
)
from mle_ci.report.submission import grade_phrase
from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus

MAX_PER_LEVEL = 10
"""The runner keeps at most 10 annotations of each level per step and drops the rest silently."""

LEVELS = ("error", "warning", "notice")


@dataclass(frozen=True)
class Annotation:
    """One annotation: its level (``error``, ``warning`` or ``notice``), text and optional place in a file."""

    level: str
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None


def decide_annotations(result: RunResult) -> tuple[Annotation, ...]:
    """The annotations for ``result``, errors first, at most :data:`MAX_PER_LEVEL` of each level."""
    result = clean_result(result)
    found = [
        *_ending(result),
        *_gates(result),
        *_errors(result),
        *_findings(result),
        *_warnings(result),
        *_score(result),
    ]
    capped: list[Annotation] = []
    for level in LEVELS:
        capped.extend(_cap([a for a in found if a.level == level], level))
    return tuple(capped)


def _ending(result: RunResult) -> list[Annotation]:
    """An error saying how an unsuccessful run ended and how far it got."""
    status = result.status
    got_to = f"It got to {progress_phrase(result)}."
    ending = _sentence(ending_phrase(result))
    crash = result.crash
    if crash is not None and status in (RunStatus.CRASHED, RunStatus.FAILED):
        where = f" in {clean_text(crash.function)}()" if crash.function else ""
        exception = clean_text(crash.exception) if crash.exception else "The child raised an exception."
        message = f"{exception}\n{ending}; its traceback ends{where} at {crash.file}:{crash.line}. {got_to}"
        return [Annotation("error", message, title=_crash_title(crash.exception), file=crash.file, line=crash.line)]
    if status is RunStatus.CRASHED:
        return [Annotation("error", f"{ending}. {got_to}", title="Crash")]
    if status is RunStatus.TIMEOUT:
        return [Annotation("error", f"{ending}. {got_to}", title="Timeout")]
    if status is RunStatus.STALLED:
        return [Annotation("error", f"{ending}. {got_to}", title="Stalled")]
    if status is RunStatus.INTERRUPTED:
        return [Annotation("error", f"{ending}. {got_to}", title="Interrupted")]
    if status is RunStatus.FAILED and not any(not g.passed for g in result.gates) and not result.errors:
        return [Annotation("error", f"{ending}. {got_to}", title="Failed")]
    return []


def _findings(result: RunResult) -> list[Annotation]:
    """The GPU preflight's problems: errors when they stopped the run, warnings otherwise."""
    if result.diagnosis is None:
        return []
    blocked = result.status is RunStatus.GPU_UNAVAILABLE
    out = []
    for finding in result.diagnosis.findings:
        if finding.severity is Severity.INFO:
            continue
        level = "error" if blocked and finding.severity is Severity.ERROR else "warning"
        message = f"{clean_text(finding.cause)}\nFix: {clean_text(finding.fix)}"
        out.append(Annotation(level, message, title=f"GPU preflight: {finding.code}"))
    return out


def _gates(result: RunResult) -> list[Annotation]:
    return [
        Annotation("error", clean_text(g.message) or f"The {g.name} gate failed.", title=f"Gate failed: {g.name}")
        for g in result.gates
        if not g.passed
    ]


def _errors(result: RunResult) -> list[Annotation]:
    return [Annotation("error", clean_text(e)) for e in result.errors if e.strip()]


def _warnings(result: RunResult) -> list[Annotation]:
    return [Annotation("warning", clean_text(w)) for w in result.warnings if w.strip()]


def _score(result: RunResult) -> list[Annotation]:
    """A notice with the headline score and the cross-validation spread."""
    cv = cv_phrase(result)
    metric = metric_phrase(result)
    if result.reported_score is not None:
        text = f"Score {format_score(result.reported_score)}" + (f"; CV {cv}" if cv else "")
    elif cv is not None:
        text = f"CV score {cv}"
    elif result.grade is not None and result.grade.score is not None:
        return [Annotation("notice", f"Graded: {grade_phrase(result.grade)}.", title="Grade")]
    else:
        return []
    notices = [Annotation("notice", f"{text} ({metric}).", title="Score")]
    if result.grade is not None and result.grade.score is not None:
        notices.append(Annotation("notice", f"Graded: {grade_phrase(result.grade)}.", title="Grade"))
    return notices


def _cap(annotations: list[Annotation], level: str) -> list[Annotation]:
    """At most :data:`MAX_PER_LEVEL`; the last one kept says how many were dropped."""
    if len(annotations) <= MAX_PER_LEVEL:
        return annotations
    dropped = len(annotations) - (MAX_PER_LEVEL - 1)
    more = Annotation(
        level,
        f"{dropped} more {level}s are not shown (GitHub keeps {MAX_PER_LEVEL}); see the job summary.",
        title=f"{dropped} more {level}s",
    )
    return [*annotations[: MAX_PER_LEVEL - 1], more]


def _sentence(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def _crash_title(exception: str | None) -> str:
    """``Crash: ValueError`` from the exception line, or just ``Crash``."""
    if not exception:
        return "Crash"
    name = clean_text(exception).split(":", 1)[0].strip()
    return f"Crash: {name}" if name and len(name) <= 80 and " " not in name else "Crash"
