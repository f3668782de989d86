"""A small AIFF / AIFF-C reader: PCM samples as floats in [-1, 1], averaged over channels, and the sample rate.

Python's ``aifc`` module is deprecated (and gone in 3.13), so the FORM container is parsed here: the COMM chunk
gives channels, frames, sample size and the rate (an 80-bit extended float), the SSND chunk the big-endian samples.
AIFF-C is read when uncompressed (``NONE``, ``twos``, or little-endian ``sowt``) or 32/64-bit float.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mle_ci.errors import MleCiError

FloatArray = NDArray[np.float64]

_PCM = {b"NONE": ">", b"twos": ">", b"sowt": "<"}
_FLOAT = {b"fl32": ">f4", b"FL32": ">f4", b"fl64": ">f8", b"FL64": ">f8"}


class AiffError(MleCiError, ValueError):
    """The bytes are not an AIFF clip this reader understands."""


@dataclass(frozen=True)
class Clip:
    """A mono clip: samples in [-1, 1] and their rate in hertz."""

    samples: FloatArray
    rate: float


def _extended(data: bytes) -> float:
    """An IEEE 754 80-bit extended float (sign and 15-bit exponent, then a 64-bit mantissa with explicit 1)."""
    head, mantissa = struct.unpack(">HQ", data)
    exponent = (int(head) & 0x7FFF) - 16383 - 63
    value = math.ldexp(float(mantissa), exponent)
    return -value if head & 0x8000 else value


def _chunks(data: bytes) -> dict[bytes, bytes]:
    """The chunks of a FORM container by id (the first of each), padded to even lengths as the format says."""
    chunks: dict[bytes, bytes] = {}
    position = 12
    while position + 8 <= len(data):
        kind, size = data[position : position + 4], struct.unpack(">I", data[position + 4 : position + 8])[0]
        chunks.setdefault(kind, data[position + 8 : position + 8 + size])
        position += 8 + size + (size & 1)
    return chunks


def _decode(sound: bytes, bits: int, compression: bytes) -> FloatArray:
    if compression in _FLOAT:
        return np.frombuffer(sound, dtype=_FLOAT[compression]).astype(np.float64)
    order = _PCM.get(compression)
    if order is None:
        raise AiffError(f"compressed AIFF-C ({compression.decode('latin-1')!r}) is not read")
    width = (bits + 7) // 8
    if width in (1, 2, 4):
        kind = {1: "i1", 2: "i2", 4: "i4"}[width]
        values = np.frombuffer(sound[: len(sound) // width * width], dtype=f"{order}{kind}").astype(np.float64)
        return values / float(2 ** (8 * width - 1))
    if width == 3:
        raw = np.frombuffer(sound[: len(sound) // 3 * 3], dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        high, low = (raw[:, 0], raw[:, 2]) if order == ">" else (raw[:, 2], raw[:, 0])
        value = (high << 16) | (raw[:, 1] << 8) | low
        return np.where(value >= 1 << 23, value - (1 << 24), value).astype(np.float64) / float(1 << 23)
    raise AiffError(f"{bits}-bit samples are not read")


def read_aiff(data: bytes) -> Clip:
    """The clip in AIFF or AIFF-C bytes; ``AiffError`` when they are not a readable clip."""
    if len(data) < 12 or data[:4] != b"FORM" or data[8:12] not in (b"AIFF", b"AIFC"):
        raise AiffError("not an AIFF file (no FORM/AIFF header)")
    chunks = _chunks(data)
    comm, ssnd = chunks.get(b"COMM"), chunks.get(b"SSND")
    if comm is None or ssnd is None or len(comm) < 18 or len(ssnd) < 8:
        raise AiffError("an AIFF file without a complete COMM and SSND chunk")
    channels, frames, bits = struct.unpack(">hIh", comm[:8])
    rate = _extended(comm[8:18])
    compression = comm[18:22] if data[8:12] == b"AIFC" and len(comm) >= 22 else b"NONE"
    if channels < 1 or not 0 < bits <= 64 or not rate > 0:
        raise AiffError(f"an AIFF header with {channels} channels, {bits} bits, rate {rate}")
    offset = struct.unpack(">I", ssnd[:4])[0]
    samples = _decode(ssnd[8 + offset :], bits, compression)
    usable = min(frames, len(samples) // channels)  # a short SSND chunk is read as far as it goes
    if usable == 0:
        raise AiffError("an AIFF file without samples")
    mono = samples[: usable * channels].reshape(usable, channels).mean(axis=1)
    return Clip(mono, float(rate))
