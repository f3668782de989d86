"""CSV files read into plain tables of strings: a header and rows, never a crash on garbage."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from mle_ci.errors import MleCiError

# pandas reads these cells as NaN (its default na_values), so a grader would see a missing value
NA_VALUES = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def canonical_label(value: object) -> str:
    """A cell as a label to compare: ``1``, ``1.0`` and `` 1`` alike, ``true`` as ``True``."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return _canonical_number(float(value))
    text = str(value)
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        return _canonical_number(float(stripped))
    if stripped.lower() in ("true", "false"):
        return stripped.capitalize()
    return text


def _canonical_number(number: float) -> str:
    if math.isfinite(number) and number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


class TableError(MleCiError, ValueError):
    """A file that cannot be read as a CSV table; the message says why."""


@dataclass(frozen=True)
class Table:
    """A CSV file's header and data rows (blank lines skipped), each row as the strings it holds."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def index(self, column: str) -> int | None:
        """The position of a column (the first one of that name), ``None`` when absent."""
        return self.header.index(column) if column in self.header else None

    def column(self, column: str) -> list[str]:
        """Every row's value in this column, ``""`` where a short row has none."""
        position = self.header.index(column)
        return [row[position] if position < len(row) else "" for row in self.rows]


def parse_csv(data: bytes) -> Table:
    """The table in these bytes (UTF-8, a byte-order mark allowed); ``TableError`` when they are not one."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"not UTF-8 text (byte {exc.start} cannot be decoded)") from None
    try:
        # strict: a stray quote is a broken file, not a cell that swallows the rest of it
        records = [tuple(r) for r in csv.reader(io.StringIO(text, newline=""), strict=True) if r]
    except csv.Error as exc:
        raise TableError(f"not valid CSV ({exc})") from None
    if not records:
        raise TableError("the file is empty (no header)")
    return Table(header=records[0], rows=tuple(records[1:]))


def read_csv(path: Path) -> Table:
    """The table in a CSV file; ``TableError`` when it cannot be read or parsed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TableError(f"read error ({exc.strerror or exc})") from None
    return parse_csv(data)


def read_header(path: Path) -> tuple[str, ...]:
    """Only the header of a CSV file, without reading the rest; ``TableError`` when there is none."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = next(csv.reader(handle, strict=True), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TableError(f"no readable header ({exc})") from None
    if not first:
        raise TableError("the file is empty (no header)")
    return tuple(first)


def write_csv(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> bytes:
    """CSV bytes with ``\\n`` line ends, the same bytes for the same rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
