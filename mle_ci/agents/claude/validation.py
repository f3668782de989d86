"""``validate_submission``: the same checks as ``mle-ci validate``, run as a command (a child may run the CLI).

This is the one reader of the agent's submission: the tool and the end of the run both check it here.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from mle_ci.agents.claude.config import SUBMISSION_NAME
from mle_ci.agents.claude.workspace import ToolError, Workspace

VALIDATE_TIMEOUT = 120.0
SAMPLE_NAME = "sample_submission.csv"
MAX_COPY = 2 * 2**30
"""The largest submission copied for ``mle-ci validate``; a larger one is reported as too large, never read whole."""
COPY_PIECE = 1024 * 1024
MAX_LINE = 16 * 2**20
"""The longest line the sample check reads."""


@dataclass(frozen=True)
class Verdict:
    """Whether a submission is valid, and the checker's own words."""

    valid: bool
    text: str
    rows: int | None = None
    """Lines after the header, when valid."""


def validate_argv(submission: Path, competition: str | None, data_dir: Path) -> list[str] | None:
    """``mle-ci validate`` for a public folder in MLE-bench's layout (``<root>/<id>/prepared/public``), else None."""
    public = data_dir.resolve()
    if competition is None or public.name != "public" or public.parent.name != "prepared":
        return None
    if public.parents[1].name != competition:
        return None
    root = public.parents[2]
    # Embedded demos live in <cache>/competitions/<id>; discovered ones in <data-dir>/<id>: pass both.
    return [
        sys.executable,
        "-m",
        "mle_ci",
        "validate",
        str(submission),
        "--competition",
        competition,
        "--data-dir",
        str(root),
        "--cache-dir",
        str(root.parent),
    ]


def _lines(handle: BinaryIO) -> Iterator[str]:
    """The lines of ``handle`` from its start, each bounded: a file of one endless line is not read into memory."""
    handle.seek(0)
    while line := handle.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise ValueError(f"a line longer than {MAX_LINE // 2**20} MiB")
        yield line.decode("utf-8", errors="replace")


def check_against_sample(submission: BinaryIO, sample: BinaryIO) -> Verdict:
    """Columns, row count and ids as the sample submission has them, no empty cell: for data outside the layout."""
    try:
        want = list(csv.reader(_lines(sample)))
        want_header, want_rows = (want[0], want[1:]) if want else ([], [])
        rows = csv.reader(_lines(submission))
        header = next(rows, [])
        count = empty = 0
        ids = set()
        for row in rows:
            count += 1
            if row:
                ids.add(row[0])
            empty += len(row) != len(want_header) or any(not cell.strip() for cell in row)
    except (OSError, ValueError, csv.Error) as exc:
        return Verdict(False, f"cannot read: {exc}")
    problems = []
    if header != want_header:
        problems.append(f"columns {header} differ from the sample submission's {want_header}")
    if count != len(want_rows):
        problems.append(f"{count} rows, the sample submission has {len(want_rows)}")
    missing = {r[0] for r in want_rows if r} - ids
    if missing:
        problems.append(f"{len(missing)} id(s) of the sample submission missing, e.g. {sorted(missing)[:3]}")
    if empty:
        problems.append(f"{empty} row(s) with a missing or empty cell")
    if problems:
        return Verdict(False, "Submission is invalid: " + "; ".join(problems))
    return Verdict(True, f"Submission is valid: {count} rows (checked against {SAMPLE_NAME})")


def count_rows(handle: BinaryIO) -> int:
    """Lines after the header (the number a ``submission`` event reports)."""
    handle.seek(0)
    lines, last = 0, b"\n"
    while piece := handle.read(COPY_PIECE):
        lines += piece.count(b"\n")
        last = piece[-1:]
    return max(0, lines + (last != b"\n") - 1)


def _copy(source: BinaryIO, target: Path, limit: int) -> bool:
    """Copy ``source`` from its start into the new file ``target``; False when it holds more than ``limit`` bytes."""
    source.seek(0)
    copied = 0
    with target.open("xb") as out:
        while piece := source.read(COPY_PIECE):
            copied += len(piece)
            if copied > limit:
                return False
            out.write(piece)
    return True


def _run_cli(
    submission: BinaryIO, shown: str, *, competition: str | None, data_dir: Path, env: Mapping[str, str], cwd: Path
) -> Verdict:
    """``mle-ci validate`` on a private copy, named as the submission: the command never opens the agent's path."""
    with tempfile.TemporaryDirectory(prefix="mle-ci-validate-") as folder:
        copy = Path(folder) / (PurePosixPath(shown).name or SUBMISSION_NAME)
        if not _copy(submission, copy, MAX_COPY):
            return Verdict(False, f"{shown}: more than {MAX_COPY // 2**30} GiB, too large to check")
        argv = validate_argv(copy, competition, data_dir)
        if argv is None:
            return Verdict(False, f"no competition {competition!r} in MLE-bench's layout at {data_dir}")
        # The run's MLE_CI_* variables are settings to the CLI: validation must not depend on them.
        clean = {name: value for name, value in env.items() if not name.startswith("MLE_CI_")}
        try:
            done = subprocess.run(
                argv, cwd=cwd, env=clean, capture_output=True, text=True, timeout=VALIDATE_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Verdict(False, f"mle-ci validate could not run: {exc}")
    text = (done.stdout + done.stderr).strip().replace(str(copy), shown)
    return Verdict(done.returncode == 0, text or f"mle-ci validate exit code {done.returncode}")


def validate(
    space: Workspace, path: str | None, *, competition: str | None, env: Mapping[str, str], cwd: Path
) -> Verdict:
    """Check the submission (``path``, by default the run's) as the grader does, or against the sample submission.

    Both files are read through the workspace's confined opener: a link out of the allowed folders (out of the
    submission folder, for the run's own submission) is refused, so no foreign file is ever read or echoed.
    """
    shown = path or str(space.submission_path())
    try:
        submission = space.open_submission(path)
    except ToolError as exc:
        return Verdict(False, str(exc))
    with submission:
        if validate_argv(Path(shown), competition, space.data) is not None:
            verdict = _run_cli(submission, shown, competition=competition, data_dir=space.data, env=env, cwd=cwd)
        else:
            try:
                sample = space.open(str(space.data / SAMPLE_NAME))
            except ToolError as exc:
                return Verdict(False, f"no sample submission to check against: {exc}")
            with sample:
                verdict = check_against_sample(submission, sample)
        return replace(verdict, rows=count_rows(submission)) if verdict.valid else verdict
