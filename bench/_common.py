"""Helpers shared by the benchmarks: where the repository is, the harness's command line, figures and tables.

Not a benchmark itself; the scripts next to it import it (``python bench/overhead.py`` puts ``bench/`` first on
``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root, found from this file so the benchmarks run from any working directory."""

CHILDREN = Path(__file__).resolve().parent / "_children.py"
"""The small programs the benchmarks run under the harness."""

_DROPPED_PREFIXES = ("GITHUB_", "INPUT_", "MLE_CI_")


def python() -> str:
    """The repository's virtual environment's interpreter when there is one, else the one running this script."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def bench_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without GitHub, action-input or harness variables, with the repo importable."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(_DROPPED_PREFIXES)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def child_argv(mode: str, *args: str) -> list[str]:
    """The command line of one of the benchmark children (see ``_children.py``)."""
    return [python(), str(CHILDREN), mode, *args]


def harness_argv(out: Path, command: Sequence[str], options: Sequence[str] = ()) -> list[str]:
    """``python -m mle_ci run --output-dir OUT [OPTIONS] -- COMMAND``."""
    return [python(), "-m", "mle_ci", "run", "--output-dir", str(out), *options, "--", *command]


def compile_package() -> None:
    """Write the package's bytecode as an installed package has it, so that no figure measures the compiler.

    Where ``PYTHONDONTWRITEBYTECODE`` is set, every run would otherwise compile each module of the harness anew.
    """
    subprocess.run(
        [python(), "-m", "compileall", "-q", str(ROOT / "mle_ci")],
        cwd=ROOT,
        env=bench_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        check=True,
    )


@dataclass(frozen=True)
class Finished:
    """A command run to its end: exit code, what it printed, how long it took."""

    returncode: int
    stdout: str
    seconds: float


def run_to_end(argv: Sequence[str], *, timeout: float = 120.0) -> Finished:
    """Run ``argv`` from the repository root with :func:`bench_env`, capturing stdout and stderr together."""
    started = time.perf_counter()
    proc = subprocess.run(
        list(argv),
        cwd=ROOT,
        env=bench_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    return Finished(proc.returncode, proc.stdout.decode("utf-8", "replace"), seconds)


def start(argv: Sequence[str], *, stdout: int | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session (so no terminal signal reaches it), unbuffered, from the repo root."""
    return subprocess.Popen(
        list(argv),
        cwd=ROOT,
        env=bench_env(),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        bufsize=0,
        start_new_session=True,
    )


@contextlib.contextmanager
def temp_dir(prefix: str = "mle-ci-bench-") -> Iterator[Path]:
    """A fresh temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (Linux ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3]
    return state not in (b"Z", b"X")


def kill_quietly(pids: Sequence[int]) -> None:
    """SIGKILL the given processes (started by this benchmark) if they are still there."""
    for pid in pids:
        if pid > 0 and alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Make sure a harness started by a benchmark is gone."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class Figure:
    """One measured figure: its value as text, the goal as text, and whether the goal is met (None: no goal)."""

    name: str
    value: str
    goal: str = "-"
    met: bool | None = None

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "-"
        return "yes" if self.met else "NO"


def at_most(name: str, value: float | None, limit: float, unit: str, digits: int = 3) -> Figure:
    """A figure whose goal is ``value <= limit``; None means it could not be measured (goal not met)."""
    text = "n/a" if value is None else f"{value:.{digits}f}{unit}"
    return Figure(name, text, f"<= {limit:g}{unit}", value is not None and value <= limit)


def columns(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as aligned plain-text columns, the first row a header underlined with dashes."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def table(figures: Sequence[Figure]) -> str:
    """A plain text table: figure, measured value, goal, met."""
    return columns([("figure", "measured", "goal", "met"), *((f.name, f.value, f.goal, f.verdict) for f in figures)])


def report(title: str, figures: Sequence[Figure]) -> None:
    """Print a benchmark's figures under a title."""
    print(f"\n== {title}")
    print(table(figures), flush=True)
