"""No survivor, ever: the run's processes end whole, through ``cgroup.kill`` where the harness can make a cgroup
v2 and by freeze, rescan and kill where it cannot; what could not be ended is reported. Real processes and real
signals, except where a test says it stands in for the kernel."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import ROOT, alive, child, end_hopper, hopper_gone

from mle_ci import proctree, supervisor
from mle_ci.cgroup import RunCgroup, cgroup2_dir, open_cgroup
from mle_ci.proctree import Look, census
from mle_ci.report.runlog import ending_note, process_warnings
from mle_ci.signaltrap import SignalTrap
from mle_ci.supervisor import ChildExit, ChildSpec, RunningChild, StopReason, Supervisor


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


def _supervise(argv: list[str], *, cgroup: bool, grace: float = 0.5) -> tuple[RunningChild, ChildExit]:
    """Run ``argv`` under the real supervisor in this process (which becomes the subreaper meanwhile)."""
    spec = ChildSpec(argv=tuple(argv), env=dict(os.environ), cwd=ROOT, grace=grace, cgroup=cgroup)
    with SignalTrap() as trap:
        running = Supervisor().start(spec, trap=trap)
        return running, running.supervise(Quiet())


def _cgroup_or_skip() -> None:
    box = open_cgroup()
    if not isinstance(box, RunCgroup):
        pytest.skip(f"no cgroup v2 the harness may create here: {box.reason}")
    box.remove()


@pytest.fixture
def hops(tmp_path: Path) -> Iterator[Path]:
    """The pid file of a PID-changing daemon; a daemon that outlived its test is ended afterwards."""
    pid_file = tmp_path / "hops"
    yield pid_file
    end_hopper(pid_file)


# ---------------------------------------------------------------------------------------------------------
# A daemon that keeps changing its PID
# ---------------------------------------------------------------------------------------------------------


def test_without_a_cgroup_a_pid_changing_daemon_is_frozen_found_and_killed(hops: Path) -> None:
    """The child leaves a daemon that re-forks as fast as it can, each self in a new session and deaf to
    SIGTERM: freeze, rescan and kill ends it; it is counted as a leftover; nothing survives; the log says how."""
    running, ended = _supervise(child("pid_hopper", str(hops)), cgroup=False)
    assert ended.returncode == 0
    assert running.containment.endswith("processes end by freeze (SIGSTOP), rescan and SIGKILL of the process tree")
    assert ended.killed and ended.leftovers_killed >= 1
    assert ended.survivors == () and ended.escaped == ()
    assert hopper_gone(hops)


def test_in_a_cgroup_a_pid_changing_daemon_ends_with_cgroup_kill(hops: Path) -> None:
    """Where a cgroup v2 can be made, the child runs in one, the daemon ends with it, and the cgroup is removed."""
    _cgroup_or_skip()
    running, ended = _supervise(child("pid_hopper", str(hops)), cgroup=True)
    assert running.containment.endswith("its processes end with cgroup.kill")
    cgroup = Path(running.containment.split("cgroup ", 1)[1].split(":", 1)[0])
    assert ended.returncode == 0 and ended.killed and ended.leftovers_killed >= 1
    assert ended.survivors == () and ended.escaped == ()
    assert hopper_gone(hops)
    assert not cgroup.exists()


@pytest.mark.parametrize("cgroup", [False, True], ids=["tree", "cgroup"])
def test_a_run_stopped_while_a_daemon_changes_its_pid_ends_the_daemon_too(hops: Path, cgroup: bool) -> None:
    """The harness stops a run (its deadline) while the daemon hops, deaf to SIGTERM: after the grace, SIGKILL
    reaches the daemon's current self."""
    if cgroup:
        _cgroup_or_skip()

    class StopOnceHopping(Quiet):
        def poll(self, now: float) -> StopReason | None:
            return StopReason.TIMEOUT if hops.exists() and hops.read_text() else None

    argv = (*child("pid_hopper", str(hops), "0", "--wait"),)
    spec = ChildSpec(argv=argv, env=dict(os.environ), cwd=ROOT, grace=0.3, cgroup=cgroup)
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
while not os.path.exists(sys.argv[1]):  # the parent ends only once the daemon is known
    time.sleep(0.01)
"""


def test_a_process_the_kill_cannot_end_is_reported_as_a_survivor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the kill made powerless (standing in for a process the kernel will not end), the daemon the child
    left is named as a survivor: in the child's exit, the result's warnings and the ending line."""
    monkeypatch.setattr(supervisor, "freeze_and_kill", lambda take, **_: frozenset())
    pid_file = tmp_path / "daemon"
    try:
        _, ended = _supervise([sys.executable, "-c", _DEAF_DAEMON, str(pid_file)], cgroup=False)
        daemon = int(pid_file.read_text())
        assert alive(daemon)
        assert ended.survivors == (daemon,)
        assert ended.leftovers_killed == 1
        warnings = process_warnings(ended)
        assert f"1 process(es) of the run were still running after SIGKILL (pid {daemon})" in warnings[-1]
        assert ending_note(ended, timeout=None, stall_timeout=None).endswith(f"; 1 survived SIGKILL (pid {daemon})")
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(int(pid_file.read_text()), 0)  # reparented to this process while it supervised


_HARNESS = """
import os, sys
from mle_ci.signaltrap import SignalTrap
from mle_ci.supervisor import ChildSpec, Supervisor

class Quiet:
    def on_lines(self, lines, now): pass
    def on_redraw(self, state, now): pass
    def poll(self, now): return None
    def next_poll(self, now): return 0.25

spec = ChildSpec(argv=(sys.executable, "-c", sys.argv[1], sys.argv[2]), env=dict(os.environ), cwd=os.getcwd(),
                 grace=0.5, cgroup=sys.argv[3] == "cgroup")
with SignalTrap() as trap:
    Supervisor().start(spec, trap=trap).supervise(Quiet())
"""


@pytest.mark.parametrize("cgroup", [False, True], ids=["tree", "cgroup"])
def test_a_harness_killed_outright_leaves_no_process_of_the_run(tmp_path: Path, cgroup: bool) -> None:
    """SIGKILL to the harness (the OOM killer, the runner's last resort): its child dies with it, and the guard
    ends the daemon the child left (its own session, deaf to SIGTERM), through the cgroup or by the run's mark."""
    if cgroup:
        _cgroup_or_skip()
    pid_file = tmp_path / "daemon"
    argv = [sys.executable, "-c", _HARNESS, _DEAF_DAEMON + "time.sleep(300)\n", str(pid_file)]
    harness = subprocess.Popen([*argv, "cgroup" if cgroup else "tree"], cwd=ROOT)
    try:
        until = time.monotonic() + 10
        while not pid_file.exists() and time.monotonic() < until:
            time.sleep(0.02)
        daemon = int(pid_file.read_text())
        assert alive(daemon)
        harness.kill()
        harness.wait()
        until = time.monotonic() + 10
        while alive(daemon) and time.monotonic() < until:
            time.sleep(0.05)
        assert not alive(daemon)
    finally:
        harness.kill()
        harness.wait()
        if pid_file.exists() and alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_processes_found_outside_the_cgroup_are_reported_as_escaped() -> None:
    """A process of the run found outside its cgroup at the kill is named in the warnings as escaped."""
    ended = ChildExit(
        pid=10,
        returncode=0,
        signal=None,
        stop_reason=None,
        harness_signal=None,
        killed=True,
        leftovers_killed=2,
        started=0.0,
        ended=1.0,
        escaped=(12,),
    )
    assert process_warnings(ended) == [
        "the command left 2 process(es) running; they were killed",
        "1 process(es) had left the run's cgroup (pid 12); they were found in the process tree and killed",
    ]


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


def test_zombies_reaped_between_looks_are_expected_to_be_gone() -> None:
    """The zombies a look showed are collected before the next look, which then agrees when it lacks just them;
    a pid collected and back as a new process, or any other change, still tells a fork."""
    collected: list[Look] = []

    def reap(seen: Look) -> frozenset[int]:
        collected.append(seen)
        return frozenset(p for p, running in seen.items() if not running)

    seen = census(_scripted({5: True, 6: False, 7: False}, {5: True}), reap=reap)
    assert seen.certain and seen.running == {5}
    assert collected == [{5: True, 6: False, 7: False}]
    reused = census(_scripted({5: True, 6: False}, {5: True, 6: True}), reap=reap, budget=0.0)
    assert reused.changing == {6} and reused.running == {5, 6}


_TREE = """
import os, sys, time
if os.fork() == 0:
    if os.fork() == 0:
        os._exit(0)  # a zombie: its parent never collects it
    open(sys.argv[1], "w").close()
    time.sleep(60)
time.sleep(60)
"""


@pytest.mark.skipif(not proctree._children_files(), reason="this kernel has no /proc/<pid>/task/<tid>/children")
def test_following_children_files_sees_what_reading_all_of_proc_sees(tmp_path: Path) -> None:
    """Both ways of looking find the same processes below a root, zombies included, and hand the running ones,
    and only those, to ``on_running``."""
    ready = tmp_path / "ready"
    process = subprocess.Popen([sys.executable, "-c", _TREE, str(ready)])
    try:
        while not ready.exists():
            time.sleep(0.01)
        time.sleep(0.1)
        followed_running: list[int] = []
        scanned_running: list[int] = []
        followed = proctree._follow(process.pid, (), followed_running.append, ())
        assert followed == proctree._scan(process.pid, (), scanned_running.append, ())
        assert sorted(followed.values()) == [False, True]
        assert followed_running == scanned_running == [p for p, running in followed.items() if running]
    finally:
        process.kill()
        process.wait()


# ---------------------------------------------------------------------------------------------------------
# Where the harness's cgroup v2 is
# ---------------------------------------------------------------------------------------------------------

_MOUNTS = {
    "hybrid": "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n",
    "unified": "29 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
    "container": "612 600 0:26 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n",
    "spaced": "29 23 0:26 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n",
    "v1 only": "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n",
}


@pytest.mark.parametrize(
    ("cgroup", "mounts", "folder"),
    [
        ("0::/\n4:memory:/x\n", "hybrid", "/sys/fs/cgroup/unified"),
        ("0::/user.slice/u.service/app.scope\n", "unified", "/sys/fs/cgroup/user.slice/u.service/app.scope"),
        ("0::/docker/abc\n", "container", "/sys/fs/cgroup"),
        ("0::/docker/abc/job\n", "container", "/sys/fs/cgroup/job"),
        ("0::/\n", "spaced", "/mnt/my cgroups"),
        ("0::/elsewhere\n", "container", None),
        ("4:memory:/x\n", "v1 only", None),
        ("0::/\n", "v1 only", None),
    ],
)
def test_the_cgroup_folder_is_found_from_proc(cgroup: str, mounts: str, folder: str | None) -> None:
    """``/proc/self/cgroup`` and ``mountinfo`` give the folder of this process's cgroup v2 (and its path in the
    hierarchy, as ``/proc/<pid>/cgroup`` names it), or None without one this process can reach."""
    found = cgroup2_dir(cgroup, _MOUNTS[mounts])
    if folder is None:
        assert found is None
    else:
        assert found == (Path(folder), cgroup.split("\n", maxsplit=1)[0][3:])
