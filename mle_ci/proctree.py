"""The supervisor's view of a process tree in ``/proc`` (Linux), and the freeze-rescan-kill that ends one whole.

``/proc`` is read one process at a time, so one look can miss a process that forks and exits while it is taken
(a daemon that keeps changing its PID hides its next self that way). Two facts make the looks trustworthy all
the same: a pid stays in ``/proc`` until its zombie is reaped, so when nothing is reaped between two looks, any
fork or exit in between makes them differ; and a stopped process (SIGSTOP) cannot fork. Used by
:mod:`mle_ci.supervisor` only, the one place that decides which processes get which signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeAlias

FREEZE_BUDGET = 3.0
"""Seconds :func:`freeze_and_kill` may chase a tree that keeps forking before it kills what it has found."""
CENSUS_BUDGET = 1.0
"""Seconds :func:`census` may look for two looks in a row that agree."""
_STOP_WAIT = 0.5
"""Seconds to wait for one round of SIGSTOPs to take effect (a process in the kernel stops on its way out)."""

Look: TypeAlias = dict[int, bool]
"""The processes seen in one look, each with whether it is still running (False: a zombie)."""


def _stat(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _fields(stat: bytes) -> list[bytes]:
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    return stat[stat.rfind(b")") + 2 :].split()


def look(root: int, also: Iterable[int] = (), on_running: Callable[[int], None] | None = None) -> Look:
    """The processes below ``root`` in the tree, and those in ``also`` with theirs, from one pass over ``/proc``.

    ``on_running`` is called for each running one as soon as it is read, so that a freeze reaches it before it
    can fork again.
    """
    members = {root, *also}
    seen: Look = {}
    waiting: dict[int, list[tuple[int, bool]]] = {}

    def join(pid: int, running: bool) -> None:
        stack = [(pid, running)]
        while stack:
            pid, running = stack.pop()
            members.add(pid)
            seen[pid] = running
            if running and on_running is not None:
                on_running(pid)
            stack.extend(waiting.pop(pid, ()))

    try:
        entries = os.listdir("/proc")
    except OSError:
        return seen
    for name in entries:
        if not name.isdigit() or int(name) == root:
            continue
        stat = _stat(int(name))
        fields = _fields(stat) if stat is not None else []
        if len(fields) < 2:
            continue
        pid, parent, running = int(name), int(fields[1]), fields[0] not in (b"Z", b"X")
        if pid in members or parent in members:
            join(pid, running)
        else:
            waiting.setdefault(parent, []).append((pid, running))  # its parent may come later in the listing
    return seen


def descendants(root: int) -> list[int]:
    """Every living or zombie process below ``root`` in the process tree (Linux ``/proc``)."""
    return list(look(root))


@dataclass(frozen=True)
class Census:
    """What looks that agree tell: the processes running, and those that changed between the last two looks."""

    running: frozenset[int]
    changing: frozenset[int]
    """Pids that appeared, went or changed state between the last two looks; none when they agreed."""

    @property
    def certain(self) -> bool:
        """Two looks in a row agreed: no process hid by forking."""
        return not self.changing


def census(take: Callable[[], Look], *, budget: float = CENSUS_BUDGET) -> Census:
    """Takes looks until two in a row agree (or ``budget`` seconds pass); nothing may be reaped meanwhile."""
    until = time.monotonic() + budget
    previous = take()
    while True:
        current = take()
        changing = frozenset(p for p in previous.keys() | current.keys() if previous.get(p) != current.get(p))
        if not changing or time.monotonic() >= until:
            return Census(frozenset(p for p, running in current.items() if running), changing)
        previous = current


def state(pid: int) -> str | None:
    """The process's state letter (``R``, ``S``, ``T`` stopped, ``Z`` zombie, ...); None when it is gone."""
    stat = _stat(pid)
    if stat is None:
        return None
    fields = _fields(stat)
    return fields[0].decode("ascii", "replace") if fields else None


def signal_each(pids: Iterable[int], sig: int) -> None:
    """Send ``sig`` to each process; one that is gone or not ours is passed over."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _wait_stopped(pids: Iterable[int], until: float) -> None:
    waiting = list(pids)
    while waiting and time.monotonic() < until:
        waiting = [pid for pid in waiting if state(pid) not in (None, "T", "t", "Z", "X")]
        if waiting:
            time.sleep(0.001)


def freeze_and_kill(take: Callable[[Callable[[int], None]], Look], *, budget: float = FREEZE_BUDGET) -> frozenset[int]:
    """SIGSTOP each running process the moment a look finds it, look again until two looks in a row find none
    new and agree, then SIGKILL them all.

    ``take(on_running)`` is one :func:`look`. Once every process found is stopped and two looks agree, nothing
    is left running: a daemon that keeps forking to change its PID is caught, where signalling what one look
    found would miss its next self. After ``budget`` seconds of chasing, what was found is killed all the same
    (the caller looks again). Returns the processes that were sent SIGKILL.
    """
    me = os.getpid()
    frozen: set[int] = set()
    fresh: list[int] = []

    def stop(pid: int) -> None:
        if pid not in frozen and pid != me:
            signal_each((pid,), signal.SIGSTOP)
            frozen.add(pid)
            fresh.append(pid)

    previous: Look | None = None
    until = time.monotonic() + budget
    while time.monotonic() < until:
        fresh.clear()
        current = take(stop)
        if fresh:
            _wait_stopped(fresh, min(until, time.monotonic() + _STOP_WAIT))
            previous = None
        elif current == previous:
            break
        else:
            previous = current
    signal_each(frozen, signal.SIGKILL)
    return frozenset(frozen)
