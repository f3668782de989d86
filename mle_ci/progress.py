"""Report training progress to the mle-ci harness; every call is safe (and still prints) outside it.

Inside ``mle-ci run`` each call appends one event to the file named by ``MLE_CI_EVENTS`` and prints a human
line. ``remaining()`` and ``should_stop()`` read the deadline from ``MLE_CI_DEADLINE``::

    from mle_ci import progress
    for epoch in range(1, 11):
        ...
        progress.epoch(epoch, 10, loss=loss, val_score=auc, fold=fold)
        if progress.should_stop(margin=30):
            break
    progress.fold(fold, score=best_auc, total=5, metric="auc")
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import time

from mle_ci import contract
from mle_ci.eventlog import append_event
from mle_ci.events import (
    PROGRESS_LINE_PREFIX,
    CheckpointEvent,
    EarlyStopEvent,
    EpochEvent,
    Event,
    FoldEvent,
    FoldStartEvent,
    MessageEvent,
    MetricEvent,
    SubmissionEvent,
    UsageEvent,
)

__all__ = [
    "PREFIX",
    "active",
    "checkpoint",
    "deadline",
    "early_stop",
    "epoch",
    "fold",
    "fold_start",
    "message",
    "metric",
    "remaining",
    "should_stop",
    "submission",
    "usage",
]

PREFIX = PROGRESS_LINE_PREFIX

_warned = False


def active() -> bool:
    """Whether this process runs under the harness (an events file was given)."""
    return bool(os.environ.get(contract.EVENTS))


def deadline() -> float | None:
    """Unix time at which the harness sends SIGTERM, or None without a time budget."""
    raw = os.environ.get(contract.DEADLINE, "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def remaining() -> float:
    """Seconds left before SIGTERM (never negative); infinity without a time budget."""
    end = deadline()
    return math.inf if end is None else max(0.0, end - time.time())


def should_stop(margin: float = 0.0) -> bool:
    """True when no more than ``margin`` seconds are left: finish up and write the results now."""
    return remaining() <= margin


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _node() -> int | None:
    """The search node this process runs for (``MLE_CI_NODE``), which tags its events; None outside a search."""
    raw = os.environ.get(contract.NODE, "")
    return int(raw) if raw.isdigit() else None


def _emit(event: Event, line: str) -> None:
    global _warned  # noqa: PLW0603 - one warning per process is the point
    path = os.environ.get(contract.EVENTS)
    node = _node()
    if node is not None and event.node is None:
        event = dataclasses.replace(event, node=node)
    if path:
        try:
            append_event(path, event)
        except OSError as exc:
            if not _warned:
                _warned = True
                print(f"mle-ci progress: cannot write events to {path}: {exc}", file=sys.stderr, flush=True)
    # A closed stdout must not break training: the events file is what matters.
    with contextlib.suppress(OSError, ValueError):
        print(PREFIX + line, flush=True)


def epoch(
    epoch: int,
    total: int | None = None,
    *,
    loss: float | None = None,
    val_score: float | None = None,
    seconds: float | None = None,
    fold: int | None = None,
    **metrics: float,
) -> None:
    """One epoch ended; ``val_score`` is what early stopping and the curves follow."""
    event = EpochEvent(
        ts=time.time(),
        epoch=int(epoch),
        total_epochs=total,
        fold=fold,
        loss=_num(loss),
        val_score=_num(val_score),
        seconds=_num(seconds),
        metrics={k: float(v) for k, v in metrics.items()},
    )
    where = f"fold {fold} " if fold is not None else ""
    of = f"/{total}" if total else ""
    took = f" ({seconds:.1f}s)" if seconds is not None else ""
    _emit(event, f"{where}epoch {epoch}{of}: loss={_fmt(loss)} val_score={_fmt(val_score)}{took}")


def fold_start(fold: int, total: int | None = None) -> None:
    """A cross-validation fold begins."""
    of = f"/{total}" if total else ""
    _emit(FoldStartEvent(ts=time.time(), fold=int(fold), total_folds=total), f"fold {fold}{of} started")


def fold(
    fold: int,
    score: float,
    *,
    total: int | None = None,
    best_epoch: int | None = None,
    seconds: float | None = None,
    metric: str | None = None,
    higher_is_better: bool | None = None,
    model: str | None = None,
) -> None:
    """A fold finished with its validation score (``model``: which of the fold's models, when it trains several).

    Reporting a fold again replaces its score: the harness keeps a fold's last report.
    """
    event = FoldEvent(
        ts=time.time(),
        fold=int(fold),
        score=float(score),
        total_folds=total,
        best_epoch=best_epoch,
        seconds=_num(seconds),
        metric=metric,
        higher_is_better=higher_is_better,
        model=model,
    )
    of = f"/{total}" if total else ""
    name = metric or "score"
    _emit(event, f"fold {fold}{of} complete: {name}={_fmt(float(score))}")


def metric(name: str, value: float | None = None, *, higher_is_better: bool | None = None) -> None:
    """Name the metric (and its direction); with a value, it becomes the run's reported score."""
    event = MetricEvent(ts=time.time(), name=name, value=_num(value), higher_is_better=higher_is_better)
    direction = (
        "" if higher_is_better is None else (" (higher is better)" if higher_is_better else " (lower is better)")
    )
    _emit(event, f"metric {name}={_fmt(_num(value))}{direction}")


def checkpoint(
    path: str | os.PathLike[str],
    *,
    fold: int | None = None,
    epoch: int | None = None,
    score: float | None = None,
) -> None:
    """A checkpoint was saved at ``path``."""
    event = CheckpointEvent(ts=time.time(), path=os.fspath(path), fold=fold, epoch=epoch, score=_num(score))
    _emit(event, f"checkpoint {os.fspath(path)} score={_fmt(_num(score))}")


def early_stop(best_score: float | None = None, *, fold: int | None = None, epoch: int | None = None) -> None:
    """Training stopped early."""
    event = EarlyStopEvent(ts=time.time(), best_score=_num(best_score), fold=fold, epoch=epoch)
    _emit(event, f"early stopping: best score={_fmt(_num(best_score))}")


def submission(
    path: str | os.PathLike[str],
    *,
    rows: int | None = None,
    folds: int | None = None,
    producer: str | None = None,
) -> None:
    """A submission file was written (atomically, please) at ``path``; ``producer`` names the agent that wrote it."""
    event = SubmissionEvent(ts=time.time(), path=os.fspath(path), rows=rows, folds=folds, producer=producer)
    by = f" (by {producer})" if producer else ""
    _emit(event, f"submission written: {os.fspath(path)}{by}")


def usage(
    model: str,
    *,
    requests: int,
    input_tokens: int,
    output_tokens: int,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
    cost_usd: float = 0.0,
) -> None:
    """The model usage of this run so far (cumulative totals, not a delta)."""
    event = UsageEvent(
        ts=time.time(),
        model=model,
        requests=int(requests),
        input_tokens=int(input_tokens),
        output_tokens=int(output_tokens),
        cache_creation_input_tokens=int(cache_creation_input_tokens),
        cache_read_input_tokens=int(cache_read_input_tokens),
        cost_usd=float(cost_usd),
    )
    tokens = input_tokens + cache_creation_input_tokens + cache_read_input_tokens
    _emit(event, f"usage {model}: {requests} requests, {tokens} in / {output_tokens} out tokens, ${cost_usd:.4f}")


def message(text: str, level: str = "info") -> None:
    """Free text for the record; ``level`` is info, warning or error."""
    if level not in ("info", "warning", "error"):
        level = "info"
    _emit(MessageEvent(ts=time.time(), text=str(text), level=level), f"{level}: {text}")
