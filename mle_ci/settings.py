"""Every setting of a run, read once from defaults, ``mle-ci.yml``, the environment and the command line.

Precedence, lowest first: defaults < config file < ``MLE_CI_<KEY>`` < action input ``INPUT_<NAME>`` < CLI.
The Anthropic API key is the exception: never from the file, and lowest from ``ANTHROPIC_API_KEY``.
Every value is validated in every layer it appears in, so a mistake is reported even where a higher
layer would have overridden it. After :func:`load_settings` nothing reads the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mle_ci.errors import ConfigError, ResultError
from mle_ci.resultparts import BaselineScore
from mle_ci.settinglayers import (
    cli_layer,
    deprecated_inputs,
    env_layer,
    file_layer,
    find_config,
    input_layer,
    sdk_layer,
)
from mle_ci.settingvalues import LinePattern, ModelPrice
from mle_ci.usertext import read_json

__all__ = ["Settings", "load_settings"]


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
    deprecations: tuple[str, ...] = ()
    """A notice for each old input name the run was given, for the entry point to show."""
    env: Mapping[str, str] = field(default_factory=_no_env, repr=False, compare=False)


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
    # Only a run with a baseline needs the whole result record: 14 ms of every run's start-up before its child
    # (best of 5, on the development machine).
    from mle_ci.result import baseline_from_dict  # noqa: PLC0415

    try:
        return baseline_from_dict(data, source=str(given))
    except ResultError as exc:
        raise ConfigError(f"baseline-result: {str(given)!r} is not a usable mle-ci result: {exc}") from None


def _default_cache(env: Mapping[str, str], cwd: Path) -> Path:
    """Where built demo competitions are kept: ``$XDG_CACHE_HOME/mle-ci``, ``~/.cache/mle-ci``, or beside the run."""
    if env.get("XDG_CACHE_HOME", "").strip():
        return Path(env["XDG_CACHE_HOME"]) / "mle-ci"
    if env.get("HOME", "").strip():
        return Path(env["HOME"]) / ".cache" / "mle-ci"
    return cwd / ".mle-ci-cache"


def load_settings(cli: Mapping[str, object], env: Mapping[str, str], cwd: Path) -> Settings:
    """Settings from ``cli`` values (``None`` = not given) over ``env`` over the config file over defaults."""
    config_file, label = find_config(cli, env, cwd)
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(file_layer(config_file, label))
    values.update(sdk_layer(env))
    values.update(env_layer(env))
    values.update(input_layer(env))
    values.update(cli_layer(cli))
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
        deprecations=deprecated_inputs(env),
        env=MappingProxyType(dict(env)),
    )
