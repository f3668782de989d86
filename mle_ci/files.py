"""Files of a result folder: atomic rewrites, the child's log, and redaction of secrets on the way out (by the
rules of :mod:`mle_ci.redaction`)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from mle_ci.redaction import Redactor


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so a reader (or a kill) never sees half a file. A folder of ours that was made
    read-only (the child runs as our user and may do that to the output folder) is made writable for us again."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except PermissionError:
        os.chmod(path.parent, stat.S_IMODE(os.stat(path.parent).st_mode) | stat.S_IRWXU)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class PieceRedactor:
    """Redacts output that arrives as lines, an over-long line in ``piece``-byte pieces, across the cuts too.

    A piece (``continued(line)``: more of its line follows, as the line splitter marks it) is handed on less its
    last bytes, which could begin a secret; they go in front of the next piece of that line, so a secret cut in two
    is still seen whole. A finished line keeps all its bytes.
    """

    def __init__(self, redactor: Redactor, piece: int, continued: Callable[[bytes], bool]) -> None:
        self._redactor = redactor
        self._piece = piece
        self._continued = continued
        self._keep = max(redactor.longest - 1, 0)
        self._held = b""

    def lines(self, lines: list[bytes]) -> list[bytes]:
        # Most batches hold no secret: one search over the whole batch instead of one per line.
        if not self._held and not any(map(self._continued, lines)) and not self._redactor.finds(b"\n".join(lines)):
            return lines
        out = []
        for line in lines:
            clean = self._redactor.bytes(self._held + line)
            self._held = b""
            if self._keep and len(line) == self._piece and self._continued(line):
                clean, self._held = clean[: -self._keep], clean[-self._keep :]
                if not clean:
                    continue  # all of it could still begin a secret
            out.append(clean)
        return out

    def flush(self) -> list[bytes]:
        """The bytes held back from a last piece, if any."""
        held, self._held = self._held, b""
        return [held] if held else []


RESERVE_NAME = ".mle-ci-reserve"
RESERVE_BYTES = 1024 * 1024
"""Disk space held back while the run goes, so the final reports fit even when the run fills the disk."""

Allocate = Callable[[int, int], None]
"""Gives an open file ``size`` bytes of disk blocks, or raises OSError (no room): the probe of free space."""


def allocate_blocks(fd: int, size: int) -> None:
    """The real :data:`Allocate`: ``posix_fallocate``, which fails with ENOSPC when the disk lacks the room."""
    os.posix_fallocate(fd, 0, size)


class SpaceReserve:
    """A file of allocated blocks in the result folder, deleted just before the final reports are written.

    ``problem`` says why the reserve could not be taken (then the run goes on without one).
    """

    def __init__(self, folder: Path, size: int = RESERVE_BYTES, allocate: Allocate = allocate_blocks) -> None:
        self.path = folder / RESERVE_NAME
        self.held = False
        self.problem: str | None = None
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                allocate(fd, size)
                self.held = True
            finally:
                os.close(fd)
        except OSError as exc:
            self.problem = (
                f"could not hold {size // 1024} KiB of disk back for the final reports ({exc.strerror or exc}): "
                "a small final result.json is written first"
            )
            self.release()

    def release(self) -> None:
        self.held = False
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


class LogFile:
    """The child's output, line by line; a write error (full disk) is remembered, not raised."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self._handle = None
        try:
            self._handle = open(path, "wb")  # noqa: SIM115 - kept open for the whole run
        except OSError as exc:
            self.error = f"cannot write {path.name}: {exc.strerror or exc}"

    def write_lines(self, lines: list[bytes]) -> None:
        if self._handle is None or not lines:
            return
        try:
            self._handle.write(b"\n".join(lines) + b"\n")
        except OSError as exc:
            self._fail(exc)

    def flush(self) -> None:
        if self._handle is None:
            return
        try:
            self._handle.flush()
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self.error = f"stopped writing {self.path.name}: {exc.strerror or exc}"
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()

    def close(self) -> None:
        self.flush()
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None
