"""``mle-ci grade``: score a submission as MLE-bench's grader does, with its medal thresholds; exit 1 when invalid.

``CompetitionError`` (a ``ConfigError``, exit 2) is left to the command line's one error handler.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import click

from mle_ci.commands.options import CACHE_DIR, DATA_DIR, UserPath, competition_settings
from mle_ci.competitions.grade import grade_submission
from mle_ci.competitions.model import GradeReport
from mle_ci.competitions.registry import find_competition
from mle_ci.console import inert_lines
from mle_ci.contract import ExitCode


@click.command()
@click.argument("submission", type=UserPath(dir_okay=False, path_type=Path))
@click.option("--competition", required=True, metavar="ID", help="The competition the submission is for.")
@click.option("--json/--no-json", "as_json", help="The report as JSON, with MLE-bench's field names.")
@click.option(
    "--leaderboard",
    type=UserPath(dir_okay=False, path_type=Path),
    help="A leaderboard.csv for the medal thresholds (default: the installed mlebench package's, or the data's).",
)
@DATA_DIR
@CACHE_DIR
def grade(  # noqa: PLR0917 - click passes the options in this order
    submission: Path,
    competition: str,
    as_json: bool,
    leaderboard: Path | None,
    data_dir: str | None,
    cache_dir: str | None,
) -> None:
    """Score a submission as MLE-bench's grader does, with its medal thresholds; exit 1 when invalid."""
    settings = competition_settings(data_dir=data_dir, cache_dir=cache_dir)
    code = grade_command(
        submission, competition, settings.data_dir, settings.cache_dir, sys.stdout, as_json, leaderboard
    )
    raise SystemExit(code)


def render_grade(report: GradeReport) -> str:
    """A grade report as ``name: value`` lines with MLE-bench's field names, problems last."""
    data = report.to_dict()
    problems = data.pop("problems")
    width = max(len(k) for k in data)
    lines = [f"{key.ljust(width)}  {'null' if value is None else value}" for key, value in data.items()]
    warnings = data.pop("warnings")
    lines += [f"problem: {p}" for p in problems]
    lines += [f"warning: {w}" for w in warnings]
    return "\n".join(lines) + "\n"


def grade_command(  # noqa: PLR0917 - the command line passes its options in this order
    submission: Path,
    competition_id: str,
    data_dir: Path | None,
    cache_dir: Path,
    stream: TextIO,
    as_json: bool,
    leaderboard: Path | None = None,
) -> int:
    """Grade a submission against the answers and the leaderboard; 0 when graded, 1 when it is invalid."""
    competition = find_competition(competition_id, data_dir=data_dir, cache_dir=cache_dir, leaderboard=leaderboard)
    report = grade_submission(submission, competition)
    stream.write(inert_lines(json.dumps(report.to_dict(), indent=2) + "\n" if as_json else render_grade(report)))
    return ExitCode.OK if report.valid_submission else ExitCode.FAILED
