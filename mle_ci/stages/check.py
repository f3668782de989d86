"""The checking stage: refuse, before anything is spent, what cannot run — a command that cannot be started, an
unknown agent or one without what it needs."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mle_ci.config_file import describe
from mle_ci.errors import ConfigError
from mle_ci.extras import extra_missing
from mle_ci.stages.plan import agent_command

if TYPE_CHECKING:
    from mle_ci.settings import Settings
    from mle_ci.stages.preflight import Preflight


def check_request(settings: Settings) -> None:
    """The run's command, or its built-in agent, can be started."""
    if settings.command:
        check_command(settings.command, settings.env, settings.cwd)
    else:
        check_agent(settings)


def check_command(command: tuple[str, ...], env: Mapping[str, str], cwd: Path) -> None:
    """Fail before anything starts when the program cannot be found or run."""
    if not command:
        raise ConfigError(
            "no command to run: give one after `--` (e.g. `mle-ci run -- python train.py`) or set `command:`"
        )
    program = command[0]
    if os.sep in program:
        target = (cwd / program) if not os.path.isabs(program) else Path(program)
        try:
            usable = target.is_file() and os.access(target, os.X_OK)
        except OSError as exc:  # a name too long for the file system, say
            raise ConfigError(f"command: {describe(program)} cannot be used: {exc.strerror or exc}") from None
        if not usable:
            raise ConfigError(f"command: {describe(program)} is not an executable file")
    elif shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        raise ConfigError(f"command: {describe(program)} was not found on PATH")


def check_agent(settings: Settings) -> None:
    """Refuse, before anything runs or spends, a built-in agent that is unknown or lacks what it needs."""
    if settings.command:
        return
    agent = settings.agent or "baseline"
    agent_command(agent)
    if agent == "claude" and importlib.util.find_spec("anthropic") is None:
        raise extra_missing("anthropic", "agent: the claude agent")
    if agent == "claude" and not settings.anthropic_api_key:
        raise ConfigError(
            "agent: the claude agent needs an Anthropic API key and none was given: set ANTHROPIC_API_KEY in "
            "the environment (export ANTHROPIC_API_KEY=...), or in a workflow the action input "
            "anthropic-api-key: ${{ secrets.ANTHROPIC_API_KEY }}"
        )


def check_agent_runs_here(settings: Settings, preflight: Preflight) -> None:
    """The baseline agent trains with PyTorch: refuse it where PyTorch is not installed."""
    if not settings.command and (settings.agent or "baseline") == "baseline" and not preflight.profile.torch_version:
        raise extra_missing("torch", "agent: the baseline agent")
