"""Folders built once into a cache: built aside, renamed into place, marked finished with a format version.

A reader that sees the marker sees a whole folder: the marker is written last, inside the temporary folder,
before the one rename. Builders of the same folder take turns on a lock file (``flock``), so two processes
building at once end with one folder and the second one builds nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

if sys.platform != "win32":  # flock is POSIX's
    import fcntl

MARKER = "mle-ci-built.json"


def is_built(folder: Path, version: int) -> bool:
    """Whether the folder holds a finished build of this format version."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == version


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    if sys.platform == "win32":  # pragma: no cover - no flock: the rename below still keeps folders whole
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def ensure_built(folder: Path, version: int, build: Callable[[Path], None], info: dict[str, object]) -> bool:
    """Build ``folder`` with ``build(tmp)`` unless a finished build of ``version`` is there; True when built now."""
    if is_built(folder, version):
        return False
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.parent / f".{folder.name}.lock"):
        if is_built(folder, version):
            return False
        # leftovers of builds that were killed: nobody else builds this folder while we hold the lock
        for stale in folder.parent.glob(f".{folder.name}.tmp-*"):
            _remove(stale)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
        try:
            build(tmp)
            marker = json.dumps({"format": version, **info}, indent=2, sort_keys=True) + "\n"
            (tmp / MARKER).write_text(marker, encoding="utf-8")
            if folder.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-old-", dir=folder.parent))
                os.replace(folder, old / folder.name)
                _remove(old)
            os.rename(tmp, folder)
        except BaseException:
            _remove(tmp)
            raise
    return True
