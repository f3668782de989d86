"""A cgroup v2 of the run's own, where the harness may make one: every process in it ends at once (``cgroup.kill``).

The cgroup is made under the harness's own (which needs write access there: root, or a subtree delegated as
systemd delegates a user's services) and the child joins it between fork and exec, so nothing it starts is ever
outside it, however it forks. Where none can be made, :func:`open_cgroup` says why, and the supervisor ends the
run's processes through the process tree instead. Made by :mod:`mle_ci.childstart`, ended by
:mod:`mle_ci.supervisor`, and used by no other module.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "mle-ci-"
"""Names of the harness's cgroups: ``mle-ci-<harness pid>-<random>``."""
STALE_AFTER = 60.0
"""Seconds after which an empty cgroup of a harness that is gone (SIGKILLed) is removed by the next one."""
_OCTAL = re.compile(r"\\([0-7]{3})")
_OURS = re.compile(re.escape(PREFIX) + r"(\d+)-[0-9a-f]+")


def cgroup2_dir(self_cgroup: str, mountinfo: str) -> tuple[Path, str] | None:
    """The directory of a process's cgroup v2 and its path in the hierarchy, from ``/proc/<pid>/cgroup`` and
    ``/proc/<pid>/mountinfo``; None without a cgroup v2 hierarchy, or with one mounted where it is not seen."""
    path = next((line[3:] for line in self_cgroup.splitlines() if line.startswith("0::")), None)
    if path is None:
        return None
    for line in mountinfo.splitlines():
        mount, _, after = line.partition(" - ")
        fields = mount.split()
        if len(fields) < 5 or not after.startswith("cgroup2 "):
            continue
        root, point = (_OCTAL.sub(lambda m: chr(int(m[1], 8)), f) for f in fields[3:5])
        if path == root or path.startswith(root.rstrip("/") + "/"):
            relative = path[len(root) :].strip("/")
            return (Path(point) / relative if relative else Path(point)), path
    return None


@dataclass(frozen=True)
class NoCgroup:
    """Why the run has no cgroup of its own."""

    reason: str


class RunCgroup:
    """The run's cgroup: the child joins it through :attr:`join_fd`; it is killed, emptied and removed whole."""

    def __init__(self, path: Path, hierarchy_path: str, join_fd: int) -> None:
        self.path = path
        self._hierarchy_path = hierarchy_path
        self.join_fd: int | None = join_fd
        """Open ``cgroup.procs`` (close-on-exec): writing ``0`` to it between fork and exec moves the child in."""

    def release_join(self) -> None:
        """The child has started: nothing else joins."""
        if self.join_fd is not None:
            os.close(self.join_fd)
            self.join_fd = None

    def holds(self, pid: int) -> bool:
        """Whether the process is in this cgroup (or one below it)."""
        try:
            text = Path(f"/proc/{pid}/cgroup").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
        for line in text.splitlines():
            if line.startswith("0::"):
                where = line[3:]
                return where == self._hierarchy_path or where.startswith(self._hierarchy_path + "/")
        return False

    def pids(self) -> list[int]:
        """Every process in this cgroup and the cgroups below it."""
        found: list[int] = []
        for folder, _dirs, _files in os.walk(self.path):
            with contextlib.suppress(OSError, ValueError):
                found.extend(int(n) for n in Path(folder, "cgroup.procs").read_text().split())
        return found

    def populated(self) -> bool:
        """Whether a living process is still in it (a zombie does not count)."""
        try:
            events = (self.path / "cgroup.events").read_text()
        except OSError:
            return False
        return "populated 1" in events

    def kill(self) -> bool:
        """SIGKILL to every process in it, atomically: one forking at this moment cannot slip out."""
        try:
            (self.path / "cgroup.kill").write_text("1")
        except OSError:
            return False
        return True

    def wait_empty(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the last process to go; True when none is left."""
        until = time.monotonic() + seconds
        while self.populated():
            if time.monotonic() >= until:
                return False
            time.sleep(0.005)
        return True

    def remove(self) -> bool:
        """Remove it (and any cgroup the run made below it) once empty; True when it is gone."""
        self.release_join()
        for folder, _dirs, _files in os.walk(self.path, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        return not self.path.exists()


def open_cgroup(proc: Path = Path("/proc")) -> RunCgroup | NoCgroup:
    """A new, empty cgroup under the harness's own, ready for the child to join; or why there cannot be one."""
    try:
        found = cgroup2_dir(
            (proc / "self" / "cgroup").read_text(encoding="utf-8", errors="replace"),
            (proc / "self" / "mountinfo").read_text(encoding="utf-8", errors="replace"),
        )
    except OSError as exc:
        return NoCgroup(f"cannot read this process's cgroup: {exc.strerror or exc}")
    if found is None:
        return NoCgroup("no cgroup v2 hierarchy is mounted where this process can see its own cgroup")
    parent, hierarchy_path = found
    _remove_stale(parent)
    name = f"{PREFIX}{os.getpid()}-{os.urandom(4).hex()}"  # secrets.token_hex, without importing secrets
    path = parent / name
    try:
        path.mkdir()
    except OSError as exc:
        return NoCgroup(f"cannot create a cgroup under {parent}: {exc.strerror or exc}")
    if not (path / "cgroup.kill").exists():
        with contextlib.suppress(OSError):
            path.rmdir()
        return NoCgroup("this kernel's cgroup v2 has no cgroup.kill (Linux 5.14 or later has it)")
    try:
        join_fd = os.open(path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.rmdir()
        return NoCgroup(f"cannot move processes into {path}: {exc.strerror or exc}")
    return RunCgroup(path, f"{hierarchy_path.rstrip('/')}/{name}", join_fd)


def _remove_stale(parent: Path) -> None:
    """Empty cgroups that earlier harnesses left when they were SIGKILLed go (a busy one cannot be removed)."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    old = time.time() - STALE_AFTER
    for entry in entries:
        match = _OURS.fullmatch(entry.name)
        if match is None or Path(f"/proc/{match[1]}").exists():
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < old:
                os.rmdir(entry.path)
