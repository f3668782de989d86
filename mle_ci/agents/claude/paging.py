"""``read_file``'s page: lines from an offset, read in bounded pieces, so that memory never grows with the file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from mle_ci.agents.claude.workspace import ToolError

PAGE_BYTES = 256 * 1024
"""The most bytes one page holds: a longer page, or line, is cut there."""
SCAN_BYTES = 64 * 1024 * 1024
"""The most bytes read to reach the offset, and again to count the lines after the page."""
PIECE = 64 * 1024


@dataclass(frozen=True)
class Page:
    """Lines ``offset`` on of a file: the text, how many lines, whether a line was cut, the lines after it."""

    text: str
    offset: int
    lines: int
    cut: bool
    after: int | None
    """Lines after the page; None when there are more than the scan counts."""

    def note(self) -> str:
        """What the model is told after the text: where to read on."""
        following = self.offset + self.lines
        if self.cut:
            return f"\n[line {following + 1} cut at {PAGE_BYTES} bytes: read from offset={following + 1}]"
        if self.after is None:
            return f"\n[more lines: read with offset={following}]"
        return f"\n[{self.after} more lines: read with offset={following}]" if self.after else ""


def _skip(handle: BinaryIO, lines: int) -> int:
    """Read past ``lines`` lines (fewer at the end of the file); how many were passed."""
    passed = read = 0
    open_line = False
    while passed < lines:
        piece = handle.readline(PIECE)
        if not piece:
            return passed + open_line  # a last line without a newline is a line
        read += len(piece)
        if read > SCAN_BYTES:
            raise ToolError(
                f"offset {lines} is more than {SCAN_BYTES // 2**20} MiB into the file: "
                "use bash (e.g. sed -n or tail) for lines that far"
            )
        open_line = not piece.endswith(b"\n")
        passed += not open_line
    return passed


def _count(handle: BinaryIO) -> int | None:
    """Lines from here to the end of the file, or None when they are more than ``SCAN_BYTES`` away."""
    lines, read, last = 0, 0, b"\n"
    while piece := handle.read(PIECE):
        read += len(piece)
        if read > SCAN_BYTES:
            return None
        lines += piece.count(b"\n")
        last = piece[-1:]
    return lines + (last != b"\n")


def read_page(handle: BinaryIO, offset: int, limit: int) -> Page:
    """Lines ``offset`` to ``offset + limit`` (0-based) of ``handle``, decoded as UTF-8 (bad bytes replaced)."""
    passed = _skip(handle, offset)
    if passed < offset:
        return Page(f"(offset {offset} is past the end: the file has {passed} lines)", offset, 0, False, 0)
    chosen = bytearray()
    lines, cut = 0, False
    while lines < limit:
        room = PAGE_BYTES - len(chosen)
        piece = handle.readline(room + 1)
        if not piece:
            break
        if len(piece) > room:
            chosen += piece[:room]
            cut = True
            break
        chosen += piece
        lines += 1
    after = None if cut else _count(handle)
    text = chosen.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return Page(text, offset, lines, cut, after)
