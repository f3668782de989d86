"""The events file: atomic appends from any number of processes, and a reader that follows it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mle_ci.errors import EventError
from mle_ci.events import Event, event_from_json

MAX_EVENT_LINE = 64 * 1024
READ_CHUNK = 8 * 1024 * 1024
"""Bytes of the events file read at once."""
MAX_EVENTS_FILE = 1024 * 1024 * 1024
"""Bytes of the events file read at most: far more than any run's events (a million epochs take ~200 MiB)."""
"""A longer line is not an event; the reader skips it without holding it in memory."""


def append_event(path: str | os.PathLike[str], event: Event) -> None:
    """Append one event as a single ``write`` on an ``O_APPEND`` descriptor, so writers never interleave."""
    data = (event.to_json() + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write to {os.fspath(path)}: {written} of {len(data)} bytes")
    finally:
        os.close(fd)


class EventWriter:
    """The harness's own appends to the events file, through one ``O_APPEND`` descriptor kept open."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def write(self, event: Event) -> None:
        data = (event.to_json() + "\n").encode("utf-8")
        if os.write(self._fd, data) != len(data):
            raise OSError("short write to the events file")

    def close(self) -> None:
        os.close(self._fd)


@dataclass(frozen=True)
class BadLine:
    """A line of the events file that is not a valid event, kept so the run can report it."""

    number: int
    reason: str


class EventLogReader:
    """Follows an events file: each :meth:`read_new` returns the complete lines appended since the last call."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self._partial = b""
        self._skipping = False
        self._line_number = 0

    def read_new(self) -> Iterator[Event | BadLine]:
        """Events (and bad lines) appended since the previous call; an unfinished last line waits. The file is read
        ``READ_CHUNK`` bytes at a time, and no further than ``MAX_EVENTS_FILE``: memory and time stay bounded
        whatever the child made of the file (a sparse terabyte)."""
        try:
            handle = open(self._path, "rb")  # noqa: SIM115 - held across the chunks this generator yields
        except FileNotFoundError:
            return
        with handle:
            handle.seek(self._offset)
            while self._offset < MAX_EVENTS_FILE:
                chunk = handle.read(min(READ_CHUNK, MAX_EVENTS_FILE - self._offset))
                if not chunk:
                    return
                self._offset += len(chunk)
                yield from self._lines(chunk)
            if self._offset >= MAX_EVENTS_FILE:
                self._line_number += 1
                yield BadLine(
                    self._line_number, f"the events file passed {MAX_EVENTS_FILE // 2**20} MiB: not read further"
                )

    def _lines(self, chunk: bytes) -> Iterator[Event | BadLine]:
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            self._line_number += 1
            if self._skipping:
                self._skipping = False
                yield BadLine(self._line_number, f"longer than {MAX_EVENT_LINE} bytes")
                continue
            if not raw.strip():
                continue
            try:
                yield event_from_json(raw)
            except EventError as exc:
                yield BadLine(self._line_number, str(exc))
        if len(self._partial) > MAX_EVENT_LINE:
            self._partial = b""
            self._skipping = True
