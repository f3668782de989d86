"""The run's guard: started lean and clean, and it ends what carries the run's mark when the harness is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import alive

from mle_ci import contract
from mle_ci.childstart import start_guard
from mle_ci.guard import end_run

_PACKAGE_HOME = Path(__file__).resolve().parent.parent


def _environ(pid: int) -> dict[str, str]:
    """The process's environment, once its exec has set it up (``Popen`` returns a moment before that)."""
    until = time.monotonic() + 5
    while not (raw := Path(f"/proc/{pid}/environ").read_bytes()) and time.monotonic() < until:
        time.sleep(0.01)
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def test_the_guard_is_given_none_of_the_harness_s_environment() -> None:
    """A same-user child can read a fresh interpreter's environment: the guard's holds no token of the harness's."""
    guard = start_guard(None, {"GITHUB_TOKEN": "ghs_secret", "LD_LIBRARY_PATH": "/opt/lib", "HOME": "/root"})
    assert guard is not None
    try:
        environ = _environ(guard.pid)
    finally:
        guard.release()
    assert "GITHUB_TOKEN" not in environ
    assert "HOME" not in environ
    assert environ["LD_LIBRARY_PATH"] == "/opt/lib"
    assert Path(environ["PYTHONPATH"]) == _PACKAGE_HOME


def test_the_guard_s_interpreter_loads_nothing_of_the_package_but_the_contract() -> None:
    """Its start costs the run little CPU: no ``site``, and of the package only the guard and the contract."""
    probe = "import sys, mle_ci.guard; print(' '.join(sorted(m for m in sys.modules if m.startswith('mle_ci'))))"
    shown = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        env={"PYTHONPATH": str(_PACKAGE_HOME)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.split() == ["mle_ci", "mle_ci.contract", "mle_ci.guard"]


def test_a_released_guard_is_gone_without_ending_the_run() -> None:
    """The harness ended the run itself: the guard is killed, and a process carrying the mark is left alone."""
    guard = start_guard(None)
    assert guard is not None
    env = {**os.environ, contract.RUN_MARK: guard.mark}
    marked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env)
    try:
        guard.release()
        assert guard.process.returncode == -signal.SIGKILL
        time.sleep(0.2)
        assert marked.poll() is None
    finally:
        marked.kill()
        marked.wait()


def test_end_run_kills_every_process_carrying_the_mark_and_no_other() -> None:
    """Without a cgroup, the processes whose environment carries the mark are stopped as found, then killed."""
    mark = "f" * 32
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    carrying = subprocess.Popen(sleeper, env={**os.environ, contract.RUN_MARK: mark})
    other = subprocess.Popen(sleeper, env={**os.environ, contract.RUN_MARK: "0" * 32})
    try:
        assert end_run(None, mark, budget=2.0) == frozenset({carrying.pid})
        assert carrying.wait(timeout=5) == -signal.SIGKILL
        assert alive(other.pid)
    finally:
        for process in (carrying, other):
            process.kill()
            process.wait()
