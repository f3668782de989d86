"""Where settings come from: the config file, ``ANTHROPIC_API_KEY``, ``MLE_CI_*`` variables, action inputs and
CLI flags, each read into a layer of checked values by key (the file's layer also finds the file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mle_ci.config_file import Entry, construct, read_config, read_patterns
from mle_ci.errors import ConfigError
from mle_ci.redaction import is_secret_name
from mle_ci.settingvalues import CONVERTERS, Converter, LinePattern, Source, convert_api_key, convert_path, in_unit

CONFIG_NAMES = ("mle-ci.yml", "mle-ci.yaml")
"""The config files looked for in the working directory when none is named."""
SECRET_KEYS = frozenset({"anthropic_api_key"})
"""Settings whose values are never shown in a message."""
KEY_SOURCES = "ANTHROPIC_API_KEY in the environment, or the action input anthropic-api-key"
"""Where an Anthropic API key may come from, as messages say it."""
_NOT_IN_FILE = {
    "anthropic_api_key": f"an API key must never be written in a config file (it is committed); set {KEY_SOURCES}",
    "api_key": f"an API key must never be written in a config file (it is committed); set {KEY_SOURCES}",
}

_CONFIG_KEYS = (frozenset(CONVERTERS) - SECRET_KEYS) | {"patterns"}

ENV_NAMES: Mapping[str, str] = MappingProxyType({key: f"MLE_CI_{key.upper()}" for key in (*CONVERTERS, "config")})
"""The ``MLE_CI_*`` variable that sets each key: the one table the environment layer and ``--help`` read."""


@dataclass(frozen=True)
class RenamedInput:
    """What an old input name stands for: the input that replaced it and the unit its plain numbers count."""

    new: str
    unit: str
    seconds: float
    """Seconds in one ``unit``."""

    def notice(self, old: str) -> str:
        """The deprecation notice for a run that used the old name."""
        return (
            f"input {old} is deprecated: use {self.new}, a duration such as 30m or 90s "
            f"(a plain number there counts seconds; {old} still reads one as {self.unit})"
        )


RENAMED_INPUTS: Mapping[str, RenamedInput] = MappingProxyType(
    {
        "timeout-minutes": RenamedInput("timeout", "minutes", 60.0),
        "grace-seconds": RenamedInput("grace", "seconds", 1.0),
        "heartbeat-seconds": RenamedInput("heartbeat", "seconds", 1.0),
        "stall-minutes": RenamedInput("stall-timeout", "minutes", 60.0),
    }
)
"""Old input names, each named after its unit (``timeout-minutes`` shadowed the step keyword of that name), by
their replacement. Both still work: a plain number keeps its old unit, a duration is read as one."""

# The action's inputs by their hyphenated names, then the old names with their units.
_INPUTS: dict[str, tuple[str, Converter]] = {name.replace("_", "-"): (name, CONVERTERS[name]) for name in CONVERTERS}
_INPUTS |= {
    old: (_INPUTS[renamed.new][0], in_unit(renamed.unit, renamed.seconds, _INPUTS[renamed.new][1]))
    for old, renamed in RENAMED_INPUTS.items()
}

ACTION_INPUTS: tuple[str, ...] = (*_INPUTS, "config")
"""Every action input the settings read (``INPUT_<NAME>``, hyphens kept), ``config`` and the old names included."""


def find_config(cli: Mapping[str, object], env: Mapping[str, str], cwd: Path) -> tuple[Path | None, str]:
    """The config file to read and how to name it in messages; a file named explicitly must exist."""
    named: tuple[object, Source] | None = None
    if cli.get("config") is not None:
        named = cli["config"], Source("--config", text=True)
    elif env.get("INPUT_CONFIG", "").strip():
        named = env["INPUT_CONFIG"], Source("input config", text=True)
    elif env.get(ENV_NAMES["config"], "").strip():
        named = env[ENV_NAMES["config"]], Source(f"environment {ENV_NAMES['config']}", text=True)
    if named is not None:
        given, src = named
        relative = convert_path(given, src)
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


def file_layer(config_file: Path, label: str) -> dict[str, Any]:
    """The config file's settings; ``label`` names the file in messages."""
    layer: dict[str, Any] = {}
    for entry in read_config(config_file, label, _CONFIG_KEYS, _NOT_IN_FILE):
        value = construct(entry.node, entry.where)
        if value is None:
            continue  # ``key:`` with nothing after it leaves the default
        if entry.name == "patterns":
            layer["patterns"] = _patterns(entry)
        else:
            layer[entry.name] = CONVERTERS[entry.name](value, Source(entry.where, text=False))
    return _derive(layer)


def sdk_layer(env: Mapping[str, str]) -> dict[str, Any]:
    """``ANTHROPIC_API_KEY``, the name the SDK itself reads: below ``MLE_CI_ANTHROPIC_API_KEY`` and the input."""
    value = env.get("ANTHROPIC_API_KEY", "")
    if not value.strip():
        return {}
    return {
        "anthropic_api_key": convert_api_key(value, Source("environment ANTHROPIC_API_KEY", text=True, secret=True))
    }


def env_layer(env: Mapping[str, str]) -> dict[str, Any]:
    """The ``MLE_CI_<KEY>`` variables."""
    layer: dict[str, Any] = {}
    for key, convert in CONVERTERS.items():
        name = ENV_NAMES[key]
        value = env.get(name, "")
        if value.strip():
            layer[key] = convert(value, Source(f"environment {name}", text=True, secret=is_secret_name(name)))
    return _derive(layer)


def _given(env: Mapping[str, str], input_name: str) -> bool:
    return bool(env.get(f"INPUT_{input_name.upper()}", "").strip())


def input_layer(env: Mapping[str, str]) -> dict[str, Any]:
    """The action's inputs, ``INPUT_<NAME>``; an old name and its replacement both given is an error."""
    for old, renamed in RENAMED_INPUTS.items():
        if _given(env, old) and _given(env, renamed.new):
            raise ConfigError(
                f"inputs {renamed.new} and {old} are both given; keep {renamed.new} ({old} is its old name)"
            )
    layer: dict[str, Any] = {}
    for input_name, (key, convert) in _INPUTS.items():
        name = f"INPUT_{input_name.upper()}"
        value = env.get(name, "")
        if value.strip():
            layer[key] = convert(value, Source(f"input {input_name}", text=True, secret=is_secret_name(name)))
    return _derive(layer)


def deprecated_inputs(env: Mapping[str, str]) -> tuple[str, ...]:
    """A notice for each old input name given, in the table's order."""
    return tuple(renamed.notice(old) for old, renamed in RENAMED_INPUTS.items() if _given(env, old))


def cli_layer(cli: Mapping[str, object]) -> dict[str, Any]:
    """The command line's values (``None`` = not given); ``config`` is :func:`find_config`'s."""
    layer: dict[str, Any] = {}
    for key, value in cli.items():
        if key == "config":
            continue
        if key not in CONVERTERS:
            # A wrong key is a bug in the caller, not a user's mistake.
            raise ValueError(f"load_settings: unknown CLI key {key!r}")
        if value is None or (key == "command" and not value):
            continue
        label = "COMMAND" if key == "command" else f"--{key.replace('_', '-')}"
        layer[key] = CONVERTERS[key](value, Source(label, text=True, secret=key in SECRET_KEYS))
    return _derive(layer)


def _patterns(entry: Entry) -> tuple[LinePattern, ...]:
    return tuple(LinePattern(regex, event) for regex, event in read_patterns(entry))
