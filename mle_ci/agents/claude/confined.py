"""Race-free file access under a few root folders, walked one name at a time from folder descriptors.

Nothing outside the roots is ever opened. Each name is opened relative to the descriptor of the folder above it
with ``O_NOFOLLOW``; a symbolic link is read, never followed by the kernel, and its target is walked the same way;
``..`` is taken on the walk's own record of where it is, never by opening "..". A path therefore cannot be swapped
between its check and its use: what is read or written is what was walked to. Where ``/proc/self/fd`` exists, the
kernel's own name of the opened descriptor is checked as well, before a byte is read or written.

Exceptions: :class:`Refused` (and its :class:`Outside`, :class:`ReadOnly`) for a path the rules refuse;
``OSError`` for what the file system says (no such file, a name too long, a full disk).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mle_ci.errors import MleCiError

__all__ = ["MAX_LINKS", "Outside", "ReadOnly", "Refused", "Root", "open_file", "owner", "pin", "replace_file"]

MAX_LINKS = 40
"""Symbolic links one path may pass through, as Linux allows."""

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a terminal never becomes ours.
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# O_DIRECTORY | O_NOFOLLOW on a link fails with ENOTDIR on Linux, a plain O_NOFOLLOW with ELOOP (EMLINK on BSD).
_LINK_ERRNOS = (errno.ELOOP, errno.EMLINK, errno.ENOTDIR)
_OWN_FDS = "/proc/self/fd"
_SLASH = PurePosixPath("/")


class Refused(MleCiError):
    """A path the rules refuse: through too many links, not a regular file, or changed while it was walked."""


class Outside(Refused):
    """A path that leads outside every root."""


class ReadOnly(Refused):
    """A write into a root that is read-only."""


@dataclass(frozen=True)
class Root:
    """A folder a walk may enter: its real path, the spellings that name it, its identity, whether writable."""

    real: PurePosixPath
    spellings: frozenset[str]
    device: int
    inode: int
    writable: bool

    def holds(self, path: PurePosixPath) -> bool:
        return path == self.real or self.real in path.parents


def pin(folder: Path, *, writable: bool) -> Root:
    """``folder`` as a root, pinned to the folder it is now: one moved or replaced later is refused, not followed."""
    real = folder.resolve(strict=True)
    info = os.stat(real)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    spellings = frozenset({str(real), os.path.normpath(folder.absolute())})
    return Root(PurePosixPath(real), spellings, info.st_dev, info.st_ino, writable)


def owner(roots: Sequence[Root], path: PurePosixPath) -> Root | None:
    """The innermost root that holds ``path`` (the first listed of equals), or None."""
    holding = [root for root in roots if root.holds(path)]
    return max(holding, key=lambda root: len(root.real.parts), default=None)


class _Walk:
    """Where a walk is: a folder inside the roots (its descriptor and real path) or, between roots, a bare path."""

    def __init__(self, roots: Sequence[Root]) -> None:
        self.roots = roots
        self.fd: int | None = None
        self.at = _SLASH
        self.links = 0

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def folder(self) -> int:
        """The descriptor of the folder the walk is in; outside every root there is none."""
        if self.fd is None:
            raise Outside(f"{self.at} is outside the allowed folders")
        return self.fd

    def _hold(self, fd: int | None, at: PurePosixPath) -> None:
        self.close()
        self.fd, self.at = fd, at

    def enter(self, root: Root) -> None:
        fd = os.open(root.real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != (root.device, root.inode):
            os.close(fd)
            raise Refused(f"{root.real} was moved or replaced after the run began")
        self._hold(fd, root.real)

    def leave(self) -> None:
        """To the top of the file system, outside every root (an absolute path or link target starts here)."""
        self._hold(None, _SLASH)

    def up(self) -> None:
        parent = self.at.parent
        home = owner(self.roots, parent) if self.fd is not None else None
        if home is None:
            self._hold(None, parent)  # between roots nothing is opened, only the path is kept
            return
        self.enter(home)
        for name in parent.relative_to(home.real).parts:
            try:
                self._hold(os.open(name, _DIR, dir_fd=self.fd), self.at / name)
            except OSError as exc:
                if exc.errno not in _LINK_ERRNOS:
                    raise
                raise Refused(f"{parent} changed while it was walked") from None

    def down(self, name: str, *, create: bool) -> str | None:
        """Into the folder ``name`` (made when ``create``); its target, not entered, when it is a symbolic link."""
        if self.fd is None:
            self.at = self.at / name
            root = next((r for r in self.roots if str(self.at) in r.spellings), None)
            if root is not None:
                self.enter(root)
            return None
        try:
            fd = os.open(name, _DIR, dir_fd=self.fd)
        except FileNotFoundError:
            if not create:
                raise
            self.check_writable()
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o777, dir_fd=self.fd)
            return self.down(name, create=False)
        except OSError as exc:
            if exc.errno not in _LINK_ERRNOS:
                raise
            target = self.link(name)
            if target is None:
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(self.at / name)) from None
            return target
        self._hold(fd, self.at / name)
        return None

    def link(self, name: str) -> str | None:
        """The target of ``name`` in this folder when it is a symbolic link; None when it is not, or is missing."""
        if self.fd is None:
            return None
        try:
            target = os.readlink(name, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):
                return None
            raise
        self.links += 1
        if self.links > MAX_LINKS:
            raise Refused(f"more than {MAX_LINKS} symbolic links")
        return target

    def check_writable(self) -> None:
        home = owner(self.roots, self.at) if self.fd is not None else None
        if home is None or not home.writable:
            raise ReadOnly(f"{self.at} is read-only")


def _names(path: str) -> list[str]:
    return [name for name in path.split("/") if name not in ("", ".")]


def _follow(walk: _Walk, target: str, rest: deque[str]) -> None:
    rest.extendleft(reversed(_names(target)))
    if target.startswith("/"):
        walk.leave()


def _resolve(path: str, roots: Sequence[Root], start: Root, *, create: bool) -> tuple[_Walk, str | None]:
    """The walk to the folder that holds the last name of ``path``, and that name (None: ``path`` is a folder).

    Every link is followed here, the last name's too, so the caller opens a name that was not a link when looked
    at; opening it with ``O_NOFOLLOW`` (or replacing it by a rename) keeps it so.
    """
    walk = _Walk(roots)
    try:
        if path.startswith("/"):
            walk.leave()
        else:
            walk.enter(start)
        rest = deque(_names(path))
        while True:
            while rest and (len(rest) > 1 or rest[0] == ".."):
                name = rest.popleft()
                if name == "..":
                    walk.up()
                    continue
                target = walk.down(name, create=create)
                if target is not None:
                    _follow(walk, target, rest)
            if not rest:
                walk.folder()
                return walk, None
            if walk.fd is None:
                # The last name outside every root: a root's own name, or nothing that may be touched.
                walk.down(rest.popleft(), create=False)
                continue
            target = walk.link(rest[0])
            if target is None:
                return walk, rest[0]
            rest.popleft()
            _follow(walk, target, rest)
    except BaseException:
        walk.close()
        raise


def _confirm(fd: int, roots: Sequence[Root]) -> None:
    """Where the kernel names an open descriptor (Linux's ``/proc/self/fd``), that name must lie in a root."""
    try:
        name = os.readlink(f"{_OWN_FDS}/{fd}")
    except OSError:
        return  # no /proc here: the walk alone holds
    real = PurePosixPath(name.removesuffix(" (deleted)"))
    if not name.startswith("/") or owner(roots, real) is None:
        raise Outside(f"{name} is outside the allowed folders")


def _check_regular(fd: int, roots: Sequence[Root]) -> None:
    kind = stat.S_IFMT(os.fstat(fd).st_mode)
    if kind != stat.S_IFREG:
        raise Refused("a folder, not a file" if kind == stat.S_IFDIR else "not a regular file")
    _confirm(fd, roots)


def open_file(path: str, roots: Sequence[Root], start: Root) -> int:
    """A descriptor open for reading on the regular file ``path`` names in the roots (relative to ``start``)."""
    walk, name = _resolve(path, roots, start, create=False)
    try:
        if name is None:
            raise Refused("a folder, not a file")
        try:
            fd = os.open(name, _READ, dir_fd=walk.folder())
        except OSError as exc:
            if exc.errno not in _LINK_ERRNOS:
                raise
            raise Refused("it was made a symbolic link while it was opened; try again") from None
    finally:
        walk.close()
    try:
        _check_regular(fd, roots)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def replace_file(path: str, data: bytes, roots: Sequence[Root], start: Root) -> PurePosixPath:
    """Write ``data`` as the file ``path`` names in a writable root, replacing it whole; its real path."""
    walk, name = _resolve(path, roots, start, create=True)
    try:
        if name is None:
            raise Refused("a folder, not a file")
        folder = walk.folder()
        walk.check_writable()
        _confirm(folder, roots)
        temp = f".mle-ci-{secrets.token_hex(8)}.tmp"
        fd = os.open(temp, _NEW, 0o644, dir_fd=folder)
        try:
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            # A rename replaces whatever has the name now, a link included: it never writes through one.
            os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder)
            raise
        return walk.at / name
    finally:
        walk.close()
