"""``mle-ci aggregate``: read every run, write leaderboard.md, junit.xml and aggregate.json, publish to GitHub."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO, cast

import click

from mle_ci.aggregate.collect import load_runs
from mle_ci.aggregate.model import Leaderboard, build_leaderboard
from mle_ci.aggregate.render import (
    decide_annotations,
    decide_outputs,
    render_combined_junit,
    render_json,
    render_leaderboard,
)
from mle_ci.commands.options import UserPath
from mle_ci.console import inert_line, inert_lines
from mle_ci.contract import ExitCode
from mle_ci.errors import ConfigError
from mle_ci.files import write_atomic
from mle_ci.github import GitHub, GitHubFileError, Level
from mle_ci.redaction import Redactor

DEFAULT_OUTPUT = Path("mle-ci-aggregate")
FILES = {"summary": "leaderboard.md", "junit": "junit.xml", "aggregate": "aggregate.json"}


@click.command()
@click.argument("result_dirs", metavar="RESULT_DIR...", nargs=-1, type=UserPath(path_type=Path))
@click.option("--expect", type=int, metavar="N", help="Runs expected: those never uploaded count as failed.")
@click.option("--output-dir", "output_dir", type=UserPath(path_type=Path), metavar="DIR", help="mle-ci-aggregate.")
@click.option("--json/--no-json", "as_json", help="Print aggregate.json (MLE-bench's field names) to stdout.")
def aggregate(result_dirs: tuple[Path, ...], expect: int | None, output_dir: Path | None, as_json: bool) -> None:
    """Merge matrix runs (folders searched for result.json) into one leaderboard, JUnit and JSON.

    Exit 1 when any run failed or never uploaded, 2 when nothing can be aggregated.
    """
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


def aggregate_command(
    folders: Sequence[Path],
    *,
    expect: int | None,
    output_dir: Path | None,
    as_json: bool,
    env: Mapping[str, str],
    cwd: Path,
    stream: TextIO,
) -> int:
    """Exit 1 when any run failed (or never uploaded), 2 when there is nothing to aggregate, else 0."""
    if not folders:
        raise ConfigError("RESULT_DIR: name at least one folder of downloaded results")
    if expect is not None and expect < 1:
        raise ConfigError(f"--expect: must be at least 1, got {expect}")
    runs = load_runs(folders, cwd=cwd)
    if not runs and expect is None:
        shown = ", ".join(str(f) for f in folders)
        raise ConfigError(f"no result.json found under {shown}; pass --expect N to report the runs as missing")
    board = build_leaderboard(runs, expect=expect)
    out = cwd / (output_dir or DEFAULT_OUTPUT)
    redactor = Redactor.from_env(env)
    markdown = redactor.text(render_leaderboard(board))
    texts = {
        "summary": markdown,
        "junit": redactor.text(render_combined_junit(board)),
        "aggregate": redactor.text(render_json(board)),
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        for key, name in FILES.items():
            write_atomic(out / name, texts[key])
    except OSError as exc:
        raise ConfigError(f"--output-dir: cannot write to {out}: {exc.strerror or exc}") from None
    stream.write(inert_lines(texts["aggregate"] if as_json else markdown))
    if not as_json:
        stream.write(inert_lines(f"\nwrote {', '.join(str(out / name) for name in FILES.values())}\n"))
    stream.flush()
    github = GitHub.from_env(env, stream)
    if github is not None:
        paths = {key: str(out / name) for key, name in FILES.items()}
        _publish(github, board=board, markdown=markdown, files=paths, redactor=redactor, stream=stream)
    return int(ExitCode.OK if board.passed else ExitCode.FAILED)


def _publish(
    github: GitHub,
    *,
    board: Leaderboard,
    markdown: str,
    files: Mapping[str, str],
    redactor: Redactor,
    stream: TextIO,
) -> None:
    """The step summary, outputs and annotations of the aggregation."""
    try:
        github.append_summary(markdown)
        github.set_outputs(decide_outputs(board, files=files))
    except GitHubFileError as exc:
        stream.write(inert_line(str(exc)) + "\n")
    for annotation in decide_annotations(board):
        github.annotate(cast("Level", annotation.level), redactor.text(annotation.message), title=annotation.title)
