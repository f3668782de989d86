"""``mle-ci monitor``, the stand-alone GPU monitor: one line per sample round of every GPU, ``gpu.csv``, a summary.

Exit codes: 0 (done, interrupted, or no GPU here), 3 (no usable GPU and ``--require-gpu``).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import click

from mle_ci.commands.options import UserPath
from mle_ci.console import inert_line
from mle_ci.contract import ExitCode
from mle_ci.durations import parse_duration
from mle_ci.errors import ConfigError
from mle_ci.hardware.model import GpuInfo, GpuSample, GpuUsage, NvmlFault
from mle_ci.hardware.nvml import NvmlBackend, NvmlError, RealNvml
from mle_ci.hardware.sampler import GpuSampler, iso_utc
from mle_ci.hardware.usage import GIB, summarise_usage

_WHY = {
    NvmlFault.LIBRARY_NOT_FOUND: "no NVIDIA GPU here: NVML library not found (no driver)",
    NvmlFault.DRIVER_NOT_LOADED: "NVIDIA GPU not usable here: the driver's kernel module is not loaded",
    NvmlFault.NO_PERMISSION: "NVIDIA GPU not usable here: no permission to open the GPU devices",
    NvmlFault.VERSION_MISMATCH: "NVIDIA GPU not usable here: driver and NVML library versions differ (reboot needed)",
    NvmlFault.UNKNOWN: "NVIDIA GPU not usable here: NVML failed (the container may have lost device access)",
}
# Size and form-factor words add nothing on a monitor line: "NVIDIA H100 80GB HBM3" reads as "H100".
_NOISE = re.compile(r"^(?:NVIDIA|\d+GB|HBM\d*e?|PCIe|SXM\d*)$", re.IGNORECASE)


@click.command()
@click.option("--interval", default="5s", metavar="DURATION", help="Time between samples (default 5s).")
@click.option("--duration", metavar="DURATION", help="Stop after this long (default: until interrupted).")
@click.option("--csv", "csv_path", metavar="FILE", type=UserPath(dir_okay=False, path_type=Path), help="Write CSV.")
@click.option("--require-gpu/--no-require-gpu", "require_gpu", help="Exit 3 when there is no GPU to watch.")
def monitor(interval: str, duration: str | None, csv_path: Path | None, require_gpu: bool) -> None:
    """Stand-alone GPU monitor: one line per sample, optionally a CSV."""
    every = parse_duration(interval, key="--interval")
    if every <= 0:
        raise ConfigError("--interval: must be more than zero")
    limit = parse_duration(duration, key="--duration") if duration is not None else None
    code = run_monitor(
        backend=RealNvml(),
        interval=every,
        duration=limit,
        csv_path=csv_path,
        require_gpu=require_gpu,
        stream=sys.stdout,
    )
    raise SystemExit(code)


def short_name(name: str) -> str:
    """A GPU's model name without vendor, memory-size and form-factor words: ``H100``, ``A100-SXM4-80GB``."""
    words = [word for word in name.split() if not _NOISE.match(word)]
    return " ".join(words) or name


def sample_text(sample: GpuSample, info: GpuInfo | None) -> str:
    """One GPU's part of a monitor line: ``GPU0 H100 87 % 5.2/80.0 GB 61 °C 312 W``."""
    head = f"GPU{sample.index}" + ("" if info is None else f" {short_name(info.name)}")
    if sample.error is not None or sample.utilization is None:
        return f"{head} error: {sample.error or 'no utilization reading'}"
    parts = [head, f"{sample.utilization:.0f} %"]
    if sample.memory_used_bytes is not None and sample.memory_total_bytes:
        parts.append(f"{sample.memory_used_bytes / GIB:.1f}/{sample.memory_total_bytes / GIB:.1f} GB")
    if sample.temperature_c is not None:
        parts.append(f"{sample.temperature_c:.0f} °C")
    if sample.power_w is not None:
        parts.append(f"{sample.power_w:.0f} W")
    return " ".join(parts)


def round_line(taken: Sequence[GpuSample], infos: dict[int, GpuInfo]) -> str:
    """A timestamped line for one sample round, the GPUs separated by `` | ``."""
    stamp = iso_utc(min(s.ts for s in taken), "seconds") if taken else ""
    return f"{stamp} " + " | ".join(sample_text(s, infos.get(s.index)) for s in taken)


def summary_line(usages: Sequence[GpuUsage]) -> str:
    """The closing line: mean, p95 and peak memory of each GPU over the samples taken."""
    parts: list[str] = []
    for usage in usages:
        head = f"GPU{usage.index} {short_name(usage.name)}"
        if usage.util_mean is None or usage.util_p95 is None:
            parts.append(f"{head} no readings")
            continue
        peak = "" if usage.memory_peak_bytes is None else f" peak {usage.memory_peak_bytes / GIB:.1f}"
        total = "" if not peak or not usage.memory_total_bytes else f"/{usage.memory_total_bytes / GIB:.1f} GB"
        plural = "" if usage.samples == 1 else "s"
        parts.append(
            f"{head} mean {usage.util_mean:.0f} % p95 {usage.util_p95:.0f} %{peak}{total} "
            f"({usage.samples} sample{plural})"
        )
    return "summary: " + " | ".join(parts)


def _no_gpu(error: NvmlError | None) -> str:
    if error is None:
        return "no NVIDIA GPU here: NVML sees no device"
    return _WHY.get(error.fault, f"NVIDIA GPU not usable here: {error.message}")


def run_monitor(
    *,
    backend: NvmlBackend,
    interval: float,
    duration: float | None,
    csv_path: Path | None,
    require_gpu: bool,
    stream: TextIO,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Monitor every GPU until ``duration`` seconds have passed (None: until Ctrl-C); return the exit code."""

    def say(line: str) -> None:
        stream.write(inert_line(line) + "\n")
        stream.flush()

    try:
        backend.init()
    except NvmlError as exc:
        say(_no_gpu(exc))
        return int(ExitCode.GPU_UNAVAILABLE if require_gpu else ExitCode.OK)
    try:
        try:
            infos = [backend.device(index) for index in range(backend.device_count())]
        except NvmlError as exc:
            say(_no_gpu(exc))
            return int(ExitCode.GPU_UNAVAILABLE if require_gpu else ExitCode.OK)
        if not infos:
            say(_no_gpu(None))
            return int(ExitCode.GPU_UNAVAILABLE if require_gpu else ExitCode.OK)
        return _monitor(
            backend=backend,
            infos=infos,
            interval=interval,
            duration=duration,
            csv_path=csv_path,
            say=say,
            clock=clock,
            sleep=sleep,
        )
    finally:
        backend.shutdown()


def _monitor(
    *,
    backend: NvmlBackend,
    infos: Sequence[GpuInfo],
    interval: float,
    duration: float | None,
    csv_path: Path | None,
    say: Callable[[str], None],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> int:
    by_index = {info.index: info for info in infos}
    started = clock()
    # Driven round by round from this thread: the pauses are plain sleeps that Ctrl-C interrupts at once.
    sampler = GpuSampler(backend, list(by_index), interval=interval, csv_path=csv_path, started_at=started, clock=clock)
    until = "until Ctrl-C" if duration is None else f"for {duration:g} s"
    gpus = ", ".join(f"GPU{info.index} {info.name}" for info in infos)
    say(f"monitoring {gpus} every {interval:g} s {until}" + ("" if csv_path is None else f"; CSV: {csv_path}"))
    next_at = started
    try:
        while True:
            say(round_line(sampler.sample_once(), by_index))
            # A round that overran (a slow NVML call) pushes the schedule back rather than bunching rounds up.
            next_at = max(next_at + interval, clock())
            if duration is not None and next_at > started + duration:
                break
            sleep(max(0.0, next_at - clock()))
    except KeyboardInterrupt:
        pass
    finally:
        sampler.stop()
    say(summary_line(summarise_usage(sampler.samples(), infos)))
    return int(ExitCode.OK)
