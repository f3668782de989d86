"""What a person watching sees: plain timestamped lines in CI, a live status line on a terminal; and the one rule
for every byte the harness prints outside the stop-commands block (:func:`inert_line`, :func:`inert_lines`)."""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.live import Live
    from rich.text import Text


@dataclass(frozen=True)
class Progress:
    """Where a run is, as the live display and the heartbeat line tell it."""

    fold: int | None = None
    total_folds: int | None = None
    epoch: int | None = None
    total_epochs: int | None = None
    last_score: float | None = None
    gpu: str | None = None
    """``GPU 87 % 5.2/80 GB`` from the latest samples, when GPUs are watched."""


class Console(Protocol):
    """Where the child's lines and the harness's notes go."""

    live: bool
    """Whether a live status line stands in for heartbeat lines."""

    def start(self) -> None:
        """The child is running: begin any live display."""

    def child_lines(self, texts: list[str]) -> None:
        """Echo lines of the child's output."""

    def note(self, text: str) -> None:
        """A line of the harness's own (heartbeat, stop notices)."""

    def progress(self, progress: Progress, status: str) -> None:
        """The latest fold/epoch/score and a status text for a live display."""

    def stop(self) -> None:
        """End any live display."""


# Every character a reader may take for the end of a line (the runner's ends a line at CR, LF or CRLF; Unicode's
# separators too), and the other control characters: ESC starts terminal sequences, NUL cuts C strings.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\x1b": "\\e"}
# A line that starts with "::" (after blanks, which the runner may trim) is a workflow command; so is one that holds
# "##[" anywhere (the runner's older syntax, ``##[error]message``, still parsed when the first one is not).
_COMMAND_START = re.compile(r"^(\s*):(?=:)")
_LEGACY_COMMAND = "##["


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def inert_line(text: str) -> str:
    """``text`` as one line no reader can take for a workflow command or a terminal sequence: every line break of
    any kind and every control character (tab aside) shown escaped (``\\r``, ``\\n``, ``\\e``, ``\\x00``), and a
    leading ``::`` broken (``: :``), and every ``##[`` broken (``## [``). What goes into a workflow command's own
    message is escaped by the command (``github.format_command``: ``%``, CR, LF)."""
    return _COMMAND_START.sub(r"\1: ", _UNSAFE.sub(_shown, text)).replace(_LEGACY_COMMAND, "## [")


def inert_lines(text: str) -> str:
    """A block the harness wrote (a table, a report) with each of its lines made inert; only its own ``\\n``
    breaks stay."""
    return "\n".join(inert_line(line) for line in text.split("\n"))


def _stamp() -> str:
    return time.strftime("%H:%M:%S")


class PlainConsole:
    """Plain, flushed lines: what CI logs show well."""

    live = False

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def _write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self._stream.write(text + "\n")
            self._stream.flush()
        except (OSError, ValueError):
            self.broken = True  # a closed console must not stop the run

    def start(self) -> None:
        """Nothing to start for plain lines."""

    def child_lines(self, texts: list[str]) -> None:
        self._write("\n".join(texts))

    def note(self, text: str) -> None:
        self._write(inert_line(f"[mle-ci {_stamp()}] {text}"))

    def progress(self, progress: Progress, status: str) -> None:
        """Plain mode prints no live display; the heartbeat covers it."""

    def stop(self) -> None:
        """Nothing to stop for plain lines."""


class LiveConsole:
    """A rich live status line under the child's output, for a terminal."""

    live = True

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console as RichConsole  # noqa: PLC0415 - rich (heavy) only for a live line

        self._console = RichConsole(file=stream, highlight=False, markup=False, emoji=False)
        self._live: Live | None = None
        self._status = "starting"

    def _render(self) -> Text:
        from rich.text import Text  # noqa: PLC0415 - rich (heavy) only for a live line

        return Text(self._status, style="bold cyan")

    def start(self) -> None:
        from rich.live import Live  # noqa: PLC0415 - rich (heavy) only for a live line

        self._live = Live(self._render(), console=self._console, refresh_per_second=4, transient=True)
        self._live.start()

    def child_lines(self, texts: list[str]) -> None:
        from rich.text import Text  # noqa: PLC0415 - rich (heavy) only for a live line

        with contextlib.suppress(OSError, ValueError):
            self._console.print(Text("\n".join(texts)), soft_wrap=True)

    def note(self, text: str) -> None:
        from rich.text import Text  # noqa: PLC0415 - rich (heavy) only for a live line

        with contextlib.suppress(OSError, ValueError):
            self._console.print(Text(inert_line(f"[mle-ci {_stamp()}] {text}"), style="dim"), soft_wrap=True)

    def progress(self, progress: Progress, status: str) -> None:
        self._status = status
        if self._live is not None:
            self._live.update(self._render())

    def stop(self) -> None:
        if self._live is not None:
            with contextlib.suppress(OSError, ValueError):
                self._live.stop()
            self._live = None


def make_console(stream: TextIO, *, display: str, github_actions: bool) -> Console:
    """``live`` on a terminal outside CI (or when asked), plain lines otherwise."""
    live = display == "live" or (display == "auto" and not github_actions and _isatty(stream))
    return LiveConsole(stream) if live else PlainConsole(stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
