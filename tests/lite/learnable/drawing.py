"""Small synthetic pictures drawn with numpy: textured backgrounds, soft ellipses and blobs, strokes along a path.

A picture is a float array (height, width, channels) of 0-255 values until ``finished`` clips and rounds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from PIL import Image

Colour = Sequence[float]


def jitter(rng: np.random.Generator, colour: Colour, spread: float) -> tuple[float, ...]:
    """``colour`` with each channel moved by normal noise of ``spread``."""
    return tuple(float(c) for c in np.asarray(colour, dtype=float) + rng.normal(0, spread, len(colour)))


def smooth_noise(rng: np.random.Generator, height: int, width: int, scale: int = 8) -> np.ndarray:
    """Noise of unit spread that varies over about ``scale`` pixels."""
    small = rng.normal(0, 1, (max(height // scale, 2), max(width // scale, 2))).astype(np.float32)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR), dtype=float)


def background(
    rng: np.random.Generator, height: int, width: int, colour: Colour, *, grain: float, blotch: float = 0.0
) -> np.ndarray:
    """A plain ``colour`` with per-pixel ``grain`` and smooth ``blotch`` variation (the same in every channel)."""
    base = np.broadcast_to(np.asarray(colour, dtype=float), (height, width, len(colour))).copy()
    shade = rng.normal(0, grain, (height, width)) + blotch * smooth_noise(rng, height, width)
    return np.asarray(base + shade[:, :, None])


def ellipse_mask(
    shape: tuple[int, ...],
    centre: tuple[float, float],
    radii: tuple[float, float],
    angle: float = 0.0,
    wobble: tuple[float, int, float] = (0.0, 0, 0.0),
) -> np.ndarray:
    """Soft (0-1) coverage of an ellipse; ``wobble`` = (depth, lobes, phase) makes its border irregular."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    dy, dx = ys - centre[0], xs - centre[1]
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / max(radii[1], 0.5)
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / max(radii[0], 0.5)
    depth, lobes, phase = wobble
    limit = 1 + depth * np.sin(lobes * np.arctan2(v, u) + phase)
    distance = np.hypot(u, v) - limit
    return np.asarray(np.clip(0.5 - distance * min(radii), 0, 1))


def paint(image: np.ndarray, mask: np.ndarray, colour: Colour, strength: float = 1.0) -> None:
    """Blend ``colour`` into ``image`` where ``mask`` covers it."""
    alpha = (mask * strength)[:, :, None]
    image *= 1 - alpha
    image += alpha * np.asarray(colour, dtype=float)


def stroke_mask(shape: tuple[int, ...], points: Sequence[tuple[float, float]], width: float) -> np.ndarray:
    """Coverage of a polyline through ``points`` (y, x), ``width`` pixels wide."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    nearest = np.full(shape[:2], np.inf)
    for (y0, x0), (y1, x1) in pairwise(points):
        dy, dx = y1 - y0, x1 - x0
        t = np.clip(((ys - y0) * dy + (xs - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0, 1)
        nearest = np.minimum(nearest, np.hypot(ys - (y0 + t * dy), xs - (x0 + t * dx)))
    return np.asarray(np.clip(width / 2 + 0.5 - nearest, 0, 1))


def finished(image: np.ndarray) -> np.ndarray:
    """The picture as uint8, greyscale when it has one channel."""
    pixels = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
