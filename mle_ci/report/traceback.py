"""Finding where the child crashed: the innermost workspace frame of the last Python traceback in its output."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mle_ci.report._text import clean_text
from mle_ci.resultparts import CrashSite

MAX_EXCEPTION = 1000
"""Longest exception line kept; a message may carry a whole tensor or data frame."""

# ``Original Traceback`` is how PyTorch's DataLoader re-raises a worker's error; the worker's frames are the
# ones that point at the user's dataset code.
_HEADER = re.compile(r"^(?P<prefix>.*?)(?:Original |Exception Group )?Traceback \(most recent call last\):\s*$")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+?))?\s*$')
# What ``PYTHONFAULTHANDLER=1`` prints when the interpreter dies of a signal (segfault, abort): innermost first.
_FATAL = re.compile(r"^(?:.*?)Fatal Python error: (?P<what>.+?)\s*$")
_FAULT_THREAD = re.compile(r"^\s*(?P<current>Current thread|Thread) 0x[0-9a-fA-F]+")
_FAULT_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<function>.+?)\s*$')
_DIGITS = re.compile(r"\d")
_DRIVE = re.compile(r"^[A-Za-z]:/")
_SKIPPED_PARTS = frozenset({"site-packages", "dist-packages"})


@dataclass(frozen=True)
class _Frame:
    file: str
    line: int
    function: str | None


@dataclass(frozen=True)
class _Block:
    frames: tuple[_Frame, ...]
    exception: str | None


def find_crash_site(lines: Sequence[str], workspace: str) -> CrashSite | None:
    """The innermost frame inside ``workspace`` of the last traceback in ``lines``; None when there is none."""
    root = _normalise(workspace)
    for start in range(len(lines) - 1, -1, -1):
        line = lines[start].rstrip("\r\n")
        fatal = _FATAL.match(line) if "Fatal Python error" in line else None
        if fatal is not None:
            block = _parse_fatal(lines, start + 1, fatal.group("what"))
            if block.frames:
                return _site(block, root)
            continue
        header = _HEADER.match(line)
        if header is None:
            continue
        block = _parse_block(lines, start + 1, header.group("prefix"))
        if not block.frames:
            # a header with nothing after it (output cut off): an earlier traceback may still say more
            continue
        return _site(block, root)
    return None


def _parse_block(lines: Sequence[str], first: int, prefix: str) -> _Block:
    """Frames and exception line of the traceback whose header line (with ``prefix``) ends before ``first``."""
    frames: list[_Frame] = []
    mode: str | None = None if prefix else "exact"
    for raw in lines[first:]:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if mode is None:
            mode = _prefix_mode(line, prefix)
        content = _strip_prefix(line, prefix, mode)
        if content is None:
            # interleaved output of another process (e.g. ``[rank1]:`` while reading ``[rank0]:``)
            continue
        frame = _FRAME.match(content)
        if frame is not None:
            frames.append(_Frame(frame.group("file"), int(frame.group("line")), frame.group("function")))
            continue
        if _HEADER.match(content):
            break
        if content[:1].isspace():
            continue  # a source line, carets, ``[Previous line repeated N more times]``
        exception = content.strip()
        if len(exception) > MAX_EXCEPTION:
            exception = exception[: MAX_EXCEPTION - 1] + "…"
        return _Block(tuple(frames), clean_text(exception))
    return _Block(tuple(frames), None)


def _parse_fatal(lines: Sequence[str], first: int, what: str) -> _Block:
    """The crashing thread's frames of a faulthandler dump, outermost first like a traceback."""
    sections: list[tuple[bool, list[_Frame]]] = []
    strangers = 0
    for raw in lines[first:]:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        thread = _FAULT_THREAD.match(line)
        frame = _FAULT_FRAME.match(line)
        if thread is not None:
            sections.append((thread.group("current") == "Current thread", []))
        elif frame is not None and sections:
            sections[-1][1].append(_Frame(frame.group("file"), int(frame.group("line")), frame.group("function")))
        elif sections or strangers >= 3:
            break  # the dump ended ("Extension modules: ..."), or this was no dump at all
        else:
            strangers += 1
    current = [frames for is_current, frames in sections if is_current]
    chosen = current[0] if current else (sections[0][1] if sections else [])
    exception = f"Fatal Python error: {what}"[:MAX_EXCEPTION]
    return _Block(tuple(reversed(chosen)), clean_text(exception))


def _prefix_mode(line: str, prefix: str) -> str:
    """How later lines carry the header's prefix: verbatim, with other digits (timestamps), or not at all."""
    if line.startswith(prefix):
        return "exact"
    if _DIGITS.sub("0", line[: len(prefix)]) == _DIGITS.sub("0", prefix):
        return "shape"
    return "loose"


def _strip_prefix(line: str, prefix: str, mode: str) -> str | None:
    """``line`` without the prefix, or None when the line does not belong to this traceback."""
    if mode == "exact":
        return line[len(prefix) :] if line.startswith(prefix) else None
    if mode == "shape":
        head = line[: len(prefix)]
        return line[len(prefix) :] if _DIGITS.sub("0", head) == _DIGITS.sub("0", prefix) else None
    return line


def _site(block: _Block, root: str) -> CrashSite | None:
    """The innermost frame of ``block`` inside ``root``, as a crash site relative to it."""
    for frame in reversed(block.frames):
        relative = _relative(frame.file, root)
        if relative is not None:
            return CrashSite(
                file=relative,
                line=frame.line,
                function=clean_text(frame.function) if frame.function else None,
                exception=block.exception,
            )
    return None


def _relative(file: str, root: str) -> str | None:
    """``file`` relative to ``root`` with forward slashes, or None when it lies outside or is not user code."""
    if not file or file.startswith("<") or not root:
        return None
    path = _normalise(file)
    if not _is_absolute(path):
        path = posixpath.normpath(posixpath.join(root, path))
    if root == "/":
        relative = path.lstrip("/")
    elif root == "." and not _is_absolute(path):
        relative = path
    elif path.startswith(root + "/"):
        relative = path[len(root) + 1 :]
    else:
        return None
    parts = relative.split("/")
    if not relative or ".." in parts or _SKIPPED_PARTS.intersection(parts):
        return None
    return relative


def _normalise(path: str) -> str:
    """A path with forward slashes, without ``.``/``..`` segments or a trailing slash."""
    path = path.strip().replace("\\", "/")
    return posixpath.normpath(path) if path else ""


def _is_absolute(path: str) -> bool:
    return path.startswith("/") or bool(_DRIVE.match(path))
