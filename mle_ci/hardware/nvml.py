"""NVML behind a small interface: the real one through nvidia-ml-py, and a faithful fake for tests.

Only this module imports ``pynvml``, and only when NVML is actually tried (importing it costs ~10 ms).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from mle_ci.errors import MleCiError
from mle_ci.hardware.model import GpuInfo, GpuSample, NvmlFault

_FAULTS_BY_ERROR = {
    "NVMLError_LibraryNotFound": NvmlFault.LIBRARY_NOT_FOUND,
    "NVMLError_DriverNotLoaded": NvmlFault.DRIVER_NOT_LOADED,
    "NVMLError_NoPermission": NvmlFault.NO_PERMISSION,
    "NVMLError_LibRmVersionMismatch": NvmlFault.VERSION_MISMATCH,
    "NVMLError_Unknown": NvmlFault.UNKNOWN,
}


class NvmlError(MleCiError):
    """An NVML call failed; ``fault`` says which failure mode it was."""

    def __init__(self, fault: NvmlFault, message: str) -> None:
        super().__init__(message)
        self.fault = fault
        self.message = message


class NvmlBackend(Protocol):
    """The NVML calls the harness makes; every method may raise :class:`NvmlError`."""

    def init(self) -> None:
        """Load and initialise NVML."""

    def shutdown(self) -> None:
        """Release NVML."""

    def driver_version(self) -> str:
        """The driver version string, e.g. ``550.54.15``."""

    def cuda_driver_version(self) -> int:
        """The newest CUDA the driver supports, e.g. ``12040``."""

    def device_count(self) -> int:
        """How many GPUs NVML sees (all of them, whatever ``CUDA_VISIBLE_DEVICES`` says)."""

    def device(self, index: int) -> GpuInfo:
        """Name, UUID, memory and compute capability of GPU ``index``."""

    def sample(self, index: int) -> GpuSample:
        """Utilization, memory (v2), temperature and power of GPU ``index`` now."""


def _convert(exc: Exception) -> NvmlError:
    name = type(exc).__name__
    return NvmlError(_FAULTS_BY_ERROR.get(name, NvmlFault.OTHER), f"{name}: {exc}")


class RealNvml:
    """NVML through nvidia-ml-py (import name ``pynvml``)."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: dict[int, Any] = {}

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._nvml.NVMLError as exc:
            raise _convert(exc) from None

    def init(self) -> None:
        try:
            import pynvml  # noqa: PLC0415 - 10 ms of mle-ci run's start-up without a GPU (-X importtime)
        except ImportError as exc:
            raise NvmlError(NvmlFault.LIBRARY_NOT_FOUND, f"nvidia-ml-py is not installed: {exc}") from None
        self._nvml = pynvml
        self._call(pynvml.nvmlInit)

    def shutdown(self) -> None:
        if self._nvml is not None:
            # Shutting down after a lost device must not hide the real problem.
            with contextlib.suppress(self._nvml.NVMLError):
                self._nvml.nvmlShutdown()
            self._handles.clear()

    def _handle(self, index: int) -> Any:
        handle = self._handles.get(index)
        if handle is None:
            handle = self._handles[index] = self._call(self._nvml.nvmlDeviceGetHandleByIndex, index)
        return handle

    def driver_version(self) -> str:
        return str(_text(self._call(self._nvml.nvmlSystemGetDriverVersion)))

    def cuda_driver_version(self) -> int:
        return int(self._call(self._nvml.nvmlSystemGetCudaDriverVersion))

    def device_count(self) -> int:
        return int(self._call(self._nvml.nvmlDeviceGetCount))

    def device(self, index: int) -> GpuInfo:
        nvml, handle = self._nvml, self._handle(index)
        memory = self._call(nvml.nvmlDeviceGetMemoryInfo, handle, version=nvml.nvmlMemory_v2)
        try:
            major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
            capability: tuple[int, int] | None = (int(major), int(minor))
        except nvml.NVMLError:
            capability = None
        return GpuInfo(
            index=index,
            name=_text(self._call(nvml.nvmlDeviceGetName, handle)),
            uuid=_text(self._call(nvml.nvmlDeviceGetUUID, handle)),
            memory_total_bytes=int(memory.total),
            memory_free_bytes=int(memory.free),
            compute_capability=capability,
        )

    def sample(self, index: int) -> GpuSample:
        nvml, handle = self._nvml, self._handle(index)
        now = time.time()
        rates = self._call(nvml.nvmlDeviceGetUtilizationRates, handle)
        memory = self._call(nvml.nvmlDeviceGetMemoryInfo, handle, version=nvml.nvmlMemory_v2)
        temperature = self._optional(lambda: nvml.nvmlDeviceGetTemperatureV(handle, nvml.NVML_TEMPERATURE_GPU))
        power = self._optional(lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0)
        return GpuSample(
            ts=now,
            index=index,
            utilization=float(rates.gpu),
            memory_used_bytes=int(memory.used),
            memory_total_bytes=int(memory.total),
            temperature_c=temperature,
            power_w=power,
        )

    def _optional(self, read: Callable[[], Any]) -> float | None:
        # Temperature and power are not supported on every board (or every vGPU): absent, not an error.
        try:
            return float(read())
        except (self._nvml.NVMLError, TypeError, ValueError):
            return None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class FakeGpu:
    """A GPU of the fake backend; ``load`` gives its utilization (percent) at a Unix time."""

    info: GpuInfo
    load: Callable[[float], float] = lambda _ts: 0.0
    memory_used_bytes: int = 0
    temperature_c: float | None = 40.0
    power_w: float | None = 70.0


class FakeNvml:
    """An NVML stand-in with nvidia-ml-py's behaviour: failures at init, lost devices mid-run, per-call errors."""

    def __init__(
        self,
        gpus: Sequence[FakeGpu] = (),
        *,
        init_fault: NvmlFault | None = None,
        driver: str = "550.54.15",
        cuda_driver: int = 12040,
        fail_samples_after: int | None = None,
        sample_fault: NvmlFault = NvmlFault.UNKNOWN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.gpus = list(gpus)
        self.init_fault = init_fault
        self.driver = driver
        self.cuda_driver = cuda_driver
        self.fail_samples_after = fail_samples_after
        self.sample_fault = sample_fault
        self.clock = clock
        self.initialised = False
        self.samples_taken = 0
        self._lock = threading.Lock()

    def _check(self) -> None:
        if not self.initialised:
            raise NvmlError(NvmlFault.OTHER, "NVMLError_Uninitialized: Uninitialized")

    def init(self) -> None:
        if self.init_fault is not None:
            raise NvmlError(self.init_fault, f"fake NVML init failure: {self.init_fault.value}")
        self.initialised = True

    def shutdown(self) -> None:
        self.initialised = False

    def driver_version(self) -> str:
        self._check()
        return self.driver

    def cuda_driver_version(self) -> int:
        self._check()
        return self.cuda_driver

    def device_count(self) -> int:
        self._check()
        return len(self.gpus)

    def device(self, index: int) -> GpuInfo:
        self._check()
        if not 0 <= index < len(self.gpus):
            raise NvmlError(NvmlFault.OTHER, "NVMLError_InvalidArgument: Invalid Argument")
        return self.gpus[index].info

    def sample(self, index: int) -> GpuSample:
        self._check()
        with self._lock:
            self.samples_taken += 1
            failing = self.fail_samples_after is not None and self.samples_taken > self.fail_samples_after
        if failing:
            raise NvmlError(self.sample_fault, f"fake NVML sample failure: {self.sample_fault.value}")
        gpu = self.gpus[index]
        now = self.clock()
        return GpuSample(
            ts=now,
            index=index,
            utilization=float(gpu.load(now)),
            memory_used_bytes=gpu.memory_used_bytes,
            memory_total_bytes=gpu.info.memory_total_bytes,
            temperature_c=gpu.temperature_c,
            power_w=gpu.power_w,
        )


def fake_gpu(index: int = 0, *, name: str = "NVIDIA H100 80GB HBM3", memory_gb: float = 80.0, **kw: Any) -> FakeGpu:
    """A plausible fake GPU (an H100 by default), for tests and examples."""
    total = int(memory_gb * 1024**3)
    info = GpuInfo(
        index=index,
        name=name,
        uuid=f"GPU-00000000-0000-0000-0000-{index:012d}",
        memory_total_bytes=total,
        memory_free_bytes=total - int(kw.get("memory_used_bytes", 0)),
        compute_capability=kw.pop("compute_capability", (9, 0)),
    )
    return replace(FakeGpu(info=info), **kw)
