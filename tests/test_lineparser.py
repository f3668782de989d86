from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mle_ci.events import EarlyStopEvent, EpochEvent, FoldEvent, FoldStartEvent, MetricEvent
from mle_ci.lineparser import parse_line


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    event: str


def test_design_epoch_line() -> None:
    """The documented epoch line gives epoch, total, loss, validation score and seconds."""
    event = parse_line("Epoch 1/10: Loss=2.145, Val_Score=0.523 (12s)", 0.0)
    assert event == EpochEvent(
        ts=0.0, source="line", epoch=1, total_epochs=10, loss=2.145, val_score=0.523, seconds=12.0
    )


def test_design_fold_line() -> None:
    """The documented fold line gives fold, total and score."""
    assert parse_line("Fold 1/5 complete: Score=0.687", 0.0) == FoldEvent(
        ts=0.0, source="line", fold=1, score=0.687, total_folds=5
    )


def test_design_early_stopping_line() -> None:
    """The documented early-stopping line gives the best score."""
    assert parse_line("Early stopping! Best score: 0.687", 0.0) == EarlyStopEvent(
        ts=0.0, source="line", best_score=0.687
    )


@pytest.mark.parametrize(
    ("line", "fold", "score"),
    [
        ("fold 3: AUC = 0.91", 3, 0.91),
        ("Fold 2 score: 0.5", 2, 0.5),
        ("[12:00:01] Fold 4/5 complete: val_auc=0.8", 4, 0.8),
        ("2024-05-01 10:00:00,123 INFO: Fold 1/5 RMSE: 1.25", 1, 1.25),
    ],
)
def test_common_fold_lines(line: str, fold: int, score: float) -> None:
    """Fold lines in common logger formats give the right fold and score."""
    event = parse_line(line, 0.0)
    assert isinstance(event, FoldEvent)
    assert (event.fold, event.score) == (fold, score)


def test_epoch_inside_a_fold_line_is_an_epoch_of_that_fold() -> None:
    """`Fold 2 epoch 3 ... val_auc=` is epoch 3 of fold 2, never fold 2's final score."""
    event = parse_line("Fold 2 epoch 3/10: loss=0.4 val_auc=0.9", 0.0)
    assert isinstance(event, EpochEvent)
    assert (event.fold, event.epoch, event.val_score) == (2, 3, 0.9)


@pytest.mark.parametrize(
    "line",
    ["Fold 1/5 iteration 100 score=0.3", "Fold 1/5 step 20: auc=0.2", "Fold 1/5 batch 3 acc=0.1", "hello fold 1 auc=1"],
)
def test_mid_fold_lines_assign_no_fold_score(line: str) -> None:
    """Iteration, step and batch lines, or a fold mentioned mid-sentence, never become a fold's score."""
    assert not isinstance(parse_line(line, 0.0), FoldEvent)


def test_fold_start_lines() -> None:
    """`Starting fold 2/5` begins fold 2."""
    assert parse_line("Starting fold 2/5", 0.0) == FoldStartEvent(ts=0.0, source="line", fold=2, total_folds=5)


def test_keras_style_epoch_line() -> None:
    """Keras-style `- loss: - val_acc:` pairs are read too."""
    event = parse_line("Epoch 3/20 - loss: 0.31 - val_acc: 0.88", 0.0)
    assert isinstance(event, EpochEvent)
    assert (event.loss, event.val_score) == (0.31, 0.88)


def test_progress_api_lines_are_not_parsed_twice() -> None:
    """Lines printed by mle_ci.progress are skipped: their event is already in the file."""
    assert parse_line("[progress] fold 1/5 complete: score=0.7", 0.0) is None


def test_user_patterns_come_first() -> None:
    """A config pattern with named groups wins over the built-in formats."""
    pattern = Pattern(re.compile(r"^CV\[(?P<fold>\d+)\] => (?P<score>[\d.]+)"), "fold")
    event = parse_line("CV[4] => 0.93", 0.0, [pattern])
    assert isinstance(event, FoldEvent) and (event.fold, event.score) == (4, 0.93)
    metric = Pattern(re.compile(r"final (?P<name>\w+)=(?P<value>[\d.]+)"), "metric")
    assert parse_line("final auc=0.9", 0.0, [metric]) == MetricEvent(ts=0.0, source="line", name="auc", value=0.9)


def test_very_long_lines_are_skipped() -> None:
    """A megabyte line is not a progress line."""
    assert parse_line("Fold 1/5 complete: Score=0.5" + " " * 10_000, 0.0) is None


@given(st.text(max_size=300))
def test_parser_never_crashes(text: str) -> None:
    """Any text gives an event or None."""
    parse_line(text, 0.0)


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000), st.text(max_size=40))
def test_fold_score_goes_to_the_fold_named_first(fold: int, other: int, noise: str) -> None:
    """Whatever follows, a fold line's score belongs to the fold at the start of the line."""
    event = parse_line(f"Fold {fold} complete: Score=0.5 {noise} fold {other}", 0.0)
    if isinstance(event, FoldEvent):
        assert event.fold == fold


def test_a_line_an_agent_relays_from_its_search_node_is_left_to_the_agent() -> None:
    """The agent reports a node's progress itself, tagged with the node: the relayed line must not count twice."""
    assert parse_line("[node-3 job-1 train] Fold 1/5 complete: Score=0.687", 0.0) is None
    assert parse_line("[job-1 train] Fold 1/5 complete: Score=0.687", 0.0) is not None
