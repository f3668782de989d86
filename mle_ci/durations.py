"""Durations as people write them: ``90s``, ``30m``, ``1h30m``, ``1.5h`` or plain seconds."""

from __future__ import annotations

import math
import re

from mle_ci.errors import DurationError

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|d|h|m|s))+")


def parse_duration(value: str | float | int, *, key: str = "duration") -> float:
    """Seconds in ``value``; raise :class:`DurationError` naming ``key`` when it is not a duration >= 0."""
    if isinstance(value, bool):
        raise DurationError(f"{key}: expected a duration such as 90s, 30m or 1h30m, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            if not _WHOLE.fullmatch(text):
                raise DurationError(
                    f"{key}: {value!r} is not a duration; write e.g. 90s, 30m, 1h30m or plain seconds"
                ) from None
            seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text))
    if not math.isfinite(seconds):
        raise DurationError(f"{key}: {value!r} is not a finite duration")
    if seconds < 0:
        raise DurationError(f"{key}: a duration cannot be negative ({value!r})")
    return seconds


def format_duration(seconds: float) -> str:
    """Short human form: ``45s``, ``2m05s``, ``1h02m``; sub-second values keep one decimal."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
