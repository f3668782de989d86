from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from mle_ci import eventlog
from mle_ci.errors import EventError
from mle_ci.eventlog import BadLine, EventLogReader, append_event
from mle_ci.events import EpochEvent, FoldEvent, MessageEvent, event_from_dict, event_from_json


def test_events_round_trip_through_json() -> None:
    """An event written as JSON reads back equal, with schema version and type."""
    event = EpochEvent(ts=1.5, epoch=3, total_epochs=10, fold=2, loss=0.4, val_score=0.8, metrics={"acc": 0.9})
    data = json.loads(event.to_json())
    assert data["v"] == 1 and data["type"] == "epoch"
    assert event_from_json(event.to_json()) == event


def test_a_fold_event_names_its_model_only_when_given() -> None:
    event = FoldEvent(ts=2.0, fold=1, score=0.99, best_epoch=7, model="linear")
    assert json.loads(event.to_json())["model"] == "linear"
    assert event_from_json(event.to_json()) == event
    assert "model" not in json.loads(FoldEvent(ts=2.0, fold=1, score=0.99).to_json())


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"type": "fold", "ts": 1, "fold": 1}, "'score' must be a number"),
        ({"type": "fold", "ts": 1, "fold": -1, "score": 1}, "'fold' must be a non-negative integer"),
        ({"type": "epoch", "ts": 1, "epoch": True}, "'epoch'"),
        ({"type": "epoch", "ts": 1, "epoch": 1, "loss": "x"}, "'loss' must be a number"),
        ({"type": "nope", "ts": 1}, "unknown event type"),
        ({"type": "message", "ts": 1, "text": "x", "level": "fatal"}, "'level'"),
        ({"type": "message", "text": "x"}, "'ts'"),
        ({"v": 99, "type": "message", "ts": 1, "text": "x"}, "schema version"),
        ([1, 2], "JSON object"),
        ({"type": "fold", "ts": 1, "fold": 1, "score": 1, "model": 3}, "'model'"),
    ],
)
def test_invalid_events_are_rejected_with_the_field(data: object, fragment: str) -> None:
    """Malformed events raise EventError naming what is wrong."""
    with pytest.raises(EventError, match=fragment):
        event_from_dict(data)


def test_non_finite_numbers_are_rejected() -> None:
    """NaN and infinity cannot be scores."""
    with pytest.raises(EventError, match="finite"):
        event_from_json('{"type":"fold","ts":1,"fold":1,"score":NaN}')


def test_reader_returns_only_complete_lines(tmp_path: Path) -> None:
    """A half-written last line waits until its newline arrives; bad lines are reported, not fatal."""
    path = tmp_path / "events.jsonl"
    reader = EventLogReader(path)
    assert list(reader.read_new()) == []
    append_event(path, MessageEvent(ts=1, text="one"))
    with open(path, "ab") as handle:
        handle.write(b'not json\n{"type":"message","ts":2,')
    items = list(reader.read_new())
    assert isinstance(items[0], MessageEvent) and isinstance(items[1], BadLine)
    with open(path, "ab") as handle:
        handle.write(b'"text":"two"}\n')
    (item,) = list(reader.read_new())
    assert isinstance(item, MessageEvent) and item.text == "two"


def test_reader_skips_an_endless_line_without_holding_it(tmp_path: Path) -> None:
    """A line longer than the limit is dropped as a bad line and the next one still reads."""
    path = tmp_path / "events.jsonl"
    reader = EventLogReader(path)
    path.write_bytes(b"x" * 100_000)
    assert list(reader.read_new()) == []
    with open(path, "ab") as handle:
        handle.write(b"\n" + (FoldEvent(ts=1, fold=1, score=0.5).to_json() + "\n").encode())
    items = list(reader.read_new())
    assert isinstance(items[0], BadLine) and isinstance(items[1], FoldEvent)


def _writer(path: str, tag: int) -> None:
    for i in range(200):
        append_event(path, MessageEvent(ts=float(i), text=f"{tag}-{i}-" + "y" * 300))


def test_appends_from_several_processes_never_interleave(tmp_path: Path) -> None:
    """Four processes appending at once leave only whole, valid lines."""
    path = tmp_path / "events.jsonl"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(os.fspath(path), tag)) for tag in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    items = list(EventLogReader(path).read_new())
    assert len(items) == 800
    assert all(isinstance(item, MessageEvent) for item in items)


def test_a_sparse_terabyte_events_file_is_read_in_bounded_memory_and_no_further_than_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child can make events.jsonl a sparse terabyte: it is read a chunk at a time, up to the cap, then said."""
    monkeypatch.setattr(eventlog, "MAX_EVENTS_FILE", 64 * 1024 * 1024)
    path = tmp_path / "events.jsonl"
    with path.open("wb") as handle:
        handle.write(b'{"type": "message", "text": "first", "ts": 1}\n')
        handle.truncate(1024**4)
    items = list(eventlog.EventLogReader(path).read_new())
    assert items[0].type == "message"  # type: ignore[union-attr]
    assert isinstance(items[-1], eventlog.BadLine) and "not read further" in items[-1].reason
