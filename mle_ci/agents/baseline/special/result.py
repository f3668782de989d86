"""What a special solver hands back, and the errors that mean its input files cannot be read."""

from __future__ import annotations

import csv
import struct
import zipfile
from dataclasses import dataclass

from mle_ci.errors import MleCiError


@dataclass(frozen=True)
class SpecialResult:
    """A competition solved by its own method: the submission in the sample's row order and how well it did."""

    kind: str
    metric: str
    higher_is_better: bool
    header: tuple[str, ...]
    rows: list[list[str]]
    cv_score: float | None
    fallback_score: float | None
    model: str
    notes: tuple[str, ...] = ()


class SpecialInputError(MleCiError):
    """A recognised layout whose files cannot be read well enough to write a submission."""


READ_ERRORS: tuple[type[Exception], ...] = (
    SpecialInputError,
    OSError,
    EOFError,
    ValueError,
    LookupError,
    csv.Error,
    struct.error,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
)
"""What broken input files raise while they are read (PIL's ``UnidentifiedImageError`` is an ``OSError``)."""
