"""What the harness knows about the machine: frozen records of the hardware, its diagnosis, the plan, GPU use."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mle_ci import contract


class NvmlFault(StrEnum):
    """Why NVML could not be used (None when it could); the names of nvidia-ml-py's errors."""

    LIBRARY_NOT_FOUND = "library-not-found"
    DRIVER_NOT_LOADED = "driver-not-loaded"
    NO_PERMISSION = "no-permission"
    VERSION_MISMATCH = "lib-rm-version-mismatch"
    UNKNOWN = "unknown"
    OTHER = "other"
    SKIPPED = "skipped"
    """Not tried: nothing on the machine (no device nodes, no driver libraries) could lead to a GPU."""


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as NVML sees it (PCI order, not ``CUDA_VISIBLE_DEVICES`` order)."""

    index: int
    name: str
    uuid: str
    memory_total_bytes: int
    memory_free_bytes: int
    compute_capability: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "uuid": self.uuid,
            "memory_total_bytes": self.memory_total_bytes,
            "memory_free_bytes": self.memory_free_bytes,
            "compute_capability": None
            if self.compute_capability is None
            else ".".join(map(str, self.compute_capability)),
        }


@dataclass(frozen=True)
class CudaCheck:
    """The result of the spawned proof that CUDA works (allocate, matmul, synchronize)."""

    ran: bool
    ok: bool = False
    seconds: float | None = None
    device_count: int | None = None
    device_name: str | None = None
    bf16: bool | None = None
    timed_out: bool = False
    error: str | None = None
    """The last line of the probe's error output, e.g. PyTorch's own message."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ran": self.ran,
            "ok": self.ok,
            "seconds": self.seconds,
            "device_count": self.device_count,
            "device_name": self.device_name,
            "bf16": self.bf16,
            "timed_out": self.timed_out,
            "error": self.error,
        }


@dataclass(frozen=True)
class HardwareProfile:
    """Everything the probe saw, without judging it (the diagnosis does that)."""

    gpus: tuple[GpuInfo, ...] = ()
    driver_version: str | None = None
    cuda_driver_version: int | None = None
    """Newest CUDA the driver supports, as NVML reports it (12040 = 12.4)."""
    nvml_fault: NvmlFault | None = None
    nvml_error: str | None = None
    nvidia_visible_devices: str | None = None
    cuda_visible_devices: str | None = None
    device_nodes: tuple[str, ...] = ()
    """``/dev/nvidia*`` names (``nvidia0``, ``nvidiactl``, ``nvidia-uvm``...)."""
    torch_version: str | None = None
    """Installed torch version string (``2.13.0+cpu``), None when torch is not installed."""
    torch_cuda: str | None = None
    """CUDA version torch was built for (``12.8``), None for a CPU build or no torch."""
    cpu_count: int = 1
    memory_total_bytes: int | None = None
    shm_bytes: int | None = None
    cuda_check: CudaCheck = field(default_factory=lambda: CudaCheck(ran=False))

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpus": [gpu.to_dict() for gpu in self.gpus],
            "driver_version": self.driver_version,
            "cuda_driver_version": self.cuda_driver_version,
            "nvml_fault": None if self.nvml_fault is None else self.nvml_fault.value,
            "nvml_error": self.nvml_error,
            "nvidia_visible_devices": self.nvidia_visible_devices,
            "cuda_visible_devices": self.cuda_visible_devices,
            "device_nodes": list(self.device_nodes),
            "torch_version": self.torch_version,
            "torch_cuda": self.torch_cuda,
            "cpu_count": self.cpu_count,
            "memory_total_bytes": self.memory_total_bytes,
            "shm_bytes": self.shm_bytes,
            "cuda_check": self.cuda_check.to_dict(),
        }


class Severity(StrEnum):
    """How much a finding matters: an error stops a run that requires a GPU; a warning is shown."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class FaultKind(StrEnum):
    """Whose problem it is: the job's configuration (fix the workflow) or the infrastructure (retry elsewhere)."""

    CONFIGURATION = "configuration"
    INFRASTRUCTURE = "infrastructure"
    ENVIRONMENT = "environment"


@dataclass(frozen=True)
class Finding:
    """One diagnosis result: a stable code, what is wrong, why, and what to do about it."""

    code: str
    severity: Severity
    kind: FaultKind
    cause: str
    fix: str

    @property
    def sentence(self) -> str:
        """Cause and fix in one line: ``... is wrong. Fix: do this``."""
        return f"{self.cause.rstrip('. ')}. Fix: {self.fix}"

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "kind": self.kind.value,
            "cause": self.cause,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Diagnosis:
    """The findings, in the order the checks ran, and whether CUDA is usable."""

    findings: tuple[Finding, ...]
    cuda_usable: bool
    usable_gpus: int = 0

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cuda_usable": self.cuda_usable,
            "usable_gpus": self.usable_gpus,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class TaskSize:
    """How big the task is, where known, so the plan can size batches and workers."""

    samples: int | None = None
    bytes_per_sample: int | None = None


@dataclass(frozen=True)
class TrainingPlan:
    """How to use the hardware; handed to the child as ``MLE_CI_*`` variables."""

    device: str
    gpu_count: int
    batch_size: int
    amp: str
    """``bf16``, ``fp16`` (with a GradScaler) or ``off``."""
    num_workers: int
    reasons: tuple[str, ...] = ()
    """One short line per decision, for the summary."""

    def to_env(self) -> dict[str, str]:
        return {
            contract.DEVICE: self.device,
            contract.GPU_COUNT: str(self.gpu_count),
            contract.BATCH_SIZE: str(self.batch_size),
            contract.AMP: self.amp,
            contract.NUM_WORKERS: str(self.num_workers),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "gpu_count": self.gpu_count,
            "batch_size": self.batch_size,
            "amp": self.amp,
            "num_workers": self.num_workers,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class GpuSample:
    """One reading of one GPU."""

    ts: float
    index: int
    utilization: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    temperature_c: float | None = None
    power_w: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class GpuUsage:
    """What one GPU did during a run, from its samples."""

    index: int
    name: str
    samples: int
    util_mean: float | None
    util_median: float | None
    util_p95: float | None
    memory_peak_bytes: int | None
    memory_total_bytes: int | None
    idle: bool = False
    idle_seconds: float = 0.0
    timeline: tuple[float, ...] = ()
    """Utilization averaged into at most 60 buckets over the run, for the summary's chart."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "samples": self.samples,
            "util_mean": self.util_mean,
            "util_median": self.util_median,
            "util_p95": self.util_p95,
            "memory_peak_bytes": self.memory_peak_bytes,
            "memory_total_bytes": self.memory_total_bytes,
            "idle": self.idle,
            "idle_seconds": self.idle_seconds,
            "timeline": list(self.timeline),
        }


def _capability(text: Any) -> tuple[int, int] | None:
    if not text:
        return None
    major, _, minor = str(text).partition(".")
    return int(major), int(minor or 0)


def gpu_info_from_dict(data: dict[str, Any]) -> GpuInfo:
    """Read back :meth:`GpuInfo.to_dict`."""
    return GpuInfo(
        index=int(data["index"]),
        name=str(data["name"]),
        uuid=str(data.get("uuid", "")),
        memory_total_bytes=int(data.get("memory_total_bytes", 0)),
        memory_free_bytes=int(data.get("memory_free_bytes", 0)),
        compute_capability=_capability(data.get("compute_capability")),
    )


def profile_from_dict(data: dict[str, Any]) -> HardwareProfile:
    """Read back :meth:`HardwareProfile.to_dict` (for re-rendering a result folder)."""
    check = data.get("cuda_check") or {}
    fault = data.get("nvml_fault")
    return HardwareProfile(
        gpus=tuple(gpu_info_from_dict(g) for g in data.get("gpus", ())),
        driver_version=data.get("driver_version"),
        cuda_driver_version=data.get("cuda_driver_version"),
        nvml_fault=None if fault is None else NvmlFault(fault),
        nvml_error=data.get("nvml_error"),
        nvidia_visible_devices=data.get("nvidia_visible_devices"),
        cuda_visible_devices=data.get("cuda_visible_devices"),
        device_nodes=tuple(data.get("device_nodes", ())),
        torch_version=data.get("torch_version"),
        torch_cuda=data.get("torch_cuda"),
        cpu_count=int(data.get("cpu_count", 1)),
        memory_total_bytes=data.get("memory_total_bytes"),
        shm_bytes=data.get("shm_bytes"),
        cuda_check=CudaCheck(
            ran=bool(check.get("ran", False)),
            ok=bool(check.get("ok", False)),
            seconds=check.get("seconds"),
            device_count=check.get("device_count"),
            device_name=check.get("device_name"),
            bf16=check.get("bf16"),
            timed_out=bool(check.get("timed_out", False)),
            error=check.get("error"),
        ),
    )


def diagnosis_from_dict(data: dict[str, Any]) -> Diagnosis:
    """Read back :meth:`Diagnosis.to_dict`."""
    return Diagnosis(
        findings=tuple(
            Finding(
                code=str(f["code"]),
                severity=Severity(f["severity"]),
                kind=FaultKind(f["kind"]),
                cause=str(f["cause"]),
                fix=str(f["fix"]),
            )
            for f in data.get("findings", ())
        ),
        cuda_usable=bool(data.get("cuda_usable", False)),
        usable_gpus=int(data.get("usable_gpus", 0)),
    )


def plan_from_dict(data: dict[str, Any]) -> TrainingPlan:
    """Read back :meth:`TrainingPlan.to_dict`."""
    return TrainingPlan(
        device=str(data["device"]),
        gpu_count=int(data["gpu_count"]),
        batch_size=int(data["batch_size"]),
        amp=str(data["amp"]),
        num_workers=int(data["num_workers"]),
        reasons=tuple(str(r) for r in data.get("reasons", ())),
    )


def usage_from_dict(data: dict[str, Any]) -> GpuUsage:
    """Read back :meth:`GpuUsage.to_dict`."""
    return GpuUsage(
        index=int(data["index"]),
        name=str(data.get("name", "")),
        samples=int(data.get("samples", 0)),
        util_mean=data.get("util_mean"),
        util_median=data.get("util_median"),
        util_p95=data.get("util_p95"),
        memory_peak_bytes=data.get("memory_peak_bytes"),
        memory_total_bytes=data.get("memory_total_bytes"),
        idle=bool(data.get("idle", False)),
        idle_seconds=float(data.get("idle_seconds", 0.0)),
        timeline=tuple(float(v) for v in data.get("timeline", ())),
    )
