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


_KINDS = ("alone", "harness", "imports", "instant")
"""One round: the child alone, the child under the harness, the harness's imports alone, the harness with an
instant child (its whole per-run fixed cost). The order rotates from round to round."""


def measure(repeat: int = 5, cpu_seconds: float = 4.0) -> list[Figure]:
    child = child_argv("busy", f"{cpu_seconds:g}")
    instant = child_argv("busy", "0")
    imports = [python(), "-c", "import mle_ci.cli, mle_ci.pipeline"]
    rounds: list[dict[str, Measured]] = []
    with temp_dir() as tmp:
        run_to_end(imports)  # warm the file cache and the bytecode
        for index in range(repeat):
            order = _KINDS[index % 4 :] + _KINDS[: index % 4]
            got: dict[str, Measured] = {}
            for kind in order:
                if kind == "alone":
                    got[kind] = _one(child, "child alone")
                elif kind == "harness":
                    got[kind] = _one(harness_argv(tmp / f"out-{index}", child), "harness")
                elif kind == "imports":
                    got[kind] = _one(imports, "imports")
                else:
                    got[kind] = _one(harness_argv(tmp / f"instant-{index}", instant), "harness, instant child")
            rounds.append(got)
            alone, supervised = got["alone"], got["harness"]
            line = f"  round {index + 1}/{repeat} ({' '.join(order)}): child alone {alone.wall:.3f} s, "
            line += f"under harness {supervised.wall:.3f} s, ratio {supervised.wall / alone.wall:.4f}; "
            line += f"harness CPU {_harness_cpu(supervised):.3f} s, imports {got['imports'].tree_cpu:.3f} s, "
            line += f"instant-child run {_harness_cpu(got['instant']):.3f} s"
            print(line, flush=True)
    return _figures(rounds, repeat)


def _harness_cpu(run: Measured) -> float:
    """CPU of the harness process tree less what the child reported for itself (all of it when it reported none)."""
    return run.tree_cpu - (run.child_cpu or 0.0)


def _figures(rounds: Sequence[dict[str, Measured]], repeat: int) -> list[Figure]:
    ratios = [r["harness"].wall / r["alone"].wall for r in rounds]
    startup_wall = median([r["imports"].wall for r in rounds])
    fixed_wall = median([r["instant"].wall for r in rounds])
    figures = [
        at_most(f"overhead: wall ratio harness/alone (median of {repeat})", median(ratios), 1.02, "x", 4),
        Figure(
            "overhead: wall ratio less import start-up (info)",
            f"{median([(r['harness'].wall - r['imports'].wall) / r['alone'].wall for r in rounds]):.4f}x",
        ),
        Figure("overhead: import start-up wall (info)", f"{startup_wall:.3f} s"),
        Figure("overhead: whole run with an instant child, wall (info)", f"{fixed_wall:.3f} s"),
    ]
    measured = [r for r in rounds if r["harness"].child_cpu]
    if not measured:
        return [*figures, at_most("overhead: harness CPU / child CPU", None, 1.0, " %")]
    including = [_harness_cpu(r["harness"]) / (r["harness"].child_cpu or 1.0) for r in measured]
    steady = [(_harness_cpu(r["harness"]) - r["imports"].tree_cpu) / (r["harness"].child_cpu or 1.0) for r in measured]
    less_fixed = [
        (_harness_cpu(r["harness"]) - _harness_cpu(r["instant"])) / (r["harness"].child_cpu or 1.0) for r in measured
    ]
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
        Figure("overhead: harness CPU / child CPU, less fixed cost (info)", f"{100 * median(less_fixed):.2f} %"),
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
