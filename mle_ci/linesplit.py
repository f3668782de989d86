"""Cuts the child's output into lines; a line redrawn in place with carriage returns becomes its last state.

A progress bar (tqdm, or ``print(..., end="\\r")``) redraws one line with ``\\r`` and ends it with ``\\n`` only
when it is done. Every state it draws is output (the run is not silent), but only the last one is a line of
the log. Memory stays bounded: an unfinished line holds at most ``max_line`` bytes of its newest state and as
many of the state being drawn; a longer state goes out as a line in ``max_line`` pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import AnyStr

MAX_LINE = 64 * 1024
"""Longest line handed on at once; a longer one is passed in pieces so memory stays bounded."""


class Piece(bytes):
    """A ``max_line``-byte piece of an over-long line (or state) that goes on in the next piece; a line's or a
    state's last piece is plain bytes. Redaction holds back a piece's tail for the next one, never a finished
    line's (:class:`mle_ci.files.PieceRedactor`)."""


def last_state(states: Sequence[AnyStr], before: AnyStr) -> AnyStr:
    """What a terminal shows of a line after ``states`` (its parts between carriage returns) were drawn over
    ``before``: the last non-empty one (a bare ``\\r`` before the newline, as in ``\\r\\n``, erases nothing)."""
    for state in reversed(states):
        if state:
            return state
    return before


@dataclass(frozen=True)
class Split:
    """What one read of output finished."""

    lines: tuple[bytes, ...]
    """Finished lines (each its last state, without ``\\r`` or ``\\n``) or pieces of over-long ones, in order."""
    redraw: bytes | None = None
    """The newest state of the unfinished line, when that line was redrawn (``\\r``) in this read."""


class LineSplitter:
    """Cuts a byte stream into lines and folds each line's redraws into its last state; bounded memory."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._max = max_line
        self._drawing = b""
        """The state being drawn: the bytes since the last ``\\r``, ``\\n`` or piece cut."""
        self._state = b""
        """The unfinished line's newest complete, non-empty state."""
        self._cut = False
        """The state being drawn is over-long: its beginning went out in pieces."""
        self._sent = False
        """Some of the unfinished line went out already (the pieces of an over-long state)."""

    def feed(self, data: bytes) -> Split:
        """The lines (or pieces of over-long ones) that ``data`` finishes, and the newest redrawn state."""
        if self._drawing:
            data = self._drawing + data
        out: list[bytes] = []
        redraw = None
        if b"\r" not in data and not (self._state or self._cut or self._sent):
            # The common case, kept fast for floods: plain lines.
            *lines, self._drawing = data.split(b"\n")
            for line in lines:
                out.extend(self._pieces(line) if len(line) > self._max else (line,))
        else:
            *lines, rest = data.split(b"\n")
            for line in lines:
                *states, last = line.split(b"\r")
                for state in states:
                    self._complete(state, out)
                self._finish(last, out)
            *states, self._drawing = rest.split(b"\r")
            for state in states:
                if self._complete(state, out):
                    redraw = self._state
        while len(self._drawing) > self._max:
            out.append(Piece(self._drawing[: self._max]))
            self._drawing = self._drawing[self._max :]
            self._state, self._cut, self._sent = b"", True, True
        return Split(tuple(out), redraw)

    def close(self) -> list[bytes]:
        """The unfinished last line (its last state), if any."""
        drawing, self._drawing = self._drawing, b""
        out: list[bytes] = []
        if drawing or self._state or self._cut:
            self._finish(drawing, out)
        self._state, self._cut, self._sent = b"", False, False
        return out

    def _pieces(self, data: bytes) -> list[bytes]:
        """``data`` in ``max_line`` pieces, each but the last marked as going on."""
        cuts = range(0, len(data), self._max)
        return [Piece(data[i : i + self._max]) if i + self._max < len(data) else data[i:] for i in cuts]

    def _complete(self, state: bytes, out: list[bytes]) -> bool:
        """A state ended by ``\\r``; True when it is now the line's newest state (a redraw to report)."""
        if self._cut:  # the end of an over-long state, whose beginning went out already
            out.extend(self._pieces(state))
            self._cut = False
            return False
        if len(state) > self._max:
            out.extend(self._pieces(state))
            self._state, self._sent = b"", True
            return False
        if state:
            self._state = state
            return True
        return False

    def _finish(self, last: bytes, out: list[bytes]) -> None:
        """The line ends (``\\n``) with ``last`` drawn over it: its last state goes out."""
        if self._cut:
            out.extend(self._pieces(last))
        else:
            final = last_state((last,), self._state)
            if final or not self._sent:
                out.extend(self._pieces(final) or (b"",))
        self._state, self._cut, self._sent = b"", False, False
