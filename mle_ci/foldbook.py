"""One book of folds: the folds, epochs, early stops and reported score of one search node, or of the run itself.

The tracker keeps one book for the run's untagged events and one per node of an agent's search, so that the folds
of a node that was tried and dropped never mix with those of the node whose submission is handed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from mle_ci.events import EarlyStopEvent, EpochEvent, FoldEvent, FoldStartEvent
from mle_ci.resultparts import EpochRecord, FoldResult, FoldStatus, Metric

MAX_UNREACHED_FOLDS = 1000
"""Not-reached folds listed at most: a child may claim any total (``Fold 1/100000000``), the result stays small."""


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


class FoldBook:
    """Folds and epochs of one node (or of the run), applied in arrival order."""

    def __init__(self, *, started_at: float, total_folds: int | None, folds_configured: bool) -> None:
        self.started_at = started_at
        self.total_folds = total_folds
        self._folds_configured = folds_configured
        self._folds: dict[int, _Fold] = {}
        self.epochs: list[EpochRecord] = []
        self.current_fold: int | None = None
        self._last_completed: int | None = None
        self.reported_score: float | None = None

    @property
    def has_anything(self) -> bool:
        """Whether the book holds a fold, an epoch or a reported score."""
        return bool(self._folds or self.epochs) or self.reported_score is not None

    @property
    def has_folds(self) -> bool:
        """Whether a fold of this book completed with a score."""
        return any(fold.score is not None for fold in self._folds.values())

    def fold_scores(self) -> tuple[float, ...]:
        """The scores of the completed folds, in fold order."""
        return tuple(f.score for _, f in sorted(self._folds.items()) if f.score is not None)

    def _fold(self, index: int) -> _Fold:
        fold = self._folds.get(index)
        if fold is None:
            fold = self._folds[index] = _Fold(index)
        return fold

    def _implied_fold(self) -> int:
        """The fold an event that names none belongs to: the one in progress, else the next; never one past the
        known total (a line relayed a moment after its fold's event, as an agent relays its nodes', is the last
        fold's)."""
        if self.current_fold is not None:
            return self.current_fold
        if self._last_completed is not None:
            following = self._last_completed + 1
            return self._last_completed if self.total_folds and following > self.total_folds else following
        return 1

    def note_total(self, total: int | None) -> None:
        if total and not self._folds_configured:
            self.total_folds = max(total, self.total_folds or 0)

    def start_fold(self, event: FoldStartEvent) -> None:
        self.note_total(event.total_folds)
        self.current_fold = event.fold
        self._fold(event.fold).started_at = event.ts

    def add_epoch(self, event: EpochEvent) -> None:
        index = event.fold if event.fold is not None else self._implied_fold()
        if event.fold is not None:
            self.current_fold = event.fold
        self.epochs.append(
            EpochRecord(
                epoch=event.epoch,
                fold=index,
                total_epochs=event.total_epochs,
                loss=event.loss,
                val_score=event.val_score,
                seconds=event.seconds,
                ts=event.ts,
            )
        )
        fold = self._fold(index)
        fold.epochs += 1
        if fold.started_at is None:
            fold.started_at = event.ts - (event.seconds or 0.0)

    def end_fold(self, event: FoldEvent) -> None:
        self.note_total(event.total_folds)
        fold = self._fold(event.fold)
        fold.score = event.score
        fold.finished_at = event.ts
        fold.best_epoch = event.best_epoch if event.best_epoch is not None else fold.best_epoch
        fold.model = event.model if event.model is not None else fold.model
        fold.seconds = event.seconds
        self._last_completed = event.fold
        self.current_fold = None

    def early_stop(self, event: EarlyStopEvent) -> None:
        """Mark the fold it names (or the one in progress) early-stopped, when the book has folds at all."""
        index = event.fold if event.fold is not None else self._implied_fold()
        if self._folds or self._folds_configured or event.fold is not None:
            self._fold(index).early_stopped = True

    def _best_epoch(self, index: int, metric: Metric) -> int | None:
        best: EpochRecord | None = None
        for record in self.epochs:
            if record.fold != index or record.val_score is None:
                continue
            if best is None or best.val_score is None or metric.better(record.val_score, best.val_score):
                best = record
        return best.epoch if best else None

    def fold_results(self, metric: Metric, *, final: bool) -> tuple[FoldResult, ...]:
        """Every fold, reached or announced; one in progress is ``incomplete`` once the run ended (``final``)."""
        has_folds = self._folds_configured or self.has_folds or self.total_folds is not None
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
            best_epoch = state.best_epoch if state.best_epoch is not None else self._best_epoch(index, metric)
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
