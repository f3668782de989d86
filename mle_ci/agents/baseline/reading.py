"""The competition as the agent reads it: the public folder's layout, its description, and the task they imply."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from mle_ci.agents.baseline.layout import read_layout
from mle_ci.agents.baseline.task import Competition, infer_task

MAX_TRAIN_ROWS = 200_000
"""Train rows read at most: a baseline learns little more from millions of rows in minutes (taxi fares: 55 M)."""


def default_scratch(data_dir: Path) -> Path:
    """Where a data folder's zips are extracted when no scratch folder is given: one per folder, kept as a cache."""
    key = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "mle-ci-baseline" / key


def read_competition(
    data_dir: Path,
    *,
    metric: str | None,
    higher_is_better: bool | None,
    scratch: Path | None = None,
    max_rows: int | None = MAX_TRAIN_ROWS,
) -> Competition:
    """Read the public folder (any MLE-bench layout) and infer the task from it and ``description.md``."""
    layout = read_layout(data_dir, scratch or default_scratch(data_dir), max_rows=max_rows)
    description_path = data_dir / "description.md"
    description = description_path.read_text(encoding="utf-8", errors="replace") if description_path.is_file() else ""
    task = infer_task(
        layout.train,
        layout.test,
        layout.sample,
        description=description,
        metric=metric,
        higher_is_better=higher_is_better,
        image_ids=frozenset(layout.images),
    )
    return Competition(task, layout.train, layout.test, layout.sample, layout.images, notes=layout.notes)
