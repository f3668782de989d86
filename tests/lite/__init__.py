"""Test fixtures of MLE-bench's 22 lite competitions: tiny synthetic data in the prepared layout of each one.

``LAYOUTS`` maps a competition id to its :class:`LiteLayout`; ``build_all(data_dir)`` writes every one of them to
``data_dir/<id>/prepared/{public,private}``, the layout MLE-bench's registry reads under its data folder.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from .model import LiteLayout
from .tabular import LAYOUTS as _NON_IMAGE_LAYOUTS


def _image_layouts() -> tuple[LiteLayout, ...]:
    """The image competitions' layouts, where ``images.py`` is there."""
    if importlib.util.find_spec(f"{__name__}.images") is None:
        return ()
    return tuple(importlib.import_module(f"{__name__}.images").LAYOUTS)


LAYOUTS: dict[str, LiteLayout] = {
    layout.id: layout for layout in sorted((*_NON_IMAGE_LAYOUTS, *_image_layouts()), key=lambda layout: layout.id)
}


def build_all(data_dir: Path) -> None:
    """Build every lite competition under ``data_dir/<competition id>``."""
    for competition_id, layout in LAYOUTS.items():
        layout.build(data_dir / competition_id)


__all__ = ["LAYOUTS", "LiteLayout", "build_all"]
