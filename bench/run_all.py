"""Every benchmark in turn (overhead, heartbeat gap, deadline kill, SIGINT exit), then one table of the figures.

Each benchmark prints its own lines as it goes; the final table lists every figure with its measured value, its
goal and whether the goal is met. Nothing is asserted: machines are noisy, so read the figures, not an exit code.
Takes about 1.5 minutes on a 2-core machine.

Run: ``.venv/bin/python bench/run_all.py`` (or ``make bench``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import baseline_quality
import deadline_kill
import flood
import heartbeat_gap
import monitor_sample_cost
import overhead
import parallel_folds
import preflight_speed
import sigint_exit
from _common import Figure, report, table

BENCHMARKS: tuple[tuple[str, Callable[[], list[Figure]]], ...] = (
    ("overhead (5 interleaved rounds, 4 s CPU-bound child)", overhead.measure),
    ("heartbeat gap (2 runs, 8 s silent child, --heartbeat 1s)", heartbeat_gap.measure),
    ("deadline kill (3 runs, --timeout 2s --grace 1s, SIGTERM-ignoring tree)", deadline_kill.measure),
    ("SIGINT exit (3 runs per variant)", sigint_exit.measure),
    ("output flood (3 interleaved rounds, 1M lines, some 1 MiB long)", flood.measure),
    ("preflight speed (5 interleaved rounds, no GPU here)", preflight_speed.measure),
    ("GPU sampler CPU per sample round", monitor_sample_cost.measure),
    ("baseline agent quality beside scikit-learn references (demos' own splits; raw 75/25)", baseline_quality.measure),
    (
        "parallel folds (1 round, breast-cancer: 1 worker, 1 pinned thread, 2 workers)",
        lambda: parallel_folds.measure("breast-cancer", rounds=1),
    ),
)


def main() -> int:
    started = time.monotonic()
    figures: list[Figure] = []
    for title, measure in BENCHMARKS:
        print(f"\n# {title}", flush=True)
        got = measure()
        report(title.split(" (")[0], got)
        figures.extend(got)
    missed = [figure.name for figure in figures if figure.met is False]
    print(f"\n== all benchmarks ({time.monotonic() - started:.0f} s)")
    print(table(figures))
    print(f"\ngoals met: {sum(f.met is True for f in figures)}/{sum(f.met is not None for f in figures)}", end="")
    print(f"; missed: {', '.join(missed)}" if missed else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
