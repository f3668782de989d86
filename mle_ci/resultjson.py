"""How ``result.json`` holds numbers and nested records: what JSON cannot hold is written as null, and only real
numbers are read back."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def read_number(value: Any) -> float | None:
    """A number field read back: None, or a real number as a float; text, booleans and numbers too large for a
    float are refused (``TypeError``), not carried into a report that would fail to render them."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {str(value)[:40]!r}")
    return float(value)  # OverflowError for an int beyond a float


def read_optional(data: Any, read: Callable[[dict[str, Any]], T]) -> T | None:
    """A nested record read back with ``read``; null stays None."""
    return None if data is None else read(data)


def finite_or_null(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values are written as null."""
    if value is None or not math.isfinite(value):
        return None
    return value
