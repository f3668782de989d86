"""Per-fold epoch curves as a mermaid ``xychart-beta`` block for the job summary."""

from __future__ import annotations

import bisect
import math
import re
from typing import TypeVar

from mle_ci.result import RunResult

T = TypeVar("T")

MAX_POINTS = 200
"""Most epochs drawn on the x-axis; longer runs are thinned so that the chart stays readable and small."""

# mermaid reads ``%%`` as a comment and ``;`` as a line end, and a title ends at ``"``: keep a safe alphabet.
_UNSAFE_TITLE = re.compile(r"[^A-Za-z0-9 _.,:()+\-/@]")


def render_curves(result: RunResult) -> list[str]:
    """Lines of a mermaid block with one line series per fold, or none when there is nothing to plot."""
    use_val = any(_finite(e.val_score) for e in result.epochs)
    series: dict[int | None, dict[int, float]] = {}
    for record in result.epochs:
        value = record.val_score if use_val else record.loss
        if value is None or not math.isfinite(value):
            continue
        group = record.fold if result.folds else None
        series.setdefault(group, {})[record.epoch] = value
    epochs = sorted({epoch for points in series.values() for epoch in points})
    if len(epochs) < 2:
        return []
    epochs = thinned(epochs)
    groups = sorted(series, key=lambda g: (g is None, g or 0))
    metric = safe_label(result.metric.name or "") if use_val else ""
    y_label = metric or ("val_score" if use_val else "loss")
    title = "Validation score per epoch" if use_val else "Training loss per epoch"
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{title}"',
        f'    x-axis "epoch" [{", ".join(str(e) for e in epochs)}]',
        f'    y-axis "{y_label}"',
    ]
    lines.extend(f"    line [{', '.join(plain_number(v) for v in _aligned(series[g], epochs))}]" for g in groups)
    lines.append("```")
    notes = []
    if len(groups) > 1:
        notes.append("Lines, in order: " + ", ".join("run" if g is None else f"fold {g}" for g in groups) + ".")
    if any(max(series[g]) < epochs[-1] for g in groups):
        notes.append("A fold that stopped earlier keeps its last value to the right.")
    return [*lines, "", " ".join(notes)] if notes else lines


def _aligned(points: dict[int, float], epochs: list[int]) -> list[float]:
    """One value per epoch: mermaid maps every category to a value, so gaps and the tail repeat the last one."""
    known = sorted(points)
    values: list[float] = []
    current = points[known[0]]
    for epoch in epochs:
        at = bisect.bisect_right(known, epoch)
        if at:
            current = points[known[at - 1]]
        values.append(current)
    return values


def thinned(points: list[T]) -> list[T]:
    """At most :data:`MAX_POINTS` points of a chart, evenly spaced, always keeping the last (an epoch curve's end, a
    search's best so far)."""
    if len(points) <= MAX_POINTS:
        return points
    step = math.ceil(len(points) / (MAX_POINTS - 1))
    kept = points[::step]
    return kept if kept[-1] == points[-1] else [*kept, points[-1]]


def plain_number(value: float) -> str:
    """A plain decimal (mermaid reads no exponent)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def safe_label(text: str) -> str:
    return _UNSAFE_TITLE.sub("", text).strip()[:60]


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
