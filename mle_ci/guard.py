"""The run's guard: a small process that ends the run's processes if the harness itself dies without doing so.

The harness ends every process of the run whenever it ends (:mod:`mle_ci.supervisor`), but not when it is killed
outright (SIGKILL from the OOM killer, or the runner's last resort after a cancel). Then its direct child dies with
it (``PR_SET_PDEATHSIG``), and what the child left goes on. The guard, started before the child
(:func:`mle_ci.childstart.start_guard`) in a session of its own (the runner's signals to the step's process group do
not reach it), waits on a pipe only the harness holds: when the harness ends the run itself it kills the guard; the
end of the pipe means the harness died, and the guard ends the run: ``cgroup.kill`` where the run has a cgroup,
else every process that carries the run's mark in its environment (``contract.RUN_MARK``, set for the child and
inherited by all it starts), each stopped as it is found, until a pass finds none, then killed.

This module is the guard's whole program: it imports nothing but the standard library's smallest modules and
:mod:`mle_ci.contract`, so that its interpreter (``python -S -m mle_ci.guard``, without ``site``) starts in a few
milliseconds and takes little CPU from the run it watches.

A child running as the same user can kill the guard, or start a process without the mark; SECURITY.md says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable

from mle_ci import contract

GUARD_BUDGET = 5.0
"""Seconds the guard spends finding and stopping marked processes before it kills what it found."""

_HARNESS_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def main(argv: list[str]) -> int:
    """The guard: wait on the pipe, which no one writes to; when it ends (the harness is gone), end the run."""
    read_fd, mark, cgroup = int(argv[0]), argv[1], argv[2]
    for sig in _HARNESS_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if os.read(read_fd, 1) == b"":  # blocks until the pipe ends (Python retries a read a signal interrupts)
        end_run(cgroup or None, mark)
    return 0


def end_run(cgroup: str | os.PathLike[str] | None, mark: str, *, budget: float = GUARD_BUDGET) -> frozenset[int]:
    """End every process of the run: its cgroup killed, and every process carrying ``mark`` stopped as found,
    then killed once a pass finds none new. Returns the marked processes killed."""
    if cgroup is not None:
        with contextlib.suppress(OSError), open(os.path.join(cgroup, "cgroup.kill"), "w", encoding="ascii") as handle:
            handle.write("1")
    frozen: set[int] = set()
    until = time.monotonic() + budget
    while time.monotonic() < until:
        found = marked(mark) - frozen
        if not found:
            break
        _signal_each(found, signal.SIGSTOP)
        frozen |= found
    _signal_each(frozen, signal.SIGKILL)
    if cgroup is not None:
        for _ in range(100):
            with contextlib.suppress(OSError):
                os.rmdir(cgroup)
            if not os.path.exists(cgroup):
                break
            time.sleep(0.02)
    return frozenset(frozen)


def marked(mark: str) -> set[int]:
    """The processes whose environment carries the run's mark (those this user may read)."""
    needle = f"{contract.RUN_MARK}={mark}".encode()
    me = os.getpid()
    found: set[int] = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.add(int(name))
    return found


def _signal_each(pids: Iterable[int], sig: int) -> None:
    # proctree.signal_each's rule, kept here so that the guard's interpreter does not import the process tree.
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
