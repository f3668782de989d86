"""Progress events: one frozen record per type, serialised as one JSON object a line.

Every event carries the schema version ``v``, a Unix timestamp ``ts``, its ``type`` and the ``source`` that
produced it (``api`` for :mod:`mle_ci.progress`, ``line`` for a parsed output line, ``harness``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, TypeAlias

from mle_ci.contract import EventType, NodeKind, NodeStatus
from mle_ci.errors import EventError

SCHEMA_VERSION = 1
PROGRESS_LINE_PREFIX = "[progress] "
"""Start of the human lines mle_ci.progress prints; the line parser skips them (their event is in the file)."""
NODE_LINE_PREFIX = "[node-"
"""Start of the output lines an agent relays from the commands of its search nodes (``[node-3 job-1 train] ...``):
the line parser skips them, because the agent parses them itself and reports their events tagged with the node."""
MAX_TEXT = 4000
"""Longest message kept in an event, so that one event stays one small atomic write."""


def _real(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventError(f"{key!r} must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise EventError(f"{key!r} must be finite")
    return number


def _number(value: Any, key: str) -> float | None:
    return None if value is None else _real(value, key)


def _natural(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EventError(f"{key!r} must be a non-negative integer")
    return value


def _count(value: Any, key: str) -> int | None:
    return None if value is None else _natural(value, key)


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise EventError(f"{key!r} must be a string")
    return value[:MAX_TEXT]


def _text(value: Any, key: str) -> str | None:
    return None if value is None else _string(value, key)


def _flag(value: Any, key: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise EventError(f"{key!r} must be true or false")


def _metrics(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EventError("'metrics' must be an object of numbers")
    return {str(name): _real(number, f"metrics.{name}") for name, number in value.items()}


@dataclass(frozen=True, kw_only=True)
class BaseEvent:
    """Fields every event has."""

    type: ClassVar[str] = ""
    ts: float
    source: str = "api"
    node: int | None = None
    """The agent's search node the event belongs to (the node id of the process that reported it)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, without empty optional fields."""
        out: dict[str, Any] = {"v": SCHEMA_VERSION, "type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == {}:
                continue
            out[f.name] = value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False, ensure_ascii=False)


@dataclass(frozen=True, kw_only=True)
class EpochEvent(BaseEvent):
    """One training epoch ended."""

    type: ClassVar[str] = EventType.EPOCH
    epoch: int
    total_epochs: int | None = None
    fold: int | None = None
    loss: float | None = None
    val_score: float | None = None
    seconds: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FoldStartEvent(BaseEvent):
    """A cross-validation fold began."""

    type: ClassVar[str] = EventType.FOLD_START
    fold: int
    total_folds: int | None = None


@dataclass(frozen=True, kw_only=True)
class FoldEvent(BaseEvent):
    """A cross-validation fold finished with its validation score."""

    type: ClassVar[str] = EventType.FOLD
    fold: int
    score: float
    total_folds: int | None = None
    best_epoch: int | None = None
    seconds: float | None = None
    metric: str | None = None
    higher_is_better: bool | None = None
    model: str | None = None
    """Which of the fold's models the score is of, when a fold trains several (the baseline: ``mlp``, ``linear``)."""


@dataclass(frozen=True, kw_only=True)
class MetricEvent(BaseEvent):
    """Names the competition metric and its direction, optionally with a value (e.g. the CV score)."""

    type: ClassVar[str] = EventType.METRIC
    name: str
    value: float | None = None
    higher_is_better: bool | None = None


@dataclass(frozen=True, kw_only=True)
class CheckpointEvent(BaseEvent):
    """A model checkpoint was saved."""

    type: ClassVar[str] = EventType.CHECKPOINT
    path: str
    fold: int | None = None
    epoch: int | None = None
    score: float | None = None


@dataclass(frozen=True, kw_only=True)
class EarlyStopEvent(BaseEvent):
    """Training stopped early; ``best_score`` is the best validation score seen."""

    type: ClassVar[str] = EventType.EARLY_STOP
    best_score: float | None = None
    fold: int | None = None
    epoch: int | None = None


@dataclass(frozen=True, kw_only=True)
class SubmissionEvent(BaseEvent):
    """A submission file was written."""

    type: ClassVar[str] = EventType.SUBMISSION
    path: str
    rows: int | None = None
    folds: int | None = None
    producer: str | None = None
    """Which agent wrote it (``claude`` or ``baseline``), when a built-in agent did."""


@dataclass(frozen=True, kw_only=True)
class UsageEvent(BaseEvent):
    """The model's usage so far in this run (cumulative totals), emitted after every model response."""

    type: ClassVar[str] = EventType.USAGE
    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, kw_only=True)
class MessageEvent(BaseEvent):
    """Free text worth keeping in the record; ``level`` is info, warning or error."""

    type: ClassVar[str] = EventType.MESSAGE
    text: str
    level: str = "info"


@dataclass(frozen=True, kw_only=True)
class NodeEvent(BaseEvent):
    """One solution node of an agent's search, as it starts (``running``) and as it ends; the latest per ``id`` holds.

    ``handed_in`` marks the node whose submission is the run's final one: at most one at a time, the latest so marked.
    """

    type: ClassVar[str] = EventType.NODE
    id: int
    kind: str
    status: str
    parent: int | None = None
    plan: str | None = None
    command: str | None = None
    score: float | None = None
    valid: bool | None = None
    handed_in: bool = False
    started_at: float | None = None
    seconds: float | None = None
    cost_usd: float | None = None
    device: str | None = None
    error: str | None = None
    insight: str | None = None


Event: TypeAlias = (
    EpochEvent
    | FoldStartEvent
    | FoldEvent
    | MetricEvent
    | CheckpointEvent
    | EarlyStopEvent
    | SubmissionEvent
    | UsageEvent
    | MessageEvent
    | NodeEvent
)

LEVELS = ("info", "warning", "error")
NODE_KINDS = tuple(NodeKind)
NODE_STATUSES = tuple(NodeStatus)


def event_from_dict(data: Any) -> Event:
    """Validate one decoded JSON object and build its event; raise :class:`EventError` when it is not one."""
    if not isinstance(data, dict):
        raise EventError("an event must be a JSON object")
    version = data.get("v", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise EventError(f"unsupported event schema version {version!r}")
    ts = _real(data.get("ts"), "ts")
    source = _string(data.get("source", "api"), "source")
    kind = data.get("type")
    event = _typed(kind, data, ts, source)
    node = _count(data.get("node"), "node")
    return event if node is None else replace(event, node=node)


def _node(data: dict[str, Any], ts: float, source: str) -> NodeEvent:
    kind, status = _string(data.get("kind"), "kind"), _string(data.get("status"), "status")
    if kind not in NODE_KINDS:
        raise EventError(f"'kind' must be one of {', '.join(NODE_KINDS)}")
    if status not in NODE_STATUSES:
        raise EventError(f"'status' must be one of {', '.join(NODE_STATUSES)}")
    handed_in = _flag(data.get("handed_in"), "handed_in")
    return NodeEvent(
        ts=ts,
        source=source,
        id=_natural(data.get("id"), "id"),
        kind=kind,
        status=status,
        parent=_count(data.get("parent"), "parent"),
        plan=_text(data.get("plan"), "plan"),
        command=_text(data.get("command"), "command"),
        score=_number(data.get("score"), "score"),
        valid=_flag(data.get("valid"), "valid"),
        handed_in=bool(handed_in),
        started_at=_number(data.get("started_at"), "started_at"),
        seconds=_number(data.get("seconds"), "seconds"),
        cost_usd=_number(data.get("cost_usd"), "cost_usd"),
        device=_text(data.get("device"), "device"),
        error=_text(data.get("error"), "error"),
        insight=_text(data.get("insight"), "insight"),
    )


def _typed(kind: Any, data: dict[str, Any], ts: float, source: str) -> Event:
    fold = _count(data.get("fold"), "fold")
    if kind == EventType.EPOCH:
        return EpochEvent(
            ts=ts,
            source=source,
            epoch=_natural(data.get("epoch"), "epoch"),
            total_epochs=_count(data.get("total_epochs"), "total_epochs"),
            fold=fold,
            loss=_number(data.get("loss"), "loss"),
            val_score=_number(data.get("val_score"), "val_score"),
            seconds=_number(data.get("seconds"), "seconds"),
            metrics=_metrics(data.get("metrics")),
        )
    if kind == EventType.FOLD_START:
        return FoldStartEvent(
            ts=ts,
            source=source,
            fold=_natural(data.get("fold"), "fold"),
            total_folds=_count(data.get("total_folds"), "total_folds"),
        )
    if kind == EventType.FOLD:
        return FoldEvent(
            ts=ts,
            source=source,
            fold=_natural(data.get("fold"), "fold"),
            score=_real(data.get("score"), "score"),
            total_folds=_count(data.get("total_folds"), "total_folds"),
            best_epoch=_count(data.get("best_epoch"), "best_epoch"),
            seconds=_number(data.get("seconds"), "seconds"),
            metric=_text(data.get("metric"), "metric"),
            higher_is_better=_flag(data.get("higher_is_better"), "higher_is_better"),
            model=_text(data.get("model"), "model"),
        )
    if kind == EventType.METRIC:
        return MetricEvent(
            ts=ts,
            source=source,
            name=_string(data.get("name"), "name"),
            value=_number(data.get("value"), "value"),
            higher_is_better=_flag(data.get("higher_is_better"), "higher_is_better"),
        )
    if kind == EventType.CHECKPOINT:
        return CheckpointEvent(
            ts=ts,
            source=source,
            path=_string(data.get("path"), "path"),
            fold=fold,
            epoch=_count(data.get("epoch"), "epoch"),
            score=_number(data.get("score"), "score"),
        )
    if kind == EventType.EARLY_STOP:
        return EarlyStopEvent(
            ts=ts,
            source=source,
            best_score=_number(data.get("best_score"), "best_score"),
            fold=fold,
            epoch=_count(data.get("epoch"), "epoch"),
        )
    if kind == EventType.SUBMISSION:
        return SubmissionEvent(
            ts=ts,
            source=source,
            path=_string(data.get("path"), "path"),
            rows=_count(data.get("rows"), "rows"),
            folds=_count(data.get("folds"), "folds"),
            producer=_text(data.get("producer"), "producer"),
        )
    if kind == EventType.USAGE:
        return UsageEvent(
            ts=ts,
            source=source,
            model=_string(data.get("model"), "model"),
            requests=_natural(data.get("requests"), "requests"),
            input_tokens=_natural(data.get("input_tokens"), "input_tokens"),
            output_tokens=_natural(data.get("output_tokens"), "output_tokens"),
            cache_creation_input_tokens=_natural(
                data.get("cache_creation_input_tokens", 0), "cache_creation_input_tokens"
            ),
            cache_read_input_tokens=_natural(data.get("cache_read_input_tokens", 0), "cache_read_input_tokens"),
            cost_usd=_real(data.get("cost_usd", 0.0), "cost_usd"),
        )
    if kind == EventType.MESSAGE:
        level = _string(data.get("level", "info"), "level")
        if level not in LEVELS:
            raise EventError(f"'level' must be one of {', '.join(LEVELS)}")
        return MessageEvent(ts=ts, source=source, text=_string(data.get("text"), "text"), level=level)
    if kind == EventType.NODE:
        return _node(data, ts, source)
    raise EventError(f"unknown event type {kind!r}")


def event_from_json(line: str | bytes) -> Event:
    """Parse one JSON Lines record; raise :class:`EventError` for anything that is not a valid event."""
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"not JSON: {exc}") from None
    return event_from_dict(data)
