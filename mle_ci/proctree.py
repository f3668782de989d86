"""The supervisor's view of a process tree in ``/proc`` (Linux), and the freeze-rescan-kill that ends one whole.

A look follows the tree from the harness down through each process's ``/proc/<pid>/task/<tid>/children``, so it
costs a few reads per process of the run, not a read of every process on the machine; where the kernel has no
``children`` files it reads every ``/proc/<pid>/stat`` instead. Either way one look can miss a process that forks
and exits while it is taken (a daemon that keeps changing its PID hides its next self that way). Two facts make
the looks trustworthy all the same: a pid stays in ``/proc`` until its zombie is reaped, so when the harness
reaps only the zombies a look has shown, any fork or exit before the next look makes that look differ from the
one expected; and a stopped process (SIGSTOP) cannot fork. Used by :mod:`mle_ci.supervisor` only, the one place
that decides which processes get which signal.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from collections.abc import Callable, Container, Iterable
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
Reap: TypeAlias = Callable[[Look], frozenset[int]]
"""Collects the zombies a look has shown that are the harness's to collect; returns the pids it collected."""


def _reap_nothing(seen: Look) -> frozenset[int]:
    return frozenset()


def _stat(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _fields(stat: bytes) -> list[bytes]:
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    return stat[stat.rfind(b")") + 2 :].split()


def _running(fields: list[bytes]) -> bool:
    return fields[0] not in (b"Z", b"X")


@functools.cache
def _children_files() -> bool:
    """Whether this kernel lists each task's children in ``/proc/<pid>/task/<tid>/children``."""
    return os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def _children(pid: int) -> list[int]:
    """The direct children of ``pid``, each of its threads' (none when it is gone)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/task/{task}/children", "rb") as handle:
            found.extend(int(child) for child in handle.read().split())
    return found


def _follow(root: int, also: Iterable[int], on_running: Callable[[int], None] | None, skip: Container[int]) -> Look:
    """One look down the tree through the ``children`` files: each process is read (and, running, handed to
    ``on_running``) before its children are, so a freeze reaches a parent before its children are listed."""
    seen: Look = {}
    stack = [*_children(root), *also]
    while stack:
        pid = stack.pop()
        if pid in seen or pid == root or pid in skip:
            continue
        stat = _stat(pid)
        fields = _fields(stat) if stat is not None else []
        if len(fields) < 2:
            continue
        seen[pid] = running = _running(fields)
        if running and on_running is not None:
            on_running(pid)
        stack.extend(_children(pid))
    return seen


def _scan(root: int, also: Iterable[int], on_running: Callable[[int], None] | None, skip: Container[int]) -> Look:
    """One look through every ``/proc/<pid>/stat``, for kernels without ``children`` files."""
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
        if not name.isdigit() or int(name) == root or int(name) in skip:
            continue
        stat = _stat(int(name))
        fields = _fields(stat) if stat is not None else []
        if len(fields) < 2:
            continue
        pid, parent, running = int(name), int(fields[1]), _running(fields)
        if pid in members or parent in members:
            join(pid, running)
        else:
            waiting.setdefault(parent, []).append((pid, running))  # its parent may come later in the listing
    return seen


def look(
    root: int,
    also: Iterable[int] = (),
    on_running: Callable[[int], None] | None = None,
    skip: Container[int] = frozenset(),
) -> Look:
    """The processes below ``root`` in the tree, and those in ``also`` with theirs, from one look at ``/proc``;
    those in ``skip`` (the harness's own helpers) are not the run's.

    ``on_running`` is called for each running one as soon as it is read, so that a freeze reaches it before it
    can fork again.
    """
    taker = _follow if _children_files() else _scan
    return taker(root, also, on_running, skip)


def descendants(root: int) -> list[int]:
    """Every living or zombie process below ``root`` in the process tree (Linux ``/proc``)."""
    return list(look(root))


def _after(seen: Look, reaped: frozenset[int]) -> Look:
    """The look that should follow ``seen`` once ``reaped`` are collected, when nothing forks or exits."""
    return {pid: running for pid, running in seen.items() if pid not in reaped}


def _differences(expected: Look, current: Look) -> frozenset[int]:
    return frozenset(p for p in expected.keys() | current.keys() if expected.get(p) != current.get(p))


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


def census(take: Callable[[], Look], *, reap: Reap = _reap_nothing, budget: float = CENSUS_BUDGET) -> Census:
    """Takes looks until one is what the one before it foretold (or ``budget`` seconds pass).

    Between two looks only ``reap`` collects zombies, and only those the earlier look showed, so the later one
    should be the earlier one less those; reaping as it goes keeps a tree whose daemon leaves a zombie at
    every hop small enough to read quickly.
    """
    until = time.monotonic() + budget
    previous = take()
    while True:
        expected = _after(previous, reap(previous))
        current = take()
        changing = _differences(expected, current)
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


def reap_zombies(seen: Look, keep: int | None) -> frozenset[int]:
    """Collect the zombies in ``seen`` that are this process's children, but ``keep``; returns those collected."""
    reaped: set[int] = set()
    for pid, running in seen.items():
        if not running and pid != keep:
            with contextlib.suppress(ChildProcessError, OSError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    reaped.add(pid)
    return frozenset(reaped)


def _wait_stopped(pids: Iterable[int], until: float) -> None:
    waiting = list(pids)
    while waiting and time.monotonic() < until:
        waiting = [pid for pid in waiting if state(pid) not in (None, "T", "t", "Z", "X")]
        if waiting:
            time.sleep(0.001)


def freeze_and_kill(
    take: Callable[[Callable[[int], None]], Look], *, reap: Reap = _reap_nothing, budget: float = FREEZE_BUDGET
) -> frozenset[int]:
    """SIGSTOP each running process the moment a look finds it, look again until a look finds none new and is
    what the one before foretold, then SIGKILL them all.

    ``take(on_running)`` is one :func:`look`; ``reap`` collects the zombies a look showed, as in :func:`census`.
    Once every process found is stopped and two looks agree, nothing is left running: a daemon that keeps
    forking to change its PID is caught, where signalling what one look found would miss its next self. After
    ``budget`` seconds of chasing, what was found is killed all the same (the caller looks again). Returns the
    processes that were sent SIGKILL while running (stopped by this freeze, or still running at the end).
    """
    me = os.getpid()
    frozen: set[int] = set()
    fresh: list[int] = []

    def stop(pid: int) -> None:
        if pid not in frozen and pid != me:
            signal_each((pid,), signal.SIGSTOP)
            frozen.add(pid)
            fresh.append(pid)

    expected: Look | None = None
    current: Look = {}
    until = time.monotonic() + budget
    while time.monotonic() < until:
        fresh.clear()
        current = take(stop)
        if fresh:
            _wait_stopped(fresh, min(until, time.monotonic() + _STOP_WAIT))
            expected = None
        elif current == expected:
            break
        reaped = reap(current)
        frozen.difference_update(reaped)  # a collected pid may come back as a new process: it must be stopped
        if not fresh:
            expected = _after(current, reaped)
    killed = frozen | {pid for pid, running in current.items() if running and pid != me}
    signal_each(killed, signal.SIGKILL)
    return frozenset(killed)
