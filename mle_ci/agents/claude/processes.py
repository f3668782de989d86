"""Commands the agent runs: each in its own process group, output captured to a file, trimmed head and tail."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

BASH = shutil.which("bash") or "/bin/sh"
"""The shell of the agent's commands (bash where there is one)."""
HEAD_CHARS = 6000
TAIL_CHARS = 6000
STOP_GRACE = 5.0
"""Seconds between SIGTERM and SIGKILL of a command's process group."""


_PR_GET_DUMPABLE, _PR_SET_DUMPABLE = 3, 4


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function


def hide_environment() -> bool:
    """Close this process's memory and ``/proc/<pid>/environ`` (the API key) to the commands it runs.

    A non-dumpable process cannot be read by a process of the same non-root user; exec resets the flag for the
    child. True where it took effect (Linux).
    """
    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0


def is_dumpable() -> bool | None:
    """Whether this process may be read by its same-user children (None where that cannot be asked)."""
    prctl = _prctl()
    return None if prctl is None else bool(prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))


def trim(text: str, head: int = HEAD_CHARS, tail: int = TAIL_CHARS) -> str:
    """``text`` when short, else its head and tail with the cut marked (how many characters were left out)."""
    if len(text) <= head + tail:
        return text
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut ...]\n{text[len(text) - tail :]}"


def stop_group(process: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> None:
    """SIGTERM the process group, then SIGKILL it when it outlives ``grace`` seconds; reap the leader."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; members of its group that ignored SIGTERM still get the SIGKILL.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        return


@dataclass(frozen=True)
class CommandResult:
    """What a shell command did: exit code (None when it was stopped), trimmed output, seconds, timed out."""

    exit_code: int | None
    output: str
    seconds: float
    timed_out: bool

    def render(self) -> str:
        status = (
            f"timed out after {self.seconds:.0f}s (process group stopped)"
            if self.timed_out
            else f"exit code {self.exit_code}"
        )
        return f"{status}, {self.seconds:.1f}s\n{self.output}" if self.output else f"{status}, {self.seconds:.1f}s"


def run_command(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    on_output: Callable[[str], None] | None = None,
) -> CommandResult:
    """Run ``command`` with bash in ``cwd`` (own process group, stdin closed) for at most ``timeout`` seconds;
    ``on_output`` gets the whole output before it is trimmed for the model (a search node's progress lines)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as sink:
        process = subprocess.Popen(
            [BASH, "-c", command],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = False
        try:
            process.wait(timeout=max(0.1, timeout))
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_group(process)
        else:
            # Background children of the command must not outlive it unseen.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        sink.seek(0)
        output = sink.read().decode("utf-8", errors="replace")
    if on_output is not None:
        on_output(output)
    return CommandResult(
        exit_code=None if timed_out else process.returncode,
        output=trim(output),
        seconds=time.monotonic() - started,
        timed_out=timed_out,
    )
