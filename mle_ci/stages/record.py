"""result.json as the run leaves it: the full record, the minimal one for a short disk, and writing either so that
an earlier record never outlives the run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from mle_ci.files import write_atomic
from mle_ci.result import RunResult
from mle_ci.resultparts import FoldStatus


def result_json(result: RunResult) -> str:
    """result.json's text: the record as indented JSON, no NaN, Unicode kept."""
    return json.dumps(result.to_dict(), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


MINIMAL_NOTE = "result.json holds the run's minimal record only: the disk was short of space for the full one"


def minimal_result(result: RunResult) -> RunResult:
    """The record that says how the run ended in few bytes: status, exit, times, score, gates, messages and the
    node handed in (not the search's every node)."""
    return RunResult(
        status=result.status,
        command=result.command,
        started_at=result.started_at,
        finished_at=result.finished_at,
        duration_s=result.duration_s,
        timeout_s=result.timeout_s,
        child_pid=result.child_pid,
        child_exit_code=result.child_exit_code,
        child_signal=result.child_signal,
        competition=result.competition,
        metric=result.metric,
        folds=tuple(f for f in result.folds if f.status is FoldStatus.COMPLETED),
        total_folds=result.total_folds,
        reported_score=result.reported_score,
        min_score=result.min_score,
        submission=result.submission,
        gates=result.gates,
        crash=result.crash,
        errors=result.errors,
        warnings=(*(w for w in result.warnings if w != MINIMAL_NOTE), MINIMAL_NOTE),
        output_dir=result.output_dir,
        agent=result.agent,
        submission_producer=result.submission_producer,
        best_node=result.best_node,
    )


def write_result_file(path: Path, full: str, minimal: str) -> str | None:
    """Replace result.json with ``full``, else with ``minimal``: an earlier record (``running``) never outlives this.

    Each write replaces the file in one step; when not even the minimal record fits beside the old file, the old
    one goes first (its blocks make the room). Returns what went wrong, or None when ``full`` was written.
    """
    try:
        write_atomic(path, full)
    except OSError as exc:
        why = exc.strerror or str(exc)
    else:
        return None
    kept = f"cannot write {path.name} in full ({why}): it holds the minimal record"
    if minimal != full and _done(lambda: write_atomic(path, minimal)):
        return kept
    dropped = _done(lambda: path.unlink(missing_ok=True))
    if dropped and _done(lambda: write_atomic(path, minimal)):
        return kept
    # A folder that takes no new file may still let the old one be rewritten in place.
    if not dropped and _done(lambda: _rewrite(path, minimal)):
        return kept
    if dropped or _done(lambda: os.truncate(path, 0)):
        return f"cannot write {path.name} ({why}): no record of the run is left in the folder"
    return f"cannot write {path.name} ({why}), nor take away the earlier one: do not trust it"


def _done(action: Callable[[], object]) -> bool:
    """Whether ``action`` ran without an OSError."""
    try:
        action()
    except OSError:
        return False
    return True


def _rewrite(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
