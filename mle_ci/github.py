"""Workflow commands and GitHub files, written the way actions/runner reads them (the only module that does)."""

from __future__ import annotations

import errno
import fcntl
import io
import os
import re
import secrets
import stat
import struct
import termios
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from mle_ci.errors import MleCiError

__all__ = [
    "MESSAGE_LIMIT",
    "SUMMARY_LIMIT_BYTES",
    "GitHub",
    "GitHubFileError",
    "Level",
    "OutputsFile",
    "escape_data",
    "escape_property",
    "format_command",
    "parse_outputs",
]

Level = Literal["error", "warning", "notice"]

MESSAGE_LIMIT = 4096
SUMMARY_LIMIT_BYTES = 1_048_576
SETTLE_SECONDS = 2.0
"""How long :meth:`GitHub.settle` waits for the runner to read its lines out of the step's stdout pipe."""

_COMMAND_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_PROPERTY_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_OUTPUT_NAME = re.compile(r"[A-Za-z0-9_-]+")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
# The runner's log reader (StreamReader.ReadLine) ends a line at CR, LF or CRLF.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A stop token equal to a registered command would end the pause on that command.
_RUNNER_COMMANDS = frozenset(
    {
        "add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error", "group",
        "internal-set-repo-path", "notice", "remove-matcher", "save-state", "set-env", "set-output",
        "stop-commands", "warning",
    }
)  # fmt: skip
_MASK_MIN_LENGTH = 4


class GitHubFileError(MleCiError):
    """``GITHUB_OUTPUT`` or ``GITHUB_STEP_SUMMARY`` could not be read or appended to."""


def escape_data(s: str) -> str:
    """Escape a command's message as actions/toolkit ``escapeData`` does."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    """Escape a command's property value as actions/toolkit ``escapeProperty`` does."""
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def format_command(
    name: str,
    message: str = "",
    properties: Mapping[str, str | int | None] | None = None,
    *,
    limit: int | None = MESSAGE_LIMIT,
) -> str:
    """Return one workflow-command line (without its newline), with the escaped message cut to ``limit``."""
    if not _COMMAND_NAME.fullmatch(name):
        raise ValueError(f"not a workflow command name: {name!r}")
    parts = []
    for key, value in (properties or {}).items():
        if not _PROPERTY_KEY.fullmatch(key):
            raise ValueError(f"not a workflow command property name: {key!r}")
        # The runner drops a property whose value is empty, so treat it like None.
        if value is not None and value != "":
            parts.append(f"{key}={escape_property(str(value))}")
    listed = ",".join(parts)
    # The runner trims the property list; a trailing comma (an empty entry it skips) keeps the spaces.
    if listed[-1:].isspace():
        listed += ","
    data = escape_data(message)
    if limit is not None and len(data) > limit:
        data = data[:limit]
        # Every '%' in escaped text opens a three-character sequence: never keep half of one.
        split_at = data.find("%", max(0, limit - 2))
        if split_at >= 0:
            data = data[:split_at]
    return f"::{name} {listed}::{data}" if listed else f"::{name}::{data}"


@dataclass(frozen=True)
class OutputsFile:
    """The outputs an outputs file holds, and the entries left out because the runner would reject them."""

    outputs: dict[str, str]
    problems: tuple[str, ...]


def parse_outputs(text: str) -> OutputsFile:
    """Read a ``GITHUB_OUTPUT`` file as the runner does on Linux (``name=value`` lines, ``name<<DELIMITER``
    heredocs; a later value wins), but keep what is well formed: an entry the runner would reject (a bad name,
    a heredoc never closed) is left out and said, and cannot swallow the entries after it."""
    outputs: dict[str, str] = {}
    problems: list[str] = []
    ends = [match.end() for match in re.finditer("\n", text)]
    starts = [0, *ends]
    lines = [text[start : (ends[n] - 1 if n < len(ends) else len(text))] for n, start in enumerate(starts)]
    if lines and not lines[-1]:
        lines.pop()  # what follows the last newline
    n = 0
    while n < len(lines):
        line, n = lines[n], n + 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
        elif heredoc >= 0:
            name, delimiter = line.split("<<", 1)
            close = next((k for k in range(n, len(lines)) if lines[k] == delimiter), None)
            if not delimiter or close is None:
                problems.append(f"heredoc {name[:40]!r} is never closed: left out")
                continue
            value = text[starts[n] : ends[close - 1] - 1] if close > n else ""
            n = close + 1
        else:
            problems.append(f"line {line[:40]!r} is neither name=value nor name<<delimiter: left out")
            continue
        if not _OUTPUT_NAME.fullmatch(name):
            problems.append(f"output name {name[:40]!r} is not letters, digits, '_' or '-': left out")
            continue
        outputs[name] = value
    return OutputsFile(outputs, tuple(problems))


def _random_token() -> str:
    """Return 32 random hex characters."""
    return secrets.token_hex(16)


def _utf8(text: str) -> str:
    """Replace what UTF-8 cannot encode (lone surrogates from undecodable bytes) so a write never fails."""
    return text.encode("utf-8", "replace").decode("utf-8")


class GitHub:
    """Speaks to the runner: workflow commands on ``stream``, appends to the output and summary files."""

    def __init__(
        self,
        stream: TextIO,
        output_file: Path | None = None,
        summary_file: Path | None = None,
        token_factory: Callable[[], str] = _random_token,
    ) -> None:
        self._stream = stream
        self._output_file = output_file
        self._summary_file = summary_file
        self._token_factory = token_factory
        self._masked: set[str] = set()
        self._stop_token: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], stream: TextIO) -> GitHub | None:
        """Build the writer inside GitHub Actions (``GITHUB_ACTIONS=true``), else return None."""
        if env.get("GITHUB_ACTIONS") != "true":
            return None
        output, summary = env.get("GITHUB_OUTPUT", ""), env.get("GITHUB_STEP_SUMMARY", "")
        return cls(stream, Path(output) if output else None, Path(summary) if summary else None)

    def annotate(
        self,
        level: Level,
        message: str,
        *,
        title: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        """Print an error, warning or notice annotation as exactly one line."""
        if level not in ("error", "warning", "notice"):
            raise ValueError(f"annotation level must be error, warning or notice, not {level!r}")
        self._emit(format_command(level, message, {"file": file, "line": line, "title": title}))

    def mask(self, value: str) -> None:
        """Ask the runner to hide each line of ``value`` in later log lines, once per distinct line."""
        for line in _LINE_BREAK.split(_utf8(value)):
            if len(line.strip()) < _MASK_MIN_LENGTH or line in self._masked:
                continue
            # Never cut a mask: a cut one would hide only the start of the secret.
            self._emit(format_command("add-mask", line, limit=None))
            self._masked.add(line)

    def group(self, title: str) -> None:
        """Open a folded group of log lines."""
        self._emit(format_command("group", title))

    def end_group(self) -> None:
        """Close the current folded group."""
        self._emit(format_command("endgroup"))

    @contextmanager
    def stop_commands(self) -> Iterator[str]:
        """Turn command processing off for untrusted text printed inside the block; yields the token."""
        token = self.pause_commands()
        try:
            yield token
        finally:
            self.resume_commands()

    def pause_commands(self) -> str:
        """Turn command processing off until :meth:`resume_commands`: whatever anyone prints meanwhile is inert.
        Returns the token that turns it on again."""
        token = self._new_token()
        if token.lower() in _RUNNER_COMMANDS:
            raise ValueError(f"a stop-commands token must not be a command name: {token!r}")
        self._emit(format_command("stop-commands", token))
        self._stop_token = token
        return token

    def resume_commands(self) -> None:
        """Turn command processing on again, if :meth:`pause_commands` turned it off."""
        token, self._stop_token = self._stop_token, None
        if token is not None:
            # Untrusted text may end mid-line (a progress bar's CR); the token must start its own line.
            self._write(f"\n{format_command(token)}\n")

    def settle(self, seconds: float = SETTLE_SECONDS) -> bool:
        """Wait up to ``seconds`` for the runner to read what was written, when the stream is a pipe (as a step's
        stdout is): a process started after that cannot read it out of the pipe first. True once nothing is left
        unread (at once when the stream is not a pipe); False when the wait ran out."""
        try:
            fd = self._stream.fileno()
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                return True
        except (OSError, ValueError, io.UnsupportedOperation):
            return True
        until = time.monotonic() + seconds
        while True:
            try:
                unread = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
            except OSError:
                return True  # a pipe that cannot say: nothing to wait for
            if unread == 0:
                return True
            if time.monotonic() >= until:
                return False
            time.sleep(0.002)

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Append step outputs to ``GITHUB_OUTPUT``, multi-line values as heredocs with a fresh delimiter."""
        bad = [name for name in outputs if not _OUTPUT_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"output names may hold only letters, digits, '_' and '-': {bad!r}")
        if self._output_file is None:
            return
        chunks = []
        for name, raw in outputs.items():
            value = _utf8(raw)
            if "\n" in value or "\r" in value:
                delimiter = self._delimiter_for(value)
                chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                chunks.append(f"{name}={value}\n")
        size, last = _tail(self._output_file)
        # A line another writer left open would swallow our first name.
        prefix = "\n" if size and last != b"\n" else ""
        self._append(self._output_file, prefix + "".join(chunks))

    def append_summary(self, markdown: str, *, limit_bytes: int = SUMMARY_LIMIT_BYTES) -> bool:
        """Append Markdown to ``GITHUB_STEP_SUMMARY`` without the file passing ``limit_bytes``; True if all fit."""
        if self._summary_file is None:
            return False
        size, last = _tail(self._summary_file)
        text = _utf8(markdown)
        if size and last != b"\n" and text:
            text = "\n" + text
        data = text.encode("utf-8")
        room = limit_bytes - size
        if len(data) <= room:
            self._append(self._summary_file, text)
            return True
        cut = _cut_summary(data, room, limit_bytes)
        if cut:
            self._append(self._summary_file, cut)
        return False

    def _emit(self, line: str) -> None:
        """Print one command line; inside ``stop_commands`` the runner would ignore it, so refuse."""
        if self._stop_token is not None:
            raise RuntimeError("workflow commands are ignored inside stop_commands(); issue them outside")
        self._write(line + "\n")

    def _write(self, text: str) -> None:
        """Write and flush at once so that our lines keep their place among a child's output."""
        self._stream.write(_utf8(text))
        self._stream.flush()

    def _new_token(self) -> str:
        """Return a fresh token from the factory, checked to be usable as a command name and delimiter."""
        token = self._token_factory()
        if not _TOKEN.fullmatch(token):
            raise ValueError(f"token must be non-empty letters, digits, '_' or '-': {token!r}")
        return token

    def _delimiter_for(self, value: str) -> str:
        """Return a heredoc delimiter that does not occur in ``value``, so no line of it can end the heredoc."""
        for _ in range(8):
            delimiter = f"ghadelimiter_{self._new_token()}"
            if delimiter not in value:
                return delimiter
        raise ValueError("no heredoc delimiter found that is absent from the value")

    def _append(self, path: Path, text: str) -> None:
        """Append UTF-8 text to a runner file, raising GitHubFileError when it cannot be written. Only a regular
        file is written: a FIFO or a device in its place is refused, never waited on."""
        try:
            append = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            with os.fdopen(_open_regular(path, append), "w", encoding="utf-8", newline="") as file:
                file.write(text)
                file.flush()
        except OSError as error:
            raise GitHubFileError(f"cannot append to {path}: {error.strerror or error}") from error


def _open_regular(path: Path, flags: int) -> int:
    """A descriptor on ``path``, which must be a regular file (opened without waiting on a FIFO)."""
    fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
        raise OSError(code, os.strerror(code) if code == errno.EISDIR else "not a regular file")
    return fd


def _tail(path: Path) -> tuple[int, bytes]:
    """Return a file's size in bytes and its last byte (0 and b"" when it does not exist yet)."""
    try:
        with os.fdopen(_open_regular(path, os.O_RDONLY), "rb") as file:
            size = file.seek(0, os.SEEK_END)
            if not size:
                return 0, b""
            file.seek(-1, os.SEEK_END)
            return size, file.read(1)
    except FileNotFoundError:
        return 0, b""
    except OSError as error:
        raise GitHubFileError(f"cannot read {path}: {error.strerror or error}") from error


def _cut_summary(data: bytes, room: int, limit_bytes: int) -> str:
    """Return the longest whole-line start of ``data`` plus a cut note that fits in ``room`` bytes, or ""."""

    def note(left_out: int) -> str:
        return f"\n> Summary cut: {left_out:,} bytes left out to stay within {limit_bytes:,} bytes.\n"

    # Left-out counts never have more digits than the whole text, and a code fence may need closing.
    budget = room - len(note(len(data)).encode("utf-8")) - len("```\n")
    if budget < 0:
        return ""
    # LF never occurs inside a multi-byte UTF-8 sequence, so cutting after one keeps characters whole.
    end = data.rfind(b"\n", 0, budget) + 1
    kept = data[:end].decode("utf-8")
    fence: str | None = None
    for line in kept.split("\n"):
        marker = line.lstrip()[:3]
        if fence is None and marker in ("```", "~~~"):
            fence = marker
        elif fence is not None and marker == fence:
            fence = None
    # An open code fence would swallow the note.
    closing = f"{fence}\n" if fence else ""
    return kept + closing + note(len(data) - end)
