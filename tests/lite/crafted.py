"""Crafted submissions for a built lite layout: right, nearly right and wrong in one named way each.

``crafted_submissions(layout, folder)`` reads the built answers and sample submission (with the ``csv`` module, so
no pandas) and returns ``{kind: CSV bytes}``. Every kind but ``sample`` starts from ``perfect`` (the answers' own
target values in the sample submission's rows, row order and columns) and changes one thing. A kind that means
nothing for a layout is left out; the rule that leaves it out says why.
"""

from __future__ import annotations

import csv
import io
import string
from collections.abc import Callable, Sequence
from pathlib import Path

from .model import LiteLayout

Rows = list[list[str]]


def _read(data: bytes) -> tuple[list[str], Rows]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return rows[0], rows[1:]


def _csv(header: Sequence[str], rows: Rows, *, line_end: str = "\n") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


def _number(value: float) -> str:
    """A float rounded to 6 places, as pandas writes it."""
    return repr(round(value, 6))


def _unused_id(base: str, taken: set[str]) -> str:
    """An id of ``base``'s form (one digit, or else one letter, changed) that no row has."""
    digits = [i for i, ch in enumerate(base) if ch.isdigit()]
    positions = digits or [i for i, ch in enumerate(base) if ch.isalpha()]
    for at in reversed(positions):
        alphabet = (
            string.digits
            if at in digits
            else (string.ascii_lowercase if base[at].islower() else string.ascii_uppercase)
        )
        start = alphabet.index(base[at])
        for step in range(1, len(alphabet)):
            candidate = base[:at] + alphabet[(start + step) % len(alphabet)] + base[at + 1 :]
            if candidate not in taken and not (at == 0 and len(base) > 1 and candidate[0] == "0" and digits):
                return candidate
    return base + "x"


class _Submission:
    """The perfect submission of one layout and the pieces the other kinds are made from."""

    def __init__(self, layout: LiteLayout, folder: Path) -> None:
        prepared = folder / "prepared"
        self.layout = layout
        self.sample_bytes = (prepared / layout.sample_submission).read_bytes()
        self.header, sample_rows = _read(self.sample_bytes)
        answer_header, answer_rows = _read((prepared / layout.answers).read_bytes())
        id_at = answer_header.index(layout.id_column)
        truth = {row[id_at]: row for row in answer_rows}
        self.id_at = self.header.index(layout.id_column)
        self.target_at = [self.header.index(column) for column in layout.target_columns]
        self.rows: Rows = []
        for row in sample_rows:
            answer = truth[row[self.id_at]]
            perfect = list(row)
            for column, at in zip(layout.target_columns, self.target_at):
                perfect[at] = self._in_range(answer[answer_header.index(column)])
            self.rows.append(perfect)
        self.ids = [row[self.id_at] for row in self.rows]
        self.truth_values = [[row[at] for at in self.target_at] for row in self.rows]

    def _in_range(self, value: str) -> str:
        """Probabilities clipped into [0, 1]: answers may mark rows that are not scored, as jigsaw's -1."""
        if self.layout.values in ("probability", "probabilities") and _is_float(value):
            if float(value) < 0:
                return "0"
            if float(value) > 1:
                return "1"
        return value

    def bytes(self, rows: Rows | None = None, header: Sequence[str] | None = None) -> bytes:
        return _csv(self.header if header is None else header, self.rows if rows is None else rows)

    def copy(self) -> Rows:
        return [list(row) for row in self.rows]

    def with_cell(self, value: str, row: int = 0, target: int = 0) -> bytes:
        rows = self.copy()
        rows[row][self.target_at[target]] = value
        return self.bytes(rows)

    def without_column(self, at: int) -> bytes:
        return self.bytes([r[:at] + r[at + 1 :] for r in self.rows], self.header[:at] + self.header[at + 1 :])

    def mapped(self, change: Callable[[int, list[str]], list[str]]) -> bytes:
        """Perfect with each row's target values replaced by ``change(row index, truth values)``."""
        rows = self.copy()
        for i, row in enumerate(rows):
            for at, value in zip(self.target_at, change(i, self.truth_values[i])):
                row[at] = value
        return self.bytes(rows)


def _noisy(sub: _Submission) -> bytes | None:
    """A real but imperfect prediction: right-leaning, with every fourth row leaning the wrong way."""
    layout = sub.layout
    wrong = {i for i in range(len(sub.rows)) if i % 4 == 1}
    if layout.values == "probabilities" and layout.rows_sum_to_one:
        classes = len(layout.target_columns)

        def spread(i: int, truth: list[str]) -> list[str]:
            main = max(range(classes), key=lambda c: float(truth[c]))
            main = (main + 1) % classes if i in wrong else main
            rest = 0.4 / (classes - 1)
            return [repr(0.6 if c == main else rest) for c in range(classes)]

        return sub.mapped(spread)
    if layout.values in ("probability", "probabilities"):

        def lean(i: int, truth: list[str]) -> list[str]:
            out = []
            for j, value in enumerate(truth):
                positive = (float(value) >= 0.5) != ((i + j) % 4 == 1)
                out.append(_number((0.75 if positive else 0.25) + (i % 40) / 1000))
            return out

        return sub.mapped(lean)
    if layout.values == "regression":
        return sub.mapped(lambda i, truth: [_number(float(v) * (1.1 if i % 2 else 0.9)) for v in truth])
    if layout.values == "labels":
        labels = sorted({v for truth in sub.truth_values for v in truth}, key=lambda v: (not _is_float(v), v))
        if len(labels) < 2:
            return None  # one label only: no other label to be wrong with
        return sub.mapped(
            lambda i, truth: [labels[(labels.index(v) + 1) % len(labels)] if i in wrong else v for v in truth]
        )
    sample = _read(sub.sample_bytes)[1]
    return sub.mapped(
        lambda i, truth: [
            (sample[i][at] if sample[i][at] != v else v + "x") if i in wrong else v
            for at, v in zip(sub.target_at, truth)
        ]
    )


def _out_of_range(sub: _Submission) -> bytes:
    if sub.layout.rows_sum_to_one:  # the row still sums to one: 1.5 for one class, -0.5 for the next
        classes = len(sub.target_at)
        return sub.mapped(
            lambda i, truth: truth if i else ["1.5" if c == 0 else "-0.5" if c == 1 else "0.0" for c in range(classes)]
        )
    return sub.with_cell("1.5")


def _true_words(sub: _Submission) -> bytes | None:
    values = {v for truth in sub.truth_values for v in truth}
    if all(_is_int(v) for v in values):
        return sub.mapped(lambda i, truth: [f"{v}.0" for v in truth])
    if values <= {"True", "False"}:
        return sub.mapped(lambda i, truth: [v.lower() for v in truth])
    if values <= {"true", "false"}:
        return sub.mapped(lambda i, truth: [v.capitalize() for v in truth])
    return None  # free-text labels have no other spelling of the same value


def crafted_submissions(layout: LiteLayout, folder: Path) -> dict[str, bytes]:
    """Every crafted submission that applies to ``layout``, built under ``folder``, as CSV bytes by kind."""
    sub = _Submission(layout, folder)
    numeric_values = layout.values in ("probability", "probabilities", "regression") or (
        layout.values == "labels" and all(_is_float(v) for truth in sub.truth_values for v in truth)
    )
    perfect = sub.bytes()
    taken = set(sub.ids)
    new_id = _unused_id(sub.ids[0], taken)
    out: dict[str, bytes | None] = {
        "sample": sub.sample_bytes,
        "perfect": perfect,
        "noisy": _noisy(sub),
        "shuffled_rows": sub.bytes(sub.rows[1::2] + sub.rows[0::2]),
        "index_column": sub.bytes([[str(i), *row] for i, row in enumerate(sub.rows)], ["", *sub.header]),
        "extra_column": sub.bytes([[*row, "0"] for row in sub.rows], [*sub.header, "extra"]),
        "missing_target_column": sub.without_column(sub.target_at[0]),
        "missing_id_column": sub.without_column(sub.id_at),
        "short": sub.bytes(sub.rows[:-1]),
        "extra_row": sub.bytes([*sub.rows, [new_id if k == sub.id_at else v for k, v in enumerate(sub.rows[0])]]),
        "duplicate_id": sub.bytes([*sub.rows, list(sub.rows[0])]),
        "wrong_ids": sub.bytes([[new_id if k == sub.id_at else v for k, v in enumerate(sub.rows[0])], *sub.rows[1:]]),
        "empty_cell": sub.with_cell(""),
        "na_word": sub.with_cell("NA"),
        # Probabilities have a range; numbers, labels and strings have none a submission could leave.
        "out_of_range": _out_of_range(sub) if layout.values in ("probability", "probabilities") else None,
        # Only log-loss rows must sum to one.
        "not_summing": sub.mapped(lambda i, truth: [_number(0.9 * float(v)) for v in truth])
        if layout.rows_sum_to_one
        else None,
        # Any text is a valid free string or string label; only numeric targets can be non-numeric.
        "non_numeric": sub.with_cell("abc") if numeric_values else None,
        # Only integer ids have a float spelling.
        "ids_as_floats": sub.bytes([[f"{v}.0" if k == sub.id_at else v for k, v in enumerate(r)] for r in sub.rows])
        if all(_is_int(i) for i in sub.ids)
        else None,
        # Only class labels (integers or booleans) have another spelling of the same label.
        "true_words": _true_words(sub) if layout.values == "labels" else None,
        "header_only": sub.bytes([]),
        "bom_crlf": b"\xef\xbb\xbf" + _csv(sub.header, sub.rows, line_end="\r\n"),
        # One column has no other order.
        "reordered_columns": sub.bytes([r[::-1] for r in sub.rows], sub.header[::-1]) if len(sub.header) > 1 else None,
    }
    return {kind: data for kind, data in out.items() if data is not None}
