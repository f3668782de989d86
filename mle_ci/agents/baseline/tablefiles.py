"""Table files of a data folder (CSV, TSV or JSON; plain, or the one member of a zip) read as baseline tables."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from mle_ci.agents.baseline.archives import ARCHIVE_FAILURES, UnreadableFile
from mle_ci.agents.baseline.tables import Table, table_of_rows

TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".json"})

CHEAP_COUNT_BYTES = 64 * 2**20
"""Rows past a cap are counted when the file (uncompressed) is at most this big; past it a note says "at least"."""


@dataclass(frozen=True)
class TableFile:
    """A table in the data folder: a plain file, or the one table member of a zip."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def inner_name(self) -> str:
        """The table's own file name: the zip member's, or the plain file's."""
        return PurePosixPath(self.member).name if self.member is not None else self.path.name

    @property
    def base(self) -> str:
        """The file name lower-cased without ``.zip`` and the table suffix: ``en_train`` for ``en_train.csv.zip``."""
        name = self.name.lower().removesuffix(".zip")
        stem, dot, suffix = name.rpartition(".")
        return stem if dot and f".{suffix}" in TABLE_SUFFIXES else name

    @property
    def format(self) -> str:
        return PurePosixPath(self.inner_name).suffix.lower()

    @property
    def delimiter(self) -> str:
        return "\t" if self.format == ".tsv" else ","


@dataclass(frozen=True)
class TableRead:
    """A table read from a file, with the rows a cap left out (``exact``: all counted, else at least that many)."""

    table: Table
    skipped: int = 0
    exact: bool = True


@contextmanager
def _open_text(source: TableFile) -> Iterator[tuple[IO[str], int]]:
    """The table as text (UTF-8, a byte-order mark dropped) and its uncompressed size in bytes."""
    if source.member is None:
        with source.path.open("rb") as raw:
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), source.path.stat().st_size
        return
    with zipfile.ZipFile(source.path) as archive:
        info = archive.getinfo(source.member)
        with archive.open(info) as raw:
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), info.file_size


def _read_delimited(text: IO[str], size: int, delimiter: str, max_rows: int | None) -> TableRead:
    reader = csv.reader(text, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return TableRead(Table((), {}))
    table, past = table_of_rows(header, reader, max_rows)
    if past is None:
        return TableRead(table)
    # Counting the rest means reading it all: worth it for a small file, not for a 5 GB one.
    if size <= CHEAP_COUNT_BYTES:
        return TableRead(table, 1 + sum(1 for row in reader if row))
    return TableRead(table, 1, exact=False)


def json_cell(value: object) -> str:
    """A JSON value as a table cell: null empty, booleans as Python spells them, lists and objects as their JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_json(text: IO[str], name: str, max_rows: int | None) -> TableRead:
    records = json.load(text)
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise UnreadableFile(f"{name}: not a table (a JSON list of objects)")
    kept = records if max_rows is None else records[:max_rows]
    header = list(dict.fromkeys(key for record in kept for key in record))
    table = Table(tuple(header), {key: [json_cell(record.get(key)) for record in kept] for key in header})
    return TableRead(table, len(records) - len(kept))


def read_table(source: TableFile, *, max_rows: int | None = None) -> TableRead:
    """Read the table, keeping its first ``max_rows`` rows when given (a CSV is read as a stream up to there)."""
    label = source.name if source.member is None else f"{source.name} ({source.member})"
    try:
        with _open_text(source) as (text, size):
            if source.format == ".json":
                return _read_json(text, label, max_rows)
            return _read_delimited(text, size, source.delimiter, max_rows)
    except UnreadableFile:
        raise
    except (ValueError, csv.Error, *ARCHIVE_FAILURES) as error:  # ValueError: bad UTF-8 or JSON
        raise UnreadableFile(f"{label}: cannot be read as a table ({error})") from error


def read_header(source: TableFile) -> tuple[str, ...]:
    """The column names of a CSV or TSV table, from its first line; empty for JSON (reading it means loading it)."""
    if source.format == ".json":
        return ()
    try:
        with _open_text(source) as (text, _):
            row = next(csv.reader(text, delimiter=source.delimiter), [])
    except (ValueError, csv.Error, *ARCHIVE_FAILURES) as error:
        raise UnreadableFile(f"{source.name}: cannot be read as a table ({error})") from error
    return tuple(name.strip() for name in row)
