"""Test fixtures of MLE-bench's 22 lite competitions: synthetic data in the prepared layout of each one.

``LAYOUTS`` maps a competition id to its :class:`LiteLayout`; ``build_all(data_dir)`` writes every one of them to
``data_dir/<id>/prepared/{public,private}``, the layout MLE-bench's registry reads under its data folder, from tiny
data with little or no signal. ``build_learnable(data_dir)`` writes the same layouts from learnable data (each
layout's ``learnable``), sized by ``DEFAULT_ROWS`` for a three-minute run on two CPU cores.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path

from .learnable import LEARNABLE
from .model import LiteLayout
from .tabular import LAYOUTS as _NON_IMAGE_LAYOUTS


def _image_layouts() -> tuple[LiteLayout, ...]:
    """The image competitions' layouts, where ``images.py`` is there."""
    if importlib.util.find_spec(f"{__name__}.images") is None:
        return ()
    return tuple(importlib.import_module(f"{__name__}.images").LAYOUTS)


LAYOUTS: dict[str, LiteLayout] = {
    layout.id: dataclasses.replace(layout, learnable=LEARNABLE.get(layout.id))
    for layout in sorted((*_NON_IMAGE_LAYOUTS, *_image_layouts()), key=lambda layout: layout.id)
}

# Training examples per competition for a three-minute CPU run (the test set is a quarter of that): rows of a table,
# texts, tokens (text normalization), clips or recordings, images (16-64 px), pages (denoising).
DEFAULT_ROWS: dict[str, int] = {
    "aerial-cactus-identification": 600,
    "aptos2019-blindness-detection": 500,
    "denoising-dirty-documents": 48,
    "detecting-insults-in-social-commentary": 2000,
    "dog-breed-identification": 600,
    "dogs-vs-cats-redux-kernels-edition": 600,
    "histopathologic-cancer-detection": 600,
    "jigsaw-toxic-comment-classification-challenge": 4000,
    "leaf-classification": 990,
    "mlsp-2013-birds": 300,
    "new-york-city-taxi-fare-prediction": 20000,
    "nomad2018-predict-transparent-conductors": 2400,
    "plant-pathology-2020-fgvc7": 500,
    "random-acts-of-pizza": 2000,
    "ranzcr-clip-catheter-line-classification": 500,
    "siim-isic-melanoma-classification": 600,
    "spooky-author-identification": 4000,
    "tabular-playground-series-dec-2021": 10000,
    "tabular-playground-series-may-2022": 10000,
    "text-normalization-challenge-english-language": 20000,
    "text-normalization-challenge-russian-language": 20000,
    "the-icml-2013-whale-challenge-right-whale-redux": 600,
}


def build_all(data_dir: Path) -> None:
    """Build every lite competition under ``data_dir/<competition id>``."""
    for competition_id, layout in LAYOUTS.items():
        layout.build(data_dir / competition_id)


def build_learnable(data_dir: Path, rows_by_id: Mapping[str, int] | None = None, seed: int = 0) -> None:
    """Build every lite competition from learnable data under ``data_dir/<competition id>``, ``rows_by_id`` training
    examples for the ids it names and ``DEFAULT_ROWS`` for the others."""
    rows = {**DEFAULT_ROWS, **(rows_by_id or {})}
    unknown = sorted(set(rows) - set(LAYOUTS))
    if unknown:
        raise ValueError(f"no lite competition named {', '.join(unknown)}")
    for competition_id, layout in LAYOUTS.items():
        if layout.learnable is None:
            raise ValueError(f"{competition_id} has no learnable data")
        layout.learnable(data_dir / competition_id, rows[competition_id], seed)


__all__ = ["DEFAULT_ROWS", "LAYOUTS", "LiteLayout", "build_all", "build_learnable"]
