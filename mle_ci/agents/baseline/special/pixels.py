"""Predicted pages as submission rows: one ``<image>_<row>_<col>`` id per pixel (1-based), in the sample's order.

A full test set is millions of rows, so each page's ids are first compared as one block with the ids MLE-bench
writes (a list comparison, fast) and only a page whose ids come otherwise is looked up id by id; values are
written with ``DECIMALS`` decimals from one shared table of strings.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.special.result import SpecialInputError

DECIMALS = 4
"""Values are written with this many decimals: an error of at most 0.00005, far below any RMSE that matters."""

_STEPS = 10**DECIMALS
_TEXT = np.array([f"{step / _STEPS:.{DECIMALS}f}" for step in range(_STEPS + 1)], dtype=object)


@dataclass(frozen=True)
class Prediction:
    """A test page's predicted values as the submission writes them, row by row."""

    height: int
    width: int
    values: list[str]

    @classmethod
    def of(cls, page: NDArray[np.float64]) -> Prediction:
        """A page of values in [0, 1] as text."""
        steps = np.rint(np.clip(page, 0.0, 1.0) * _STEPS).astype(np.int64).ravel()
        return cls(page.shape[0], page.shape[1], _TEXT[steps].tolist())

    def pixel_ids(self, stem: str) -> list[str]:
        """The page's ids in MLE-bench's order: ``<stem>_<row>_<col>``, 1-based, row by row."""
        return [f"{stem}_{r}_{c}" for r in range(1, self.height + 1) for c in range(1, self.width + 1)]

    def value(self, row: int, col: int) -> str | None:
        inside = 1 <= row <= self.height and 1 <= col <= self.width
        return self.values[(row - 1) * self.width + col - 1] if inside else None


def _read_sample(path: Path) -> tuple[tuple[str, ...], list[str], list[str]]:
    shared: dict[str, str] = {}  # the sample's few distinct values, each held once
    ids: list[str] = []
    values: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = tuple(cell.strip() for cell in next(reader, []))
        if header != ("id", "value"):
            raise SpecialInputError(f"{path.name} does not start with the header id,value")
        for row in reader:
            if len(row) >= 2:
                ids.append(row[0])
                values.append(shared.setdefault(row[1], row[1]))
    return header, ids, values


def _lookup(pixel_id: str, predictions: dict[str, Prediction]) -> str | None:
    stem, _, col = pixel_id.rpartition("_")
    stem, _, row = stem.rpartition("_")
    page = predictions.get(stem)
    if page is None or not row.isdigit() or not col.isdigit():
        return None
    return page.value(int(row), int(col))


def submission_rows(sample: Path, predictions: dict[str, Prediction]) -> tuple[tuple[str, ...], list[list[str]], int]:
    """The sample's header and rows with each pixel's predicted value, and how many ids kept the sample's value."""
    header, ids, values = _read_sample(sample)
    unmatched, position = 0, 0
    tried: set[str] = set()
    while position < len(ids):
        stem = ids[position].rpartition("_")[0].rpartition("_")[0]
        page = predictions.get(stem)
        if page is not None and stem not in tried:
            tried.add(stem)
            expected = page.pixel_ids(stem)
            if ids[position : position + len(expected)] == expected:
                values[position : position + len(expected)] = page.values
                position += len(expected)
                continue
        found = _lookup(ids[position], predictions)
        if found is None:
            unmatched += 1
        else:
            values[position] = found
        position += 1
    return header, [[i, v] for i, v in zip(ids, values, strict=True)], unmatched
