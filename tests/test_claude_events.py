"""The usage event and the submission's producer: the record the claude agent leaves for the harness."""

from __future__ import annotations

from pathlib import Path

import pytest

from mle_ci import progress
from mle_ci.errors import EventError
from mle_ci.eventlog import EventLogReader
from mle_ci.events import SubmissionEvent, UsageEvent, event_from_dict, event_from_json


def test_usage_event_round_trips_through_json() -> None:
    """Every usage field survives serialisation, zeros included."""
    event = UsageEvent(
        ts=1.0,
        model="claude-x",
        requests=3,
        input_tokens=100,
        output_tokens=20,
        cache_creation_input_tokens=0,
        cache_read_input_tokens=50,
        cost_usd=0.0125,
    )
    again = event_from_json(event.to_json())
    assert again == event
    assert event.to_dict()["cache_creation_input_tokens"] == 0


def test_submission_producer_is_optional_and_kept() -> None:
    """A submission event without a producer still reads; with one it keeps it."""
    bare = event_from_dict({"type": "submission", "ts": 1, "path": "s.csv"})
    assert isinstance(bare, SubmissionEvent) and bare.producer is None
    named = SubmissionEvent(ts=1.0, path="s.csv", rows=3, producer="claude")
    assert event_from_json(named.to_json()) == named


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"type": "usage", "ts": 1, "requests": 1, "input_tokens": 1, "output_tokens": 1}, "'model'"),
        ({"type": "usage", "ts": 1, "model": "m", "requests": -1, "input_tokens": 1, "output_tokens": 1}, "requests"),
        ({"type": "usage", "ts": 1, "model": "m", "requests": 1, "input_tokens": 1}, "output_tokens"),
        (
            {
                "type": "usage",
                "ts": 1,
                "model": "m",
                "requests": 1,
                "input_tokens": 1,
                "output_tokens": 1,
                "cost_usd": "x",
            },
            "cost_usd",
        ),
    ],
)
def test_invalid_usage_is_rejected_with_the_field(data: object, fragment: str) -> None:
    """A malformed usage event names the field at fault."""
    with pytest.raises(EventError, match=fragment):
        event_from_dict(data)


def test_progress_usage_and_producer_reach_the_events_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """progress.usage and progress.submission(producer=...) append their events."""
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv("MLE_CI_EVENTS", str(path))
    progress.usage("claude-x", requests=2, input_tokens=10, output_tokens=5, cache_read_input_tokens=7, cost_usd=0.5)
    progress.submission("sub.csv", rows=4, producer="baseline")
    usage, submission = list(EventLogReader(path).read_new())
    assert isinstance(usage, UsageEvent) and usage.cache_read_input_tokens == 7 and usage.cost_usd == 0.5
    assert isinstance(submission, SubmissionEvent) and submission.producer == "baseline"
