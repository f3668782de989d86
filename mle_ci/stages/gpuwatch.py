"""The GPU watch of one run: the GPU sampler's thread from the child's start to its end, idle detection, and the
GPUs' use summed up for the judge."""

from __future__ import annotations

import queue
from dataclasses import dataclass
from pathlib import Path

from mle_ci.durations import format_duration
from mle_ci.hardware.cudaenv import cuda_visible_gpus
from mle_ci.hardware.model import GpuInfo, GpuUsage, HardwareProfile
from mle_ci.hardware.nvml import NvmlBackend, NvmlError, RealNvml
from mle_ci.hardware.sampler import GpuSampler
from mle_ci.hardware.usage import IdleDetector, IdleEvent, format_gpu_status, summarise_usage


@dataclass(frozen=True)
class GpuVerdict:
    """What the samples of a run come to: per-GPU use, NVML trouble, idle warnings, the GPUs that sat idle."""

    usage: tuple[GpuUsage, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    sampled: bool = False
    """Whether the GPUs were sampled (NVML could be started)."""
    idle: tuple[int, ...] = ()
    """Indices of the GPUs that sat idle while the command ran."""


@dataclass(frozen=True)
class IdleRule:
    """When a GPU counts as idle."""

    warmup: float
    window: float
    threshold: float


class GpuWatch:
    """Samples the child's GPUs in a thread (the GPU sampler) from the child's start to its end."""

    def __init__(
        self,
        profile: HardwareProfile,
        *,
        rule: IdleRule,
        interval: float,
        csv_path: Path,
        started_at: float,
        backend: NvmlBackend | None = None,
    ) -> None:
        self._rule = rule
        visible = cuda_visible_gpus(profile)
        # MIG instances cannot be mapped to their GPU here: then every GPU is watched.
        chosen = visible.gpus if visible.gpus or not visible.count else profile.gpus
        self._indices = tuple(gpu.index for gpu in chosen)
        self._infos = {gpu.index: gpu for gpu in profile.gpus}
        self._notes: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._backend = backend or RealNvml()
        self.start_error: str | None = None
        self._detector = IdleDetector(warmup=rule.warmup, window=rule.window, threshold=rule.threshold)
        self._sampler: GpuSampler | None = None
        if not self._indices:
            return
        try:
            self._backend.init()
        except NvmlError as exc:
            self.start_error = f"GPU monitoring is off: {exc.message}"
            return
        self._sampler = GpuSampler(
            self._backend,
            self._indices,
            interval=interval,
            csv_path=csv_path,
            detector=self._detector,
            started_at=started_at,
            on_idle=self._on_idle,
        )

    @property
    def active(self) -> bool:
        return self._sampler is not None

    def start(self) -> None:
        """Begin sampling (call after the child has started: no thread may exist before the fork)."""
        if self._sampler is not None:
            self._sampler.set_child_running(True)
            self._sampler.start()

    def _on_idle(self, event: IdleEvent) -> None:
        # Called from the sampler thread: hand the news to the main thread, which owns the console.
        self._notes.put(self._idle_text(event.index, event.seconds))

    def _idle_text(self, index: int, seconds: float) -> str:
        info = self._infos.get(index)
        name = f"GPU {index} ({info.name})" if info else f"GPU {index}"
        return (
            f"{name} has been below {self._rule.threshold:g} % utilization for {format_duration(seconds)} "
            "while the command ran: is the model on the GPU?"
        )

    def notes(self) -> list[str]:
        """Messages for the console since the last call (idle warnings)."""
        out: list[str] = []
        while True:
            try:
                out.append(self._notes.get_nowait())
            except queue.Empty:
                return out

    def status(self) -> str:
        """``GPU 87 % 5.2/80 GB`` from the latest samples, for the heartbeat; empty when not sampling."""
        return "" if self._sampler is None else format_gpu_status(self._sampler.latest())

    def finish(self) -> GpuVerdict:
        """Stop sampling and sum up the run's GPU use."""
        if self._sampler is None:
            return GpuVerdict((), (), (self.start_error,) if self.start_error else ())
        self._sampler.set_child_running(False)
        self._sampler.stop()
        self._backend.shutdown()
        idle = self._detector.idle_map()
        infos: list[GpuInfo] = [self._infos[i] for i in self._indices if i in self._infos]
        usage = summarise_usage(self._sampler.samples(), infos, idle=idle)
        warnings = tuple(self._idle_text(index, seconds) for index, seconds in sorted(idle.items()))
        return GpuVerdict(usage, tuple(self._sampler.errors()), warnings, sampled=True, idle=tuple(sorted(idle)))
