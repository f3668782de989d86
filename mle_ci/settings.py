"""Every setting of a run, read once from defaults, ``mle-ci.yml``, the environment and the command line.

Precedence, lowest first: defaults < config file < ``MLE_CI_<KEY>`` < action input ``INPUT_<NAME>`` < CLI.
The Anthropic API key is the exception: never from the file, and lowest from ``ANTHROPIC_API_KEY``.
Every value is validated in every layer it appears in, so a mistake is reported even where a higher
layer would have overridden it. After :func:`load_settings` nothing reads the environment.
"""

from __future__ import annotations

import contextlib
import math
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any

from mle_ci.competitions.model import competition_id_problem
from mle_ci.config_file import (
    PATTERN_EVENTS,
    PATTERN_GROUPS,
    Entry,
    construct,
    describe,
    read_config,
    read_patterns,
    suggest,
)
from mle_ci.durations import parse_duration
from mle_ci.errors import ConfigError, DurationError, ResultError
from mle_ci.events import MAX_FOLDS
from mle_ci.redaction import is_secret_name
from mle_ci.result import baseline_from_dict
from mle_ci.resultparts import BaselineScore
from mle_ci.usertext import name_problem, parse_json, path_problem, read_json, text_problem, word_problem

__all__ = [
    "AGENTS",
    "CONFIG_NAMES",
    "DISPLAYS",
    "PATTERN_EVENTS",
    "PATTERN_GROUPS",
    "PRICE_KINDS",
    "LinePattern",
    "ModelPrice",
    "Settings",
    "load_settings",
]

AGENTS = ("baseline", "claude")
DISPLAYS = ("auto", "plain", "live")
CONFIG_NAMES = ("mle-ci.yml", "mle-ci.yaml")
_DIRECTIONS: dict[str, bool | None] = {"max": True, "higher": True, "min": False, "lower": False, "auto": None}
SECRET_KEYS = frozenset({"anthropic_api_key"})
"""Settings whose values are never shown in a message."""
KEY_SOURCES = "ANTHROPIC_API_KEY in the environment, or the action input anthropic-api-key"
"""Where an Anthropic API key may come from, as messages say it."""
_NOT_IN_FILE = {
    "anthropic_api_key": f"an API key must never be written in a config file (it is committed); set {KEY_SOURCES}",
    "api_key": f"an API key must never be written in a config file (it is committed); set {KEY_SOURCES}",
}
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


def _no_env() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The validated settings of one run; ``env`` is the child's environment, kept out of repr and eq."""

    command: tuple[str, ...] = ()
    agent: str | None = None
    competition: str | None = None
    data_dir: Path | None = None
    leaderboard: Path | None = None
    """A leaderboard.csv for the medal thresholds, instead of the one the registry finds."""
    cache_dir: Path = Path(".mle-ci-cache")
    output_dir: Path = Path("mle-ci-results")
    timeout: float | None = None
    grace: float = 15.0
    heartbeat: float = 30.0
    stall_timeout: float | None = None
    require_gpu: bool = False
    gpus: str | None = None
    fail_on_idle_gpu: bool = False
    gpu_interval: float = 5.0
    idle_warmup: float = 60.0
    idle_window: float = 120.0
    idle_threshold: float = 5.0
    min_score: float | None = None
    baseline_result: Path | None = None
    max_regression: float | None = None
    baseline: BaselineScore | None = field(default=None, compare=False)
    """The score in ``baseline_result``, read while the settings were loaded."""
    folds: int | None = None
    metric: str | None = None
    higher_is_better: bool | None = None
    model: str | None = None
    anthropic_api_key: str | None = field(default=None, repr=False, compare=False)
    max_turns: int | None = None
    max_cost: float | None = None
    api_reserve: float | None = None
    prices: tuple[ModelPrice, ...] = ()
    fallback_min: float | None = None
    patterns: tuple[LinePattern, ...] = ()
    display: str = "auto"
    workspace: Path = Path()
    cwd: Path = Path()
    github_actions: bool = False
    config_file: Path | None = None
    env: Mapping[str, str] = field(default_factory=_no_env, repr=False, compare=False)


@dataclass(frozen=True)
class _Source:
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


Converter = Callable[[object, _Source], Any]


def _duration(value: object, src: _Source) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise src.error(f"expected a duration such as 90s, 30m or 1h30m, got {src.show(value)}")
    try:
        return parse_duration(value, key=src.label)
    except DurationError:
        if src.secret:
            raise src.error("not a valid duration") from None
        raise


def _limit(value: object, src: _Source) -> float | None:
    """A duration where 0 means no limit at all."""
    return _duration(value, src) or None


def _plain(unit: str, scale: float, *, zero_is_off: bool) -> Converter:
    """An action input that is a plain number in ``unit`` (``scale`` seconds each)."""

    def convert(value: object, src: _Source) -> float | None:
        text = value.strip() if isinstance(value, str) else ""
        try:
            number = float(text)
        except ValueError:
            if _is_duration(text):
                raise src.error(
                    f"{src.show(value)} has a unit, but this input is a plain number of {unit}; write e.g. 30"
                ) from None
            raise src.error(f"expected a plain number of {unit}, got {src.show(value)}") from None
        if not math.isfinite(number) or number < 0:
            raise src.error(f"expected a number of {unit} >= 0, got {src.show(value)}")
        seconds = number * scale
        return None if zero_is_off and seconds == 0 else seconds

    return convert


def _interval(value: object, src: _Source) -> float:
    """A duration that must be more than zero (a sampling interval, a window)."""
    seconds = _duration(value, src)
    if seconds <= 0:
        raise src.error(f"must be more than zero, got {src.show(value)}")
    return seconds


def _percent(value: object, src: _Source) -> float:
    number = _number(value, src)
    if not 0 <= number <= 100:
        raise src.error(f"expected a percentage between 0 and 100, got {src.show(value)}")
    return number


def _is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except DurationError:
        return False
    return True


def _flag(value: object, src: _Source) -> bool:
    if isinstance(value, bool):
        return value
    if src.text and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise src.error(f"expected true or false, got {src.show(value)}")


def _fold_count(value: object, src: _Source) -> int:
    number = _positive_int(value, src)
    if number > MAX_FOLDS:
        raise src.error(f"expected at most {MAX_FOLDS} folds, got {src.show(value)}")
    return number


def _positive_int(value: object, src: _Source) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif src.text and isinstance(value, str) and re.fullmatch(r"\s*\+?\d+\s*", value):
        number = int(value)
    if number is None or number < 1:
        raise src.error(f"expected a positive integer, got {src.show(value)}")
    return number


def _number(value: object, src: _Source) -> float:
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif src.text and isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value)
    if not math.isfinite(number):
        raise src.error(f"expected a number, got {src.show(value)}")
    return number


def _positive_number(value: object, src: _Source) -> float:
    number = _number(value, src)
    if number <= 0:
        raise src.error(f"must be more than zero, got {src.show(value)}")
    return number


def _api_key(value: object, src: _Source) -> str:
    """A credential: one word, shown nowhere (the source is always secret)."""
    src = replace(src, secret=True)
    if not isinstance(value, str) or not value.strip():
        raise src.error(f"expected an API key, got {src.show(value)}")
    if any(char.isspace() for char in value.strip()):
        raise src.error("an API key is one word without spaces or line breaks (value hidden)")
    if text_problem(value.strip(), max_bytes=_MAX_KEY) is not None:
        raise src.error("not a usable API key: a NUL byte, bytes that are not UTF-8, or far too long (value hidden)")
    return value.strip()


def _prices(value: object, src: _Source) -> tuple[ModelPrice, ...]:
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


def _usable(text: str, src: _Source, problem: Callable[[str], str | None]) -> str:
    """``text`` when the user-text rule of its kind finds nothing wrong with it; otherwise the problem, named."""
    found = problem(text)
    if found is not None:
        raise src.error(f"{src.show(text)} {found}")
    return text


def _text(value: object, src: _Source) -> str:
    if isinstance(value, str) and value.strip():
        return _usable(value.strip(), src, name_problem)
    raise src.error(f"expected a non-empty string, got {src.show(value)}")


def _competition(value: object, src: _Source) -> str:
    return _usable(_text(value, src), src, competition_id_problem)


def _choice(*options: str) -> Converter:
    def convert(value: object, src: _Source) -> str:
        word = value.strip().lower() if isinstance(value, str) else None
        if word in options:
            return word
        raise src.error(f"expected one of {', '.join(options)}, got {src.show(value)}")

    return convert


def _direction(value: object, src: _Source) -> bool | None:
    word = value.strip().lower() if isinstance(value, str) else ""
    if word in _DIRECTIONS:
        return _DIRECTIONS[word]
    raise src.error(f"expected max, higher, min, lower or auto, got {src.show(value)}")


def _path(value: object, src: _Source) -> Path:
    if isinstance(value, PurePath):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return Path(_usable(value.strip(), src, path_problem))
    raise src.error(f"expected a path, got {src.show(value)}")


def _command(value: object, src: _Source) -> tuple[str, ...]:
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


def _gpus(value: object, src: _Source) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise src.error(f"expected all, none, a GPU count or a device list such as 0,1, got {src.show(value)}")


def _non_negative(value: object, src: _Source) -> float:
    number = _number(value, src)
    if number < 0:
        raise src.error(f"expected a number >= 0, got {src.show(value)}")
    return number


def _read_baseline(path: Path, given: Path) -> BaselineScore:
    """The score of the ``baseline-result`` file, read now: a bad file stops the run before anything starts."""
    try:
        data = read_json(path)
    except FileNotFoundError:
        raise ConfigError(f"baseline-result: {str(given)!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"baseline-result: cannot read {str(given)!r}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"baseline-result: {str(given)!r} is not valid JSON ({exc})") from None
    try:
        return baseline_from_dict(data, source=str(given))
    except ResultError as exc:
        raise ConfigError(f"baseline-result: {str(given)!r} is not a usable mle-ci result: {exc}") from None


_CONVERTERS: dict[str, Converter] = {
    "command": _command,
    "agent": _choice(*AGENTS),
    "competition": _competition,
    "data_dir": _path,
    "leaderboard": _path,
    "cache_dir": _path,
    "output_dir": _path,
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
    "baseline_result": _path,
    "max_regression": _non_negative,
    "folds": _fold_count,
    "metric": _text,
    "direction": _direction,
    "model": _text,
    "display": _choice(*DISPLAYS),
    "anthropic_api_key": _api_key,
    "max_turns": _positive_int,
    "max_cost": _positive_number,
    "api_reserve": _duration,
    "prices": _prices,
    "fallback_min": _duration,
}
"""Settings that every layer can set, by key; ``direction`` sets the field ``higher_is_better``."""

_CONFIG_KEYS = (frozenset(_CONVERTERS) - SECRET_KEYS) | {"patterns"}

# The action's inputs by their hyphenated names; the time inputs are plain numbers in their own units.
_INPUTS: dict[str, tuple[str, Converter]] = {
    name.replace("_", "-"): (name, _CONVERTERS[name])
    for name in _CONVERTERS
    if name not in ("timeout", "grace", "heartbeat", "stall_timeout")
} | {
    "timeout-minutes": ("timeout", _plain("minutes", 60.0, zero_is_off=True)),
    "grace-seconds": ("grace", _plain("seconds", 1.0, zero_is_off=False)),
    "heartbeat-seconds": ("heartbeat", _plain("seconds", 1.0, zero_is_off=False)),
    "stall-minutes": ("stall_timeout", _plain("minutes", 60.0, zero_is_off=True)),
}

ACTION_INPUTS: tuple[str, ...] = (*_INPUTS, "config")
"""Every action input the settings read (``INPUT_<NAME>``, hyphens kept), ``config`` included."""


def _default_cache(env: Mapping[str, str], cwd: Path) -> Path:
    """Where built demo competitions are kept: ``$XDG_CACHE_HOME/mle-ci``, ``~/.cache/mle-ci``, or beside the run."""
    if env.get("XDG_CACHE_HOME", "").strip():
        return Path(env["XDG_CACHE_HOME"]) / "mle-ci"
    if env.get("HOME", "").strip():
        return Path(env["HOME"]) / ".cache" / "mle-ci"
    return cwd / ".mle-ci-cache"


def load_settings(cli: Mapping[str, object], env: Mapping[str, str], cwd: Path) -> Settings:
    """Settings from ``cli`` values (``None`` = not given) over ``env`` over the config file over defaults."""
    config_file, label = _find_config(cli, env, cwd)
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(_file_layer(read_config(config_file, label, _CONFIG_KEYS, _NOT_IN_FILE)))
    values.update(_sdk_layer(env))
    values.update(_env_layer(env))
    values.update(_input_layer(env))
    values.update(_cli_layer(cli))
    values["output_dir"] = cwd / values.get("output_dir", Settings.output_dir)
    for key in ("data_dir", "leaderboard"):
        if values.get(key) is not None:
            values[key] = cwd / values[key]
    values["cache_dir"] = cwd / values["cache_dir"] if "cache_dir" in values else _default_cache(env, cwd)
    if values.get("baseline_result") is not None:
        given = values["baseline_result"]
        values["baseline_result"] = cwd / given
        values["baseline"] = _read_baseline(cwd / given, given)
    workspace = env.get("GITHUB_WORKSPACE", "").strip()
    return Settings(
        **values,
        workspace=cwd / workspace if workspace else cwd,
        cwd=cwd,
        github_actions=env.get("GITHUB_ACTIONS") == "true",
        config_file=config_file,
        env=MappingProxyType(dict(env)),
    )


def _find_config(cli: Mapping[str, object], env: Mapping[str, str], cwd: Path) -> tuple[Path | None, str]:
    """The config file to read and how to name it in messages; a file named explicitly must exist."""
    named: tuple[object, _Source] | None = None
    if cli.get("config") is not None:
        named = cli["config"], _Source("--config", text=True)
    elif env.get("INPUT_CONFIG", "").strip():
        named = env["INPUT_CONFIG"], _Source("input config", text=True)
    elif env.get("MLE_CI_CONFIG", "").strip():
        named = env["MLE_CI_CONFIG"], _Source("environment MLE_CI_CONFIG", text=True)
    if named is not None:
        given, src = named
        relative = _path(given, src)
        path = cwd / relative
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise src.error(f"config file {str(relative)!r} {what}")
        return path, str(relative)
    present = [cwd / name for name in CONFIG_NAMES if (cwd / name).is_file()]
    if len(present) > 1:
        raise ConfigError(f"both {' and '.join(CONFIG_NAMES)} exist; keep one, or choose with --config")
    return (present[0], present[0].name) if present else (None, "")


def _derive(layer: dict[str, Any]) -> dict[str, Any]:
    """Map keys that are not field names onto fields: ``direction`` and what ``gpus`` implies."""
    if "direction" in layer:
        layer["higher_is_better"] = layer.pop("direction")
    if "gpus" in layer and "require_gpu" not in layer:
        layer["require_gpu"] = layer["gpus"].lower() != "none"
    return layer


def _file_layer(entries: list[Entry]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for entry in entries:
        value = construct(entry.node, entry.where)
        if value is None:
            continue  # ``key:`` with nothing after it leaves the default
        if entry.name == "patterns":
            layer["patterns"] = _patterns(entry)
        else:
            layer[entry.name] = _CONVERTERS[entry.name](value, _Source(entry.where, text=False))
    return _derive(layer)


def _sdk_layer(env: Mapping[str, str]) -> dict[str, Any]:
    """``ANTHROPIC_API_KEY``, the name the SDK itself reads: below ``MLE_CI_ANTHROPIC_API_KEY`` and the input."""
    value = env.get("ANTHROPIC_API_KEY", "")
    if not value.strip():
        return {}
    return {"anthropic_api_key": _api_key(value, _Source("environment ANTHROPIC_API_KEY", text=True, secret=True))}


def _env_layer(env: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key, convert in _CONVERTERS.items():
        name = f"MLE_CI_{key.upper()}"
        value = env.get(name, "")
        if value.strip():
            layer[key] = convert(value, _Source(f"environment {name}", text=True, secret=is_secret_name(name)))
    return _derive(layer)


def _input_layer(env: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for input_name, (key, convert) in _INPUTS.items():
        name = f"INPUT_{input_name.upper()}"
        value = env.get(name, "")
        if value.strip():
            layer[key] = convert(value, _Source(f"input {input_name}", text=True, secret=is_secret_name(name)))
    return _derive(layer)


def _cli_layer(cli: Mapping[str, object]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key, value in cli.items():
        if key == "config":
            continue
        if key not in _CONVERTERS:
            # A wrong key is a bug in the caller, not a user's mistake.
            raise ValueError(f"load_settings: unknown CLI key {key!r}")
        if value is None or (key == "command" and not value):
            continue
        label = "COMMAND" if key == "command" else f"--{key.replace('_', '-')}"
        layer[key] = _CONVERTERS[key](value, _Source(label, text=True, secret=key in SECRET_KEYS))
    return _derive(layer)


def _patterns(entry: Entry) -> tuple[LinePattern, ...]:
    return tuple(LinePattern(regex, event) for regex, event in read_patterns(entry))
