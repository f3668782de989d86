"""The ``mle-ci`` command line: the click group that wires the commands of :mod:`mle_ci.commands`, and the one
handler that turns errors into exit codes."""

from __future__ import annotations

import gc
import importlib
import io
import os
import sys
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import click

from mle_ci import __version__
from mle_ci.console import inert_line, inert_lines
from mle_ci.contract import ExitCode
from mle_ci.errors import MleCiError
from mle_ci.redaction import Redactor
from mle_ci.signaltrap import SignalTrap

COMMANDS: Mapping[str, str] = MappingProxyType(
    {
        "run": "mle_ci.commands.run:run",
        "preflight": "mle_ci.commands.preflight:preflight",
        "monitor": "mle_ci.commands.monitor:monitor",
        "competitions": "mle_ci.commands.competitions:competitions",
        "validate": "mle_ci.commands.validate:validate",
        "grade": "mle_ci.commands.grade:grade",
        "report": "mle_ci.commands.report:report",
        "aggregate": "mle_ci.commands.aggregate:aggregate",
    }
)
"""Each command's name and where its click command is: ``module:attribute``."""


class CommandsOnDemand(click.Group):
    """A click group that imports a command's module only when that command is asked for (click's documented lazy
    loading): ``mle-ci --version`` loads no command, ``mle-ci run`` only the run's."""

    def __init__(self, *args: Any, commands_at: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands_at = dict(commands_at)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted as click sorts them."""
        return sorted({*super().list_commands(ctx), *self.commands_at})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command named ``cmd_name``, its module imported now; ``None`` for no such command."""
        where = self.commands_at.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = where.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{where} is not a click command")
        return command


@click.group(
    cls=CommandsOnDemand,
    commands_at=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.version_option(__version__, prog_name="mle-ci")
def cli() -> None:
    """Run ML training commands and agents in CI, and make those runs trustworthy."""
    # main() has done this already; the group invoked on its own (click's CliRunner) gets the same console.
    for stream in (sys.stdout, sys.stderr):
        _tolerant(stream)


def _tolerant(stream: object) -> None:
    """A console that cannot encode a character shows a replacement instead of failing the echo."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


def _hidden(text: str) -> str:
    """An error line with the environment's secrets hidden (a mistaken value may be one, quoted back); built only
    when there is an error to show, so a run's start-up does not pay for it."""
    return Redactor.from_env(os.environ).text(text)


def main(argv: Sequence[str] | None = None, *, trap: SignalTrap | None = None) -> int:
    """The exit code of the command, with the tool's own errors as ``Error: ...`` lines (``trap``: a run's): inert,
    and with the environment's secrets hidden (a mistaken value may be one, quoted back)."""
    for stream in (sys.stdout, sys.stderr):
        _tolerant(stream)
    try:
        args = list(argv) if argv is not None else None
        cli.main(args=args, prog_name="mle-ci", standalone_mode=False, obj=trap)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(ExitCode.FAILED)
    except MleCiError as exc:
        click.echo(inert_line(_hidden(f"Error: {exc}")), err=True)
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        shown = io.StringIO()
        exc.show(file=shown)  # the usage line, and the message with whatever value the user gave
        click.echo(inert_lines(_hidden(shown.getvalue().rstrip("\n"))), err=True)
        return exc.exit_code  # click's own: 2 for a usage mistake, 1 for a file it could not open
    return int(ExitCode.OK)


def process_main() -> int:
    """The ``mle-ci`` process (its console script, ``python -m mle_ci``).

    A run records signals from its first moment, and once it has its result no signal can change the exit code
    until the process is gone; the other commands keep Python's own handling (Ctrl-C stops ``monitor``).
    """
    if sys.argv[1:2] != ["run"]:
        return main()
    with SignalTrap(for_process=True) as trap:
        code = main(trap=trap)
    # The run is over and its exit code decided: the interpreter's last collection at exit need not walk every
    # object the run made (15-25 ms of every run, docs/startup.md).
    gc.freeze()
    return code
