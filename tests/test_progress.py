from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from mle_ci import progress
from mle_ci.errors import EventError
from mle_ci.eventlog import EventLogReader
from mle_ci.events import EpochEvent, FoldEvent, MessageEvent, NodeEvent, event_from_json


def test_outside_the_harness_calls_only_print(capsys: pytest.CaptureFixture[str]) -> None:
    """Without MLE_CI_EVENTS nothing is written, nothing raises, and the human line still prints."""
    assert not progress.active()
    progress.fold(1, 0.5, total=5)
    assert progress.remaining() == math.inf
    assert not progress.should_stop()
    assert "[progress] fold 1/5 complete: score=0.5" in capsys.readouterr().out


def test_inside_the_harness_events_are_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each call appends one event to MLE_CI_EVENTS."""
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv("MLE_CI_EVENTS", str(path))
    progress.epoch(2, 10, fold=1, loss=0.5, val_score=0.7, seconds=1.5, acc=0.9)
    progress.fold(1, 0.71, total=5, metric="auc")
    progress.message("odd level", level="fatal")
    epoch, fold, message = list(EventLogReader(path).read_new())
    assert isinstance(epoch, EpochEvent) and epoch.metrics == {"acc": 0.9} and epoch.fold == 1
    assert isinstance(fold, FoldEvent) and fold.metric == "auc"
    assert isinstance(message, MessageEvent) and message.level == "info"


def test_deadline_drives_remaining_and_should_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """remaining() counts down to MLE_CI_DEADLINE and should_stop honours the margin."""
    monkeypatch.setenv("MLE_CI_DEADLINE", str(time.time() + 100))
    assert 95 < progress.remaining() <= 100
    assert not progress.should_stop(margin=10)
    assert progress.should_stop(margin=200)
    monkeypatch.setenv("MLE_CI_DEADLINE", "garbage")
    assert progress.remaining() == math.inf


def test_an_unwritable_events_file_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Training goes on when the events file cannot be written; one warning on stderr."""
    monkeypatch.setenv("MLE_CI_EVENTS", str(tmp_path / "missing" / "events.jsonl"))
    monkeypatch.setattr(progress, "_warned", False)
    progress.message("a")
    progress.message("b")
    assert capsys.readouterr().err.count("cannot write events") == 1


def test_a_command_run_for_a_search_node_tags_its_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv("MLE_CI_EVENTS", str(path))
    monkeypatch.setenv("MLE_CI_NODE", "3")
    progress.fold(1, 0.7, total=2)
    monkeypatch.setenv("MLE_CI_NODE", "not a number")
    progress.fold(2, 0.8, total=2)
    first, second = (event_from_json(line) for line in path.read_text().splitlines())
    assert (first.node, second.node) == (3, None)


def test_a_node_event_round_trips_and_refuses_an_unknown_kind() -> None:
    event = NodeEvent(ts=1.0, id=2, kind="improve", status="succeeded", parent=1, score=0.9, valid=True, handed_in=True)
    assert event_from_json(event.to_json()) == event
    with pytest.raises(EventError, match="'kind' must be one of draft, debug, improve"):
        event_from_json('{"type": "node", "ts": 1, "id": 2, "kind": "guess", "status": "running"}')
