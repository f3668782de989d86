"""Heartbeat regularity: the longest silence on the harness's stdout while the command prints nothing.

A silent child (sleeps 8 s, prints nothing) runs under ``mle-ci run --heartbeat 1s``. The harness's stdout is read
through an unbuffered pipe (the harness flushes every line) and each line is timestamped on arrival; the figure is
the largest gap between consecutive lines after the first one. Goal: <= 1.2 s. Repeated (2 by default); the max
and the median of the per-run largest gaps are reported, with the median of all gaps.

Run: ``.venv/bin/python bench/heartbeat_gap.py [--repeat 2] [--seconds 8]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import os
import select
import time
from collections.abc import Sequence

from _common import Figure, at_most, child_argv, harness_argv, median, report, start, stop, temp_dir


def _lines_with_arrival(argv: Sequence[str], limit: float) -> tuple[list[tuple[float, str]], int | None]:
    """Every line the command prints, with the monotonic time its last byte arrived; and its exit code."""
    proc = start(argv)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    lines: list[tuple[float, str]] = []
    pending = b""
    deadline = time.monotonic() + limit
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            data = os.read(fd, 65536)
            now = time.monotonic()
            if not data:
                break
            pending += data
            *complete, pending = pending.split(b"\n")
            lines.extend((now, line.decode("utf-8", "replace")) for line in complete)
    finally:
        stop(proc)
        proc.stdout.close()
    return lines, proc.returncode


def measure(repeat: int = 2, seconds: float = 8.0) -> list[Figure]:
    largest: list[float] = []
    every_gap: list[float] = []
    with temp_dir() as tmp:
        for index in range(repeat):
            argv = harness_argv(tmp / f"out-{index}", child_argv("silent", f"{seconds:g}"), ["--heartbeat", "1s"])
            lines, code = _lines_with_arrival(argv, seconds + 30)
            gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(lines)]
            if not gaps:
                print(f"  run {index + 1}/{repeat}: only {len(lines)} line(s), exit code {code}")
                continue
            worst = max(gaps)
            largest.append(worst)
            every_gap.extend(gaps)
            where = gaps.index(worst)
            print(
                f"  run {index + 1}/{repeat}: {len(lines)} lines, exit code {code}, largest gap {worst:.3f} s "
                f"(before {lines[where + 1][1][:60]!r}), gaps {' '.join(f'{g:.3f}' for g in gaps)}",
                flush=True,
            )
    return [
        at_most(f"heartbeat: largest gap between lines (max of {repeat})", max(largest, default=None), 1.2, " s"),
        Figure("heartbeat: largest gap, median over runs (info)", f"{median(largest):.3f} s" if largest else "n/a"),
        Figure("heartbeat: median gap between lines (info)", f"{median(every_gap):.3f} s" if every_gap else "n/a"),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs (default 2)")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the child stays silent (default 8)")
    args = parser.parse_args(argv)
    print(f"heartbeat: {args.repeat} runs of a {args.seconds:g} s silent child under --heartbeat 1s", flush=True)
    report("heartbeat gap", measure(args.repeat, args.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
