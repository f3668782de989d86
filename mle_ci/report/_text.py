"""Small text helpers shared by the renderers: cleaning the child's text and phrasing scores and progress."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from mle_ci.durations import format_duration
from mle_ci.linesplit import last_state
from mle_ci.result import RunResult
from mle_ci.resultparts import FoldResult, FoldStatus, RunStatus

MAX_LINE = 2000
"""Longest output line kept; one line may be megabytes (a tensor's repr, a progress bar without newlines)."""

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
# C0 controls other than tab and newline, DEL, C1 controls, lone surrogates and the two non-characters that
# XML forbids: none of them prints, and some break UTF-8 encoding or XML.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NEWLINES = re.compile("\r\n?|[\u2028\u2029]")
"""Line breaks as the reports write them (\\n): CR, CRLF, and Unicode's line and paragraph separators, which
editors and Python's ``splitlines`` break on though Markdown does not."""


def clean_text(text: str) -> str:
    """``text`` with terminal escapes removed and unprintable or unencodable characters replaced by U+FFFD."""
    text = _NEWLINES.sub("\n", _ANSI.sub("", text))
    return _UNPRINTABLE.sub("\ufffd", text)


def clean_line(line: str, *, limit: int = MAX_LINE) -> str:
    """One output line as a terminal last showed it (after carriage returns), cleaned and cut to ``limit``."""
    text = clean_text(last_state(line.rstrip("\r\n").split("\r"), "")).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_score(value: float | None, digits: int = 5) -> str:
    """A score for people: ``digits`` significant digits without trailing zeros; ``n/a`` when unknown."""
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if not 1e-4 <= magnitude < 1e15:
        return f"{value:.{digits - 1}e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_spread(value: float | None) -> str:
    """A standard deviation for people: two significant digits are all it can honestly claim."""
    return format_score(value, digits=2)


def format_cost(usd: float) -> str:
    """US dollars to the hundredth of a cent: ``$0.0123``, ``$4.5000``."""
    return f"${usd:.4f}"


def exact_number(value: float | None) -> str:
    """A number for machines: the shortest text that reads back to the same float; empty when unknown."""
    if value is None or not math.isfinite(value):
        return ""
    return repr(float(value))


def passes_min_score(result: RunResult, score: float | None) -> bool:
    """Whether ``score`` meets ``result.min_score`` in the metric's direction (no minimum: always).

    Scores in the agent's own metric, not the graded one, are not held against a minimum of the graded metric.
    """
    if result.min_score is None or result.graded_metric is not None:
        return True
    if score is None or not math.isfinite(score):
        return False
    return score == result.min_score or result.metric.better(score, result.min_score)


def best_fold(result: RunResult) -> FoldResult | None:
    """The completed fold with the best finite score (the first one on a tie)."""
    best: FoldResult | None = None
    for fold in result.folds:
        if fold.status is not FoldStatus.COMPLETED or fold.score is None or not math.isfinite(fold.score):
            continue
        if best is None or best.score is None or result.metric.better(fold.score, best.score):
            best = fold
    return best


def completed_folds(result: RunResult) -> int:
    """How many folds finished with a score."""
    return sum(1 for f in result.folds if f.status is FoldStatus.COMPLETED)


def fold_count(result: RunResult) -> int:
    """How many folds the run has or announced."""
    return max(result.total_folds or 0, len(result.folds))


def metric_phrase(result: RunResult) -> str:
    """``auc, higher is better`` or just the direction when the metric has no name."""
    name = clean_text(result.metric.name).replace("\n", " ") if result.metric.name else ""
    return f"{name}, {result.metric.direction}" if name else result.metric.direction


def cv_phrase(result: RunResult) -> str | None:
    """``0.687 ± 0.012 over 5 folds``, or None when no fold has a score."""
    mean, std = result.cv_mean, result.cv_std
    if mean is None or std is None:
        return None
    n = len(result.fold_scores)
    return f"{format_score(mean)} ± {format_spread(std)} over {n} fold{'s' if n != 1 else ''}"


def progress_phrase(result: RunResult) -> str:
    """Where the run got to: fold, epoch and last score, as far as it reported them."""
    parts: list[str] = []
    total = fold_count(result)
    current = next((f for f in result.folds if f.status in (FoldStatus.RUNNING, FoldStatus.INCOMPLETE)), None)
    if current is not None:
        parts.append(f"fold {current.index}/{total}" if total else f"fold {current.index}")
    elif result.folds:
        parts.append(f"{completed_folds(result)} of {total} folds completed")
    if result.epochs:
        last = result.epochs[-1]
        if current is None or last.fold in (None, current.index):
            parts.append(f"epoch {last.epoch}/{last.total_epochs}" if last.total_epochs else f"epoch {last.epoch}")
    if result.last_score is not None:
        parts.append(f"last score {format_score(result.last_score)}")
    return ", ".join(parts) if parts else "no progress was reported"


def ending_phrase(result: RunResult) -> str:
    """How the run ended, in a few words naming the child's exit code or signal and the time it took."""
    took = format_duration(result.duration_s)
    status = result.status
    if status is RunStatus.TIMEOUT:
        budget = f" of {format_duration(result.timeout_s)}" if result.timeout_s is not None else ""
        return f"the run hit its time budget{budget} and was stopped after {took}"
    if status is RunStatus.STALLED:
        silent = f" for {format_duration(result.stall_timeout_s)}" if result.stall_timeout_s is not None else ""
        return f"the run stalled (no output or progress{silent}) and was stopped after {took}"
    if status is RunStatus.INTERRUPTED:
        return f"the run was interrupted (cancelled) after {took}"
    if status is RunStatus.GPU_UNAVAILABLE:
        return "a GPU was required but CUDA is unusable: the command was not started"
    if status is RunStatus.RUNNING:
        return f"the run was still going after {took}"
    how = child_exit_phrase(result)
    if status is RunStatus.CRASHED:
        return f"the run crashed after {took}" + (f" ({how})" if how else "")
    if status is RunStatus.FAILED:
        return f"the run failed after {took}" + (f" ({how})" if how else "")
    return f"the run finished after {took}"


def child_exit_phrase(result: RunResult) -> str:
    """``exit code 1`` / ``killed by SIGKILL`` / empty when the child's end is unknown."""
    if result.child_signal:
        return f"killed by {clean_text(result.child_signal)}"
    if result.child_exit_code is not None:
        return f"exit code {result.child_exit_code}"
    return ""


def clean_result(result: RunResult) -> RunResult:
    """``result`` with every text that came from the child or the user cleaned, so no renderer forgets one."""
    crash = result.crash
    if crash is not None:
        crash = replace(
            crash,
            file=clean_text(crash.file),
            function=None if crash.function is None else clean_text(crash.function),
            exception=None if crash.exception is None else clean_text(crash.exception),
        )
    return replace(
        result,
        command=tuple(clean_text(part) for part in result.command),
        competition=None if result.competition is None else clean_text(result.competition),
        metric=replace(result.metric, name=None if result.metric.name is None else clean_text(result.metric.name)),
        child_signal=None if result.child_signal is None else clean_text(result.child_signal),
        submission=None if result.submission is None else clean_text(result.submission),
        gates=tuple(replace(g, name=clean_text(g.name), message=clean_text(g.message)) for g in result.gates),
        crash=crash,
        errors=tuple(clean_text(e) for e in result.errors),
        warnings=tuple(clean_text(w) for w in result.warnings),
        log_tail=tuple(clean_line(line) for line in result.log_tail),
        output_dir=None if result.output_dir is None else clean_text(result.output_dir),
    )


def verdict_line(result: RunResult) -> str:
    """One plain line for the console at the end of a run: status, score, and how it ended."""
    parts = [result.status.value]
    cv = cv_phrase(result)
    if result.reported_score is not None:
        parts.append(f"score {format_score(result.reported_score)} ({metric_phrase(result)})")
        if cv:
            parts.append(f"CV {cv}")
    elif cv:
        parts.append(f"CV {cv} ({metric_phrase(result)})")
    grade = result.grade
    if grade is not None and grade.score is not None:
        medal = {"none": "no medal", "unknown": "medals unknown: no leaderboard"}.get(grade.medal, grade.medal)
        parts.append(f"graded {format_score(grade.score)}: {medal}")
    parts.extend(gate.message for gate in result.gates if not gate.passed)
    if result.crash is not None:
        parts.append(f"crashed at {result.crash.file}:{result.crash.line}")
    parts.append(f"exit code {int(result.exit_code)}")
    return " · ".join(parts)
