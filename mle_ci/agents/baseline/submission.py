"""``submission.csv``: fold models' test predictions averaged, laid out as the sample submission, written atomically."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.tables import Table
from mle_ci.agents.baseline.task import Kind, Task


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader (or a kill) only ever sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def row_order(sample: Table, id_column: str, test_ids: tuple[str, ...]) -> NDArray[np.int64] | None:
    """Test-row index of each sample submission row, or None when the sample does not list the test ids."""
    position = {value: i for i, value in enumerate(test_ids)}
    wanted = [cell.strip() for cell in sample.column(id_column)]
    if len(wanted) == len(test_ids) and all(value in position for value in wanted):
        return np.array([position[value] for value in wanted], dtype=np.int64)
    return None


def _number(value: float) -> str:
    return f"{value:.10g}"


def render(task: Task, sample: Table, test_ids: tuple[str, ...], values: NDArray[np.float64]) -> str:
    """The submission's CSV text from test outputs in test.csv order (probabilities, or values on the target scale)."""
    order = row_order(sample, task.id_column, test_ids)
    columns: dict[str, list[str]]
    if order is None:
        order = np.arange(len(test_ids), dtype=np.int64)
        columns = {name: [""] * len(test_ids) for name in task.submission_columns}
        columns[task.id_column] = list(test_ids)
    else:
        # the sample's own cells, unstripped: graders compare ids (and keep other columns) exactly as written
        columns = {name: list(sample.column(name)) for name in task.submission_columns}
    picked = values[order]
    if task.kind is Kind.LABELS:
        columns[task.target_columns[0]] = [task.classes[i] for i in picked.argmax(axis=1)]
    elif task.kind is Kind.BINARY:
        columns[task.target_columns[0]] = [_number(p) for p in picked[:, 1]]
    else:
        if task.kind is Kind.PROBABILITIES:
            picked = picked / picked.sum(axis=1, keepdims=True)
        for index, name in enumerate(task.target_columns):
            columns[name] = [_number(v) for v in picked[:, index]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(task.submission_columns)
    writer.writerows(zip(*(columns[name] for name in task.submission_columns), strict=True))
    return buffer.getvalue()


def render_rows(header: tuple[str, ...], rows: list[list[str]]) -> str:
    """CSV text of a header and rows of cells, as every submission here is written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@dataclass
class Ensemble:
    """The running mean of the fold models' test outputs (probabilities are averaged, never labels)."""

    total: NDArray[np.float64] | None = None
    folds: int = 0
    prior: NDArray[np.float64] | None = field(default=None)

    def add(self, outputs: NDArray[np.float64]) -> None:
        self.total = outputs.copy() if self.total is None else self.total + outputs
        self.folds += 1

    def mean(self) -> NDArray[np.float64]:
        """The fold models' mean, or the prior when no fold has finished."""
        if self.total is not None:
            return self.total / self.folds
        if self.prior is None:
            raise ValueError("no fold finished and no prior set")
        return self.prior
