"""What a search node did, read for judging it: which of its commands was its training run and what that printed,
and the parent's code it starts from."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mle_ci.agents.claude.jobs import Job
from mle_ci.agents.claude.journal import CodeFile
from mle_ci.agents.claude.nodework import NodeScores
from mle_ci.agents.claude.tools import CommandRun

LOG_TAIL = 20_000
"""Bytes read from the end of a job's log: its traceback, if it failed, is there."""


def first_line(text: str) -> str:
    """The first non-empty line of a verdict or an output."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "no file")


def copy_code(code: tuple[CodeFile, ...], folder: Path) -> None:
    """The parent's code, written into the new node's folder (paths stay inside it)."""
    root = folder.resolve()
    for item in code:
        target = (root / item.path).resolve()
        if root not in target.parents:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.text, encoding="utf-8")


def job_output(job: Job) -> str:
    """The end of a job's log (where a traceback is), else the lines it kept."""
    try:
        with job.log.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - LOG_TAIL))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "\n".join(job.tail)


@dataclass(frozen=True)
class _Ran:
    """One command of a node, ``bash`` or a job, as judging needs it."""

    started: float
    ended: float
    command: str
    output: Callable[[], str]
    exit_code: int | None


def main_command(
    runs: list[CommandRun], jobs: list[Job], scores: NodeScores, node: int
) -> tuple[str | None, str, int | None]:
    """The node's training run, as ``(command, output, exit code)``: its last command that reported progress, else
    its last that failed, else its last; ``(None, "", None)`` when it ran none."""
    ran = [_Ran(r.started, r.ended, r.command, functools.partial(str, r.output_tail), r.exit_code) for r in runs]
    for job in jobs:
        job.state()
        output = functools.partial(job_output, job)
        ran.append(_Ran(job.started, job.ended or time.time(), job.command, output, job.process.returncode))
    if not ran:
        return None, "", None
    ran.sort(key=lambda r: r.started)
    reporting = [r for r in ran if scores.reported_between(node, r.started, r.ended)]
    failed = [r for r in ran if r.exit_code not in (0, None)]
    chosen = (reporting or failed or ran)[-1]
    return chosen.command, chosen.output(), chosen.exit_code
