"""The ``competitions``, ``validate`` and ``grade`` commands as plain functions returning an exit code.

``CompetitionError`` (a ``ConfigError``, exit 2) is left to the command line's one error handler.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from mle_ci.competitions.grade import grade_submission
from mle_ci.competitions.model import CompetitionEntry, GradeReport
from mle_ci.competitions.registry import find_competition, list_competitions
from mle_ci.competitions.validate import validate_submission
from mle_ci.console import inert_line, inert_lines
from mle_ci.contract import ExitCode

_COLUMNS = ("id", "metric", "direction", "kind", "origin", "status")


def _status(entry: CompetitionEntry) -> str:
    if entry.origin == "embedded":
        return "ready" if entry.built else "ready (built on first use)"
    if entry.origin == "mle-bench":
        return "not prepared: run `mlebench prepare -c ID`, then give --data-dir"
    if entry.missing:
        return f"missing {', '.join(entry.missing)}"
    return "ready" if entry.gradeable else "ready, no answers in private/: cannot be graded"


def _row(entry: CompetitionEntry) -> tuple[str, ...]:
    spec = entry.spec
    if spec is None:
        return (entry.id, "", "", "", entry.origin, f"unreadable: {entry.problem}")
    direction = "higher is better" if spec.higher_is_better else "lower is better"
    return (
        entry.id,
        spec.metric or "unknown",
        direction if spec.metric else "",
        spec.kind,
        entry.origin,
        _status(entry),
    )


def render_table(entries: list[CompetitionEntry]) -> str:
    """The competitions as an aligned plain-text table."""
    rows = [_COLUMNS, *(_row(e) for e in entries)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def competitions_command(data_dir: Path | None, cache_dir: Path, stream: TextIO) -> int:
    """List the embedded and discovered competitions."""
    stream.write(inert_lines(render_table(list_competitions(data_dir=data_dir, cache_dir=cache_dir))))
    return ExitCode.OK


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
