"""GPU sampler cost: CPU time per sample round of the GPU sampler (read every GPU, keep, write gpu.csv, judge idleness).

Rounds are driven with ``GpuSampler.sample_once`` (the thread does exactly this each interval) and timed with
``time.process_time`` over N rounds, so the figure is the harness's own CPU per round, not wall time. Measured with
the fake NVML (1 and 8 GPUs: the harness's share alone) and, when this machine has an NVIDIA GPU, with the real
one (adds the driver calls). At the default 5 s interval, 1000 µs a round would be 0.02 % of one core.

Run: ``.venv/bin/python bench/monitor_sample_cost.py [--rounds 20000]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from _common import ROOT, Figure, report, temp_dir

sys.path.insert(0, str(ROOT))  # the package, also without an installed copy

from mle_ci.hardware.nvml import FakeNvml, NvmlBackend, NvmlError, RealNvml, fake_gpu
from mle_ci.hardware.sampler import GpuSampler
from mle_ci.hardware.usage import IdleDetector


def _cpu_per_round(backend: NvmlBackend, gpus: int, rounds: int, csv_path: Path) -> float:
    """Microseconds of this process's CPU per sample round."""
    sampler = GpuSampler(
        backend,
        range(gpus),
        csv_path=csv_path,
        detector=IdleDetector(warmup=0.0, window=60.0),
        started_at=time.time(),
    )
    try:
        sampler.sample_once()  # opens the CSV; not part of a round's cost
        began = time.process_time()
        for _ in range(rounds):
            sampler.sample_once()
        spent = time.process_time() - began
    finally:
        sampler.stop()
    return spent / rounds * 1e6


def _fake(gpus: int) -> FakeNvml:
    backend = FakeNvml([fake_gpu(i, load=lambda ts: ts % 100, memory_used_bytes=5 << 30) for i in range(gpus)])
    backend.init()
    return backend


def measure(rounds: int = 20_000) -> list[Figure]:
    figures: list[Figure] = []
    with temp_dir() as tmp:
        for gpus in (1, 8):
            micros = _cpu_per_round(_fake(gpus), gpus, rounds, tmp / f"fake-{gpus}.csv")
            print(f"  fake NVML, {gpus} GPU(s): {micros:.1f} µs CPU per round over {rounds} rounds", flush=True)
            figures.append(Figure(f"monitor: CPU per sample round, fake NVML, {gpus} GPU(s)", f"{micros:.1f} µs"))
        real = RealNvml()
        try:
            real.init()
            count = real.device_count()
        except NvmlError as exc:
            print(f"  real NVML: skipped ({exc.message})", flush=True)
            figures.append(Figure("monitor: CPU per sample round, real NVML", "n/a (no GPU)"))
            return figures
        try:
            if count == 0:
                figures.append(Figure("monitor: CPU per sample round, real NVML", "n/a (no GPU)"))
                return figures
            real_rounds = max(1, rounds // 10)  # driver calls are slower; fewer rounds give a steady figure
            micros = _cpu_per_round(real, count, real_rounds, tmp / "real.csv")
            print(f"  real NVML, {count} GPU(s): {micros:.1f} µs CPU per round over {real_rounds} rounds", flush=True)
            figures.append(Figure(f"monitor: CPU per sample round, real NVML, {count} GPU(s)", f"{micros:.1f} µs"))
        finally:
            real.shutdown()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000, help="sample rounds per figure (default 20000)")
    args = parser.parse_args(argv)
    print(f"monitor: CPU time of {args.rounds} sample rounds per backend", flush=True)
    report("monitor sample cost", measure(args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
