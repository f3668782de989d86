"""Learnable data in the lite layouts: ``LEARNABLE[id](folder, rows, seed)`` writes, through the same writers as the
tiny fixtures, about ``rows`` training and ``rows // 4`` test examples whose targets follow from their inputs the way
the real competition's do, plus noise, so that a competent model beats the sample submission but is not perfect."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from . import audio, normalization, tabular, text

Learnable = Callable[[Path, int, int], None]


def _image_generators() -> dict[str, Learnable]:
    """The image competitions' generators, where the tiny image builders (``images.py``) are there."""
    if importlib.util.find_spec(f"{__package__.rpartition('.')[0]}.images") is None:
        return {}
    from . import images, medical

    return {**images.LEARNABLE, **medical.LEARNABLE}


LEARNABLE: dict[str, Learnable] = {
    **tabular.LEARNABLE,
    **text.LEARNABLE,
    **normalization.LEARNABLE,
    **audio.LEARNABLE,
    **_image_generators(),
}

__all__ = ["LEARNABLE", "Learnable"]
