"""No survivor, ever: the run's processes end whole, by freeze, rescan and kill; what could not be ended is
reported. Real processes and real signals, except where a test says it stands in for the kernel."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import child
from helpers import ROOT, alive, end_hopper, hopper_gone

from mle_ci import supervisor
from mle_ci.proctree import Look, census
from mle_ci.session import _ending_note, _process_warnings
from mle_ci.settings import load_settings
from mle_ci.supervisor import ChildExit, ChildSpec, RunningChild, SignalTrap, StopReason, Supervisor


class Quiet:
    """A watcher that never stops the child."""

    def on_lines(self, lines: list[bytes], now: float) -> None:
        """Output is not under test here."""

    def on_redraw(self, state: bytes, now: float) -> None:
        """Output is not under test here."""

    def poll(self, now: float) -> StopReason | None:
        return None

    def next_poll(self, now: float) -> float:
        return 0.25


def _supervise(argv: list[str], *, grace: float = 0.5) -> tuple[RunningChild, ChildExit]:
    """Run ``argv`` under the real supervisor in this process (which becomes the subreaper meanwhile)."""
    spec = ChildSpec(argv=tuple(argv), env=dict(os.environ), cwd=ROOT, grace=grace)
    with SignalTrap() as trap:
        running = Supervisor().start(spec, trap=trap)
        return running, running.supervise(Quiet())


@pytest.fixture
def hops(tmp_path: Path) -> Iterator[Path]:
    """The pid file of a PID-changing daemon; a daemon that outlived its test is ended afterwards."""
    pid_file = tmp_path / "hops"
    yield pid_file
    end_hopper(pid_file)


# ---------------------------------------------------------------------------------------------------------
# A daemon that keeps changing its PID
# ---------------------------------------------------------------------------------------------------------


def test_a_pid_changing_daemon_is_frozen_found_and_killed(hops: Path) -> None:
    """The child leaves a daemon that re-forks as fast as it can, each self in a new session and deaf to
    SIGTERM: freeze, rescan and kill ends it; it is counted as a leftover; nothing survives; the log says how."""
    running, ended = _supervise(child("pid_hopper", str(hops)))
    assert ended.returncode == 0
    assert running.containment.endswith("processes end by freeze (SIGSTOP), rescan and SIGKILL of the process tree")
    assert ended.killed and ended.leftovers_killed >= 1
    assert ended.survivors == ()
    assert hopper_gone(hops)


def test_a_run_stopped_while_a_daemon_changes_its_pid_ends_the_daemon_too(hops: Path) -> None:
    """The harness stops a run (its deadline) while the daemon hops, deaf to SIGTERM: after the grace, SIGKILL
    reaches the daemon's current self."""

    class StopOnceHopping(Quiet):
        def poll(self, now: float) -> StopReason | None:
            return StopReason.TIMEOUT if hops.exists() and hops.read_text() else None

    argv = (*child("pid_hopper", str(hops), "0", "--wait"),)
    spec = ChildSpec(argv=argv, env=dict(os.environ), cwd=ROOT, grace=0.3)
    ended = Supervisor().run(spec, StopOnceHopping())
    assert ended.stop_reason is StopReason.TIMEOUT and ended.killed
    assert ended.survivors == ()
    assert hopper_gone(hops)


# ---------------------------------------------------------------------------------------------------------
# What could not be ended is reported
# ---------------------------------------------------------------------------------------------------------

_DEAF_DAEMON = """
import os, signal, sys, time
if os.fork() == 0:
    os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(sys.argv[1] + ".tmp", "w") as handle:
        handle.write(str(os.getpid()))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(300)
"""


def test_a_process_the_kill_cannot_end_is_reported_as_a_survivor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the kill made powerless (standing in for a process the kernel will not end), the daemon the child
    left is named as a survivor: in the child's exit, the result's warnings and the ending line."""
    monkeypatch.setattr(supervisor, "freeze_and_kill", lambda take, **_: frozenset())
    pid_file = tmp_path / "daemon"
    try:
        _, ended = _supervise([sys.executable, "-c", _DEAF_DAEMON, str(pid_file)])
        daemon = int(pid_file.read_text())
        assert alive(daemon)
        assert ended.survivors == (daemon,)
        assert ended.leftovers_killed == 1
        warnings = _process_warnings(ended)
        assert f"1 process(es) of the run were still running after SIGKILL (pid {daemon})" in warnings[-1]
        settings = load_settings({}, {}, tmp_path)
        assert _ending_note(ended, settings).endswith(f"; 1 survived SIGKILL (pid {daemon})")
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(int(pid_file.read_text()), 0)  # reparented to this process while it supervised


# ---------------------------------------------------------------------------------------------------------
# Looks at /proc that agree
# ---------------------------------------------------------------------------------------------------------


def _scripted(*looks: Look) -> Callable[[], Look]:
    remaining = list(looks)
    return lambda: remaining.pop(0) if len(remaining) > 1 else remaining[0]


def test_two_looks_that_agree_are_certain() -> None:
    """Two identical looks in a row: the running processes are known, nothing changed between them."""
    seen = census(_scripted({5: True, 6: False}, {5: True, 6: False}))
    assert seen.certain and seen.running == {5}


def test_looks_that_keep_changing_are_not_certain() -> None:
    """A process that forked and exited between the looks leaves them different: not certain, and the pids that
    changed are named even when none is seen running (a daemon hidden mid-hop)."""
    seen = census(_scripted({5: True}, {5: False, 7: False}), budget=0.0)
    assert not seen.certain
    assert seen.running == frozenset() and seen.changing == {5, 7}
