"""What the GPU samples say: per-GPU statistics, an idle-GPU detector and the heartbeat's GPU text (all pure).

A single NVML utilization reading is the share of the last 1/6 s to 1 s in which a kernel ran, so one sample is
noise: statistics are taken over every sample of the run, and idleness is judged over a stretch of many samples.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mle_ci.hardware.model import GpuInfo, GpuSample, GpuUsage

GIB = 1024**3
"""Bytes in the "GB" the harness shows: GiB, as ``nvidia-smi`` and torch count memory."""

TIMELINE_BUCKETS = 60


def usable(sample: GpuSample) -> bool:
    """Whether a sample carries a utilization reading (no NVML error, a value present)."""
    return sample.error is None and sample.utilization is not None


def nearest_rank(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``percent`` % of the values at or below it.

    For sorted values ``v[1..n]`` it is ``v[ceil(percent / 100 * n)]`` (rank at least 1), always a value that was
    observed, never an interpolation: the p95 of 20 samples is the 19th smallest, of 10 samples the largest.
    """
    if not values:
        raise ValueError("nearest_rank of no values")
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], got {percent}")
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def timeline(samples: Sequence[GpuSample], buckets: int = TIMELINE_BUCKETS) -> tuple[float, ...]:
    """Mean utilization in at most ``buckets`` equal slices of the samples' time span, rounded to 0.1 %.

    There are ``min(buckets, len(samples))`` slices, so regular samples fewer than ``buckets`` give one value each.
    A slice without a sample (a gap in sampling) repeats the slice before it, so the chart keeps its time axis.
    """
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    points = sorted((s.ts, float(s.utilization)) for s in samples if usable(s) and s.utilization is not None)
    if not points:
        return ()
    first, last = points[0][0], points[-1][0]
    count = min(buckets, len(points))
    width = (last - first) / count
    if width <= 0 or count == 1:  # one instant (or a span too small to divide): one slice
        return (round(statistics.fmean(u for _, u in points), 1),)
    sums = [0.0] * count
    counts = [0] * count
    for ts, util in points:
        slot = min(int((ts - first) / width), count - 1)
        sums[slot] += util
        counts[slot] += 1
    values: list[float] = []
    for total, n in zip(sums, counts, strict=True):
        # The first slice always holds the first sample, so a gap always has a slice before it.
        values.append(round(total / n, 1) if n else values[-1])
    return tuple(values)


def summarise_usage(
    samples: Sequence[GpuSample],
    infos: Sequence[GpuInfo],
    *,
    idle: Mapping[int, float] | None = None,
    buckets: int = TIMELINE_BUCKETS,
) -> tuple[GpuUsage, ...]:
    """One :class:`GpuUsage` per GPU of ``infos`` (then any other GPU that has samples), in that order.

    Samples with an error or without a utilization are left out of every figure, ``samples`` included.
    ``idle`` maps the index of each GPU found idle to its longest idle stretch in seconds
    (:meth:`IdleDetector.idle_map`); a GPU not in it is not idle. The p95 is :func:`nearest_rank`.
    """
    idle = idle or {}
    by_index: dict[int, list[GpuSample]] = {}
    for sample in samples:
        if usable(sample):
            by_index.setdefault(sample.index, []).append(sample)
    names = {info.index: info for info in infos}
    order = [info.index for info in infos] + sorted(set(by_index) - set(names))
    usages: list[GpuUsage] = []
    for index in order:
        info = names.get(index)
        own = by_index.get(index, [])
        utils = [float(s.utilization) for s in own if s.utilization is not None]
        memory = [s.memory_used_bytes for s in own if s.memory_used_bytes is not None]
        totals = [s.memory_total_bytes for s in own if s.memory_total_bytes is not None]
        usages.append(
            GpuUsage(
                index=index,
                name=info.name if info is not None else "unknown",
                samples=len(own),
                util_mean=statistics.fmean(utils) if utils else None,
                util_median=float(statistics.median(utils)) if utils else None,
                util_p95=nearest_rank(utils, 95) if utils else None,
                memory_peak_bytes=max(memory) if memory else None,
                memory_total_bytes=info.memory_total_bytes if info is not None else max(totals, default=None),
                idle=index in idle,
                idle_seconds=float(idle.get(index, 0.0)),
                timeline=timeline(own, buckets),
            )
        )
    return tuple(usages)


def format_gpu_status(samples: Sequence[GpuSample]) -> str:
    """The heartbeat's GPU part: ``GPU 87 % 5.2/80 GB`` for one GPU, ``GPU0 87 % ..., GPU1 3 % ...`` for several."""
    parts: list[str] = []
    for sample in sorted(samples, key=lambda s: s.index):
        label = "GPU" if len(samples) == 1 else f"GPU{sample.index}"
        if not usable(sample):
            parts.append(f"{label} n/a")
            continue
        text = f"{label} {sample.utilization:.0f} %"
        if sample.memory_used_bytes is not None and sample.memory_total_bytes:
            text += f" {sample.memory_used_bytes / GIB:.1f}/{sample.memory_total_bytes / GIB:.0f} GB"
        parts.append(text)
    return ", ".join(parts)


@dataclass(frozen=True)
class IdleEvent:
    """A GPU stayed below ``threshold`` % utilization for ``seconds`` (at least the window) since ``since``."""

    index: int
    since: float
    seconds: float
    threshold: float


@dataclass
class _Stretch:
    since: float | None = None
    last: float = 0.0
    longest: float = 0.0
    fired: bool = False


class IdleDetector:
    """Decides, sample by sample, whether a GPU sat idle while the child ran; reports each GPU once.

    A sample is idle when its utilization is below ``threshold`` %. A stretch runs from the first idle sample to
    the latest one; only samples taken after ``started_at + warmup`` while the child runs can start or extend it,
    and a busy sample, an NVML error, a sample before the warm-up or one taken while the child is not running ends
    it. Because one reading covers only the last 1/6 s to 1 s, the event needs the stretch to last ``window``
    seconds, i.e. many samples in a row.
    """

    def __init__(self, *, warmup: float, window: float, threshold: float = 5.0) -> None:
        if warmup < 0 or window < 0:
            raise ValueError(f"warmup and window must not be negative, got {warmup} and {window}")
        if not 0 < threshold <= 100:
            raise ValueError(f"threshold must be in (0, 100], got {threshold}")
        self.warmup = warmup
        self.window = window
        self.threshold = threshold
        self._stretches: dict[int, _Stretch] = {}
        self._events: list[IdleEvent] = []

    def feed(self, sample: GpuSample, child_running: bool, started_at: float) -> IdleEvent | None:
        """Take one sample; return an event the first time this GPU's idle stretch reaches the window."""
        stretch = self._stretches.setdefault(sample.index, _Stretch())
        idle = (
            child_running
            and usable(sample)
            and sample.utilization is not None
            and sample.utilization < self.threshold
            and sample.ts >= started_at + self.warmup
            # A clock stepping backwards must not make a stretch look longer than it was.
            and (stretch.since is None or sample.ts >= stretch.last)
        )
        if not idle:
            stretch.since = None
            return None
        if stretch.since is None:
            stretch.since = sample.ts
        stretch.last = sample.ts
        seconds = sample.ts - stretch.since
        stretch.longest = max(stretch.longest, seconds)
        if stretch.fired or seconds < self.window:
            return None
        stretch.fired = True
        event = IdleEvent(index=sample.index, since=stretch.since, seconds=seconds, threshold=self.threshold)
        self._events.append(event)
        return event

    def idle_seconds(self, index: int) -> float:
        """The longest idle stretch seen on GPU ``index``, in seconds (0 when none)."""
        stretch = self._stretches.get(index)
        return 0.0 if stretch is None else stretch.longest

    def idle_map(self) -> dict[int, float]:
        """The longest idle stretch of each GPU that fired an event: the ``idle`` of :func:`summarise_usage`."""
        return {event.index: self.idle_seconds(event.index) for event in self._events}

    @property
    def events(self) -> tuple[IdleEvent, ...]:
        """Every event so far, at most one per GPU, in the order they fired."""
        return tuple(self._events)
