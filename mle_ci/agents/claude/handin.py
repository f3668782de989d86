"""Handing a node's submission in: whether it beats the one handed in, and the copy that makes it the run's final one.

The run's submission file is read by the harness at any moment (a kill, the deadline), so it is replaced whole,
never rewritten in place: a reader sees the previous submission or the new one, never a part of either.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from pathlib import Path

from mle_ci.agents.claude.journal import Node


def is_better(score: float | None, than: Node | None, higher_is_better: bool) -> bool:
    """Whether a valid candidate with ``score`` replaces the handed-in node ``than``.

    Always when none is handed in; a scored candidate beats an unscored one; an unscored candidate never beats one
    handed in (nothing says it is better); an equal score keeps the earlier one (a change costs a copy and says
    nothing); otherwise the direction decides. A score that is not finite counts as none.
    """
    if than is None:
        return True
    if score is None or not math.isfinite(score):
        return False
    if than.score is None or not math.isfinite(than.score):
        return True
    return score > than.score if higher_is_better else score < than.score


def hand_in(source: Path, final: Path) -> None:
    """Copy ``source`` to ``final`` atomically: a temporary file in ``final``'s folder (the same file system, so the
    rename is atomic), written and fsynced, then ``os.replace``d over ``final``; the temporary file never outlives
    a failure."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as into:
            shutil.copyfileobj(into, out, 1024 * 1024)
            out.flush()
            os.fchmod(out.fileno(), 0o644)
            os.fsync(out.fileno())
        os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_folder(final.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; a file system that cannot sync a folder loses nothing a reader sees."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
