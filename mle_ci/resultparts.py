"""The parts a run's result is made of: how the run and its folds ended, the metric and its direction, epochs,
folds, gates, the crash site, the baseline comparison, the agent's usage and the nodes of its search."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mle_ci.contract import ExitCode, NodeKind, NodeStatus
from mle_ci.resultjson import finite_or_null, read_number, read_optional

LOWER_IS_BETTER_HINTS = ("loss", "rmse", "mse", "mae", "rmsle", "error", "logloss", "log_loss", "wer", "cer")


class RunStatus(StrEnum):
    """How a run ended (``running`` while it goes)."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    STALLED = "stalled"
    INTERRUPTED = "interrupted"
    GPU_UNAVAILABLE = "gpu-unavailable"

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]


_EXIT_CODES = {
    RunStatus.RUNNING: ExitCode.FAILED,
    RunStatus.SUCCESS: ExitCode.OK,
    RunStatus.FAILED: ExitCode.FAILED,
    RunStatus.CRASHED: ExitCode.FAILED,
    RunStatus.TIMEOUT: ExitCode.TIMEOUT,
    RunStatus.STALLED: ExitCode.FAILED,
    RunStatus.INTERRUPTED: ExitCode.INTERRUPTED,
    RunStatus.GPU_UNAVAILABLE: ExitCode.GPU_UNAVAILABLE,
}


class FoldStatus(StrEnum):
    """Where one cross-validation fold got to."""

    COMPLETED = "completed"
    RUNNING = "running"
    INCOMPLETE = "incomplete"
    NOT_REACHED = "not-reached"


@dataclass(frozen=True)
class Metric:
    """The score's name (when known) and its direction."""

    name: str | None = None
    higher_is_better: bool = True

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` is strictly better than ``b``."""
        return a > b if self.higher_is_better else a < b

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"


def guess_higher_is_better(metric_name: str | None) -> bool:
    """Direction from a metric's name: losses and errors go down, everything else up."""
    if not metric_name:
        return True
    name = metric_name.lower().replace("-", "_").replace(" ", "_")
    return not any(hint in name for hint in LOWER_IS_BETTER_HINTS)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch as reported by the child."""

    epoch: int
    fold: int | None = None
    total_epochs: int | None = None
    loss: float | None = None
    val_score: float | None = None
    seconds: float | None = None
    ts: float | None = None


@dataclass(frozen=True)
class FoldResult:
    """One cross-validation fold."""

    index: int
    status: FoldStatus
    score: float | None = None
    best_epoch: int | None = None
    epochs: int = 0
    seconds: float | None = None
    early_stopped: bool = False
    model: str | None = None
    """Which of the fold's models the score is of, when the command trained several per fold."""


@dataclass(frozen=True)
class CrashSite:
    """Where the child's last Python traceback ended inside the workspace."""

    file: str
    line: int
    function: str | None = None
    exception: str | None = None


@dataclass(frozen=True)
class BaselineScore:
    """The score a run is compared with: the one a result.json of the main branch recorded."""

    score: float
    metric: Metric
    source: str
    competition: str | None = None


@dataclass(frozen=True)
class BaselineComparison:
    """The run's score against the baseline's: ``delta`` is score minus baseline, ``regression`` how much worse."""

    baseline_score: float
    baseline_metric: str | None
    source: str
    max_regression: float
    delta: float | None
    regression: float | None
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_score": finite_or_null(self.baseline_score),
            "baseline_metric": self.baseline_metric,
            "source": self.source,
            "max_regression": self.max_regression,
            "delta": finite_or_null(self.delta),
            "regression": finite_or_null(self.regression),
            "passed": self.passed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaselineComparison:
        return cls(
            baseline_score=float(data["baseline_score"]),
            baseline_metric=data.get("baseline_metric"),
            source=str(data.get("source", "")),
            max_regression=float(data.get("max_regression", 0.0)),
            delta=data.get("delta"),
            regression=data.get("regression"),
            passed=bool(data["passed"]),
        )


@dataclass(frozen=True)
class Gate:
    """One pass/fail check applied to a finished run (``min-score``, later submission validity, GPU use)."""

    name: str
    passed: bool
    message: str


@dataclass(frozen=True)
class AgentUsage:
    """What the model-driven agent used: the last cumulative usage it reported."""

    model: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cost_usd": finite_or_null(self.cost_usd),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentUsage:
        return cls(
            model=str(data["model"]),
            requests=int(data.get("requests", 0)),
            input_tokens=int(data.get("input_tokens", 0)),
            output_tokens=int(data.get("output_tokens", 0)),
            cache_creation_input_tokens=int(data.get("cache_creation_input_tokens", 0)),
            cache_read_input_tokens=int(data.get("cache_read_input_tokens", 0)),
            cost_usd=float(data.get("cost_usd") or 0.0),
        )


@dataclass(frozen=True)
class SearchNode:
    """One solution node of an agent's search, as its latest node event left it, with the folds it reported.

    ``handed_in`` is true for one node at most: the one whose submission is the run's final one.
    """

    id: int
    kind: NodeKind
    status: NodeStatus
    parent: int | None = None
    plan: str | None = None
    command: str | None = None
    score: float | None = None
    valid: bool | None = None
    handed_in: bool = False
    started_at: float | None = None
    ended_at: float | None = None
    """When the node's last event said it ended (None while it runs)."""
    seconds: float | None = None
    cost_usd: float | None = None
    device: str | None = None
    error: str | None = None
    insight: str | None = None
    folds: int = 0
    """How many of its cross-validation folds completed."""
    fold_scores: tuple[float, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status is not NodeStatus.RUNNING

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "status": self.status.value,
            "parent": self.parent,
            "plan": self.plan,
            "command": self.command,
            "score": finite_or_null(self.score),
            "valid": self.valid,
            "handed_in": self.handed_in,
            "started_at": finite_or_null(self.started_at),
            "ended_at": finite_or_null(self.ended_at),
            "seconds": finite_or_null(self.seconds),
            "cost_usd": finite_or_null(self.cost_usd),
            "device": self.device,
            "error": self.error,
            "insight": self.insight,
            "folds": self.folds,
            "fold_scores": [score for score in self.fold_scores if math.isfinite(score)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchNode:
        """Read back :meth:`to_dict`'s form; ``KeyError``, ``TypeError`` or ``ValueError`` for anything else."""
        return cls(
            id=_whole(data["id"]),
            kind=NodeKind(data["kind"]),
            status=NodeStatus(data["status"]),
            parent=read_optional(data.get("parent"), _whole),
            plan=_optional_text(data.get("plan")),
            command=_optional_text(data.get("command")),
            score=read_number(data.get("score")),
            valid=_optional_flag(data.get("valid")),
            handed_in=data.get("handed_in") is True,
            started_at=read_number(data.get("started_at")),
            ended_at=read_number(data.get("ended_at")),
            seconds=read_number(data.get("seconds")),
            cost_usd=read_number(data.get("cost_usd")),
            device=_optional_text(data.get("device")),
            error=_optional_text(data.get("error")),
            insight=_optional_text(data.get("insight")),
            folds=_whole(data.get("folds", 0)),
            fold_scores=tuple(_score(score) for score in data.get("fold_scores", ())),
        )


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {str(value)[:40]!r}")
    return value


def _score(value: Any) -> float:
    number = read_number(value)
    if number is None:
        raise TypeError("a fold score is null")
    return number


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected text, got {str(value)[:40]!r}")
    return value


def _optional_flag(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {str(value)[:40]!r}")
    return value
