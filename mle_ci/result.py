"""The typed record of one run, as written to ``result.json`` (versioned) and read back by ``mle-ci report``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mle_ci.competitions.model import GradeReport, ValidationReport
from mle_ci.contract import ExitCode
from mle_ci.errors import ResultError
from mle_ci.hardware.model import (
    Diagnosis,
    GpuUsage,
    HardwareProfile,
    TrainingPlan,
    diagnosis_from_dict,
    plan_from_dict,
    profile_from_dict,
    usage_from_dict,
)
from mle_ci.resultjson import finite_or_null, read_number, read_optional
from mle_ci.resultparts import (
    AgentUsage,
    BaselineComparison,
    BaselineScore,
    CrashSite,
    EpochRecord,
    FoldResult,
    FoldStatus,
    Gate,
    Metric,
    RunStatus,
    SearchNode,
)

RESULT_SCHEMA_VERSION = 1


def baseline_from_dict(data: Any, *, source: str) -> BaselineScore:
    """The baseline score in a result.json's data; :class:`ResultError` when it is not a result with a score."""
    result = RunResult.from_dict(data)
    if result.score is None:
        raise ResultError("it records no score to compare with")
    return BaselineScore(result.score, result.metric, source, result.competition)


def _node_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"best_node must be a node id, not {str(value)[:40]!r}")
    return value


@dataclass(frozen=True)
class RunResult:
    """Everything known about one run; renderers turn it into summary, JUnit, annotations and outputs."""

    status: RunStatus
    command: tuple[str, ...] = ()
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float = 0.0
    timeout_s: float | None = None
    stall_timeout_s: float | None = None
    deadline: float | None = None
    child_pid: int | None = None
    child_exit_code: int | None = None
    child_signal: str | None = None
    competition: str | None = None
    metric: Metric = field(default_factory=Metric)
    graded_metric: Metric | None = None
    folds: tuple[FoldResult, ...] = ()
    total_folds: int | None = None
    epochs: tuple[EpochRecord, ...] = ()
    reported_score: float | None = None
    last_score: float | None = None
    min_score: float | None = None
    baseline: BaselineComparison | None = None
    seed: int | None = None
    submission: str | None = None
    checkpoints: int = 0
    gates: tuple[Gate, ...] = ()
    crash: CrashSite | None = None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    log_tail: tuple[str, ...] = ()
    events: int = 0
    invalid_events: int = 0
    output_dir: str | None = None
    hardware: HardwareProfile | None = None
    diagnosis: Diagnosis | None = None
    plan: TrainingPlan | None = None
    gpu_usage: tuple[GpuUsage, ...] = ()
    gpu_errors: tuple[str, ...] = ()
    agent: str | None = None
    validation: ValidationReport | None = None
    grade: GradeReport | None = None
    agent_usage: AgentUsage | None = None
    submission_producer: str | None = None
    nodes: tuple[SearchNode, ...] = ()
    """The nodes of the agent's search, by id; empty for a run that reported none."""
    best_node: int | None = None
    """The id of the node handed in: its submission is the run's, its folds are the run's folds."""
    schema_version: int = RESULT_SCHEMA_VERSION

    @property
    def gpu_idle(self) -> bool:
        """Whether any GPU sat idle while the command ran."""
        return any(usage.idle for usage in self.gpu_usage)

    @property
    def exit_code(self) -> ExitCode:
        return self.status.exit_code

    @property
    def fold_scores(self) -> tuple[float, ...]:
        return tuple(f.score for f in self.folds if f.status is FoldStatus.COMPLETED and f.score is not None)

    @property
    def cv_mean(self) -> float | None:
        scores = self.fold_scores
        if not scores:
            return None
        try:
            return math.fsum(scores) / len(scores)
        except OverflowError:  # finite scores whose sum is not (1e308 twice): no mean to show
            return math.inf

    @property
    def cv_std(self) -> float | None:
        """Population standard deviation of the fold scores (as ``numpy.std``)."""
        scores = self.fold_scores
        mean = self.cv_mean
        if mean is None:
            return None
        try:
            return math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / len(scores))
        except OverflowError:  # a score near the float limit (1e200): its square is not a float
            return math.inf

    @property
    def score(self) -> float | None:
        """The run's headline score: the one the child reported for the whole run, else the CV mean."""
        return self.reported_score if self.reported_score is not None else self.cv_mean

    @property
    def passed(self) -> bool:
        return self.status is RunStatus.SUCCESS

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "status": self.status.value,
            "exit_code": int(self.exit_code),
            "command": list(self.command),
            "competition": self.competition,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": self.duration_s,
            "timeout_s": self.timeout_s,
            "stall_timeout_s": self.stall_timeout_s,
            "deadline": self.deadline,
            "child": {"pid": self.child_pid, "exit_code": self.child_exit_code, "signal": self.child_signal},
            "metric": {"name": self.metric.name, "higher_is_better": self.metric.higher_is_better},
            "graded_metric": None
            if self.graded_metric is None
            else {"name": self.graded_metric.name, "higher_is_better": self.graded_metric.higher_is_better},
            "score": finite_or_null(self.score),
            "cv_mean": finite_or_null(self.cv_mean),
            "cv_std": finite_or_null(self.cv_std),
            "reported_score": finite_or_null(self.reported_score),
            "last_score": finite_or_null(self.last_score),
            "min_score": self.min_score,
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "seed": self.seed,
            "total_folds": self.total_folds,
            "folds": [
                {
                    "index": f.index,
                    "status": f.status.value,
                    "score": finite_or_null(f.score),
                    "best_epoch": f.best_epoch,
                    "epochs": f.epochs,
                    "seconds": f.seconds,
                    "early_stopped": f.early_stopped,
                    **({} if f.model is None else {"model": f.model}),
                }
                for f in self.folds
            ],
            "epochs": [
                {
                    "epoch": e.epoch,
                    "fold": e.fold,
                    "total_epochs": e.total_epochs,
                    "loss": finite_or_null(e.loss),
                    "val_score": finite_or_null(e.val_score),
                    "seconds": e.seconds,
                    "ts": e.ts,
                }
                for e in self.epochs
            ],
            "submission": self.submission,
            "checkpoints": self.checkpoints,
            "gates": [{"name": g.name, "passed": g.passed, "message": g.message} for g in self.gates],
            "crash": None
            if self.crash is None
            else {
                "file": self.crash.file,
                "line": self.crash.line,
                "function": self.crash.function,
                "exception": self.crash.exception,
            },
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "log_tail": list(self.log_tail),
            "events": self.events,
            "invalid_events": self.invalid_events,
            "output_dir": self.output_dir,
            "hardware": None if self.hardware is None else self.hardware.to_dict(),
            "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(),
            "plan": None if self.plan is None else self.plan.to_dict(),
            "gpu_usage": [usage.to_dict() for usage in self.gpu_usage],
            "gpu_idle": self.gpu_idle,
            "gpu_errors": list(self.gpu_errors),
            "agent": self.agent,
            "submission_check": None if self.validation is None else self.validation.to_dict(),
            "grade": None if self.grade is None else self.grade.to_dict(),
            "agent_usage": None if self.agent_usage is None else self.agent_usage.to_dict(),
            "submission_producer": self.submission_producer,
            # only a run with a search has these: every other run's record stays as it was
            **({"nodes": [node.to_dict() for node in self.nodes]} if self.nodes else {}),
            **({"best_node": self.best_node} if self.nodes or self.best_node is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Any) -> RunResult:
        """Read back :meth:`to_dict`'s form; raise :class:`ResultError` for anything else."""
        if not isinstance(data, dict):
            raise ResultError("result.json does not hold an object")
        version = data.get("schema_version")
        if version != RESULT_SCHEMA_VERSION:
            raise ResultError(f"result.json has schema version {version!r}; this mle-ci reads version 1")
        try:
            child = data.get("child") or {}
            metric = data.get("metric") or {}
            crash = data.get("crash")
            return cls(
                status=RunStatus(data["status"]),
                command=tuple(str(c) for c in data.get("command", ())),
                competition=data.get("competition"),
                started_at=read_number(data.get("started_at")),
                finished_at=read_number(data.get("finished_at")),
                duration_s=float(data.get("duration_s", 0.0)),
                timeout_s=read_number(data.get("timeout_s")),
                stall_timeout_s=read_number(data.get("stall_timeout_s")),
                deadline=read_number(data.get("deadline")),
                child_pid=child.get("pid"),
                child_exit_code=child.get("exit_code"),
                child_signal=child.get("signal"),
                metric=Metric(metric.get("name"), bool(metric.get("higher_is_better", True))),
                graded_metric=read_optional(
                    data.get("graded_metric"), lambda m: Metric(m.get("name"), bool(m.get("higher_is_better", True)))
                ),
                reported_score=read_number(data.get("reported_score")),
                last_score=read_number(data.get("last_score")),
                min_score=read_number(data.get("min_score")),
                baseline=read_optional(data.get("baseline"), BaselineComparison.from_dict),
                seed=data.get("seed") if isinstance(data.get("seed"), int) else None,
                total_folds=data.get("total_folds"),
                folds=tuple(
                    FoldResult(
                        index=int(f["index"]),
                        status=FoldStatus(f["status"]),
                        score=read_number(f.get("score")),
                        best_epoch=f.get("best_epoch"),
                        epochs=int(f.get("epochs", 0)),
                        seconds=read_number(f.get("seconds")),
                        early_stopped=bool(f.get("early_stopped", False)),
                        model=f["model"] if isinstance(f.get("model"), str) else None,
                    )
                    for f in data.get("folds", ())
                ),
                epochs=tuple(
                    EpochRecord(
                        epoch=int(e["epoch"]),
                        fold=e.get("fold"),
                        total_epochs=e.get("total_epochs"),
                        loss=read_number(e.get("loss")),
                        val_score=read_number(e.get("val_score")),
                        seconds=read_number(e.get("seconds")),
                        ts=e.get("ts"),
                    )
                    for e in data.get("epochs", ())
                ),
                submission=data.get("submission"),
                checkpoints=int(data.get("checkpoints", 0)),
                gates=tuple(Gate(str(g["name"]), bool(g["passed"]), str(g["message"])) for g in data.get("gates", ())),
                crash=None
                if crash is None
                else CrashSite(
                    file=str(crash["file"]),
                    line=int(crash["line"]),
                    function=crash.get("function"),
                    exception=crash.get("exception"),
                ),
                errors=tuple(str(e) for e in data.get("errors", ())),
                warnings=tuple(str(w) for w in data.get("warnings", ())),
                log_tail=tuple(str(line) for line in data.get("log_tail", ())),
                events=int(data.get("events", 0)),
                invalid_events=int(data.get("invalid_events", 0)),
                output_dir=data.get("output_dir"),
                hardware=read_optional(data.get("hardware"), profile_from_dict),
                diagnosis=read_optional(data.get("diagnosis"), diagnosis_from_dict),
                plan=read_optional(data.get("plan"), plan_from_dict),
                gpu_usage=tuple(usage_from_dict(u) for u in data.get("gpu_usage", ())),
                gpu_errors=tuple(str(e) for e in data.get("gpu_errors", ())),
                agent=data.get("agent"),
                validation=read_optional(data.get("submission_check"), ValidationReport.from_dict),
                grade=read_optional(data.get("grade"), GradeReport.from_dict),
                agent_usage=read_optional(data.get("agent_usage"), AgentUsage.from_dict),
                submission_producer=data.get("submission_producer"),
                nodes=tuple(SearchNode.from_dict(node) for node in data.get("nodes") or ()),
                best_node=read_optional(data.get("best_node"), _node_id),
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
            raise ResultError(f"result.json is not a valid mle-ci result: {exc!r}"[:500]) from None
