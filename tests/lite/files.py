"""Byte-exact writers shared by the lite builders: CSV as pandas writes it, zips with fixed timestamps, small media,
TFRecords and DICOM files."""

from __future__ import annotations

import csv
import io
import struct
import wave
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

Cell = str | int | float | bool | None

Pixels = Sequence[Sequence[int]] | np.ndarray  # rows of 0-255 values, top to bottom; an array is uint8

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
        writer = csv.writer(out, lineterminator="\n")  # it writes every Cell as ``cell`` does, floats by repr
        writer.writerow(header)
        writer.writerows(rows)
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


def bmp_bytes(pixels: Pixels) -> bytes:
    """An 8-bit greyscale BMP (palette of 256 greys), rows given top to bottom."""
    height, width = len(pixels), len(pixels[0])
    stride = (width + 3) // 4 * 4
    body = b"".join(bytes(row) + b"\0" * (stride - width) for row in reversed(pixels))
    palette = b"".join(bytes((g, g, g, 0)) for g in range(256))
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 0, len(body), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + palette + body


def jpeg_bytes(pixels: Pixels) -> bytes:
    """A greyscale (mode ``L``) JPEG of the given rows."""
    from PIL import Image

    height, width = len(pixels), len(pixels[0])
    image = Image.frombytes("L", (width, height), b"".join(bytes(row) for row in pixels))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C = _crc32c_table()


def _masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: CRC-32C, rotated right by 15 bits, plus a constant."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 as ten bytes of two's complement, as protobuf does
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if not value:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def tf_example(features: dict[str, bytes | int]) -> bytes:
    """A serialized tf.train.Example: bytes as a BytesList (field 1), ints as a packed Int64List (field 3)."""
    encoded = b""
    for key in sorted(features):
        value = features[key]
        feature = _field(1, _field(1, value)) if isinstance(value, bytes) else _field(3, _field(1, _varint(value)))
        encoded += _field(1, _field(1, key.encode()) + _field(2, feature))
    return _field(1, encoded)


def tfrecord_bytes(records: Iterable[bytes]) -> bytes:
    out = b""
    for record in records:
        length = struct.pack("<Q", len(record))
        out += length + struct.pack("<I", _masked_crc32c(length)) + record + struct.pack("<I", _masked_crc32c(record))
    return out


def _dicom_element(group: int, element: int, vr: str, value: bytes) -> bytes:
    """One data element in explicit-VR little endian, its value padded to an even length."""
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB") else b" "
    head = struct.pack("<HH", group, element) + vr.encode("ascii")
    if vr in ("OB", "OW", "SQ", "UN", "UT"):
        return head + b"\0\0" + struct.pack("<I", len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def dicom_bytes(jpeg: bytes, width: int, height: int, instance_uid: str, patient_id: str, sex: str | None) -> bytes:
    """A DICOM file (VL Photographic Image, JPEG Baseline transfer syntax) whose encapsulated frame is ``jpeg``."""
    sop_class, transfer_syntax = "1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.840.10008.1.2.4.50"
    meta = b"".join(
        (
            _dicom_element(0x0002, 0x0001, "OB", b"\0\1"),
            _dicom_element(0x0002, 0x0002, "UI", sop_class.encode()),
            _dicom_element(0x0002, 0x0003, "UI", instance_uid.encode()),
            _dicom_element(0x0002, 0x0010, "UI", transfer_syntax.encode()),
            _dicom_element(0x0002, 0x0012, "UI", b"2.25.1"),
        )
    )
    meta = _dicom_element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta))) + meta

    def us(value: int) -> bytes:
        return struct.pack("<H", value)

    fragment = jpeg + (b"\0" if len(jpeg) % 2 else b"")
    pixel_data = (
        struct.pack("<HH", 0x7FE0, 0x0010)
        + b"OB\0\0"
        + struct.pack("<I", 0xFFFFFFFF)  # undefined length: encapsulated frames follow
        + struct.pack("<HHI", 0xFFFE, 0xE000, 0)  # an empty basic offset table
        + struct.pack("<HHI", 0xFFFE, 0xE000, len(fragment))
        + fragment
        + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    )
    dataset = b"".join(
        (
            _dicom_element(0x0008, 0x0016, "UI", sop_class.encode()),
            _dicom_element(0x0008, 0x0018, "UI", instance_uid.encode()),
            _dicom_element(0x0008, 0x0060, "CS", b"XC"),
            _dicom_element(0x0010, 0x0020, "LO", patient_id.encode()),
            _dicom_element(0x0010, 0x0040, "CS", {"male": b"M", "female": b"F"}.get(sex or "", b"O")),
            _dicom_element(0x0028, 0x0002, "US", us(3)),
            _dicom_element(0x0028, 0x0004, "CS", b"YBR_FULL_422"),
            _dicom_element(0x0028, 0x0006, "US", us(0)),
            _dicom_element(0x0028, 0x0010, "US", us(height)),
            _dicom_element(0x0028, 0x0011, "US", us(width)),
            _dicom_element(0x0028, 0x0100, "US", us(8)),
            _dicom_element(0x0028, 0x0101, "US", us(8)),
            _dicom_element(0x0028, 0x0102, "US", us(7)),
            _dicom_element(0x0028, 0x0103, "US", us(0)),
            pixel_data,
        )
    )
    return b"\0" * 128 + b"DICM" + meta + dataset
