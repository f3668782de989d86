"""Folds, epochs and scores accumulated from events, in memory; a snapshot is a :class:`RunResult`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice

from mle_ci.contract import MAX_FOLDS
from mle_ci.events import (
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
from mle_ci.metrics import same_metric
from mle_ci.result import RunResult
from mle_ci.resultparts import AgentUsage, EpochRecord, FoldResult, FoldStatus, Metric, guess_higher_is_better

MAX_MESSAGES = 50
MAX_UNREACHED_FOLDS = 1000
"""Not-reached folds listed at most: a child may claim any total (``Fold 1/100000000``), the result stays small."""
"""Warnings and errors kept from the child's message events; the rest are counted, not stored."""


@dataclass
class _Fold:
    index: int
    started_at: float | None = None
    finished_at: float | None = None
    score: float | None = None
    best_epoch: int | None = None
    seconds: float | None = None
    early_stopped: bool = False
    epochs: int = 0
    model: str | None = None


class RunTracker:
    """Applies events in arrival order; knows the current fold and epoch for the heartbeat."""

    def __init__(
        self,
        *,
        started_at: float,
        total_folds: int | None = None,
        metric_name: str | None = None,
        higher_is_better: bool | None = None,
    ) -> None:
        self.started_at = started_at
        self.total_folds = total_folds
        self._folds_configured = total_folds is not None
        self._metric_name = metric_name
        self._metric_fixed = metric_name is not None
        self._direction_fixed = higher_is_better is not None
        self._higher_is_better = higher_is_better
        self._agent_metric: str | None = None
        self._agent_higher: bool | None = None
        self._folds: dict[int, _Fold] = {}
        self._epochs: list[EpochRecord] = []
        self._current_fold: int | None = None
        self._last_completed: int | None = None
        self.current_epoch: int | None = None
        self.total_epochs: int | None = None
        self.last_score: float | None = None
        self.reported_score: float | None = None
        self.submission: str | None = None
        self.submission_producer: str | None = None
        self.usage: AgentUsage | None = None
        self.checkpoints = 0
        self.events = 0
        self.invalid_events = 0
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.last_event_at: float | None = None

    @property
    def current_fold(self) -> int | None:
        return self._current_fold

    @property
    def metric(self) -> Metric:
        """The metric of the scores the child reports: its own when it names another than the competition's."""
        if self._agent_metric is not None:
            higher = self._agent_higher
            return Metric(self._agent_metric, guess_higher_is_better(self._agent_metric) if higher is None else higher)
        return self._configured_metric()

    @property
    def graded_metric(self) -> Metric | None:
        """The competition's metric when the child reports scores in another one; ``None`` when they agree."""
        return self._configured_metric() if self._agent_metric is not None else None

    def _configured_metric(self) -> Metric:
        higher = self._higher_is_better
        if higher is None:
            higher = guess_higher_is_better(self._metric_name)
        return Metric(self._metric_name, higher)

    def _name_metric(self, name: str | None, higher_is_better: bool | None) -> None:
        if name and self._metric_name is None:
            self._metric_name = name
        elif name and self._metric_fixed and self._agent_metric is None and not same_metric(name, self._metric_name):
            # the child's scores are in its own metric: shown as its own, never relabelled as the competition's
            self._agent_metric = name
            self.warnings.append(
                f"the agent reports its scores as {name}, the competition is graded on {self._metric_name}: "
                "cross-validation scores are shown as the agent's, gates use the graded score"
            )
        if higher_is_better is None:
            return
        if self._agent_metric is not None:
            self._agent_higher = higher_is_better
        elif not self._direction_fixed:
            self._higher_is_better = higher_is_better

    def _fold(self, index: int) -> _Fold:
        fold = self._folds.get(index)
        if fold is None:
            fold = self._folds[index] = _Fold(index)
        return fold

    def _implied_fold(self) -> int:
        if self._current_fold is not None:
            return self._current_fold
        if self._last_completed is not None:
            return self._last_completed + 1
        return 1

    def _note_total(self, total: int | None) -> None:
        if total and not self._folds_configured:
            self.total_folds = max(total, self.total_folds or 0)

    def record_invalid(self, reason: str) -> None:
        """Count a line of the events file that was not a valid event."""
        self.invalid_events += 1
        if self.invalid_events <= 3:
            self.warnings.append(f"invalid progress event skipped: {reason}")

    def apply(self, event: Event) -> None:
        """Fold one event into the state; one naming a fold past ``MAX_FOLDS`` is skipped as invalid."""
        named: tuple[int | None, ...] = (getattr(event, "fold", None), getattr(event, "total_folds", None))
        beyond = [n for n in named if n is not None and n > MAX_FOLDS]
        if beyond:
            self.record_invalid(f"a fold number or count of {max(beyond)} is past the {MAX_FOLDS} a run can have")
            return
        self.events += 1
        self.last_event_at = event.ts
        if isinstance(event, EpochEvent):
            self._apply_epoch(event)
        elif isinstance(event, FoldStartEvent):
            self._note_total(event.total_folds)
            self._current_fold = event.fold
            self._fold(event.fold).started_at = event.ts
            self.current_epoch = None
        elif isinstance(event, FoldEvent):
            self._apply_fold(event)
        elif isinstance(event, MetricEvent):
            self._name_metric(event.name, event.higher_is_better)
            if event.value is not None:
                self.reported_score = event.value
                self.last_score = event.value
        elif isinstance(event, EarlyStopEvent):
            index = event.fold if event.fold is not None else self._implied_fold()
            if self._folds or self._folds_configured or event.fold is not None:
                self._fold(index).early_stopped = True
        elif isinstance(event, CheckpointEvent):
            self.checkpoints += 1
        elif isinstance(event, SubmissionEvent):
            self.submission = event.path
            self.submission_producer = event.producer
        elif isinstance(event, UsageEvent):
            # Totals are cumulative: the last report is the run's usage.
            self.usage = AgentUsage(
                model=event.model,
                requests=event.requests,
                input_tokens=event.input_tokens,
                output_tokens=event.output_tokens,
                cache_creation_input_tokens=event.cache_creation_input_tokens,
                cache_read_input_tokens=event.cache_read_input_tokens,
                cost_usd=event.cost_usd,
            )
        elif isinstance(event, MessageEvent):
            self._apply_message(event)

    def _apply_epoch(self, event: EpochEvent) -> None:
        index = event.fold if event.fold is not None else self._implied_fold()
        if event.fold is not None and event.fold != self._current_fold:
            self._current_fold = event.fold
        record = EpochRecord(
            epoch=event.epoch,
            fold=index,
            total_epochs=event.total_epochs,
            loss=event.loss,
            val_score=event.val_score,
            seconds=event.seconds,
            ts=event.ts,
        )
        self._epochs.append(record)
        fold = self._fold(index)
        fold.epochs += 1
        if fold.started_at is None:
            fold.started_at = event.ts - (event.seconds or 0.0)
        self.current_epoch = event.epoch
        self.total_epochs = event.total_epochs or self.total_epochs
        if event.val_score is not None:
            self.last_score = event.val_score

    def _apply_fold(self, event: FoldEvent) -> None:
        self._note_total(event.total_folds)
        self._name_metric(event.metric, event.higher_is_better)
        fold = self._fold(event.fold)
        fold.score = event.score
        fold.finished_at = event.ts
        fold.best_epoch = event.best_epoch if event.best_epoch is not None else fold.best_epoch
        fold.model = event.model if event.model is not None else fold.model
        fold.seconds = event.seconds
        self.last_score = event.score
        self._last_completed = event.fold
        self._current_fold = None
        self.current_epoch = None

    def _apply_message(self, event: MessageEvent) -> None:
        target = {"warning": self.warnings, "error": self.errors}.get(event.level)
        if target is not None and len(target) < MAX_MESSAGES:
            target.append(event.text)

    def _best_epoch(self, index: int) -> int | None:
        metric = self.metric
        best: EpochRecord | None = None
        for record in self._epochs:
            if record.fold != index or record.val_score is None:
                continue
            if best is None or best.val_score is None or metric.better(record.val_score, best.val_score):
                best = record
        return best.epoch if best else None

    def _fold_results(self, final: bool) -> tuple[FoldResult, ...]:
        has_folds = self._folds_configured or any(f.score is not None for f in self._folds.values())
        has_folds = has_folds or self.total_folds is not None
        if not has_folds:
            return ()
        indices = set(self._folds)
        if self.total_folds:
            first = 0 if 0 in indices else 1
            expected = range(first, first + self.total_folds)
            indices |= set(islice((i for i in expected if i not in indices), MAX_UNREACHED_FOLDS))
        results = []
        previous_end = self.started_at
        for index in sorted(indices):
            state = self._folds.get(index)
            if state is None:
                results.append(FoldResult(index=index, status=FoldStatus.NOT_REACHED))
                continue
            if state.score is not None:
                status = FoldStatus.COMPLETED
            else:
                status = FoldStatus.INCOMPLETE if final else FoldStatus.RUNNING
            seconds = state.seconds
            if seconds is None and state.finished_at is not None:
                seconds = max(0.0, state.finished_at - (state.started_at or previous_end))
            previous_end = state.finished_at or previous_end
            best_epoch = state.best_epoch if state.best_epoch is not None else self._best_epoch(index)
            results.append(
                FoldResult(
                    index=index,
                    status=status,
                    score=state.score,
                    best_epoch=best_epoch,
                    epochs=state.epochs,
                    seconds=seconds,
                    early_stopped=state.early_stopped,
                    model=state.model,
                )
            )
        return tuple(results)

    def snapshot(self, base: RunResult, *, final: bool) -> RunResult:
        """``base`` (status, timings, process facts) completed with what the events told; ``final`` once it ended."""
        folds = self._fold_results(final)
        epochs = tuple(self._epochs)
        if not folds:
            epochs = tuple(replace(e, fold=None) for e in epochs)
        return replace(
            base,
            metric=self.metric,
            graded_metric=self.graded_metric,
            folds=folds,
            total_folds=self.total_folds,
            epochs=epochs,
            reported_score=self.reported_score,
            last_score=self.last_score,
            submission=self.submission or base.submission,
            submission_producer=self.submission_producer if self.submission else base.submission_producer,
            agent_usage=self.usage or base.agent_usage,
            checkpoints=self.checkpoints,
            errors=base.errors + tuple(self.errors),
            warnings=base.warnings + tuple(self.warnings),
            events=self.events,
            invalid_events=self.invalid_events,
        )
