"""Where a run speaks: the console, GitHub in Actions, and the redactor every text passes through; opened before the
child starts, with every secret masked first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from mle_ci.console import Console, make_console
from mle_ci.github import SETTLE_SECONDS, GitHub
from mle_ci.redaction import Redactor

if TYPE_CHECKING:
    from mle_ci.settings import Settings


def run_redactor(settings: Settings) -> Redactor:
    """The run's secrets to mask and redact: secret-named variables and the run's API key, from any layer."""
    key = settings.anthropic_api_key
    return Redactor.from_env(settings.env, extra=(key,) if key else ())


@dataclass(frozen=True)
class Outlets:
    """Where a run speaks: the console, GitHub (in Actions), and the redactor every text passes through."""

    console: Console
    github: GitHub | None
    redactor: Redactor
    notes: tuple[str, ...] = ()
    """What the run's log should say about opening them."""

    def resume_commands(self) -> None:
        """Workflow commands on again, if ``open_outlets(pause_commands=True)`` turned them off."""
        if self.github is not None:
            self.github.resume_commands()


def open_outlets(settings: Settings, stream: TextIO, *, pause_commands: bool = False) -> Outlets:
    """The console and GitHub adapter, with every secret masked before anything is printed.

    With ``pause_commands`` (in Actions, before the child starts), the runner's command processing is then turned
    off, and the runner given a moment to read these lines out of the step's stdout pipe, so that no process of
    the run can print a command ahead of the block or read a mask or the block's token out of the pipe first.
    """
    github = GitHub.from_env(settings.env, stream) if settings.github_actions else None
    redactor = run_redactor(settings)
    notes: list[str] = []
    if github is not None:
        for secret in redactor.values:
            github.mask(secret)
        if pause_commands:
            github.pause_commands()
            if not github.settle():
                notes.append(
                    f"the runner had not read the harness's first lines after {SETTLE_SECONDS:g}s; "
                    "the command started all the same"
                )
    console = make_console(stream, display=settings.display, github_actions=settings.github_actions)
    return Outlets(console, github, redactor, tuple(notes))
