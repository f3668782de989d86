"""The GitHub job summary of a run: verdict, folds, curves, the agent and its search, timings, gates, problems and
the last output."""

from __future__ import annotations

import math
import shlex
from datetime import UTC, datetime

from mle_ci.durations import format_duration
from mle_ci.report._curves import render_curves
from mle_ci.report._markdown import code, cut, fence_for, md, size
from mle_ci.report._text import (
    best_fold,
    child_exit_phrase,
    clean_result,
    clean_text,
    completed_folds,
    cv_phrase,
    fold_count,
    format_score,
    format_spread,
    metric_phrase,
    passes_min_score,
)
from mle_ci.report.agent import render_agent
from mle_ci.report.hardware import render_gpu_use, render_hardware
from mle_ci.report.search import render_search
from mle_ci.report.submission import render_submission
from mle_ci.result import RunResult
from mle_ci.resultparts import BaselineComparison, FoldResult, FoldStatus, RunStatus

DEFAULT_LIMIT = 1_000_000
"""GitHub refuses a step summary over 1 MiB; stay a little under it."""

MAX_MESSAGES = 50
"""Errors or warnings listed before the rest are only counted."""

_STATUS_EMOJI = {
    RunStatus.SUCCESS: "✅",
    RunStatus.FAILED: "❌",
    RunStatus.CRASHED: "💥",
    RunStatus.TIMEOUT: "⏱️",
    RunStatus.STALLED: "🧊",
    RunStatus.INTERRUPTED: "🛑",
    RunStatus.RUNNING: "⏳",
    RunStatus.GPU_UNAVAILABLE: "🚫",
}


def render_summary(result: RunResult, *, limit_bytes: int = DEFAULT_LIMIT) -> str:
    """GitHub-flavoured Markdown for ``result``, at most ``limit_bytes`` bytes of UTF-8."""
    result = clean_result(result)
    tail = list(result.log_tail)
    text = _render(result, tail, omitted=0)
    if size(text) <= limit_bytes:
        return text
    # Too big: drop the oldest output lines first, since the last ones say most about how the run ended.
    low, high, best = 0, len(tail) - 1, None
    while low <= high:
        keep = (low + high) // 2
        candidate = _render(result, tail[len(tail) - keep :], omitted=len(tail) - keep)
        if size(candidate) <= limit_bytes:
            best, low = candidate, keep + 1
        else:
            high = keep - 1
    if best is not None:
        return best
    note = f"_✂️ This summary was cut to stay under {limit_bytes} bytes; result.json holds everything._"
    return cut(_render(result, [], omitted=len(tail)), limit_bytes, note)


def _render(result: RunResult, tail: list[str], *, omitted: int) -> str:
    """The whole summary with the given output lines (``omitted`` earlier ones left out for size)."""
    blocks = [
        _verdict(result),
        _facts(result),
        _folds(result),
        render_curves(result),
        render_submission(result),
        render_agent(result),
        render_search(result),
        _timing(result),
        render_gpu_use(result),
        render_hardware(result),
        _gates(result),
        _crash(result),
        _messages("Errors", result.errors),
        _messages("Warnings", result.warnings),
        _output(tail, omitted),
    ]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


def _verdict(result: RunResult) -> list[str]:
    """The heading: status emoji and word, headline score with the CV spread, metric and direction."""
    name = md(result.competition) if result.competition else "mle-ci run"
    cv = cv_phrase(result)
    if result.reported_score is not None:
        score = f"score **{md(format_score(result.reported_score))}**" + (f" (CV {cv})" if cv else "")
    elif result.cv_mean is not None and result.cv_std is not None:
        n = len(result.fold_scores)
        mean, std = format_score(result.cv_mean), format_spread(result.cv_std)
        score = f"CV score **{mean}** ± {std} over {n} fold{'s' if n != 1 else ''}"
    else:
        score = "no score"
    if result.baseline is not None:
        score += f" · {_baseline_phrase(result.baseline)}"
    emoji = _STATUS_EMOJI[result.status]
    return [f"## {emoji} {name}: {result.status.value} · {score} · {md(metric_phrase(result))}"]


def _baseline_phrase(baseline: BaselineComparison) -> str:
    """``baseline 0.91 (Δ -0.012, max regression 0.02)`` for the heading."""
    delta = "Δ n/a" if baseline.delta is None else f"Δ {baseline.delta:+.4g}"
    mark = "" if baseline.passed else " ❌"
    limit = f"max regression {baseline.max_regression:g}"
    return f"baseline {md(format_score(baseline.baseline_score))} ({delta}, {limit}){mark}"


def _facts(result: RunResult) -> list[str]:
    """One line with the command, exit codes and the submission."""
    facts: list[str] = []
    if result.command:
        facts.append(f"Command {code(_join(result.command))}")
    exit_text = f"exit code {int(result.exit_code)}"
    child = child_exit_phrase(result)
    if child:
        exit_text += f" (child: {md(child)})"
    facts.append(exit_text)
    if result.submission:
        facts.append(f"submission {code(result.submission)}")
    if result.min_score is not None:
        facts.append(f"min-score {format_score(result.min_score)}")
    return [" · ".join(facts)]


def _folds(result: RunResult) -> list[str]:
    """The per-fold table, the best fold marked, and the CV line under it."""
    if not result.folds:
        return []
    best = best_fold(result)
    models = any(fold.model is not None for fold in result.folds)
    lines = [
        "### Folds",
        "",
        "| Fold | Status | Score |" + (" Model |" if models else "") + " Best epoch | Epochs | Time |",
        "| ---: | :--- | ---: |" + (" :--- |" if models else "") + " ---: | ---: | ---: |",
    ]
    for fold in result.folds:
        is_best = best is not None and fold.index == best.index
        score = "–" if fold.score is None else md(format_score(fold.score))
        epochs = f"{fold.epochs} (early stop)" if fold.early_stopped else str(fold.epochs)
        model = f" {md(fold.model or '–')} |" if models else ""
        lines.append(
            f"| {fold.index}{' 🏆' if is_best else ''} | {_fold_status(result, fold)} "
            f"| {f'**{score}**' if is_best else score} |{model} {_or_dash(fold.best_epoch)} | {epochs} "
            f"| {_duration(fold.seconds)} |"
        )
    cv = cv_phrase(result)
    total = fold_count(result)
    done = f"{completed_folds(result)} of {total} folds completed"
    lines += ["", f"**CV** {cv} · {done} · {md(metric_phrase(result))}" if cv else f"**CV** no score · {done}"]
    if models:
        lines += [
            "",
            "Each fold trained several models; a fold's score and best epoch are those of its model, chosen on "
            "the out-of-fold rows. The epoch counts and curves are of the model that reports its epochs.",
        ]
    return lines


def _fold_status(result: RunResult, fold: FoldResult) -> str:
    if fold.status is FoldStatus.COMPLETED:
        return "✅ completed" if passes_min_score(result, fold.score) else "❌ below min-score"
    if fold.status is FoldStatus.INCOMPLETE:
        return f"💥 cut short ({result.status.value})"
    if fold.status is FoldStatus.NOT_REACHED:
        return "⏭️ not reached"
    return "⏳ running"


def _timing(result: RunResult) -> list[str]:
    """Start, end, duration and the time budget used."""
    budget = "none"
    if result.timeout_s is not None and math.isfinite(result.timeout_s):
        budget = format_duration(result.timeout_s)
        if result.timeout_s > 0:
            budget += f" ({100 * result.duration_s / result.timeout_s:.0f}% used)"
    return [
        "### Timing",
        "",
        "| Started | Finished | Duration | Time budget |",
        "| --- | --- | --- | --- |",
        f"| {_when(result.started_at)} | {_when(result.finished_at)} | {_duration(result.duration_s)} | {budget} |",
    ]


def _gates(result: RunResult) -> list[str]:
    if not result.gates:
        return []
    lines = ["### Gates", "", "| Gate | Result | Details |", "| --- | --- | --- |"]
    for gate in result.gates:
        verdict = "✅ passed" if gate.passed else "❌ failed"
        lines.append(f"| {md(gate.name)} | {verdict} | {md(gate.message)} |")
    return lines


def _crash(result: RunResult) -> list[str]:
    crash = result.crash
    if crash is None:
        return []
    where = f"{code(f'{crash.file}:{crash.line}')}"
    if crash.function:
        where += f" in {code(crash.function)}"
    exception = f" {code(crash.exception)}" if crash.exception else ""
    return ["### 💥 Crash", "", f"Raised{exception} at {where}"]


def _messages(title: str, messages: tuple[str, ...]) -> list[str]:
    shown = [m for m in messages if m.strip()]
    if not shown:
        return []
    lines = [f"### {title}", ""]
    lines += [f"- {md(m)}" for m in shown[:MAX_MESSAGES]]
    if len(shown) > MAX_MESSAGES:
        lines.append(f"- … and {len(shown) - MAX_MESSAGES} more")
    return lines


def _output(tail: list[str], omitted: int) -> list[str]:
    """The last lines of output, folded, in a fence that nothing in them can close."""
    if not tail and not omitted:
        return []
    left_out = f" ({omitted} earlier lines left out to fit GitHub's size limit)" if omitted else ""
    fence = fence_for(tail)
    summary = f"Last {len(tail)} lines of output{left_out}"
    body = [fence + "text", *tail, fence] if tail else []
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _when(timestamp: float | None) -> str:
    if timestamp is None or not math.isfinite(timestamp):
        return "–"
    try:
        return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "–"


def _duration(seconds: float | None) -> str:
    return "–" if seconds is None or not math.isfinite(seconds) else format_duration(seconds)


def _or_dash(value: int | None) -> str:
    return "–" if value is None else str(value)


def _join(command: tuple[str, ...]) -> str:
    """The command as one shell-like line, for reading (it is never run from here)."""
    return clean_text(shlex.join(command))
