"""``mle-ci report``: render a result folder's reports again from its ``result.json`` and say what was written."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import click

from mle_ci.commands.options import UserPath
from mle_ci.console import inert_line, make_console
from mle_ci.contract import ExitCode
from mle_ci.errors import ResultError
from mle_ci.github import GitHub
from mle_ci.redaction import Redactor
from mle_ci.result import RunResult
from mle_ci.stages.outlets import Outlets
from mle_ci.stages.plan import ResultFiles
from mle_ci.stages.publish import publish
from mle_ci.usertext import read_json


@click.command()
@click.argument("result_dir", metavar="RESULT_DIR", type=UserPath(file_okay=False, path_type=Path))
def report(result_dir: Path) -> None:
    """Render summary.md, junit.xml (transcript.md, GitHub outputs) again from RESULT_DIR/result.json.

    Exit 0 once rendered, whatever the run's own exit code was (it is in the line printed and in the outputs);
    exit 2 when RESULT_DIR holds no readable result.json.
    """
    result = republish(result_dir, env=dict(os.environ), stream=sys.stdout)
    wrote = "summary.md, junit.xml and transcript.md" if (result_dir / "transcript.md").exists() else ""
    click.echo(
        inert_line(
            f"{result_dir}: {result.status.value} (the run exited {int(result.exit_code)}); "
            f"wrote {wrote or 'summary.md and junit.xml'}"
        )
    )
    raise SystemExit(int(ExitCode.OK))


def load_result(folder: Path) -> RunResult:
    """Read a result folder's result.json back."""
    path = folder / "result.json"
    try:
        data = read_json(path)
    except FileNotFoundError:
        raise ResultError(f"{folder} holds no result.json") from None
    except (OSError, ValueError) as exc:
        raise ResultError(f"cannot read {path}: {exc}") from None
    return RunResult.from_dict(data)


def republish(folder: Path, *, env: Mapping[str, str], stream: TextIO) -> RunResult:
    """``mle-ci report``: render summary, JUnit and (in GitHub Actions) outputs and annotations again."""
    result = load_result(folder)
    github = GitHub.from_env(env, stream) if env.get("GITHUB_ACTIONS") == "true" else None
    console = make_console(stream, display="plain", github_actions=github is not None)
    publish(result, ResultFiles(folder), Outlets(console, github, Redactor.from_env(env)))
    return result
