"""``mle-ci run``: read the settings, trap signals, run the pipeline and exit with the result's code."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from mle_ci.commands.options import setting_option
from mle_ci.console import inert_line
from mle_ci.pipeline import execute
from mle_ci.settings import load_settings
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


@click.command(help=_RUN_HELP, context_settings={"ignore_unknown_options": False})
@setting_option("--config", "config", metavar="FILE", help="Config file (default: mle-ci.yml when present).")
@setting_option(
    "--agent", metavar="baseline|claude", help="Built-in agent to run when no COMMAND is given (default baseline)."
)
@setting_option("--competition", metavar="ID", help="Competition (default for agents: digits-png); see `competitions`.")
@setting_option("--cache-dir", "cache_dir", metavar="DIR", help="Where demo competitions are built (~/.cache/mle-ci).")
@setting_option("--data-dir", "data_dir", metavar="DIR", help="Folder of prepared competition data.")
@setting_option(
    "--leaderboard", metavar="FILE", help="leaderboard.csv for the medals (default: mlebench's, the data's)."
)
@setting_option("--output-dir", "output_dir", metavar="DIR", help="Result folder (default: mle-ci-results).")
@setting_option(
    "--timeout", metavar="DURATION", help="SIGTERM to the whole process tree at this time (90s, 30m, 1h30m)."
)
@setting_option("--grace", metavar="DURATION", help="SIGKILL this long after SIGTERM (default 15s).")
@setting_option(
    "--heartbeat", metavar="DURATION", help="Status line while the command is silent (default 30s; 0 = off)."
)
@setting_option("--stall-timeout", "stall_timeout", metavar="DURATION", help="Stop after this long without output.")
@setting_option("--min-score", "min_score", metavar="FLOAT", help="Fail when the score is worse than this.")
@setting_option("--baseline-result", "baseline_result", metavar="FILE", help="A result.json to compare the score with.")
@setting_option(
    "--max-regression", "max_regression", metavar="X", help="Fail when the score is worse than the baseline's by more."
)
@setting_option("--folds", metavar="N", help="Number of cross-validation folds to expect.")
@setting_option("--metric", metavar="NAME", help="Name of the score's metric (e.g. auc, rmse).")
@setting_option("--direction", metavar="max|min|auto", help="Whether higher or lower scores are better.")
@setting_option("--display", metavar="auto|plain|live", help="Live status on a terminal, or plain lines.")
@setting_option(
    "--gpus",
    metavar="SPEC",
    help="all, none, a count or devices such as 0,1: anything but none requires a GPU, as the action's gpus does.",
)
@setting_option(
    "--require-gpu/--no-require-gpu", "require_gpu", default=None, help="Exit 3 before starting unless CUDA works."
)
@setting_option(
    "--fail-on-idle-gpu/--no-fail-on-idle-gpu", "fail_on_idle_gpu", default=None, help="An idle GPU fails the run."
)
@setting_option("--gpu-interval", "gpu_interval", metavar="DURATION", help="GPU sampling interval (default 5s).")
@setting_option("--idle-warmup", "idle_warmup", metavar="DURATION", help="No idle verdict before this (default 60s).")
@setting_option("--idle-window", "idle_window", metavar="DURATION", help="Idle this long counts (default 2m).")
@setting_option("--idle-threshold", "idle_threshold", metavar="PERCENT", help="Below this utilization is idle (5).")
@setting_option("--model", metavar="NAME", help="The claude agent's model (default: a current Sonnet).")
@setting_option(
    "--max-turns",
    "max_turns",
    metavar="N",
    help="The claude agent's most model requests over its whole search (default 200).",
)
@setting_option("--max-cost", "max_cost", metavar="USD", help="The claude agent's most spend in USD (default 5).")
@setting_option("--api-reserve", "api_reserve", metavar="DURATION", help="No model calls this close to the deadline.")
@setting_option("--prices", metavar="JSON", help='Model prices, USD per million tokens: {"MODEL": {"input": 3, ...}}.')
@setting_option("--fallback-min", "fallback_min", metavar="DURATION", help="Least time left for the baseline fallback.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, /, command: tuple[str, ...], **options: Any) -> None:
    """Supervise a command: the settings from every layer, a signal trap (the process's own when it has one), the
    pipeline; exit with the result's code."""
    with contextlib.ExitStack() as stack:
        # From here a signal is recorded, not fatal: before the command starts it ends the run with its reports.
        trap = ctx.find_object(SignalTrap) or stack.enter_context(SignalTrap())
        values: dict[str, object] = {key: value for key, value in options.items() if value is not None}
        if command:
            values["command"] = tuple(command)
        settings = load_settings(values, dict(os.environ), Path.cwd())
        for notice in settings.deprecations:
            click.echo(inert_line(f"Warning: {notice}"), err=True)
        result = execute(settings, stream=sys.stdout, trap=trap)
    raise SystemExit(int(result.exit_code))
