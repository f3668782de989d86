"""Supervision overhead: wall time and CPU the harness adds to a CPU-bound command.

The command is a pure Python busy loop that uses 4 s of CPU, prints a line every 0.5 s and ends by printing its own
CPU seconds (``bench/_children.py busy 4``).

(a) Wall: ``mle-ci run -- CHILD`` against ``CHILD`` alone, in interleaved pairs (the order alternates), median of
    the per-pair ratios; goal <= 1.02x.
(b) CPU: the harness process tree's CPU from ``getrusage(RUSAGE_CHILDREN)`` deltas around each harness run, minus
    the CPU the child reports for itself, as a share of the child's CPU; goal <= 1 %. It is given with the
    harness's Python start-up and imports included, and the start-up alone (``python -c "import mle_ci.cli,
    mle_ci.pipeline"``, measured the same way) is subtracted for the steady-state share.

Run: ``.venv/bin/python bench/overhead.py [--repeat 5] [--cpu-seconds 4]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import resource
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import Figure, Finished, at_most, child_argv, harness_argv, median, python, report, run_to_end, temp_dir

_CHILD_CPU = re.compile(r"child-cpu total=\S+ user=\S+ sys=\S+ rusage=(?P<cpu>[0-9.]+)")


@dataclass(frozen=True)
class Measured:
    """One run: wall seconds, CPU of the whole process tree (RUSAGE_CHILDREN delta), CPU the child reported."""

    wall: float
    tree_cpu: float
    child_cpu: float | None


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


def _startup(repeat: int) -> tuple[float, float]:
    """Median wall and CPU of a Python that only imports the harness's command line and pipeline."""
    walls, cpus = [], []
    for _ in range(repeat):
        finished, cpu = _measure([python(), "-c", "import mle_ci.cli, mle_ci.pipeline"])
        walls.append(finished.seconds)
        cpus.append(cpu)
    return median(walls), median(cpus)


def _fixed_cost(repeat: int, tmp: Path) -> tuple[float, float]:
    """Median extra wall and harness CPU of one run whose child ends at once: start-up, set-up and reports."""
    instant = child_argv("busy", "0")
    walls, cpus = [], []
    for index in range(repeat):
        alone = _one(instant, "instant child alone")
        supervised = _one(harness_argv(tmp / f"instant-{index}", instant), "harness, instant child")
        walls.append(supervised.wall - alone.wall)
        cpus.append(supervised.tree_cpu - (supervised.child_cpu or 0.0))
    return median(walls), median(cpus)


def measure(repeat: int = 5, cpu_seconds: float = 4.0) -> list[Figure]:
    child = child_argv("busy", f"{cpu_seconds:g}")
    ratios: list[float] = []
    shares: list[float] = []
    harness_cpus: list[float] = []
    child_cpus: list[float] = []
    harness_walls: list[float] = []
    with temp_dir() as tmp:
        run_to_end([python(), "-c", "import mle_ci.cli, mle_ci.pipeline"])  # warm the file cache
        for pair in range(repeat):
            alone: Measured | None = None
            supervised: Measured | None = None
            order = ("alone", "harness") if pair % 2 == 0 else ("harness", "alone")
            for side in order:
                if side == "alone":
                    alone = _one(child, "child alone")
                else:
                    supervised = _one(harness_argv(tmp / f"out-{pair}", child), "harness")
            assert alone is not None
            assert supervised is not None
            ratio = supervised.wall / alone.wall
            ratios.append(ratio)
            harness_walls.append(supervised.wall)
            line = f"  pair {pair + 1}/{repeat} ({order[0]} first): child alone {alone.wall:.3f} s, "
            line += f"under harness {supervised.wall:.3f} s, ratio {ratio:.4f}"
            if supervised.child_cpu is not None:
                harness_cpu = supervised.tree_cpu - supervised.child_cpu
                harness_cpus.append(harness_cpu)
                child_cpus.append(supervised.child_cpu)
                shares.append(harness_cpu / supervised.child_cpu)
                line += f"; CPU: tree {supervised.tree_cpu:.3f} s, child {supervised.child_cpu:.3f} s, "
                line += f"harness {harness_cpu:.3f} s"
            print(line, flush=True)
        startup_wall, startup_cpu = _startup(max(3, repeat))
        fixed_wall, fixed_cpu = _fixed_cost(max(3, repeat), tmp)
    print(f"  start-up alone (import mle_ci.cli, mle_ci.pipeline): wall {startup_wall:.3f} s, CPU {startup_cpu:.3f} s")
    print(f"  whole run with an instant child: harness adds wall {fixed_wall:.3f} s, CPU {fixed_cpu:.3f} s")

    figures = [at_most(f"overhead: wall ratio harness/alone (median of {repeat})", median(ratios), 1.02, "x", 4)]
    if ratios:
        steady = [(h - startup_wall) / (h / r) for h, r in zip(harness_walls, ratios, strict=True)]
        figures.append(Figure("overhead: wall ratio less import start-up (info)", f"{median(steady):.4f}x"))
        per_run = [(h - fixed_wall) / (h / r) for h, r in zip(harness_walls, ratios, strict=True)]
        figures.append(Figure("overhead: wall ratio less per-run fixed cost (info)", f"{median(per_run):.4f}x"))
    if shares:
        child_cpu = median(child_cpus)
        figures += [
            at_most("overhead: harness CPU / child CPU, incl. start-up", 100 * median(shares), 1.0, " %", 2),
            Figure("overhead: harness CPU per run, incl. start-up (info)", f"{median(harness_cpus):.3f} s"),
            Figure("overhead: start-up CPU, python + imports (info)", f"{startup_cpu:.3f} s"),
            at_most(
                "overhead: harness CPU / child CPU, steady state",
                100 * (median(harness_cpus) - startup_cpu) / child_cpu,
                1.0,
                " %",
                2,
            ),
            Figure("overhead: per-run fixed CPU, instant child (info)", f"{fixed_cpu:.3f} s"),
            Figure(
                "overhead: harness CPU / child CPU, less fixed cost (info)",
                f"{100 * (median(harness_cpus) - fixed_cpu) / child_cpu:.2f} %",
            ),
        ]
    else:
        figures.append(at_most("overhead: harness CPU / child CPU", None, 1.0, " %"))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved pairs (default 5)")
    parser.add_argument("--cpu-seconds", type=float, default=4.0, help="CPU the child burns (default 4)")
    args = parser.parse_args(argv)
    print(f"overhead: {args.repeat} interleaved pairs, child busy for {args.cpu_seconds:g} s of CPU", flush=True)
    report("overhead", measure(args.repeat, args.cpu_seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
