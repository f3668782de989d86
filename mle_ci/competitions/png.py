"""Grayscale PNG files written with zlib alone, so the demo images need no imaging library."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from numpy.typing import NDArray

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def grayscale_png(pixels: NDArray[np.uint8]) -> bytes:
    """An 8-bit grayscale PNG of a (height, width) array; the same bytes for the same pixels."""
    if pixels.ndim != 2 or pixels.dtype != np.uint8 or 0 in pixels.shape:
        raise ValueError("a grayscale PNG needs a non-empty 2-d uint8 array")
    height, width = pixels.shape
    # each scanline starts with filter type 0 (none)
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
