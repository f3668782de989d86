"""The ``mle-ci`` command line: the click group that wires the commands of :mod:`mle_ci.commands`, and the one
handler that turns errors into exit codes."""

from __future__ import annotations

import gc
import importlib
import io
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import click

from mle_ci import __version__
from mle_ci.console import inert_line, inert_lines
from mle_ci.contract import ExitCode
from mle_ci.errors import MleCiError
from mle_ci.extras import extra_needed
from mle_ci.redaction import Redactor
from mle_ci.signaltrap import SignalTrap


@dataclass(frozen=True)
class Wiring:
    """Where a command's click command is (``module:attribute``), and the first sentence of its help, which
    ``mle-ci --help`` lists without importing the command (tests hold it to the command's own)."""

    where: str
    summary: str


COMMANDS: Mapping[str, Wiring] = MappingProxyType(
    {
        "run": Wiring(
            "mle_ci.commands.run:run",
            "Supervise COMMAND (or the built-in baseline agent on a competition): deadlines, heartbeat, progress "
            "events, GPU checks and reports.",
        ),
        "preflight": Wiring(
            "mle_ci.commands.preflight:preflight",
            "Hardware profile, diagnosis and training plan; exit 3 with --require-gpu when CUDA is unusable.",
        ),
        "monitor": Wiring(
            "mle_ci.commands.monitor:monitor", "Stand-alone GPU monitor: one line per sample, optionally a CSV."
        ),
        "competitions": Wiring(
            "mle_ci.commands.competitions:competitions",
            "List the embedded demo competitions and those found under --data-dir.",
        ),
        "validate": Wiring(
            "mle_ci.commands.validate:validate",
            "Check a submission as MLE-bench's grader would; every problem listed; exit 1 when invalid.",
        ),
        "grade": Wiring(
            "mle_ci.commands.grade:grade",
            "Score a submission as MLE-bench's grader does, with its medal thresholds; exit 1 when invalid.",
        ),
        "report": Wiring(
            "mle_ci.commands.report:report",
            "Render summary.md, junit.xml (transcript.md, GitHub outputs) again from RESULT_DIR/result.json.",
        ),
        "aggregate": Wiring(
            "mle_ci.commands.aggregate:aggregate",
            "Merge matrix runs (folders searched for result.json) into one leaderboard, JUnit and JSON.",
        ),
    }
)
"""Every command by name. Listing them all imports none: some bodies cost half a second to import (pandas)."""


class CommandsOnDemand(click.Group):
    """A click group that imports a command's module only when that command is called (click's documented lazy
    loading): ``mle-ci --version`` and ``mle-ci --help`` load no command, ``mle-ci run`` only the run's."""

    def __init__(self, *args: Any, wiring: Mapping[str, Wiring], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wiring = wiring

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted as click sorts them."""
        return sorted(self.wiring)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command named ``cmd_name``, its module imported now; ``None`` for no such command."""
        wiring = self.wiring.get(cmd_name)
        if wiring is None:
            return None
        module, _, attribute = wiring.where.partition(":")
        with extra_needed(f"mle-ci {cmd_name}"):  # grade, validate, competitions: the 'grading' extra
            command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{wiring.where} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The ``Commands:`` section of ``--help`` as click writes it, from the summaries."""
        limit = formatter.width - 6 - max(len(name) for name in self.wiring)
        rows = [(name, summary_line(name, self.wiring[name], limit)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def summary_line(name: str, wiring: Wiring, limit: int) -> str:
    """A command's line in ``mle-ci --help``: its summary shortened as click shortens a command's own help."""
    return click.Command(name, help=wiring.summary).get_short_help_str(limit)


@click.group(
    cls=CommandsOnDemand,
    wiring=COMMANDS,
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
