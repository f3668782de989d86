"""Folds, epochs and scores accumulated from events, in memory; a snapshot is a :class:`RunResult`.

An agent that searches tags each event with its node: the folds of each node go to that node's book
(:class:`~mle_ci.foldbook.FoldBook`), untagged events to the run's own, and the result shows the book of the node
handed in.
"""

from __future__ import annotations

from dataclasses import replace

from mle_ci.contract import MAX_FOLDS, NodeKind, NodeStatus
from mle_ci.events import (
    CheckpointEvent,
    EarlyStopEvent,
    EpochEvent,
    Event,
    FoldEvent,
    FoldStartEvent,
    MessageEvent,
    MetricEvent,
    NodeEvent,
    SubmissionEvent,
    UsageEvent,
)
from mle_ci.foldbook import MAX_UNREACHED_FOLDS, FoldBook
from mle_ci.metrics import same_metric
from mle_ci.result import RunResult
from mle_ci.resultparts import AgentUsage, Metric, SearchNode, guess_higher_is_better

__all__ = ["MAX_MESSAGES", "MAX_NODES", "MAX_UNREACHED_FOLDS", "RunTracker"]
"""``MAX_UNREACHED_FOLDS`` is the fold book's, named here too: the tracker's readers know the limit by it."""

MAX_MESSAGES = 50
"""Warnings and errors kept from the child's message events; the rest are counted, not stored."""
MAX_NODES = 1000
"""Search nodes (and their books) kept at most: events naming a node past them are skipped as invalid."""


class RunTracker:
    """Applies events in arrival order; knows the current fold and epoch for the heartbeat."""

    def __init__(
        self,
        *,
        started_at: float,
        total_folds: int | None = None,
        default_folds: int | None = None,
        metric_name: str | None = None,
        higher_is_better: bool | None = None,
    ) -> None:
        """``total_folds`` is the user's fold count, which every book holds to; ``default_folds`` the count an agent is
        asked for when the user gave none, which the run's own book expects but a search node's does not: a node's
        folds are what its own script reports."""
        self.started_at = started_at
        self._configured_folds = total_folds
        self._default_folds = default_folds
        self._metric_name = metric_name
        self._metric_fixed = metric_name is not None
        self._direction_fixed = higher_is_better is not None
        self._higher_is_better = higher_is_better
        self._agent_metric: str | None = None
        self._agent_higher: bool | None = None
        self._run_book = self._new_book(total_folds or default_folds)
        self._books: dict[int, FoldBook] = {}
        """Each node's book, in the order their folds were last touched (the most recent last)."""
        self._active = self._run_book
        self._nodes: dict[int, NodeEvent] = {}
        self._handed_in: int | None = None
        self._known_nodes: set[int] = set()
        self.current_epoch: int | None = None
        self.total_epochs: int | None = None
        self.last_score: float | None = None
        self.submission: str | None = None
        self.submission_producer: str | None = None
        self.usage: AgentUsage | None = None
        self.checkpoints = 0
        self.events = 0
        self.invalid_events = 0
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.last_event_at: float | None = None

    def _new_book(self, configured: int | None) -> FoldBook:
        return FoldBook(started_at=self.started_at, total_folds=configured, folds_configured=configured is not None)

    @property
    def current_fold(self) -> int | None:
        """The fold in progress of the book the latest fold or epoch event went to, whatever its node."""
        return self._active.current_fold

    @property
    def total_folds(self) -> int | None:
        """The fold count of the book the latest fold or epoch event went to (``--folds`` when set)."""
        return self._active.total_folds

    @property
    def reported_score(self) -> float | None:
        return self._result_book().reported_score

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

    def record_invalid(self, reason: str) -> None:
        """Count a line of the events file that was not a valid event."""
        self.invalid_events += 1
        if self.invalid_events <= 3:
            self.warnings.append(f"invalid progress event skipped: {reason}")

    def _book(self, node: int | None) -> FoldBook:
        """The book of ``node`` (the run's own for an untagged event), now the most recently touched one."""
        if node is None:
            return self._run_book
        book = self._books.pop(node, None) or self._new_book(self._configured_folds)
        self._books[node] = book
        return book

    def _beyond_limits(self, event: Event) -> str | None:
        """Why ``event`` is skipped: a fold past ``MAX_FOLDS``, or a node past the ``MAX_NODES`` kept (the nodes it
        names are known from here on)."""
        named: tuple[int | None, ...] = (getattr(event, "fold", None), getattr(event, "total_folds", None))
        beyond = [n for n in named if n is not None and n > MAX_FOLDS]
        if beyond:
            return f"a fold number or count of {max(beyond)} is past the {MAX_FOLDS} a run can have"
        ids = (event.node, event.id if isinstance(event, NodeEvent) else None)
        new = {n for n in ids if n is not None and n not in self._known_nodes}
        if len(self._known_nodes) + len(new) > MAX_NODES:
            return f"a search node past the {MAX_NODES} a run keeps"
        self._known_nodes |= new
        return None

    def apply(self, event: Event) -> None:
        """Fold one event into the state; one naming a fold past ``MAX_FOLDS`` is skipped as invalid."""
        reason = self._beyond_limits(event)
        if reason is not None:
            self.record_invalid(reason)
            return
        self.events += 1
        self.last_event_at = event.ts
        if isinstance(event, EpochEvent | FoldStartEvent | FoldEvent | EarlyStopEvent):
            self._apply_training(event)
        elif isinstance(event, MetricEvent):
            self._name_metric(event.name, event.higher_is_better)
            if event.value is not None:
                self._book(event.node).reported_score = event.value
                self.last_score = event.value
        elif isinstance(event, NodeEvent):
            self._apply_node(event)
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

    def _apply_training(self, event: EpochEvent | FoldStartEvent | FoldEvent | EarlyStopEvent) -> None:
        """A fold or epoch event, into its node's book; the heartbeat follows it whatever its node."""
        book = self._active = self._book(event.node)
        if isinstance(event, EpochEvent):
            book.add_epoch(event)
            self.current_epoch = event.epoch
            self.total_epochs = event.total_epochs or self.total_epochs
            if event.val_score is not None:
                self.last_score = event.val_score
        elif isinstance(event, FoldStartEvent):
            book.start_fold(event)
            self.current_epoch = None
        elif isinstance(event, FoldEvent):
            self._name_metric(event.metric, event.higher_is_better)
            book.end_fold(event)
            self.last_score = event.score
            self.current_epoch = None
        else:
            book.early_stop(event)

    def _apply_node(self, event: NodeEvent) -> None:
        """The latest event of a node holds; the latest one handed in names the run's node (withdrawn by its own
        later event that does not hand it in)."""
        self._nodes[event.id] = event
        if event.handed_in:
            self._handed_in = event.id
        elif self._handed_in == event.id:
            self._handed_in = None

    def _apply_message(self, event: MessageEvent) -> None:
        target = {"warning": self.warnings, "error": self.errors}.get(event.level)
        if target is not None and len(target) < MAX_MESSAGES:
            target.append(event.text)

    def _result_book(self) -> FoldBook:
        """The book the result shows: the node handed in; else the run's own when it holds anything; else the node
        whose folds were touched last."""
        if self._handed_in is not None:
            return self._books.get(self._handed_in) or self._new_book(self._configured_folds)
        if self._run_book.has_anything:
            return self._run_book
        with_folds = [book for book in self._books.values() if book.has_folds]
        return with_folds[-1] if with_folds else self._run_book

    def _search_nodes(self) -> tuple[SearchNode, ...]:
        nodes = []
        for node_id, event in sorted(self._nodes.items()):
            book = self._books.get(node_id)
            scores = book.fold_scores() if book is not None else ()
            status = NodeStatus(event.status)
            nodes.append(
                SearchNode(
                    id=node_id,
                    kind=NodeKind(event.kind),
                    status=status,
                    parent=event.parent,
                    plan=event.plan,
                    command=event.command,
                    score=event.score,
                    valid=event.valid,
                    handed_in=node_id == self._handed_in,
                    started_at=event.started_at,
                    ended_at=None if status is NodeStatus.RUNNING else event.ts,
                    seconds=event.seconds,
                    cost_usd=event.cost_usd,
                    device=event.device,
                    error=event.error,
                    insight=event.insight,
                    folds=len(scores),
                    fold_scores=scores,
                )
            )
        return tuple(nodes)

    def snapshot(self, base: RunResult, *, final: bool) -> RunResult:
        """``base`` (status, timings, process facts) completed with what the events told; ``final`` once it ended.

        Folds, epochs and the reported score are those of one book (:meth:`_result_book`).
        """
        book = self._result_book()
        folds = book.fold_results(self.metric, final=final)
        epochs = tuple(book.epochs)
        if not folds:
            epochs = tuple(replace(e, fold=None) for e in epochs)
        reported = book.reported_score
        handed_in = self._nodes.get(self._handed_in) if self._handed_in is not None else None
        if reported is None and handed_in is not None and not book.has_folds:
            reported = handed_in.score  # the node's own score when it reported no folds
        return replace(
            base,
            metric=self.metric,
            graded_metric=self.graded_metric,
            folds=folds,
            total_folds=book.total_folds,
            epochs=epochs,
            reported_score=reported,
            last_score=self.last_score,
            submission=self.submission or base.submission,
            submission_producer=self.submission_producer if self.submission else base.submission_producer,
            agent_usage=self.usage or base.agent_usage,
            checkpoints=self.checkpoints,
            errors=base.errors + tuple(self.errors),
            warnings=base.warnings + tuple(self.warnings),
            events=self.events,
            invalid_events=self.invalid_events,
            nodes=self._search_nodes(),
            best_node=self._handed_in,
        )
