"""How many examples a learnable layout holds (``rows`` for training, about a quarter of that for the test), and
class labels drawn so that every split holds every class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def split_sizes(rows: int, least: int = 8) -> tuple[int, int]:
    """Train and test counts for ``rows`` training examples: ``rows // 4`` test ones, never fewer than ``least``."""
    if rows < least:
        raise ValueError(f"rows must be at least {least}, not {rows}")
    return rows, max(rows // 4, least)


def drawn_labels(rng: np.random.Generator, count: int, shares: Sequence[float]) -> list[int]:
    """Class indices drawn with these shares, every class at least once (``count`` is at least the classes)."""
    labels = rng.choice(len(shares), count, p=np.asarray(shares) / sum(shares))
    labels[: len(shares)] = np.arange(len(shares))
    return [int(v) for v in rng.permutation(labels)]
