from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mle_ci.durations import format_duration, parse_duration
from mle_ci.errors import DurationError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("45", 45),
        ("0.5", 0.5),
        ("250ms", 0.25),
        (" 2m 5s ", 125),
        ("1d", 86400),
        (12, 12),
        (0, 0),
    ],
)
def test_durations_read_the_documented_forms(text: str | int, seconds: float) -> None:
    """Units s/m/h (and ms, d) combine; plain numbers are seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["-5m", "-1", "5 minutes", "m", "", "1h-2m", "nan", "inf", "1e400"])
def test_bad_durations_name_the_key(text: str) -> None:
    """Negative, unitless garbage and non-finite values are errors that name the setting."""
    with pytest.raises(DurationError, match=r"^timeout: "):
        parse_duration(text, key="timeout")


def test_booleans_are_not_durations() -> None:
    """YAML's true is not one second."""
    with pytest.raises(DurationError):
        parse_duration(True)


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_seconds_round_trip(seconds: float) -> None:
    """Any non-negative number of seconds written plainly reads back the same."""
    assert parse_duration(repr(seconds)) == seconds


@given(st.text(max_size=20))
def test_garbage_never_raises_anything_but_duration_error(text: str) -> None:
    """Whatever the string, the answer is a number or a DurationError."""
    with contextlib.suppress(DurationError):
        assert parse_duration(text) >= 0


@pytest.mark.parametrize(("seconds", "text"), [(3.25, "3.2s"), (45, "45s"), (125, "2m05s"), (3720, "1h02m")])
def test_format_duration_is_short(seconds: float, text: str) -> None:
    """Durations print compactly for heartbeats and summaries."""
    assert format_duration(seconds) == text
