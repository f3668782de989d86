"""The ``mle-ci`` command line: one function per command, one handler that turns errors into exit codes."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mle_ci import __version__
from mle_ci.console import inert_line, inert_lines
from mle_ci.contract import ExitCode
from mle_ci.errors import ConfigError, MleCiError
from mle_ci.redaction import Redactor

if TYPE_CHECKING:
    from mle_ci.settings import Settings
    from mle_ci.signaltrap import SignalTrap

_RUN_HELP = """Supervise COMMAND (or the built-in baseline agent on a competition): deadlines, heartbeat,
progress events, GPU checks and reports. With no arguments: the baseline agent on the default demo.

\b
  mle-ci run
  mle-ci run --competition breast-cancer --timeout 10m
  mle-ci run --timeout 30m --folds 5 -- python train.py
  ANTHROPIC_API_KEY=... mle-ci run --agent claude --timeout 30m --max-cost 2
\b
Exit codes: 0 passed, 1 failed (command or gate), 2 usage error (nothing run;
also --agent claude without ANTHROPIC_API_KEY or the anthropic-api-key input),
3 GPU required but CUDA unusable (nothing run), 124 time limit reached,
130 interrupted (SIGINT/SIGTERM/SIGHUP/SIGQUIT to the harness; one after the
result is decided changes nothing: result.json holds the exit code).
"""


class _UserPath(click.Path):
    """A path from the command line that the one rule for user text accepts (:mod:`mle_ci.usertext`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from mle_ci.config_file import describe
        from mle_ci.usertext import path_problem

        problem = path_problem(value) if isinstance(value, str) else None
        if problem is not None:
            self.fail(f"{describe(value)} {problem}", param, ctx)
        return super().convert(value, param, ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="mle-ci")
def cli() -> None:
    """Run ML training commands and agents in CI, and make those runs trustworthy."""


@cli.command(help=_RUN_HELP, context_settings={"ignore_unknown_options": False})
@click.option("--config", "config", metavar="FILE", help="Config file (default: mle-ci.yml when present).")
@click.option(
    "--agent", metavar="baseline|claude", help="Built-in agent to run when no COMMAND is given (default baseline)."
)
@click.option("--competition", metavar="ID", help="Competition (default for agents: digits-png); see `competitions`.")
@click.option("--cache-dir", "cache_dir", metavar="DIR", help="Where demo competitions are built (~/.cache/mle-ci).")
@click.option("--data-dir", "data_dir", metavar="DIR", help="Folder of prepared competition data.")
@click.option("--leaderboard", metavar="FILE", help="leaderboard.csv for the medals (default: mlebench's, the data's).")
@click.option("--output-dir", "output_dir", metavar="DIR", help="Result folder (default: mle-ci-results).")
@click.option("--timeout", metavar="DURATION", help="SIGTERM to the whole process tree at this time (90s, 30m, 1h30m).")
@click.option("--grace", metavar="DURATION", help="SIGKILL this long after SIGTERM (default 15s).")
@click.option("--heartbeat", metavar="DURATION", help="Status line while the command is silent (default 30s; 0 = off).")
@click.option("--stall-timeout", "stall_timeout", metavar="DURATION", help="Stop after this long without output.")
@click.option("--min-score", "min_score", metavar="FLOAT", help="Fail when the score is worse than this.")
@click.option("--baseline-result", "baseline_result", metavar="FILE", help="A result.json to compare the score with.")
@click.option(
    "--max-regression", "max_regression", metavar="X", help="Fail when the score is worse than the baseline's by more."
)
@click.option("--folds", metavar="N", help="Number of cross-validation folds to expect.")
@click.option("--metric", metavar="NAME", help="Name of the score's metric (e.g. auc, rmse).")
@click.option("--direction", metavar="max|min|auto", help="Whether higher or lower scores are better.")
@click.option("--display", metavar="auto|plain|live", help="Live status on a terminal, or plain lines.")
@click.option(
    "--require-gpu", "require_gpu", is_flag=True, default=None, help="Exit 3 before starting unless CUDA works."
)
@click.option("--fail-on-idle-gpu", "fail_on_idle_gpu", is_flag=True, default=None, help="An idle GPU fails the run.")
@click.option("--gpu-interval", "gpu_interval", metavar="DURATION", help="GPU sampling interval (default 5s).")
@click.option("--idle-warmup", "idle_warmup", metavar="DURATION", help="No idle verdict before this (default 60s).")
@click.option("--idle-window", "idle_window", metavar="DURATION", help="Idle this long counts (default 2m).")
@click.option("--idle-threshold", "idle_threshold", metavar="PERCENT", help="Below this utilization is idle (5).")
@click.option("--model", metavar="NAME", help="The claude agent's model (default: a current Sonnet).")
@click.option("--max-turns", "max_turns", metavar="N", help="The claude agent's most model requests (default 50).")
@click.option("--max-cost", "max_cost", metavar="USD", help="The claude agent's most spend in USD (default 5).")
@click.option("--api-reserve", "api_reserve", metavar="DURATION", help="No model calls this close to the deadline.")
@click.option("--prices", metavar="JSON", help='Model prices, USD per million tokens: {"MODEL": {"input": 3, ...}}.')
@click.option("--fallback-min", "fallback_min", metavar="DURATION", help="Least time left for the baseline fallback.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, /, command: tuple[str, ...], **options: Any) -> None:
    """Supervise a command."""
    from mle_ci.pipeline import execute
    from mle_ci.settings import load_settings
    from mle_ci.signaltrap import SignalTrap

    with contextlib.ExitStack() as stack:
        # From here a signal is recorded, not fatal: before the command starts it ends the run with its reports.
        trap = ctx.find_object(SignalTrap) or stack.enter_context(SignalTrap())
        values: dict[str, object] = {key: value for key, value in options.items() if value is not None}
        if command:
            values["command"] = tuple(command)
        settings = load_settings(values, dict(os.environ), Path.cwd())
        _tolerant(sys.stdout)
        result = execute(settings, stream=sys.stdout, trap=trap)
    raise SystemExit(int(result.exit_code))


@cli.command()
@click.option("--require-gpu", "require_gpu", is_flag=True, default=None, help="Exit 3 unless CUDA works.")
@click.option("--json", "as_json", is_flag=True, help="Print the profile, findings and plan as JSON.")
@click.option("--timeout", "cuda_timeout", metavar="DURATION", default="60s", help="Limit for the CUDA check.")
def preflight(require_gpu: bool | None, as_json: bool, cuda_timeout: str) -> None:
    """Hardware profile, diagnosis and training plan; exit 3 with --require-gpu when CUDA is unusable."""
    from mle_ci.durations import parse_duration
    from mle_ci.preflight import preflight_command
    from mle_ci.settings import load_settings

    values: dict[str, object] = {} if require_gpu is None else {"require_gpu": require_gpu}
    settings = load_settings(values, dict(os.environ), Path.cwd())
    timeout = parse_duration(cuda_timeout, key="--timeout")
    raise SystemExit(preflight_command(settings, as_json=as_json, cuda_timeout=timeout, stream=sys.stdout))


@cli.command()
@click.option("--interval", default="5s", metavar="DURATION", help="Time between samples (default 5s).")
@click.option("--duration", metavar="DURATION", help="Stop after this long (default: until interrupted).")
@click.option("--csv", "csv_path", metavar="FILE", type=_UserPath(dir_okay=False, path_type=Path), help="Write CSV.")
@click.option("--require-gpu", "require_gpu", is_flag=True, help="Exit 3 when there is no GPU to watch.")
def monitor(interval: str, duration: str | None, csv_path: Path | None, require_gpu: bool) -> None:
    """Stand-alone GPU monitor: one line per sample, optionally a CSV."""
    from mle_ci.durations import parse_duration
    from mle_ci.hardware.monitor_cli import run_monitor
    from mle_ci.hardware.nvml import RealNvml

    every = parse_duration(interval, key="--interval")
    if every <= 0:
        raise ConfigError("--interval: must be more than zero")
    limit = parse_duration(duration, key="--duration") if duration is not None else None
    code = run_monitor(
        backend=RealNvml(),
        interval=every,
        duration=limit,
        csv_path=csv_path,
        require_gpu=require_gpu,
        stream=sys.stdout,
    )
    raise SystemExit(code)


def _competition_settings(**values: object) -> Settings:
    from mle_ci.settings import load_settings

    return load_settings({k: v for k, v in values.items() if v is not None}, dict(os.environ), Path.cwd())


_DATA_DIR = click.option("--data-dir", "data_dir", metavar="DIR", help="Folder of prepared competitions.")
_CACHE_DIR = click.option("--cache-dir", "cache_dir", metavar="DIR", help="Where demo competitions are built.")


@cli.command()
@_DATA_DIR
@_CACHE_DIR
def competitions(data_dir: str | None, cache_dir: str | None) -> None:
    """List the embedded demo competitions and those found under --data-dir."""
    from mle_ci.competitions.cli import competitions_command

    settings = _competition_settings(data_dir=data_dir, cache_dir=cache_dir)
    raise SystemExit(competitions_command(settings.data_dir, settings.cache_dir, sys.stdout))


@cli.command()
@click.argument("submission", type=_UserPath(dir_okay=False, path_type=Path))
@click.option("--competition", required=True, metavar="ID", help="The competition the submission is for.")
@_DATA_DIR
@_CACHE_DIR
def validate(submission: Path, competition: str, data_dir: str | None, cache_dir: str | None) -> None:
    """Check a submission as MLE-bench's grader would; every problem listed; exit 1 when invalid."""
    from mle_ci.competitions.cli import validate_command

    settings = _competition_settings(data_dir=data_dir, cache_dir=cache_dir)
    raise SystemExit(validate_command(submission, competition, settings.data_dir, settings.cache_dir, sys.stdout))


@cli.command()
@click.argument("submission", type=_UserPath(dir_okay=False, path_type=Path))
@click.option("--competition", required=True, metavar="ID", help="The competition the submission is for.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON, with MLE-bench's field names.")
@click.option(
    "--leaderboard",
    type=_UserPath(dir_okay=False, path_type=Path),
    help="A leaderboard.csv for the medal thresholds (default: the installed mlebench package's, or the data's).",
)
@_DATA_DIR
@_CACHE_DIR
def grade(  # noqa: PLR0917 - click passes the options in this order
    submission: Path,
    competition: str,
    as_json: bool,
    leaderboard: Path | None,
    data_dir: str | None,
    cache_dir: str | None,
) -> None:
    """Score a submission as MLE-bench's grader does, with its medal thresholds; exit 1 when invalid."""
    from mle_ci.competitions.cli import grade_command

    settings = _competition_settings(data_dir=data_dir, cache_dir=cache_dir)
    code = grade_command(
        submission, competition, settings.data_dir, settings.cache_dir, sys.stdout, as_json, leaderboard
    )
    raise SystemExit(code)


@cli.command()
@click.argument("result_dir", metavar="RESULT_DIR", type=_UserPath(file_okay=False, path_type=Path))
def report(result_dir: Path) -> None:
    """Render summary.md, junit.xml (transcript.md, GitHub outputs) again from RESULT_DIR/result.json."""
    from mle_ci.stages.publish import republish

    result = republish(result_dir, env=dict(os.environ), stream=sys.stdout)
    wrote = "summary.md, junit.xml and transcript.md" if (result_dir / "transcript.md").exists() else ""
    click.echo(inert_line(f"{result_dir}: {result.status.value}; wrote {wrote or 'summary.md and junit.xml'}"))
    raise SystemExit(int(result.exit_code))


@cli.command()
@click.argument("result_dirs", metavar="RESULT_DIR...", nargs=-1, type=_UserPath(path_type=Path))
@click.option("--expect", type=int, metavar="N", help="Runs expected: those never uploaded count as failed.")
@click.option("--output-dir", "output_dir", type=_UserPath(path_type=Path), metavar="DIR", help="mle-ci-aggregate.")
@click.option("--json", "as_json", is_flag=True, help="Print aggregate.json (MLE-bench's field names) to stdout.")
def aggregate(result_dirs: tuple[Path, ...], expect: int | None, output_dir: Path | None, as_json: bool) -> None:
    """Merge matrix runs (folders searched for result.json) into one leaderboard, JUnit and JSON.

    Exit 1 when any run failed or never uploaded, 2 when nothing can be aggregated.
    """
    from mle_ci.aggregate.command import aggregate_command

    _tolerant(sys.stdout)
    code = aggregate_command(
        list(result_dirs),
        expect=expect,
        output_dir=output_dir,
        as_json=as_json,
        env=dict(os.environ),
        cwd=Path.cwd(),
        stream=sys.stdout,
    )
    raise SystemExit(code)


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
    try:
        from mle_ci.signaltrap import SignalTrap
    except KeyboardInterrupt:  # a SIGINT before any trap: nothing has started
        return int(ExitCode.INTERRUPTED)

    with SignalTrap(for_process=True) as trap:
        return main(trap=trap)
    raise AssertionError("unreachable")  # pragma: no cover
