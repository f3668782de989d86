"""Supervision of the run's child until it and every process it started are gone; the one module that decides
which process gets which signal.

Its parts: :mod:`mle_ci.childstart` starts the child (a process group of its own, death with the harness, the run's
cgroup, the guard), :mod:`mle_ci.signaltrap` records the signals that reach the harness, :mod:`mle_ci.proctree` and
:mod:`mle_ci.cgroup` find and end the run's processes. The child's descendants cannot escape: where the harness
can make a cgroup v2 of the run's own, everything the child starts ends with one ``cgroup.kill``; and always, the
harness is a child subreaper, so processes that left the group (``setsid``, double fork) are found under it in
``/proc``, frozen (SIGSTOP) until a rescan finds no new one, and killed. What outlives even that is reported.
Output is read with bounded memory, cut into lines; a line redrawn in place (``\\r``, a progress bar) is output
at each redraw and one line at its end.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from mle_ci.childstart import exit_fd, set_subreaper, start_child
from mle_ci.linesplit import LineSplitter
from mle_ci.proctree import Census, Look, census, freeze_and_kill, look, reap_zombies, signal_each
from mle_ci.signaltrap import SignalTrap

_LEFTOVER_GRACE = 1.0
_KILL_WAIT = 2.0
"""Seconds for the killed processes to go before those still there are reported as survivors."""
_DRAIN_AFTER_EXIT = 0.5
_READ_BURST = 16


class StopReason(StrEnum):
    """Why the harness ended the child before it finished by itself."""

    TIMEOUT = "timeout"
    STALLED = "stalled"
    INTERRUPTED = "interrupted"


class Watcher(Protocol):
    """What the supervisor reports to while the child runs; ``poll`` decides whether to stop it."""

    def on_lines(self, lines: list[bytes], now: float) -> None:
        """Lines of output (without newlines; a redrawn line as its last state) read in one go; over-long lines
        come in ``MAX_LINE`` pieces."""

    def on_redraw(self, state: bytes, now: float) -> None:
        """The newest state of a line being redrawn in place (``\\r``): output, not yet a finished line."""

    def poll(self, now: float) -> StopReason | None:
        """Periodic work (heartbeat, events); a reason stops the child."""

    def next_poll(self, now: float) -> float:
        """Seconds until ``poll`` wants to run again."""


@dataclass(frozen=True)
class ChildSpec:
    """What to run and how long to wait between SIGTERM and SIGKILL."""

    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path | None = None
    grace: float = 15.0
    interrupt_grace: float = 2.0
    cgroup: bool = True
    """Start the child in a cgroup v2 of its own where one can be made; False: the process tree only."""


@dataclass(frozen=True)
class ChildExit:
    """How the child ended: exit status or signal, and what the harness did to it."""

    pid: int
    returncode: int | None
    signal: int | None
    stop_reason: StopReason | None
    harness_signal: int | None
    killed: bool
    leftovers_killed: int
    """Processes of the run that were still running after the child had gone; they were ended."""
    started: float
    ended: float
    survivors: tuple[int, ...] = ()
    """Processes of the run still running after SIGKILL (none, unless the kernel or a permission kept one)."""
    escaped: tuple[int, ...] = ()
    """Processes of the run found outside its cgroup at the kill (killed through the process tree)."""

    @property
    def signal_name(self) -> str | None:
        if self.signal is None:
            return None
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"


class Supervisor:
    """Starts one child and runs it to the end, enforcing what the watcher decides; leaves no process behind."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock

    def start(self, spec: ChildSpec, *, trap: SignalTrap) -> RunningChild:
        """Fork and exec ``spec`` now; the caller then prepares its watcher and calls :meth:`RunningChild.supervise`."""
        return RunningChild(spec, trap, self._clock)

    def run(self, spec: ChildSpec, watcher: Watcher, *, trap: SignalTrap | None = None) -> ChildExit:
        """Start ``spec`` and feed its output to ``watcher`` until it and every descendant are gone."""
        with contextlib.ExitStack() as stack:
            if trap is None:
                trap = stack.enter_context(SignalTrap())
            return self.start(spec, trap=trap).supervise(watcher)
        raise AssertionError("unreachable")  # pragma: no cover


class RunningChild:
    """One supervised child, from fork+exec until every descendant is gone."""

    _watcher: Watcher

    def __init__(self, spec: ChildSpec, trap: SignalTrap, clock: Callable[[], float]) -> None:
        self._spec = spec
        self._trap = trap
        self._clock = clock
        self._me = os.getpid()
        started = start_child(spec.argv, spec.env, spec.cwd, cgroup=spec.cgroup)
        self._process = started.process
        self._cgroup = started.cgroup
        self.containment = started.containment
        self._guard = started.guard
        self._subreaper = started.subreaper
        self.pid = self._process.pid
        self.started = clock()
        assert self._process.stdout is not None
        self._out = self._process.stdout
        self._out_fd = self._out.fileno()
        os.set_blocking(self._out_fd, False)
        self._out_open = True
        self._splitter = LineSplitter()
        self._poller = select.poll()
        self._poller.register(self._out_fd, select.POLLIN)
        self._poller.register(trap.read_fd, select.POLLIN)
        self._exit_fd = exit_fd(self.pid)
        if self._exit_fd is not None:
            self._poller.register(self._exit_fd, select.POLLIN)
        self._stop_reason: StopReason | None = None
        self._harness_signal: int | None = None
        self._kill_at: float | None = None
        self._killed = False
        self._group_termed = False
        self._termed: set[int] = set()
        self._leftovers: set[int] = set()
        self._escaped: set[int] = set()

    def _release_guard(self) -> None:
        if self._guard is not None:
            self._guard.release()
            self._guard = None

    def _release_subreaper(self) -> None:
        if self._subreaper:
            set_subreaper(False)
            self._subreaper = False

    @property
    def trap(self) -> SignalTrap:
        """The harness's signal trap: what was received, and the descriptor that wakes a wait on it."""
        return self._trap

    def abandon(self) -> None:
        """Kill the child and its descendants at once (the harness could not go on), and clean up."""
        try:
            self._kill_all()
            self._process.wait()
            self._confirm_gone()
        finally:
            self._close()

    def _close(self) -> None:
        if self._exit_fd is not None:
            os.close(self._exit_fd)
            self._exit_fd = None
        self._out.close()
        if self._cgroup is not None:
            self._cgroup.remove()  # refused while a survivor is in it: that is reported, and the folder stays
        self._release_subreaper()
        self._release_guard()

    def supervise(self, watcher: Watcher) -> ChildExit:
        """Feed the output to ``watcher`` and enforce its decisions until the whole tree is gone."""
        self._watcher = watcher
        try:
            while self._process.poll() is None:
                self._step()
            returncode = self._process.returncode
            self._end_leftovers()
            survivors = self._confirm_gone() if self._killed else ()
            self._drain()
        finally:
            if self._process.poll() is None:
                self._kill_all()
                self._process.wait()
                self._confirm_gone()
            self._close()
        ended = self._clock()
        self._watcher.poll(ended)
        return ChildExit(
            pid=self.pid,
            returncode=returncode if returncode >= 0 else None,
            signal=-returncode if returncode < 0 else None,
            stop_reason=self._stop_reason,
            harness_signal=self._harness_signal,
            killed=self._killed,
            leftovers_killed=len(self._leftovers),
            started=self.started,
            ended=ended,
            survivors=survivors,
            escaped=tuple(sorted(self._escaped)),
        )

    def _step(self) -> None:
        now = self._clock()
        wait = self._watcher.next_poll(now)
        if self._kill_at is not None:
            wait = min(wait, self._kill_at - now)
        if self._exit_fd is None:
            wait = min(wait, 0.05)
        ready = {fd for fd, _ in self._poller.poll(max(0, int(wait * 1000) + 1))}
        if self._out_fd in ready and self._out_open:
            self._read()
        if self._trap.read_fd in ready:
            self._trap.drain()
        if self._new_signal():
            if self._stop_reason is not StopReason.INTERRUPTED:
                self._begin_stop(StopReason.INTERRUPTED, min(self._spec.grace, self._spec.interrupt_grace))
            elif not self._killed:
                self._kill_now()  # a second signal: no more waiting
        now = self._clock()
        if self._stop_reason is None:
            reason = self._watcher.poll(now)
            if reason is not None:
                self._begin_stop(reason, self._spec.grace)
        elif self._kill_at is not None and now >= self._kill_at:
            self._kill_now()
        else:
            self._watcher.poll(now)

    def _look(self, on_running: Callable[[int], None] | None = None) -> Look:
        """The run's processes (below the harness in the tree, or in the run's cgroup), running or not."""
        skip = (self._guard.pid,) if self._guard is not None else ()
        return look(self._me, self._cgroup.pids() if self._cgroup is not None else (), on_running, skip)

    def _census(self) -> Census:
        """The run's processes still running, from looks that agree (so none hid by forking); reaps as it goes."""
        return census(self._look, reap=self._reap)

    def _reap(self, seen: Look) -> frozenset[int]:
        """Collect the exited orphans a look showed (reparented to the harness), so no zombie stays behind; the
        child is Popen's to collect while it has not (its exit status would be lost). Returns those collected."""
        popen_child = self.pid if self._process.returncode is None else None
        return reap_zombies(seen, popen_child)

    def _terminate(self, pids: list[int]) -> None:
        """SIGTERM to the group and to each process, once: a handler that cleans up is not interrupted again."""
        if not self._group_termed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)
            self._group_termed = True
        new = [pid for pid in pids if pid not in self._termed]
        signal_each(new, signal.SIGTERM)
        self._termed.update(new)

    def _begin_stop(self, reason: StopReason, grace: float) -> None:
        self._stop_reason = reason
        self._terminate([pid for pid, running in self._look().items() if running])
        self._kill_at = self._clock() + grace

    def _kill_now(self) -> frozenset[int]:
        killed = self._kill_all()
        self._killed = True
        self._kill_at = None
        return killed

    def _kill_all(self) -> frozenset[int]:
        """SIGKILL for every process of the run: ``cgroup.kill`` where the run has a cgroup; then (the only way
        without one) the process tree, frozen until a rescan finds no new process, and killed. Returns the
        running processes it killed (the child among them while it runs)."""
        killed: set[int] = set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self._cgroup is not None:
            in_cgroup = self._cgroup.pids()  # a zombie is not listed: these are all running
            if self._cgroup.kill():
                killed.update(in_cgroup)
                self._cgroup.wait_empty(_KILL_WAIT / 2)
                self._escaped.update(pid for pid in self._census().running if not self._cgroup.holds(pid))
        killed.update(freeze_and_kill(self._look, reap=self._reap))
        return frozenset(killed)

    def _read(self) -> None:
        """Hand on what the pipe holds, up to ``_READ_BURST`` chunks; notes the end of file."""
        # A bounded burst: a child that never stops printing must not keep deadlines and signals waiting.
        for _ in range(_READ_BURST):
            try:
                data = os.read(self._out_fd, 65536)
            except BlockingIOError:
                return
            except InterruptedError:
                continue
            except OSError:
                data = b""
            if not data:
                self._out_open = False
                with contextlib.suppress(KeyError, ValueError):
                    self._poller.unregister(self._out_fd)
                return
            split = self._splitter.feed(data)
            if split.lines:
                self._watcher.on_lines(list(split.lines), self._clock())
            if split.redraw is not None:
                self._watcher.on_redraw(split.redraw, self._clock())

    def _new_signal(self) -> bool:
        """Whether a signal reached the harness since the last look."""
        if len(self._trap.received) > self._trap.handled:
            self._trap.handled = len(self._trap.received)
            self._harness_signal = self._harness_signal or self._trap.first
            return True
        return False

    def _end_leftovers(self) -> None:
        """The child is gone; whatever it left behind (a daemon changing its PID included) goes too.

        They get SIGTERM (each new one as it is found) and a short grace; then the kill. Those found are counted.
        Returns once looks that agree find none running, or after the kill.
        """
        if self._stop_reason is None and not self._killed:
            self._kill_at = self._clock() + min(self._spec.grace, _LEFTOVER_GRACE)
        while True:
            seen = self._census()
            if seen.certain and not seen.running:
                return
            self._leftovers.update(seen.running)
            if self._killed or self._kill_at is None or self._clock() >= self._kill_at or self._new_signal():
                self._leftovers.update(self._kill_now())  # the child is gone: whatever the kill reached, it left
                return
            self._terminate(sorted(seen.running))
            if self._out_open:
                self._read()
            time.sleep(0.02)

    def _confirm_gone(self) -> tuple[int, ...]:
        """Wait for the killed processes to go, killing any new one; those still there are survivors."""
        until = self._clock() + _KILL_WAIT
        while True:
            seen = self._census()
            if seen.certain and not seen.running:
                return ()
            if self._clock() >= until:
                return tuple(sorted(seen.running | seen.changing))
            if not seen.running <= self._leftovers or not seen.certain:
                self._leftovers.update(seen.running | self._kill_all())
            time.sleep(0.01)

    def _drain(self) -> None:
        deadline = self._clock() + _DRAIN_AFTER_EXIT
        while self._out_open and self._clock() < deadline:
            self._read()
            if self._out_open:
                with contextlib.suppress(InterruptedError):
                    select.select([self._out_fd], [], [], 0.05)
        rest = self._splitter.close()
        if rest:
            self._watcher.on_lines(rest, self._clock())
