"""``mle-ci validate``: check a submission as MLE-bench's grader would, every problem listed; exit 1 when invalid.

``CompetitionError`` (a ``ConfigError``, exit 2) is left to the command line's one error handler.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click

from mle_ci.commands.options import CACHE_DIR, DATA_DIR, UserPath, competition_settings
from mle_ci.competitions.registry import find_competition
from mle_ci.competitions.validate import validate_submission
from mle_ci.console import inert_line
from mle_ci.contract import ExitCode


@click.command()
@click.argument("submission", type=UserPath(dir_okay=False, path_type=Path))
@click.option("--competition", required=True, metavar="ID", help="The competition the submission is for.")
@DATA_DIR
@CACHE_DIR
def validate(submission: Path, competition: str, data_dir: str | None, cache_dir: str | None) -> None:
    """Check a submission as MLE-bench's grader would; every problem listed; exit 1 when invalid."""
    settings = competition_settings(data_dir=data_dir, cache_dir=cache_dir)
    raise SystemExit(validate_command(submission, competition, settings.data_dir, settings.cache_dir, sys.stdout))


def validate_command(
    submission: Path, competition_id: str, data_dir: Path | None, cache_dir: Path, stream: TextIO
) -> int:
    """Check a submission's format; 0 when valid, 1 with every problem listed when not."""
    competition = find_competition(competition_id, data_dir=data_dir, cache_dir=cache_dir)
    report = validate_submission(submission, competition)
    if report.valid:
        stream.write(inert_line(f"Submission is valid: {report.rows} rows for {competition.id} ({submission})") + "\n")
        stream.writelines(inert_line(f"  warning: {warning}") + "\n" for warning in report.warnings)
        return ExitCode.OK
    count = len(report.problems)
    stream.write(
        inert_line(f"Submission is invalid for {competition.id} ({submission}): {count} problem{'s' * (count > 1)}")
        + "\n"
    )
    stream.writelines(inert_line(f"  - {problem}") + "\n" for problem in report.problems)
    return ExitCode.FAILED
