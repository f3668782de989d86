"""Output flood: how much the harness slows a command that prints as fast as it can, and the harness's memory.

The child prints 1,000,000 short lines (every 50,000th one 1 MiB long) to a pipe. Measured, interleaved, in the
same run: the child alone with its output going to a pipe we drain, and the child under ``mle-ci run`` (its
console output drained the same way). Figures: the wall ratio, lines per second through the harness, and the
harness process's peak resident memory (``VmHWM``), which must stay flat however much the child prints.

Run: ``.venv/bin/python bench/flood.py [--repeat 3] [--lines 1000000]``.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from _common import ROOT, Figure, at_most, bench_env, child_argv, harness_argv, median, report, temp_dir


def _drain(argv: Sequence[str]) -> tuple[float, int, int]:
    """Run ``argv`` with stdout drained; wall seconds, exit code and the process's peak RSS in KiB."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(argv), cwd=ROOT, env=bench_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    peak = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.stdout.read(1 << 20):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
    code = proc.wait()
    return time.perf_counter() - started, code, peak


def measure(repeat: int = 3, lines: int = 1_000_000) -> list[Figure]:
    ratios: list[float] = []
    rates: list[float] = []
    peaks: list[int] = []
    child = child_argv("flood", str(lines), "50000")
    with temp_dir() as tmp:
        for index in range(repeat):
            alone, _, _ = _drain(child)
            under, code, peak = _drain(harness_argv(tmp / f"out-{index}", child, ["--display", "plain"]))
            ratios.append(under / alone)
            rates.append(lines / under)
            peaks.append(peak)
            log = (tmp / f"out-{index}" / "log.txt").stat().st_size
            print(
                f"  round {index + 1}/{repeat}: alone {alone:.3f} s, under harness {under:.3f} s "
                f"(ratio {under / alone:.3f}), exit code {code}, harness peak RSS {peak / 1024:.1f} MiB, "
                f"log.txt {log / 1e6:.1f} MB",
                flush=True,
            )
    return [
        Figure("flood: wall ratio harness/alone, 1M lines (median, info)", f"{median(ratios):.3f}x"),
        Figure("flood: lines per second through the harness (median, info)", f"{median(rates):,.0f}"),
        at_most("flood: harness peak RSS (max)", max(peaks) / 1024 if peaks else None, 100.0, " MiB", digits=1),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines the child prints (default 1000000)")
    args = parser.parse_args(argv)
    report("flood", measure(args.repeat, args.lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
