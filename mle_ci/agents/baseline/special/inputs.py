"""Reading the public files without extracting anything: CSVs plain or zipped, zip members by name and size."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from mle_ci.agents.baseline.special.result import SpecialInputError

MAX_MEMBER_BYTES = 256 * 1024 * 1024
"""A zip member read whole into memory may not be larger than this (its declared size is checked first)."""


def member_name(name: str) -> str | None:
    """A zip member's file name (its last path part), or ``None`` for a folder or a name that climbs out (``..``)."""
    path = PurePosixPath(name.replace("\\", "/"))
    if name.endswith(("/", "\\")) or ".." in path.parts or not path.name:
        return None
    return path.name


def zip_members(path: Path) -> list[zipfile.ZipInfo]:
    """The file members of a zip, folders and names with ``..`` left out; ``SpecialInputError`` when it is no zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [info for info in archive.infolist() if member_name(info.filename) is not None]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpecialInputError(f"{path.name} cannot be opened as a zip: {exc}") from None


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, refused when it declares more than ``MAX_MEMBER_BYTES``; reading stops there either way."""
    if info.file_size > MAX_MEMBER_BYTES:
        raise SpecialInputError(f"{info.filename} is {info.file_size} bytes, more than this solver reads")
    with archive.open(info) as handle:
        data = handle.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise SpecialInputError(f"{info.filename} holds more than its declared size")
    return data


@contextmanager
def csv_rows(path: Path) -> Iterator[Iterator[list[str]]]:
    """The rows of a CSV file, or of the one CSV inside ``path`` when it is a zip, header first, streamed."""
    if path.suffix.lower() != ".zip":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield csv.reader(handle)
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if (member_name(i.filename) or "").lower().endswith(".csv")]
            if len(members) != 1:
                raise SpecialInputError(f"{path.name} holds {len(members)} CSV files, not one")
            with archive.open(members[0]) as raw:
                yield csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
    except zipfile.BadZipFile as exc:
        raise SpecialInputError(f"{path.name} cannot be opened as a zip: {exc}") from None


def csv_header(path: Path) -> tuple[str, ...]:
    """The header of a CSV (plain or zipped), stripped; empty when the file cannot be read."""
    try:
        with csv_rows(path) as rows:
            return tuple(cell.strip() for cell in next(rows, []))
    except (SpecialInputError, OSError, ValueError, csv.Error):
        return ()


def read_csv(path: Path) -> tuple[tuple[str, ...], list[list[str]]]:
    """A whole CSV (plain or zipped): its stripped header and its non-empty rows."""
    with csv_rows(path) as rows:
        header = tuple(cell.strip() for cell in next(rows, []))
        if not header:
            raise SpecialInputError(f"{path.name} is empty")
        return header, [row for row in rows if row]


def find_sample(public: Path, columns: tuple[str, ...]) -> Path | None:
    """The sample submission in ``public``: a file named like ``*sample*.csv`` (or zipped) with these columns."""
    candidates = sorted(p for p in public.iterdir() if "sample" in p.name.lower() and p.is_file())
    for path in candidates:
        if path.name.lower().endswith((".csv", ".csv.zip")) and csv_header(path) == columns:
            return path
    return None
