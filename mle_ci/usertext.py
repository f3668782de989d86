"""The one rule for text a user gives (flags, action inputs, the config file, the environment): usable or why not.

A NUL byte cannot reach the operating system, text that is not valid UTF-8 cannot reach the reports (Python
reads such bytes from the command line and the environment as lone surrogates), and a value longer than any
real one (a 5,000-character competition id) only fails later, deep in a file call. Each check returns the
problem as words for the caller's ``ConfigError``, or None.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

MAX_NAME = 200
"""Characters in a name: a competition id, a metric or a model (MLE-bench's longest id has 50)."""
MAX_PATH = 4096
"""Bytes in a path, as Linux's PATH_MAX."""
MAX_FILE_NAME = 255
"""Bytes in one part of a path, as Linux's NAME_MAX."""
MAX_WORD = 131072
"""Bytes in one word of a command line, as Linux's MAX_ARG_STRLEN: exec refuses a longer one."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _encoding_problem(text: str) -> str | None:
    if "\x00" in text:
        return f"holds a NUL byte (character {text.index(chr(0)) + 1})"
    bad = _SURROGATE.search(text)
    if bad is not None:
        code = ord(bad.group())
        byte = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "a lone surrogate"
        return f"is not valid UTF-8 ({byte} at character {bad.start() + 1})"
    return None


def text_problem(text: str, *, max_bytes: int) -> str | None:
    """Why ``text`` is unusable as a value: a NUL byte, invalid UTF-8, or more than ``max_bytes`` bytes."""
    problem = _encoding_problem(text)
    if problem is None and len(text.encode("utf-8")) > max_bytes:
        problem = f"is {len(text.encode('utf-8')):,} bytes long; at most {max_bytes:,} are accepted"
    return problem


def name_problem(text: str) -> str | None:
    """Why ``text`` is unusable as a name: a NUL byte, invalid UTF-8, over ``MAX_NAME``, a control character."""
    problem = _encoding_problem(text)
    if problem is not None:
        return problem
    if len(text) > MAX_NAME:
        return f"is {len(text):,} characters long; a name has at most {MAX_NAME}"
    control = _CONTROL.search(text)
    if control is not None:
        return f"holds a control character ({control.group()!r} at character {control.start() + 1})"
    return None


def path_problem(text: str) -> str | None:
    """Why ``text`` is unusable as a path: as :func:`text_problem`, or longer than the system takes."""
    problem = text_problem(text, max_bytes=MAX_PATH)
    if problem is not None:
        return problem
    longest = max((len(part.encode("utf-8")) for part in text.split("/")), default=0)
    if longest > MAX_FILE_NAME:
        return f"has a part of {longest:,} bytes; a file or folder name has at most {MAX_FILE_NAME}"
    return None


def word_problem(text: str) -> str | None:
    """Why ``text`` is unusable as a word of a command line."""
    return text_problem(text, max_bytes=MAX_WORD)


MAX_JSON_FILE = 64 * 1024 * 1024
"""Bytes in a JSON file a user names (a result.json to compare with or to report on): far above a real one."""


def parse_json(text: str) -> Any:
    """``text`` as JSON; ``ValueError`` for anything else, a document nested too deep for the parser included."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("it is nested too deeply") from None


def read_json(path: Path, *, limit: int = MAX_JSON_FILE) -> Any:
    """The JSON in a file a user names: only a regular file (a FIFO or a device is refused, never waited on), of at
    most ``limit`` bytes. ``OSError`` when it cannot be read, ``ValueError`` when it is not such JSON."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"it is larger than {limit // 2**20} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"it is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_json(text)


def competition_id_problem(competition_id: str) -> str | None:
    """Why ``competition_id`` cannot name a competition, or None: it is a name, and one folder's name."""
    if not competition_id.strip():
        return "is empty"
    problem = name_problem(competition_id)
    if problem is None and ("/" in competition_id or "\\" in competition_id or competition_id in (".", "..")):
        problem = "is not one folder name (no / or \\, not . or ..)"
    return problem
