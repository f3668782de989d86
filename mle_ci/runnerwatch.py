"""The runner's file-command files, watched across the child's run: what the child changed, and putting it back.

The child's environment does not name these files, but on a plain host the child runs as the harness's user and
could still find them (the runner keeps them in a known folder). Their state is taken before the child starts and
compared once it and every process under it are gone; whatever changed is put back as it was, and the run fails
its ``runner-files`` gate. Putting back is the only write here: the GitHub adapter writes the harness's own
outputs and summary afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mle_ci.runnerfiles import FILE_COMMANDS

__all__ = [
    "KEEP_LIMIT",
    "FileState",
    "RunnerFilesWatch",
    "Tampering",
    "describe_change",
    "read_state",
]

KEEP_LIMIT = 4 * 1024 * 1024
"""Bytes of a file kept to put it back whole; past this, only what was appended can be taken off again."""

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileState:
    """One runner file at one moment: missing, or its identity, size and the SHA-256 of its first bytes."""

    name: str
    path: Path
    exists: bool
    regular: bool = False
    identity: tuple[int, int] | None = None
    mode: int = 0o644
    size: int = 0
    digest: str = ""
    """SHA-256 of the first ``min(size, upto)`` bytes (all of them unless :func:`read_state` was given ``upto``)."""
    content: bytes | None = None


@dataclass(frozen=True)
class Tampering:
    """A runner file the child changed: how, and whether it was put back."""

    name: str
    change: str
    restored: bool

    @property
    def phrase(self) -> str:
        return f"{self.name} ({self.change}{'' if self.restored else '; could not be put back'})"


def read_state(name: str, path: Path, *, upto: int | None = None, keep: int = KEEP_LIMIT) -> FileState:
    """The file's state now, without following a link; its bytes are kept when there are at most ``keep``."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return FileState(name, path, exists=False)
    identity = (info.st_dev, info.st_ino)
    if not stat.S_ISREG(info.st_mode):
        return FileState(name, path, exists=True, identity=identity, size=info.st_size)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        limit = info.st_size if upto is None else min(info.st_size, upto)
        digest, kept, left = hashlib.sha256(), bytearray(), limit
        while left > 0:
            chunk = handle.read(min(_CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            if info.st_size <= keep:
                kept += chunk
            left -= len(chunk)
    return FileState(
        name,
        path,
        exists=True,
        regular=True,
        identity=(info.st_dev, info.st_ino),
        mode=stat.S_IMODE(info.st_mode),
        size=info.st_size,
        digest=digest.hexdigest(),
        content=bytes(kept) if info.st_size <= keep else None,
    )


def describe_change(before: FileState, after: FileState) -> str | None:
    """How the file changed between the two states, in a few words; None when it did not.

    ``after`` is read with ``upto=before.size``, so its digest covers what was there before.
    """
    if not before.exists:
        return None if not after.exists else f"created, {after.size} bytes"
    if not after.exists:
        return "deleted"
    if before.regular and not after.regular:
        return "replaced by a link or something other than a file"
    if after.identity != before.identity:
        return "replaced by another file"
    if not before.regular:
        return None
    if after.size == before.size and after.digest == before.digest:
        return None
    if after.size > before.size and after.digest == before.digest:
        return f"{after.size - before.size} bytes appended"
    if after.size < before.size:
        return f"cut from {before.size} to {after.size} bytes"
    return "rewritten"


@dataclass(frozen=True)
class FolderState:
    """A folder holding runner files, before the child: its identity and permission bits."""

    path: Path
    identity: tuple[int, int]
    mode: int


def _folder_state(path: Path) -> FolderState | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    return FolderState(path, (info.st_dev, info.st_ino), stat.S_IMODE(info.st_mode))


def _mode_back(path: Path, identity: tuple[int, int] | None, mode: int, *, folder: bool) -> tuple[str | None, bool]:
    """Put back the permission bits of the same file or folder, as the owner may: what changed, and whether it
    is as it was now (a different file or none is left to the content check)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None, True
    now = stat.S_IMODE(info.st_mode)
    kind = stat.S_ISDIR if folder else stat.S_ISREG  # an inode number is reused: the kind must match too
    if (info.st_dev, info.st_ino) != identity or not kind(info.st_mode) or now == mode:
        return None, True
    change = f"permissions changed from {mode:04o} to {now:04o}"
    try:
        os.chmod(path, mode, follow_symlinks=False)
    except (OSError, NotImplementedError):
        return change, False
    return change, True


class RunnerFilesWatch:
    """The state of each runner file named in the environment, and of their folders, taken before the child
    starts."""

    def __init__(self, states: tuple[FileState, ...], folders: tuple[FolderState, ...] = ()) -> None:
        self._before = states
        self._folders = folders

    @classmethod
    def start(cls, env: Mapping[str, str]) -> RunnerFilesWatch:
        """Take the state of every file-command file ``env`` names (one that cannot be read is left out)."""
        states = []
        for name in FILE_COMMANDS:
            value = env.get(name, "").strip()
            if value:
                with contextlib.suppress(OSError):
                    states.append(read_state(name, Path(value)))
        parents = dict.fromkeys(state.path.parent for state in states)
        folders = tuple(folder for folder in map(_folder_state, parents) if folder is not None)
        return cls(tuple(states), folders)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self._before)

    def check(self) -> tuple[Tampering, ...]:
        """Compare each file (and folder) with its state at the start, put back what changed, and say what did.

        Permission bits go back first, the folders' before the files': a child of the same user can make a file
        or its folder unreadable or unwritable, and only then can the content be read and put back.
        """
        found = []
        for folder in self._folders:
            change, restored = _mode_back(folder.path, folder.identity, folder.mode, folder=True)
            if change is not None:
                found.append(Tampering(f"their folder {folder.path.name}", change, restored))
        for before in self._before:
            mode_change, mode_restored = (
                _mode_back(before.path, before.identity, before.mode, folder=False) if before.regular else (None, True)
            )
            try:
                after = read_state(before.name, before.path, upto=before.size, keep=0)
            except OSError as exc:
                found.append(Tampering(before.name, f"unreadable now: {exc.strerror or exc}", restored=False))
                continue
            change = describe_change(before, after)
            restored = mode_restored and (change is None or _put_back(before, after))
            changes = [c for c in (mode_change, change) if c is not None]
            if changes:
                found.append(Tampering(before.name, "; ".join(changes), restored))
        return tuple(found)


def _put_back(before: FileState, after: FileState) -> bool:
    """Make the file what it was before the child; False when that cannot be done."""
    try:
        return _restore(before, after)
    except OSError:
        return False


def _restore(before: FileState, after: FileState) -> bool:
    path = before.path
    if not before.exists:
        path.unlink(missing_ok=True)
        return True
    if not before.regular:
        return False
    same_file = after.regular and after.identity == before.identity
    if before.content is None:
        # Too big to have been kept: only an append can be taken off again.
        if same_file and after.size > before.size and after.digest == before.digest:
            os.truncate(path, before.size)
            return True
        return False
    if same_file:
        _rewrite_in_place(path, before.content)
    else:
        _replace(path, before.content, before.mode)
    return True


def _rewrite_in_place(path: Path, content: bytes) -> None:
    """Write ``content`` over the file the runner opened, never through a link."""
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.ftruncate(fd, 0)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _replace(path: Path, content: bytes, mode: int) -> None:
    """Put a plain file with ``content`` in place of whatever is at ``path`` now (a link is replaced, not followed)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)  # a folder the child made in the file's place; rmtree follows no link in it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
