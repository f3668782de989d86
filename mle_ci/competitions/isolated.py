"""Checking a run's submission with its cost bounded: in size read, in memory, in time, and cancellable.

The submission is a file the child wrote: it may be any size, and reading it (pandas, as MLE-bench does) can take
far more memory and time than the run had left. So, before anything reads it, a file far larger than any valid
submission (``SIZE_FACTOR`` times the larger of the answers and the sample submission, at least ``SIZE_FLOOR``) is
invalid with that reason. The rest, validation and grading, runs in a forked process under an address-space limit
(``MEMORY`` beyond what the harness holds), while the harness waits on it and on its signal pipe together: past its
time the process is killed and the check fails with that reason; on a cancel (SIGINT, SIGTERM, SIGHUP to the
harness) it is killed at once and the run ends as interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mle_ci.competitions.grade import grade_submission
from mle_ci.competitions.model import Competition, GradeReport, ValidationReport
from mle_ci.competitions.validate import validate_submission

__all__ = ["MEMORY", "SIZE_FACTOR", "SIZE_FLOOR", "Cancel", "Checked", "check_submission", "size_problem"]

SIZE_FLOOR = 64 * 1024 * 1024
"""A submission of up to this many bytes is always read."""
SIZE_FACTOR = 20
"""A larger one is read only up to this many times the larger of the answers and the sample submission: a valid
submission has their rows, and its numbers written out at full precision take a few times their bytes at most."""
MEMORY = 2 * 1024 * 1024 * 1024
"""Address space the check may take beyond the harness's own."""


@dataclass(frozen=True)
class Cancel:
    """How a cancel is seen while the check runs: a descriptor that becomes readable, and whether it happened."""

    fd: int
    is_set: Callable[[], bool]


@dataclass(frozen=True)
class Checked:
    """What the check found; ``problem`` when it could not be made (too slow, too big, cancelled)."""

    validation: ValidationReport | None
    grade: GradeReport | None
    problem: str | None = None
    cancelled: bool = False


def _size(path: Path | None) -> int:
    if path is None:
        return 0
    with contextlib.suppress(OSError):
        return path.stat().st_size
    return 0


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def size_problem(path: Path, competition: Competition) -> str | None:
    """Why ``path`` is too large to be a submission of ``competition`` without reading it, or None."""
    size = _size(path)
    reference = max(_size(competition.answers), _size(competition.sample_submission))
    limit = max(SIZE_FLOOR, SIZE_FACTOR * reference)
    if size <= limit:
        return None
    return (
        f"{path.name} is {_mib(size)}, more than {SIZE_FACTOR} times the answers and the sample ({_mib(reference)}) "
        "that a valid submission needs: not read"
    )


def _check_here(path: Path, competition: Competition) -> dict[str, object]:
    validation = validate_submission(path, competition)
    grade = grade_submission(path, competition) if competition.answers is not None else None
    return {"validation": validation.to_dict(), "grade": None if grade is None else grade.to_dict()}


def _vm_size() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _child(path: Path, competition: Competition, out: int) -> None:
    """In the forked process: check, write the JSON to ``out``, and end without running the harness's exit code."""
    code = 0
    try:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        current = _vm_size()
        if current:
            resource.setrlimit(resource.RLIMIT_AS, (current + MEMORY, current + MEMORY))
        try:
            data: dict[str, object] = _check_here(path, competition)
        except MemoryError:
            data, code = {"error": f"checking it needed more than {_mib(MEMORY)} of memory"}, 1
        except Exception as exc:  # the report says what went wrong; the harness goes on
            data, code = {"error": f"the check failed: {exc.__class__.__name__}: {exc}"[:500]}, 1
        payload = json.dumps(data).encode("utf-8")
        view = memoryview(payload)
        while view:
            view = view[os.write(out, view) :]
    except BaseException:
        code = 2
    finally:
        os._exit(code)


def check_submission(
    path: Path, competition: Competition, *, seconds: float | None, cancel: Cancel | None = None
) -> Checked:
    """Validate (and grade, where the answers exist) ``path`` within ``seconds`` (None: no limit) and the memory
    bound, stopping at once on ``cancel``."""
    too_big = size_problem(path, competition)
    if too_big is not None:
        return Checked(ValidationReport(False, (too_big,), None, str(path)), None)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked process ends in _child, where coverage does not follow
        os.close(read)
        _child(path, competition, write)
    os.close(write)
    try:
        return _wait(pid, read, path, seconds, cancel)
    finally:
        os.close(read)
        with contextlib.suppress(ChildProcessError, ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _wait(pid: int, read: int, path: Path, seconds: float | None, cancel: Cancel | None) -> Checked:
    deadline = None if seconds is None else time.monotonic() + max(0.0, seconds)
    chunks: list[bytes] = []
    watched = [read] if cancel is None else [read, cancel.fd]
    while True:
        if cancel is not None and cancel.is_set():
            return Checked(None, None, "not checked: the run was cancelled while the submission was checked", True)
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return Checked(None, None, f"not checked: the check took longer than the {seconds:.0f}s it had")
        ready, _, _ = select.select(watched, [], [], left)
        if read not in ready:
            continue  # a signal woke us (checked above), or the time ran out
        chunk = os.read(read, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    try:
        data = json.loads(b"".join(chunks).decode("utf-8"))
    except ValueError:
        return Checked(None, None, f"not checked: the check ended without a report (status {status})")
    if "error" in data:
        return Checked(None, None, f"not checked: {data['error']}")
    grade = data.get("grade")
    return Checked(
        ValidationReport.from_dict(data["validation"]),
        None if grade is None else GradeReport.from_dict(grade),
    )
