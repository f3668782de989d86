"""Byte-exact writers shared by the lite builders: CSV as pandas writes it, zips with fixed timestamps, small media."""

from __future__ import annotations

import csv
import io
import struct
import wave
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

Cell = str | int | float | bool | None

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def cell(value: Cell) -> str:
    """One value as ``DataFrame.to_csv`` writes it: floats by ``repr``, ``None`` as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], *, quote_strings: bool = False) -> bytes:
    """CSV with ``\\n`` line ends; ``quote_strings`` is pandas' ``quoting=csv.QUOTE_NONNUMERIC`` (numbers bare)."""
    out = io.StringIO()
    if quote_strings:
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(header)
        for row in rows:
            writer.writerow([v if isinstance(v, int | float) and not isinstance(v, bool) else cell(v) for v in row])
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8")


def write(path: Path, data: bytes | str) -> None:
    """Write bytes (or UTF-8 text) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]], *, quote_strings: bool = False
) -> None:
    write(path, csv_bytes(header, rows, quote_strings=quote_strings))


def zip_bytes(entries: Sequence[tuple[str, bytes | None]], *, deflate: bool) -> bytes:
    """A zip of ``(name, data)`` entries in the given order; ``data=None`` is a folder entry (name ends in ``/``)."""
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            if data is None:
                info.external_attr = 0o40755 << 16 | 0x10
                archive.writestr(info, b"")
            else:
                info.compress_type = method
                info.external_attr = 0o100644 << 16
                archive.writestr(info, data)
    return out.getvalue()


def wav_bytes(samples: Sequence[int], rate: int) -> bytes:
    """Mono 16-bit PCM WAV, written with the standard library's ``wave``."""
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return out.getvalue()


def _extended80(value: int) -> bytes:
    """A positive integer as the 80-bit IEEE 754 extended float that AIFF's COMM chunk stores its sample rate in."""
    exponent = value.bit_length() - 1
    return struct.pack(">HQ", 16383 + exponent, value << (63 - exponent))


def aiff_bytes(samples: Sequence[int], rate: int) -> bytes:
    """Mono 16-bit big-endian AIFF: a FORM chunk holding COMM and SSND."""
    comm = struct.pack(">hIh", 1, len(samples), 16) + _extended80(rate)
    ssnd = struct.pack(">II", 0, 0) + struct.pack(f">{len(samples)}h", *samples)
    chunks = b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    return b"FORM" + struct.pack(">I", 4 + len(chunks)) + b"AIFF" + chunks


def bmp_bytes(pixels: Sequence[Sequence[int]]) -> bytes:
    """An 8-bit greyscale BMP (palette of 256 greys), rows given top to bottom."""
    height, width = len(pixels), len(pixels[0])
    stride = (width + 3) // 4 * 4
    body = b"".join(bytes(row) + b"\0" * (stride - width) for row in reversed(pixels))
    palette = b"".join(bytes((g, g, g, 0)) for g in range(256))
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 0, len(body), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + palette + body


def jpeg_bytes(pixels: Sequence[Sequence[int]]) -> bytes:
    """A greyscale (mode ``L``) JPEG of the given rows."""
    from PIL import Image

    height, width = len(pixels), len(pixels[0])
    image = Image.frombytes("L", (width, height), b"".join(bytes(row) for row in pixels))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
