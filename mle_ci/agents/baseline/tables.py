"""CSV files as columns of strings (the csv module, no pandas), and the value parsing shared by the agent."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
"""Cells read as missing values (compared lower-cased, stripped)."""


@dataclass(frozen=True)
class Table:
    """A CSV file read as text: its header and one list of cell strings per column."""

    header: tuple[str, ...]
    columns: dict[str, list[str]]

    @property
    def rows(self) -> int:
        return len(self.columns[self.header[0]]) if self.header else 0

    def column(self, name: str) -> list[str]:
        return self.columns[name]


def read_csv(path: Path) -> Table:
    """Read a CSV file with a header row (see :func:`table_of_rows`)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        return Table((), {}) if header is None else table_of_rows(header, reader)[0]


def table_of_rows(
    header: Sequence[str], rows: Iterator[list[str]], max_rows: int | None = None
) -> tuple[Table, list[str] | None]:
    """The columns of ``rows`` under ``header`` (names stripped; blank rows skipped, short rows padded with empty
    cells, long ones cut), at most ``max_rows`` of them, and the first row past those (None when there is none)."""
    names = tuple(name.strip() for name in header)
    cells: list[list[str]] = [[] for _ in names]
    width, kept = len(names), 0
    for row in rows:
        if not row:
            continue
        if max_rows is not None and kept >= max_rows:
            return Table(names, dict(zip(names, cells, strict=True))), row
        padded = row + [""] * (width - len(row)) if len(row) < width else row
        for index in range(width):
            cells[index].append(padded[index])
        kept += 1
    return Table(names, dict(zip(names, cells, strict=True))), None


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def parse_float(cell: str) -> float | None:
    """The cell's number, or None when it is missing or not a finite number."""
    if is_missing(cell):
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numeric(cells: list[str]) -> bool:
    """Whether every non-missing cell is a number (and at least one is)."""
    seen = False
    for cell in cells:
        if is_missing(cell):
            continue
        if parse_float(cell) is None:
            return False
        seen = True
    return seen


def sort_labels(labels: set[str]) -> tuple[str, ...]:
    """Class labels in a stable order: by value when all are numbers, else alphabetically."""
    if all(parse_float(label) is not None for label in labels):
        return tuple(sorted(labels, key=lambda label: (parse_float(label), label)))
    return tuple(sorted(labels))
