"""Supervision overhead: wall time and CPU the harness adds to a CPU-bound command.

The command is a pure Python busy loop that uses 4 s of CPU, prints a line every 0.5 s and ends by printing its own
CPU seconds (``bench/_children.py busy 4``).

Each round runs, in an order that rotates from round to round: the child alone, the child under the harness, a
bare interpreter (``python -c pass``), a Python that only imports what a run loads before its child starts
(``python -c "import mle_ci.cli, mle_ci.commands.run"``) and the harness with an instant child (its whole per-run
fixed cost). Five rounds by default
(``--repeat``); medians are reported. The package's bytecode is written first, as an installed package has it.

(a) Wall: ``mle-ci run -- CHILD`` against ``CHILD`` alone, median of the per-round ratios; goal <= 1.02x. The ratio
    with the import start-up's wall time taken off is given too. The fixed cost of a supervised run beyond the
    interpreter's own start: the instant-child run less ``python -c pass`` in the same round, median; goal
    <= 0.08 s.
(b) CPU: the harness process tree's CPU from ``getrusage(RUSAGE_CHILDREN)`` deltas around each harness run, minus
    the CPU the child reports for itself, as a share of the child's CPU; goal <= 1 %. Given with the harness's
    Python start-up and imports included, and with the import-only run's CPU (measured the same way) taken off.
    A steady-state share is also sampled directly: the harness's and the child's CPU read from
    ``/proc/PID/task/*/schedstat`` when the child's first and last progress lines arrive, so start-up, reports and
    shutdown are not in it.

Run: ``.venv/bin/python bench/overhead.py [--repeat 5] [--cpu-seconds 4]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass

from _common import (
    Figure,
    Finished,
    at_most,
    child_argv,
    compile_package,
    harness_argv,
    median,
    python,
    report,
    run_to_end,
    start,
    temp_dir,
)

_CHILD_CPU = re.compile(r"child-cpu total=\S+ user=\S+ sys=\S+ rusage=(?P<cpu>[0-9.]+)")


@dataclass(frozen=True)
class Measured:
    """One run: wall seconds, CPU of the whole process tree (RUSAGE_CHILDREN delta), CPU the child reported."""

    wall: float
    tree_cpu: float
    child_cpu: float | None
    steady: tuple[float, float] | None = None
    """CPU seconds of the harness process and of the child between the child's first and last progress lines,
    read from ``/proc`` while the run goes on (no start-up, no reports, no shutdown in it)."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(argv: Sequence[str]) -> tuple[Finished, float]:
    before = _children_cpu()
    finished = run_to_end(argv)
    return finished, _children_cpu() - before


def _reported_cpu(stdout: str) -> float | None:
    match = _CHILD_CPU.search(stdout)
    return float(match["cpu"]) if match else None


def _one(argv: Sequence[str], what: str, expect: int = 0) -> Measured:
    finished, cpu = _measure(argv)
    if finished.returncode != expect:
        print(f"  {what}: exit code {finished.returncode} (expected {expect}); output tail:\n{finished.stdout[-800:]}")
    return Measured(finished.seconds, cpu, _reported_cpu(finished.stdout))


_STARTED = re.compile(r"^\[mle-ci [0-9:]+\] started .*\(pid (?P<pid>[0-9]+)\)")
_BUSY = re.compile(r"^busy: [0-9.]+ s of CPU")


def _process_cpu(pid: int) -> float | None:
    """CPU seconds of every thread of ``pid`` so far, from ``/proc/PID/task/*/schedstat`` (nanoseconds)."""
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as handle:
                total += int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def _one_sampled(argv: Sequence[str]) -> Measured:
    """Like :func:`_one`, reading the harness's output as it comes to sample both processes' CPU mid-run."""
    before = _children_cpu()
    started = time.perf_counter()
    proc = start(argv)
    assert proc.stdout is not None
    child_pid = 0
    first: tuple[float | None, float | None] | None = None
    last: tuple[float | None, float | None] | None = None
    pending = b""
    output: list[str] = []
    while data := os.read(proc.stdout.fileno(), 65536):
        pending += data
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            output.append(line)
            if match := _STARTED.match(line):
                child_pid = int(match["pid"])
            elif child_pid and _BUSY.match(line):
                last = (_process_cpu(proc.pid), _process_cpu(child_pid))
                first = first or last
    proc.stdout.close()
    returncode = proc.wait()
    wall = time.perf_counter() - started
    tree = _children_cpu() - before
    text = "\n".join(output)
    if returncode != 0:
        print(f"  harness: exit code {returncode}; output tail:\n{text[-800:]}")
    steady = None
    if first is not None and last is not None and None not in (*first, *last) and last != first:
        steady = ((last[0] or 0.0) - (first[0] or 0.0), (last[1] or 0.0) - (first[1] or 0.0))
    return Measured(wall, tree, _reported_cpu(text), steady)


_KINDS = ("alone", "harness", "interpreter", "imports", "instant")
"""One round: the child alone, the child under the harness, a bare interpreter, the harness's imports alone, the
harness with an instant child (its whole per-run fixed cost). The order rotates from round to round."""


def measure(repeat: int = 5, cpu_seconds: float = 4.0) -> list[Figure]:
    child = child_argv("busy", f"{cpu_seconds:g}")
    instant = child_argv("busy", "0")
    interpreter = [python(), "-c", "pass"]
    imports = [python(), "-c", "import mle_ci.cli, mle_ci.commands.run"]
    rounds: list[dict[str, Measured]] = []
    with temp_dir() as tmp:
        compile_package()
        run_to_end(imports)  # warm the file cache
        for index in range(repeat):
            turn = index % len(_KINDS)
            order = _KINDS[turn:] + _KINDS[:turn]
            got: dict[str, Measured] = {}
            for kind in order:
                if kind == "alone":
                    got[kind] = _one(child, "child alone")
                elif kind == "harness":
                    got[kind] = _one_sampled(harness_argv(tmp / f"out-{index}", child))
                elif kind == "interpreter":
                    got[kind] = _one(interpreter, "bare interpreter")
                elif kind == "imports":
                    got[kind] = _one(imports, "imports")
                else:
                    got[kind] = _one(harness_argv(tmp / f"instant-{index}", instant), "harness, instant child")
            rounds.append(got)
            alone, supervised = got["alone"], got["harness"]
            line = f"  round {index + 1}/{repeat} ({' '.join(order)}): child alone {alone.wall:.3f} s, "
            line += f"under harness {supervised.wall:.3f} s, ratio {supervised.wall / alone.wall:.4f}; "
            line += f"harness CPU {_harness_cpu(supervised):.3f} s, imports {got['imports'].tree_cpu:.3f} s, "
            line += f"instant-child run {_harness_cpu(got['instant']):.3f} s; fixed cost {_fixed_cost(got):.3f} s"
            if supervised.steady is not None:
                line += f"; mid-run: harness {supervised.steady[0]:.4f} s per {supervised.steady[1]:.3f} s child CPU"
            print(line, flush=True)
    return _figures(rounds, repeat)


def _fixed_cost(got: dict[str, Measured]) -> float:
    """Wall seconds a supervised run with an instant child takes beyond a bare interpreter's start and exit."""
    return got["instant"].wall - got["interpreter"].wall


def _harness_cpu(run: Measured) -> float:
    """CPU of the harness process tree less what the child reported for itself (all of it when it reported none)."""
    return run.tree_cpu - (run.child_cpu or 0.0)


def _figures(rounds: Sequence[dict[str, Measured]], repeat: int) -> list[Figure]:
    ratios = [r["harness"].wall / r["alone"].wall for r in rounds]
    startup_wall = median([r["imports"].wall for r in rounds])
    fixed_wall = median([r["instant"].wall for r in rounds])
    figures = [
        at_most(f"overhead: wall ratio harness/alone (median of {repeat})", median(ratios), 1.02, "x", 4),
        at_most(
            "overhead: fixed cost beyond the interpreter's start (instant-child run less python -c pass)",
            median([_fixed_cost(r) for r in rounds]),
            0.08,
            " s",
        ),
        Figure(
            "overhead: wall ratio less import start-up (info)",
            f"{median([(r['harness'].wall - r['imports'].wall) / r['alone'].wall for r in rounds]):.4f}x",
        ),
        Figure(
            "overhead: bare interpreter start, wall (info)", f"{median([r['interpreter'].wall for r in rounds]):.3f} s"
        ),
        Figure("overhead: import start-up wall (info)", f"{startup_wall:.3f} s"),
        Figure("overhead: whole run with an instant child, wall (info)", f"{fixed_wall:.3f} s"),
    ]
    measured = [r for r in rounds if r["harness"].child_cpu]
    if not measured:
        return [*figures, at_most("overhead: harness CPU / child CPU", None, 1.0, " %")]
    including = [_harness_cpu(r["harness"]) / (r["harness"].child_cpu or 1.0) for r in measured]
    steady = [(_harness_cpu(r["harness"]) - r["imports"].tree_cpu) / (r["harness"].child_cpu or 1.0) for r in measured]
    mid_run = [r["harness"].steady[0] / r["harness"].steady[1] for r in measured if r["harness"].steady]
    return [
        *figures,
        at_most("overhead: harness CPU / child CPU, incl. start-up", 100 * median(including), 1.0, " %", 2),
        Figure(
            "overhead: harness CPU per run, incl. start-up (info)",
            f"{median([_harness_cpu(r['harness']) for r in measured]):.3f} s",
        ),
        Figure("overhead: import start-up CPU (info)", f"{median([r['imports'].tree_cpu for r in measured]):.3f} s"),
        at_most("overhead: harness CPU / child CPU, less import start-up", 100 * median(steady), 1.0, " %", 2),
        Figure(
            "overhead: per-run fixed CPU, instant child (info)",
            f"{median([_harness_cpu(r['instant']) for r in measured]):.3f} s",
        ),
        at_most(
            "overhead: harness CPU / child CPU, sampled mid-run",
            100 * median(mid_run) if mid_run else None,
            1.0,
            " %",
            2,
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--cpu-seconds", type=float, default=4.0, help="CPU the child burns (default 4)")
    args = parser.parse_args(argv)
    print(f"overhead: {args.repeat} interleaved rounds, child busy for {args.cpu_seconds:g} s of CPU", flush=True)
    report("overhead", measure(args.repeat, args.cpu_seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
