"""``validate_submission``: the same checks as ``mle-ci validate``, run as a command (a child may run the CLI)."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

VALIDATE_TIMEOUT = 120.0


@dataclass(frozen=True)
class Verdict:
    """Whether a submission is valid, and the checker's own words."""

    valid: bool
    text: str


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


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return [], []
    return rows[0], rows[1:]


def check_against_sample(submission: Path, sample: Path) -> Verdict:
    """Columns, row count and ids as the sample submission has them, no empty cell: for data outside the layout."""
    try:
        header, rows = _read(submission)
        want_header, want_rows = _read(sample)
    except OSError as exc:
        return Verdict(False, f"cannot read: {exc}")
    problems = []
    if header != want_header:
        problems.append(f"columns {header} differ from the sample submission's {want_header}")
    if len(rows) != len(want_rows):
        problems.append(f"{len(rows)} rows, the sample submission has {len(want_rows)}")
    ids = {r[0] for r in rows if r}
    missing = {r[0] for r in want_rows if r} - ids
    if missing:
        problems.append(f"{len(missing)} id(s) of the sample submission missing, e.g. {sorted(missing)[:3]}")
    empty = sum(1 for r in rows if len(r) != len(want_header) or any(not c.strip() for c in r))
    if empty:
        problems.append(f"{empty} row(s) with a missing or empty cell")
    if problems:
        return Verdict(False, "Submission is invalid: " + "; ".join(problems))
    return Verdict(True, f"Submission is valid: {len(rows)} rows (checked against {sample.name})")


def validate(
    submission: Path, *, competition: str | None, data_dir: Path, env: Mapping[str, str], cwd: Path
) -> Verdict:
    """Run ``mle-ci validate`` where the competition can be found, else check against the sample submission."""
    if not submission.is_file():
        return Verdict(False, f"no submission at {submission}")
    argv = validate_argv(submission, competition, data_dir)
    if argv is None:
        return check_against_sample(submission, data_dir / "sample_submission.csv")
    # The run's MLE_CI_* variables are settings to the CLI: validation must not depend on them.
    clean = {name: value for name, value in env.items() if not name.startswith("MLE_CI_")}
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=clean, capture_output=True, text=True, timeout=VALIDATE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Verdict(False, f"mle-ci validate could not run: {exc}")
    text = (done.stdout + done.stderr).strip()
    return Verdict(done.returncode == 0, text or f"mle-ci validate exit code {done.returncode}")
