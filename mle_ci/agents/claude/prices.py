"""Model prices in USD per million tokens, by model family, overridable per model; usage totals and their cost."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from mle_ci.errors import ConfigError


class PriceError(ConfigError):
    """The price table given cannot be read."""


@dataclass(frozen=True)
class Price:
    """USD per million tokens: plain input, output, cache writes (5-minute) and cache reads."""

    input: float
    output: float
    cache_write: float
    cache_read: float


def _family(input_usd: float, output_usd: float) -> Price:
    # Anthropic's rule: a 5-minute cache write costs 1.25x the input price, a cache read 0.1x.
    return Price(input=input_usd, output=output_usd, cache_write=input_usd * 1.25, cache_read=input_usd * 0.1)


FAMILY_PRICES: Mapping[str, Price] = {
    "opus": _family(5.0, 25.0),
    "sonnet": _family(3.0, 15.0),
    "haiku": _family(1.0, 5.0),
}
"""List prices of the current generation (claude-opus-4-5 and later, sonnet-4, haiku-4-5) per family."""

UNKNOWN = max(FAMILY_PRICES.values(), key=lambda price: price.output)
"""A model of no known family is priced as the dearest family, so that the spending cap still holds."""


def parse_prices(raw: str | None) -> dict[str, Price]:
    """``{"model": {"input": .., "output": .., "cache_write": .., "cache_read": ..}}``; cache prices follow input."""
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise PriceError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PriceError("expected an object of model names to prices")
    table: dict[str, Price] = {}
    for model, entry in data.items():
        if not isinstance(entry, dict):
            raise PriceError(f"{model}: expected an object with input and output prices")
        values: dict[str, float] = {}
        for key in ("input", "output", "cache_write", "cache_read"):
            value = entry.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise PriceError(f"{model}.{key}: must be a non-negative number")
            values[key] = float(value)
        if "input" not in values or "output" not in values:
            raise PriceError(f"{model}: input and output prices are required")
        base = _family(values["input"], values["output"])
        table[str(model)] = replace(base, **{k: v for k, v in values.items() if k.startswith("cache")})
    unknown = set().union(*(set(e) for e in data.values())) - {"input", "output", "cache_write", "cache_read"}
    if unknown:
        raise PriceError(f"unknown price field(s): {', '.join(sorted(unknown))}")
    return table


def price_for(model: str, overrides: Mapping[str, Price]) -> tuple[Price, str]:
    """The model's price and where it came from (``configured``, ``family <name>`` or ``unknown model``)."""
    if model in overrides:
        return overrides[model], "configured"
    for family, price in FAMILY_PRICES.items():
        if f"-{family}-" in f"-{model}-":
            return price, f"family {family}"
    return UNKNOWN, "unknown model, priced as the dearest family"


@dataclass(frozen=True)
class UsageTotals:
    """Cumulative token counts of the run's model requests."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def add(self, *, input_tokens: int, output_tokens: int, cache_creation: int, cache_read: int) -> UsageTotals:
        return UsageTotals(
            requests=self.requests + 1,
            input_tokens=self.input_tokens + input_tokens,
            output_tokens=self.output_tokens + output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens + cache_creation,
            cache_read_input_tokens=self.cache_read_input_tokens + cache_read,
        )

    def plus(self, other: UsageTotals) -> UsageTotals:
        """The totals of two sets of requests (the search's conversations together)."""
        return UsageTotals(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    def cost(self, price: Price) -> float:
        """USD for these tokens at ``price``."""
        return (
            self.input_tokens * price.input
            + self.output_tokens * price.output
            + self.cache_creation_input_tokens * price.cache_write
            + self.cache_read_input_tokens * price.cache_read
        ) / 1_000_000


class SpendByNode:
    """The usage of each of a search's conversations (one per node), summed under a lock: workers on several GPUs
    report at once, and every conversation's budget is the run's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage: dict[int, UsageTotals] = {}

    def record(self, node: int, usage: UsageTotals) -> UsageTotals:
        """The node's conversation's totals so far; the run's totals."""
        with self._lock:
            self._usage[node] = usage
        return self.total()

    def total(self, *, without: int | None = None) -> UsageTotals:
        """The run's totals (``without`` one node's: what the other conversations spent)."""
        total = UsageTotals()
        with self._lock:
            for node, usage in self._usage.items():
                if node != without:
                    total = total.plus(usage)
        return total
