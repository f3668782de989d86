"""What a lite competition's test fixture is: a builder of MLE-bench's prepared layout and how its targets read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Values = Literal["probability", "probabilities", "labels", "regression", "strings"]
"""What a target cell of a submission holds: one probability column (binary AUC or log loss), one probability
column per class (rows sum to 1 for log loss; multi-label AUC otherwise), class labels, numbers, free strings."""


@dataclass(frozen=True)
class LiteLayout:
    """One lite competition as a test fixture: ``build(folder)`` writes ``folder/prepared/{public,private}``."""

    id: str
    build: Callable[[Path], None]
    id_column: str
    target_columns: tuple[str, ...]
    answers: str  # relative to prepared/, as MLE-bench's config.yaml names it
    sample_submission: str  # relative to prepared/
    values: Values
    rows_sum_to_one: bool = False
    learnable: Callable[[Path, int, int], None] | None = None
    """``learnable(folder, rows, seed)`` writes the same layout with about ``rows`` training and ``rows // 4`` test
    examples whose targets depend on their inputs as the competition's do, plus noise."""
