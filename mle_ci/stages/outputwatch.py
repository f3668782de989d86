"""The output watcher of one supervised run: logs and parses the child's output, follows its events, beats, rewrites
result.json, and tells the supervisor when to stop the child."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mle_ci.console import Console, Progress
from mle_ci.eventlog import BadLine, EventLogReader, EventWriter
from mle_ci.events import Event
from mle_ci.files import LogFile, PieceRedactor
from mle_ci.lineparser import PatternLike, may_hold_progress, parse_line
from mle_ci.linesplit import MAX_LINE, Piece
from mle_ci.redaction import Redactor
from mle_ci.report.runlog import heartbeat_text
from mle_ci.stages.clock import Clocks, heartbeat_due, seconds_to_next_decision, stop_reason
from mle_ci.supervisor import StopReason
from mle_ci.tracker import RunTracker

TAIL_LINES = 200
EVENTS_BETWEEN_STOP_CHECKS = 1024
"""Events read from the backlog a child left between two looks at whether the run was cancelled."""
TAIL_LINE_CHARS = 2000
HOUSEKEEPING = 0.25
"""Seconds between looks at the events file; also bounds how stale result.json can be."""
RESULT_EVERY = 1.0
WARM_UP_AFTER = 0.2
"""Seconds into the run before the warm-up task runs: after the child's own start-up has had the CPU."""


class OutputWatcher:
    """The supervisor's watcher for one run; all state that the heartbeat and the result need lives here."""

    def __init__(
        self,
        *,
        tracker: RunTracker,
        console: Console,
        log: LogFile,
        events_path: Path,
        redactor: Redactor,
        patterns: tuple[PatternLike, ...],
        clocks: Clocks,
        save: Callable[[], None],
        warm_up: Callable[[], None] | None = None,
        gpu_status: Callable[[], str] | None = None,
        notes: Callable[[], list[str]] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.tracker = tracker
        self._console = console
        self._log = log
        self._events_path = events_path
        self._reader = EventLogReader(events_path)
        self._redactor = redactor
        self._pieces = PieceRedactor(redactor, MAX_LINE, lambda line: isinstance(line, Piece))
        self._patterns = patterns
        self.clocks = clocks
        self._save = save
        self._warm_up = warm_up
        self._gpu_status = gpu_status
        self._notes = notes
        self._wall = wall
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._dirty = True
        self._last_save = clocks.started
        self._next_housekeeping = clocks.started
        self.lines = 0
        self._redrawn: bytes | None = None
        """The last redrawn state echoed, while its line is unfinished: the line need not be echoed again."""
        self.events_file_error: str | None = None
        self._writer: EventWriter | None = None
        try:
            self._writer = EventWriter(events_path)
        except OSError as exc:
            self._writer_failed(exc)

    def progress(self) -> Progress:
        t = self.tracker
        gpu = self._gpu_status() if self._gpu_status is not None else None
        return Progress(t.current_fold, t.total_folds, t.current_epoch, t.total_epochs, t.last_score, gpu or None)

    def heartbeat(self, now: float) -> str:
        """The heartbeat line now."""
        clocks = self.clocks
        return heartbeat_text(
            elapsed=now - clocks.started,
            left=None if clocks.deadline is None else clocks.deadline - now,
            since_output=now - clocks.last_output,
            progress=self.progress(),
        )

    def on_lines(self, lines: list[bytes], now: float) -> None:
        self.lines += len(lines)
        self.clocks = replace(self.clocks, last_output=now, last_activity=now)
        if self._redactor:
            lines = self._pieces.lines(lines)
        if not lines:
            return  # all of it could still begin a secret: held for the next line
        self._log.write_lines(lines)
        # One decode for the whole chunk: a newline is never part of a multi-byte character.
        blob = b"\n".join(lines).decode("utf-8", errors="replace")
        texts = blob.split("\n")
        self.tail.extend(text[:TAIL_LINE_CHARS] for text in texts[-TAIL_LINES:])
        shown = 1 if self._redrawn is not None and lines[0] == self._redrawn else 0
        self._redrawn = None
        if len(texts) > shown:
            self._console.child_lines(texts[shown:])
        if not self._patterns and not may_hold_progress(blob):
            return
        wall = self._wall()
        for text in texts:
            event = parse_line(text, wall, self._patterns)
            if event is not None:
                self._record(event)

    def on_redraw(self, state: bytes, now: float) -> None:
        """A progress bar moved: its state is echoed and counts as output (no stall, no beat); the log and the
        parser get the line when it is finished, in its last state."""
        if self._redactor:
            state = self._redactor.bytes(state)
        self._redrawn = state
        self._console.child_lines([state.decode("utf-8", errors="replace")])
        self.clocks = replace(self.clocks, last_output=now, last_activity=now)

    def _record(self, event: Event) -> None:
        self.tracker.apply(event)
        self._dirty = True
        if self._writer is None:
            return
        try:
            self._writer.write(event)
        except OSError as exc:
            self._writer_failed(exc)

    def _writer_failed(self, exc: OSError) -> None:
        self.events_file_error = f"cannot write events.jsonl: {exc.strerror or exc}"
        if self._writer is not None:
            with contextlib.suppress(OSError):
                self._writer.close()
        self._writer = None

    def _follow_events(self, now: float, stop: Callable[[], bool] | None = None) -> None:
        for count, item in enumerate(self._reader.read_new()):
            if stop is not None and count % EVENTS_BETWEEN_STOP_CHECKS == 0 and stop():
                return  # cancelled: the run ends now with what was read
            if isinstance(item, BadLine):
                self.tracker.record_invalid(f"events.jsonl line {item.number}: {item.reason}")
            elif item.source == "line":
                continue  # written by this harness from a parsed line: already applied
            else:
                self.tracker.apply(item)
            self.clocks = replace(self.clocks, last_activity=now)
            self._dirty = True

    def poll(self, now: float) -> StopReason | None:
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING
            self._follow_events(now)
            self._log.flush()
            for note in self._notes() if self._notes is not None else ():
                self._console.note(note)
            if self._warm_up is not None and now - self.clocks.started >= WARM_UP_AFTER:
                warm_up, self._warm_up = self._warm_up, None
                warm_up()
            self._console.progress(self.progress(), self.heartbeat(now))
            if self._dirty and now - self._last_save >= RESULT_EVERY:
                self.save(now)
        if heartbeat_due(self.clocks, now):
            if not self._console.live:
                self._console.note(self.heartbeat(now))
            self.clocks = replace(self.clocks, last_beat=now)
        return stop_reason(self.clocks, now)

    def save(self, now: float) -> None:
        """Rewrite result.json with the state so far (a failure to write is not fatal to the run)."""
        self._dirty = False
        self._last_save = now
        with contextlib.suppress(OSError):
            self._save()

    def next_poll(self, now: float) -> float:
        until_housekeeping = max(0.0, self._next_housekeeping - now)
        return seconds_to_next_decision(self.clocks, now, housekeeping=until_housekeeping)

    def finish(self, stop: Callable[[], bool] | None = None) -> None:
        """Read the last events (until ``stop`` says the run was cancelled) and flush the log."""
        held = self._pieces.flush() if self._redactor else []
        if held:
            self.on_lines(held, self.clocks.last_output)
        self._follow_events(self.clocks.last_activity, stop)
        self._log.close()
        if self._writer is not None:
            with contextlib.suppress(OSError):
                self._writer.close()
