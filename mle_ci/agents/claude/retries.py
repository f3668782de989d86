"""When a failed Messages API request is sent again: one pure policy that knows the time left.

The SDK's own retries are off (``max_retries=0``): it would sleep as long as the server's ``retry-after`` asks,
whatever time the run has left. Here a wait is taken only when it ends before the reserve kept for the
submission, so a run never spends its last minutes asleep.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

FIRST_BACKOFF = 0.5
"""Seconds before the first retry when the server names no wait; doubled on each further one."""
MAX_BACKOFF = 8.0
OUTAGE_ROUNDS = 3
"""Rounds after the quick retries, each after the longer pause, while an API outage (429, 529, 5xx) lasts."""


class Failure(Protocol):
    """What the policy reads of a failed request (an :class:`~mle_ci.agents.claude.api.ApiFailure`)."""

    @property
    def fatal(self) -> bool: ...

    @property
    def status(self) -> int | None: ...

    @property
    def retry_after(self) -> float | None: ...

    @property
    def should_retry(self) -> bool | None: ...


@dataclass(frozen=True)
class Wait:
    """Send the request again after ``seconds``; ``reason`` says why so long."""

    seconds: float
    reason: str


@dataclass(frozen=True)
class GiveUp:
    """Do not send it again; ``reason`` says why."""

    reason: str


def retry_wait(
    failure: Failure, attempt: int, *, remaining: float, reserve: float, max_retries: int, pause: float
) -> Wait | GiveUp:
    """Whether the request that failed for the ``attempt``-th time (1 for the first failure) is sent again, and when.

    A fatal failure never is, nor one the server said not to retry (``x-should-retry: false``); one it said to
    retry (``true``) is taken as transient, as the SDK does. A transient one waits the server's ``retry-after``
    when it gave one, else a backoff doubling from 0.5 s (at most 8 s) for the first ``max_retries`` attempts,
    then ``pause`` for up to :data:`OUTAGE_ROUNDS` more while the API answers with an outage status; a network
    failure (no status) gets the quick retries only, as the runner's network is not the API's load. No wait is
    taken that would end at or inside the ``reserve`` of the ``remaining`` seconds.
    """
    if failure.should_retry is False:
        return GiveUp("the API said not to retry it")
    if failure.fatal and failure.should_retry is not True:
        return GiveUp("it can never succeed as sent")
    rounds = max_retries + (OUTAGE_ROUNDS if failure.status is not None else 0)
    if attempt > rounds:
        return GiveUp(f"{attempt} attempts failed, the most tried is {rounds + 1}")
    if failure.retry_after is not None:
        seconds, why = max(0.0, failure.retry_after), f"the API asks to wait {_secs(failure.retry_after)}"
    elif attempt <= max_retries:
        seconds = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempt - 1))
        why = f"backoff {_secs(seconds)} (retry {attempt} of {max_retries})"
    else:
        seconds, why = pause, f"an API outage: pause {_secs(pause)} (round {attempt - max_retries} of {OUTAGE_ROUNDS})"
    if math.isfinite(remaining) and remaining - seconds <= reserve:
        left = max(0.0, remaining - reserve)
        return GiveUp(f"{why}; {_secs(left)} are left before the reserve")
    return Wait(seconds, why)


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks to wait: ``retry-after-ms``, else ``retry-after`` in seconds or as an HTTP date.

    Read as the SDK reads them; None when absent or unreadable (then the backoff applies).
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        value = _number(millis)
        if value is not None:
            return value / 1000
    given = lowered.get("retry-after")
    if given is None:
        return None
    value = _number(given)
    if value is not None:
        return value
    parsed = email.utils.parsedate_tz(given)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - now)


def should_retry(headers: Mapping[str, str]) -> bool | None:
    """The server's ``x-should-retry`` (``true``/``false``), which overrides what its status would say; else None."""
    value = {key.lower(): v for key, v in headers.items()}.get("x-should-retry", "").strip().lower()
    return {"true": True, "false": False}.get(value)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _secs(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 or seconds == int(seconds) else f"{seconds:.2g} s"
