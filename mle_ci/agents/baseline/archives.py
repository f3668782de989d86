"""Zip files of a data folder: their members listed, and chosen members extracted safely and once under scratch."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mle_ci.errors import MleCiError

ARCHIVE_FAILURES = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, RuntimeError)
"""What zipfile raises on a broken, truncated or encrypted archive (RuntimeError: a password is needed)."""


class UnreadableFile(MleCiError):
    """A file of the data folder that cannot be read, or not safely; the message names the file."""


@dataclass(frozen=True)
class ZipListing:
    """The file members of a zip, in archive order, without folders and macOS metadata."""

    path: Path
    members: tuple[str, ...]

    def with_suffix(self, suffixes: Collection[str]) -> tuple[str, ...]:
        """The members whose name ends in one of ``suffixes`` (lower-case, with the dot)."""
        return tuple(name for name in self.members if PurePosixPath(name).suffix.lower() in suffixes)


def _metadata(name: str) -> bool:
    """A macOS resource fork or Finder file, which zips made on a Mac carry beside the real members."""
    path = PurePosixPath(name)
    return "__MACOSX" in path.parts or path.name.startswith("._") or path.name == ".DS_Store"


def list_zip(path: Path) -> ZipListing:
    """List the file members of the zip at ``path``."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except ARCHIVE_FAILURES as error:
        raise UnreadableFile(f"{path.name}: not a readable zip ({error})") from error
    return ZipListing(
        path, tuple(info.filename for info in infos if not info.is_dir() and not _metadata(info.filename))
    )


def _target(root: Path, info: zipfile.ZipInfo, zip_name: str) -> Path:
    """Where a member lands under ``root``; a member that could land anywhere else refuses the whole zip."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise UnreadableFile(f"{zip_name}: member {info.filename!r} would land outside the extraction folder: refused")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnreadableFile(f"{zip_name}: member {info.filename!r} is a symbolic link: refused")
    target = root.joinpath(*parts)
    if not target.resolve().is_relative_to(root.resolve()):
        raise UnreadableFile(f"{zip_name}: member {info.filename!r} would land outside the extraction folder: refused")
    return target


def _cache_folder(path: Path, members: Collection[str], scratch: Path) -> Path:
    """A folder named by the zip, its size and time, and the members wanted: a changed zip is extracted anew."""
    info = path.stat()
    key = f"{path.resolve()}\0{info.st_size}\0{info.st_mtime_ns}\0" + "\0".join(sorted(members))
    return scratch / "unzipped" / f"{path.name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def extract_members(path: Path, members: Collection[str], scratch: Path) -> tuple[Path, bool]:
    """Extract ``members`` of the zip at ``path`` under ``scratch``: their folder, and whether it was extracted now."""
    # Every member name is checked before anything is written, and members go to a partial folder renamed at the
    # end: a folder that exists is complete, so a second call (or a run killed half-way) never reuses half a zip.
    folder = _cache_folder(path, members, scratch)
    if folder.is_dir():
        return folder, False
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    wanted = set(members)
    try:
        partial.mkdir(parents=True)
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            targets = [_target(partial, info, path.name) for info in infos]
            for info, target in zip(infos, targets, strict=True):
                if info.filename not in wanted or info.is_dir():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
        partial.rename(folder)
    except UnreadableFile:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    except ARCHIVE_FAILURES as error:
        shutil.rmtree(partial, ignore_errors=True)
        if folder.is_dir():  # another process finished the same extraction first
            return folder, False
        raise UnreadableFile(f"{path.name}: cannot be extracted ({error})") from error
    return folder, True
