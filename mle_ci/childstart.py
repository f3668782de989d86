"""The supervised child's start: everything the harness sets up before the child's exec, and the exec itself.

Before the fork the harness hides its memory and environment from its children (``PR_SET_DUMPABLE``), becomes a
child subreaper (orphans of the run are re-parented to it, not to init), makes the run's cgroup where it may
(:mod:`mle_ci.cgroup`) and starts the run's guard (:mod:`mle_ci.guard`). Between fork and exec the child takes a
process group of its own, arranges to die with the harness (``PR_SET_PDEATHSIG``) and joins the cgroup, so that
nothing it starts is ever outside it. What was set up is handed to :mod:`mle_ci.supervisor` as a
:class:`StartedChild`; when the exec fails, it is all taken back.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mle_ci import contract
from mle_ci.cgroup import NoCgroup, RunCgroup, open_cgroup

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_DUMPABLE = 4
_PACKAGE_HOME = Path(__file__).resolve().parent.parent
"""The folder that holds the ``mle_ci`` package: the guard's interpreter imports it from there, without ``site``."""
_GUARD_KEEPS = ("PYTHONHOME", "LD_LIBRARY_PATH")
"""The only variables of the harness's environment the guard gets: what an interpreter may need to start."""


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl: Callable[..., int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _libc_prctl()


@dataclass(frozen=True)
class Guard:
    """A running guard: its process, the pipe end that tells it the run is over, and the run's mark."""

    process: subprocess.Popen[bytes]
    write_fd: int
    mark: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def release(self) -> None:
        """The harness has ended the run itself: the guard goes without touching anything.

        It is killed, not told: it has nothing to finish, and a short run would otherwise wait for its interpreter
        to start only to exit. Killed before the pipe is closed, so it never reads the pipe's end as the harness's.
        """
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self.write_fd)


def start_guard(cgroup: Path | None, environ: Mapping[str, str] = os.environ) -> Guard | None:
    """Start the guard (``python -S -m mle_ci.guard``, in a session of its own); None where it could not start.

    The harness does not wait for it. Its interpreter skips ``site`` and imports the package from where this one
    found it, so its start costs the run little CPU; its environment holds nothing of the harness's (a fresh
    interpreter can be read by a child of the same user, and the workflow's tokens are in the harness's).
    """
    # secrets.token_hex: os.urandom, without importing secrets (hmac, hashlib, random) on the way to the child
    mark = os.urandom(16).hex()
    try:
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    except OSError:
        return None
    argv = [sys.executable, "-S", "-m", "mle_ci.guard", str(read_fd), mark, str(cgroup) if cgroup is not None else ""]
    env = {name: environ[name] for name in _GUARD_KEEPS if name in environ}
    env["PYTHONPATH"] = str(_PACKAGE_HOME)
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            pass_fds=(read_fd,),
            start_new_session=True,  # the runner's signals to the step's process group do not reach it
        )
    except OSError:
        os.close(write_fd)
        return None
    finally:
        os.close(read_fd)
    return Guard(process, write_fd, mark)


def _prepare_child(parent: int, join_fd: int | None) -> Callable[[], None]:
    """Dies with the harness; joins the run's cgroup (writing ``0`` to its ``cgroup.procs`` moves the writer)."""
    prctl = _PRCTL

    def preexec() -> None:
        # Runs between fork and exec: only the prepared foreign call, getppid and a write, nothing that takes locks.
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
        if join_fd is not None:
            with contextlib.suppress(OSError):
                os.write(join_fd, b"0")  # refused: the harness sees it did not join and says so

    return preexec


def _hide_from_children() -> None:
    """Keep this process's memory and ``/proc/<pid>/environ`` (the workflow's tokens) from its children.

    A non-dumpable process is closed to a child of the same non-root user (root reads it all the same); the
    flag is reset for the child by its exec.
    """
    if _PRCTL is not None:
        _PRCTL(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def set_subreaper(on: bool) -> bool:
    """Make this process the reaper of orphaned descendants (Linux); True when that took effect."""
    return _PRCTL is not None and _PRCTL(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0


@dataclass(frozen=True)
class StartedChild:
    """A child just exec'd, and what the harness set up for it; the supervisor takes it from here."""

    process: subprocess.Popen[bytes]
    """The child, its output (stdout and stderr together) on ``process.stdout``."""
    cgroup: RunCgroup | None
    """The run's cgroup, when the child is in it."""
    containment: str
    """A sentence for the log on how the run's processes end."""
    guard: Guard | None
    subreaper: bool
    """Whether the harness became the child subreaper (to be undone when the run is over)."""


def start_child(argv: tuple[str, ...], env: Mapping[str, str], cwd: Path | None, *, cgroup: bool) -> StartedChild:
    """Fork and exec ``argv`` in a process group of its own (its output piped, no input), in the run's cgroup
    when ``cgroup`` asks for one and one can be made, with the guard started; should the exec fail, everything set
    up for it is taken back and the error raised."""
    _hide_from_children()
    subreaper = set_subreaper(True)
    box = open_cgroup() if cgroup else NoCgroup("not asked for")
    joining = box if isinstance(box, RunCgroup) else None
    preexec = _prepare_child(os.getpid(), joining.join_fd if joining is not None else None)
    # Ends the run's processes should this process be killed outright (mle_ci.guard); not one of the run's.
    guard = start_guard(joining.path if joining is not None else None)
    child_env = dict(env)
    if guard is not None:
        child_env[contract.RUN_MARK] = guard.mark
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=child_env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=preexec,  # noqa: PLW1509 - started before any harness thread
        )
    except BaseException:
        if joining is not None:
            joining.remove()
        if subreaper:
            set_subreaper(False)
        if guard is not None:
            guard.release()
        raise
    in_cgroup, containment = _contained(box, process.pid)
    return StartedChild(process, in_cgroup, containment, guard, subreaper)


def _contained(box: RunCgroup | NoCgroup, pid: int) -> tuple[RunCgroup | None, str]:
    """The run's cgroup when the child is in it, and a sentence for the log on how the run's processes end."""
    fallback = "processes end by freeze (SIGSTOP), rescan and SIGKILL of the process tree"
    if isinstance(box, NoCgroup):
        return None, f"no cgroup of the run's own ({box.reason}): {fallback}"
    box.release_join()
    if box.holds(pid):
        return box, f"the command runs in cgroup {box.path}: its processes end with cgroup.kill"
    box.remove()
    return None, f"no cgroup of the run's own (the command could not join {box.path}): {fallback}"


def exit_fd(pid: int) -> int | None:
    """A descriptor that becomes readable when the child ends (``pidfd_open``); None where there is none."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        fd: int = opener(pid)
    except OSError:
        return None
    return fd
