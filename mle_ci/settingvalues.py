"""How each setting's value is read from what a user wrote: one converter per kind of value, by key.

A converter takes the raw value and its :class:`Source` and returns the checked value or raises a
:class:`~mle_ci.errors.ConfigError` that names the source; a secret source never shows the value.
"""

from __future__ import annotations

import contextlib
import math
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from mle_ci.config_file import describe, suggest
from mle_ci.contract import MAX_FOLDS
from mle_ci.durations import parse_duration
from mle_ci.errors import ConfigError, DurationError
from mle_ci.usertext import competition_id_problem, name_problem, parse_json, path_problem, text_problem, word_problem

AGENTS = ("baseline", "claude")
DISPLAYS = ("auto", "plain", "live")
_DIRECTIONS: dict[str, bool | None] = {"max": True, "higher": True, "min": False, "lower": False, "auto": None}
_MAX_KEY = 4096
"""Bytes in an API key: real ones have about a hundred."""
PRICE_KINDS = ("input", "output", "cache_write", "cache_read")
"""The parts of a model's price, each in USD per million tokens."""
CACHE_RATES = {"cache_write": 1.25, "cache_read": 0.1}
"""Cache prices left out of a price table follow the input price by these factors."""


@dataclass(frozen=True)
class LinePattern:
    """A user's regular expression for output lines and the type of event its matches become."""

    regex: re.Pattern[str]
    event: str


@dataclass(frozen=True)
class ModelPrice:
    """What one model costs, in USD per million tokens of each kind."""

    model: str
    input: float
    output: float
    cache_write: float
    cache_read: float

    def to_dict(self) -> dict[str, float]:
        return {kind: getattr(self, kind) for kind in PRICE_KINDS}


@dataclass(frozen=True)
class Source:
    """Where a value came from (``label``) and whether it arrived as text rather than as typed YAML."""

    label: str
    text: bool
    secret: bool = False

    def error(self, detail: str) -> ConfigError:
        return ConfigError(f"{self.label}: {detail}")

    def show(self, value: object) -> str:
        if self.secret:
            return "(value hidden)"
        return describe(value)


Converter = Callable[[object, Source], Any]


def _duration(value: object, src: Source) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise src.error(f"expected a duration such as 90s, 30m or 1h30m, got {src.show(value)}")
    try:
        return parse_duration(value, key=src.label)
    except DurationError:
        if src.secret:
            raise src.error("not a valid duration") from None
        raise


def _limit(value: object, src: Source) -> float | None:
    """A duration where 0 means no limit at all."""
    return _duration(value, src) or None


def in_unit(unit: str, seconds: float, convert: Converter) -> Converter:
    """A duration whose plain number counts ``unit`` (``seconds`` each): an old input named after its unit."""

    def converted(value: object, src: Source) -> Any:
        text = value.strip() if isinstance(value, str) else ""
        try:
            number = float(text)
        except ValueError:
            try:
                return convert(value, src)
            except DurationError:
                raise src.error(
                    f"expected a duration such as 90s, 30m or 1h30m, or a plain number of {unit}, got {src.show(value)}"
                ) from None
        if not math.isfinite(number) or number < 0:
            return convert(value, src)  # the duration's own message, about the value as written
        return convert(number * seconds, src)

    return converted


def _interval(value: object, src: Source) -> float:
    """A duration that must be more than zero (a sampling interval, a window)."""
    seconds = _duration(value, src)
    if seconds <= 0:
        raise src.error(f"must be more than zero, got {src.show(value)}")
    return seconds


def _percent(value: object, src: Source) -> float:
    number = _number(value, src)
    if not 0 <= number <= 100:
        raise src.error(f"expected a percentage between 0 and 100, got {src.show(value)}")
    return number


def _flag(value: object, src: Source) -> bool:
    if isinstance(value, bool):
        return value
    if src.text and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise src.error(f"expected true or false, got {src.show(value)}")


def _fold_count(value: object, src: Source) -> int:
    number = _positive_int(value, src)
    if number > MAX_FOLDS:
        raise src.error(f"expected at most {MAX_FOLDS} folds, got {src.show(value)}")
    return number


def _positive_int(value: object, src: Source) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif src.text and isinstance(value, str) and re.fullmatch(r"\s*\+?\d+\s*", value):
        number = int(value)
    if number is None or number < 1:
        raise src.error(f"expected a positive integer, got {src.show(value)}")
    return number


def _number(value: object, src: Source) -> float:
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif src.text and isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value)
    if not math.isfinite(number):
        raise src.error(f"expected a number, got {src.show(value)}")
    return number


def _positive_number(value: object, src: Source) -> float:
    number = _number(value, src)
    if number <= 0:
        raise src.error(f"must be more than zero, got {src.show(value)}")
    return number


def convert_api_key(value: object, src: Source) -> str:
    """A credential: one word, shown nowhere (the source is always secret)."""
    src = replace(src, secret=True)
    if not isinstance(value, str) or not value.strip():
        raise src.error(f"expected an API key, got {src.show(value)}")
    if any(char.isspace() for char in value.strip()):
        raise src.error("an API key is one word without spaces or line breaks (value hidden)")
    if text_problem(value.strip(), max_bytes=_MAX_KEY) is not None:
        raise src.error("not a usable API key: a NUL byte, bytes that are not UTF-8, or far too long (value hidden)")
    return value.strip()


def _prices(value: object, src: Source) -> tuple[ModelPrice, ...]:
    """A price table ``{model: {input, output, cache_write?, cache_read?}}``: a YAML mapping, or JSON as text."""
    if src.text and isinstance(value, str):
        try:
            value = parse_json(value)
        except ValueError as exc:
            raise src.error(f"expected a JSON object of model prices, but it is not JSON: {exc}") from None
    if not isinstance(value, dict) or not value:
        raise src.error(
            "expected a mapping of model name to {input, output, cache_write, cache_read} "
            f"in USD per million tokens, got {src.show(value)}"
        )
    table = []
    for model, price in value.items():
        if not isinstance(model, str) or not model.strip():
            raise src.error(f"a model name must be a non-empty string, got {describe(model)}")
        where = f"{src.label}.{model}"
        if not isinstance(price, dict):
            raise ConfigError(f"{where}: expected a mapping of {', '.join(PRICE_KINDS)}, got {describe(price)}")
        for kind in price:
            if kind not in PRICE_KINDS:
                raise ConfigError(f"{where}: unknown price {kind!r}{suggest(str(kind), PRICE_KINDS)}")
        parts: dict[str, float] = {}
        for kind in PRICE_KINDS:
            part = price.get(kind)
            if part is None and kind in CACHE_RATES:
                # Anthropic's rule: a 5-minute cache write costs 1.25x the input price, a cache read 0.1x.
                parts[kind] = parts["input"] * CACHE_RATES[kind]
                continue
            if isinstance(part, bool) or not isinstance(part, int | float) or not math.isfinite(part) or part < 0:
                shown = "nothing" if part is None else describe(part)
                raise ConfigError(f"{where}.{kind}: expected USD per million tokens (a number >= 0), got {shown}")
            parts[kind] = float(part)
        table.append(ModelPrice(model.strip(), **parts))
    return tuple(sorted(table, key=lambda p: p.model))


def _usable(text: str, src: Source, problem: Callable[[str], str | None]) -> str:
    """``text`` when the user-text rule of its kind finds nothing wrong with it; otherwise the problem, named."""
    found = problem(text)
    if found is not None:
        raise src.error(f"{src.show(text)} {found}")
    return text


def _text(value: object, src: Source) -> str:
    if isinstance(value, str) and value.strip():
        return _usable(value.strip(), src, name_problem)
    raise src.error(f"expected a non-empty string, got {src.show(value)}")


def _competition(value: object, src: Source) -> str:
    return _usable(_text(value, src), src, competition_id_problem)


def _choice(*options: str) -> Converter:
    def convert(value: object, src: Source) -> str:
        word = value.strip().lower() if isinstance(value, str) else None
        if word in options:
            return word
        raise src.error(f"expected one of {', '.join(options)}, got {src.show(value)}")

    return convert


def _direction(value: object, src: Source) -> bool | None:
    word = value.strip().lower() if isinstance(value, str) else ""
    if word in _DIRECTIONS:
        return _DIRECTIONS[word]
    raise src.error(f"expected max, higher, min, lower or auto, got {src.show(value)}")


def convert_path(value: object, src: Source) -> Path:
    if isinstance(value, PurePath):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return Path(_usable(value.strip(), src, path_problem))
    raise src.error(f"expected a path, got {src.show(value)}")


def _command(value: object, src: Source) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            value = shlex.split(value)
        except ValueError as exc:
            raise src.error(f"cannot split {src.show(value)} into words: {exc}") from None
    if not isinstance(value, list | tuple):
        raise src.error(f"expected a command line (a string or a list of words), got {src.show(value)}")
    words: list[str] = []
    for index, word in enumerate(value):
        if isinstance(word, bool) or not isinstance(word, str | int | float):
            raise src.error(f"word {index} of the command must be a string, got {src.show(word)}")
        found = word_problem(str(word))
        if found is not None:
            raise src.error(f"word {index} of the command, {src.show(str(word))}, {found}")
        words.append(str(word))
    return tuple(words)


def _gpus(value: object, src: Source) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise src.error(f"expected all, none, a GPU count or a device list such as 0,1, got {src.show(value)}")


def _non_negative(value: object, src: Source) -> float:
    number = _number(value, src)
    if number < 0:
        raise src.error(f"expected a number >= 0, got {src.show(value)}")
    return number


CONVERTERS: dict[str, Converter] = {
    "command": _command,
    "agent": _choice(*AGENTS),
    "competition": _competition,
    "data_dir": convert_path,
    "leaderboard": convert_path,
    "cache_dir": convert_path,
    "output_dir": convert_path,
    "timeout": _limit,
    "grace": _duration,
    "heartbeat": _duration,
    "stall_timeout": _limit,
    "require_gpu": _flag,
    "gpus": _gpus,
    "fail_on_idle_gpu": _flag,
    "gpu_interval": _interval,
    "idle_warmup": _duration,
    "idle_window": _interval,
    "idle_threshold": _percent,
    "min_score": _number,
    "baseline_result": convert_path,
    "max_regression": _non_negative,
    "folds": _fold_count,
    "metric": _text,
    "direction": _direction,
    "model": _text,
    "display": _choice(*DISPLAYS),
    "anthropic_api_key": convert_api_key,
    "max_turns": _positive_int,
    "max_cost": _positive_number,
    "api_reserve": _duration,
    "prices": _prices,
    "fallback_min": _duration,
}
"""Settings that every layer can set, by key; ``direction`` sets the field ``higher_is_better``."""
