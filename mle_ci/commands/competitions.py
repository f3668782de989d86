"""``mle-ci competitions``: the embedded demo competitions and those found under ``--data-dir``, as a table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click

from mle_ci.commands.options import CACHE_DIR, DATA_DIR, competition_settings
from mle_ci.competitions.model import CompetitionEntry
from mle_ci.competitions.registry import list_competitions
from mle_ci.console import inert_lines
from mle_ci.contract import ExitCode


@click.command()
@DATA_DIR
@CACHE_DIR
def competitions(data_dir: str | None, cache_dir: str | None) -> None:
    """List the embedded demo competitions and those found under --data-dir."""
    settings = competition_settings(data_dir=data_dir, cache_dir=cache_dir)
    raise SystemExit(competitions_command(settings.data_dir, settings.cache_dir, sys.stdout))


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
