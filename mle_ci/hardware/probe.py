"""The hardware probe: device nodes, variables, CPUs, memory, ``/dev/shm``, torch's build, NVML and the CUDA proof.

Nothing here initialises CUDA or imports torch: the proof that CUDA works runs in a fresh process (fork+exec)
with a timeout, and NVML (``pynvml``) is not even imported on a machine where nothing could lead to a GPU.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.machinery
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mle_ci.hardware.diagnosis import diagnose
from mle_ci.hardware.model import CudaCheck, GpuInfo, HardwareProfile, NvmlFault

if TYPE_CHECKING:
    from mle_ci.hardware.nvml import NvmlBackend

TorchInfo = Callable[[], tuple[str | None, str | None]]

CUDA_CHECK_SCRIPT = r"""
import json, sys, time
started = time.monotonic()
try:
    import torch
    if not torch.cuda.is_available():
        torch.cuda.init()  # is_available() only warns; init() raises PyTorch's own reason
        raise RuntimeError("torch.cuda.is_available() is False")
    x = torch.randn(256, 256, device="cuda:0")
    y = (x @ x).sum().item()
    torch.cuda.synchronize()
    try:
        bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:
        bf16 = torch.cuda.is_bf16_supported()
    print(json.dumps({
        "ok": True,
        "seconds": time.monotonic() - started,
        "device_count": torch.cuda.device_count(),
        "device_name": torch.cuda.get_device_name(0),
        "bf16": bool(bf16),
    }), flush=True)
except BaseException as exc:
    message = str(exc).strip().splitlines()
    print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {message[0] if message else ''}"}), flush=True)
    sys.exit(1)
"""
"""Allocate, multiply and synchronize on ``cuda:0``; one JSON line on stdout either way."""

_ERROR_LIMIT = 500
_REAP_SECONDS = 2.0


def probe_hardware(
    env: Mapping[str, str],
    *,
    nvml: NvmlBackend | None = None,
    dev: Path = Path("/dev"),
    shm: Path = Path("/dev/shm"),  # noqa: S108 (only measured, never written)
    cuda_check: bool = False,
    cuda_timeout: float = 60.0,
    python: str = sys.executable,
    torch_info: TorchInfo | None = None,
) -> HardwareProfile:
    """What the machine has, read from ``env`` (never ``os.environ``), the file system, NVML and (optionally) CUDA."""
    nodes = device_nodes(dev)
    nvd = env.get("NVIDIA_VISIBLE_DEVICES")
    torch_version, torch_cuda = (torch_info or installed_torch)()
    profile = HardwareProfile(
        nvidia_visible_devices=nvd,
        cuda_visible_devices=env.get("CUDA_VISIBLE_DEVICES"),
        device_nodes=nodes,
        torch_version=torch_version,
        torch_cuda=torch_cuda,
        cpu_count=cpu_count(),
        memory_total_bytes=memory_total(),
        shm_bytes=shm_size(shm),
    )
    if not nodes and not _names_devices(nvd) and not (dev / "dxg").exists():
        # No device node and no device named: no driver could show a GPU here, so NVML is not even imported.
        # (WSL 2 has no /dev/nvidia* but /dev/dxg, and NVML works there.)
        profile = replace(profile, nvml_fault=NvmlFault.SKIPPED)
    else:
        if nvml is None:
            from mle_ci.hardware.nvml import RealNvml  # noqa: PLC0415 - 3 ms of start-up without a GPU (-X importtime)

            nvml = RealNvml()
        profile = read_nvml(profile, nvml)
    # The proof is spent only where the cheap checks found nothing wrong; otherwise it would merely repeat them.
    if cuda_check and diagnose(profile, require_gpu=True).cuda_usable:
        profile = replace(profile, cuda_check=run_cuda_check(python, env, timeout=cuda_timeout))
    return profile


def _names_devices(nvd: str | None) -> bool:
    return nvd is not None and nvd.strip().lower() not in ("", "void", "none")


def device_nodes(dev: Path) -> tuple[str, ...]:
    """Names of the ``nvidia*`` entries in ``dev`` (``nvidia0``, ``nvidiactl``, ``nvidia-uvm``...)."""
    try:
        with os.scandir(dev) as entries:
            return tuple(sorted(e.name for e in entries if e.name.startswith("nvidia")))
    except OSError:
        return ()


def cpu_count(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may use: its affinity, lowered by a cgroup v2 CPU quota (``docker --cpus``)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def memory_total(proc: Path = Path("/proc"), cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Total memory: ``MemTotal`` of ``/proc/meminfo`` (or sysconf), lowered by a cgroup v2 ``memory.max``."""
    total: int | None = None
    try:
        match = re.search(r"^MemTotal:\s+(\d+)\s*kB", (proc / "meminfo").read_text(), re.MULTILINE)
        total = int(match.group(1)) * 1024 if match else None
    except OSError:
        pass
    if total is None:
        with contextlib.suppress(ValueError, OSError, AttributeError):
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit.isdigit():
            total = int(limit) if total is None else min(total, int(limit))
    except OSError:
        pass
    return total


def shm_size(shm: Path) -> int | None:
    """Size of the file system at ``shm`` in bytes, None when it cannot be read."""
    try:
        stat = os.statvfs(shm)
    except OSError:
        return None
    return stat.f_frsize * stat.f_blocks


def installed_torch() -> tuple[str | None, str | None]:
    """Installed torch version and the CUDA it was built for, read from its files without importing it."""
    try:
        # The path is searched, not sys.modules: what is installed, even where torch was imported already.
        spec = importlib.machinery.PathFinder.find_spec("torch", sys.path)
    except (ImportError, ValueError):
        return None, None
    if spec is None or spec.origin is None:
        return None, None
    fields = _version_fields(Path(spec.origin).parent / "version.py")
    version = _text_or_none(fields.get("__version__"))
    if version is None:
        from importlib import metadata  # noqa: PLC0415 - 25 ms before the child's start, where version.py says it

        with contextlib.suppress(metadata.PackageNotFoundError):
            version = metadata.version("torch")
    return version, _text_or_none(fields.get("cuda"))


def _version_fields(path: Path) -> dict[str, Any]:
    """The literal assignments of torch's generated ``version.py`` (``cuda: Optional[str] = '12.8'``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    fields: dict[str, Any] = {}
    for match in re.finditer(r"^(\w+)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", text, re.MULTILINE):
        with contextlib.suppress(ValueError, SyntaxError):
            fields[match.group(1)] = ast.literal_eval(match.group(2))
    return fields


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_nvml(profile: HardwareProfile, backend: NvmlBackend) -> HardwareProfile:
    """``profile`` with the driver, its CUDA version and every GPU NVML sees; an NVML failure is recorded."""
    from mle_ci.hardware.nvml import NvmlError  # noqa: PLC0415 - 3 ms of start-up without a GPU (-X importtime)

    gpus: list[GpuInfo] = []
    driver: str | None = None
    cuda_driver: int | None = None
    try:
        backend.init()
        driver = backend.driver_version()
        cuda_driver = backend.cuda_driver_version()
        gpus.extend(backend.device(i) for i in range(backend.device_count()))
    except NvmlError as exc:
        return replace(
            profile,
            gpus=tuple(gpus),
            driver_version=driver,
            cuda_driver_version=cuda_driver,
            nvml_fault=exc.fault,
            nvml_error=exc.message,
        )
    finally:
        with contextlib.suppress(NvmlError):
            backend.shutdown()
    return replace(profile, gpus=tuple(gpus), driver_version=driver, cuda_driver_version=cuda_driver)


def run_cuda_check(python: str, env: Mapping[str, str], *, timeout: float) -> CudaCheck:
    """Run :data:`CUDA_CHECK_SCRIPT` in a fresh process group; on timeout kill the whole group."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            [python, "-c", CUDA_CHECK_SCRIPT],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        return CudaCheck(ran=True, ok=False, seconds=0.0, error=f"cannot start {python}: {exc}")
    with proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            # A descendant that left the group may still hold the pipes: do not wait for it forever.
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=_REAP_SECONDS)
            return CudaCheck(
                ran=True,
                ok=False,
                timed_out=True,
                seconds=time.monotonic() - started,
                error=f"no answer within {timeout:g} s",
            )
    seconds = time.monotonic() - started
    return _check_result(out, err, proc.returncode, seconds)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _check_result(out: bytes, err: bytes, returncode: int, seconds: float) -> CudaCheck:
    answer = _last_json_line(out.decode("utf-8", "replace"))
    if answer is not None and answer.get("ok") is True:
        return CudaCheck(
            ran=True,
            ok=True,
            seconds=seconds,
            device_count=_int_or_none(answer.get("device_count")),
            device_name=_text_or_none(answer.get("device_name")),
            bf16=answer["bf16"] if isinstance(answer.get("bf16"), bool) else None,
        )
    error = _text_or_none(answer.get("error")) if answer is not None else None
    if error is None:
        lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        error = lines[-1] if lines else f"the check exited with code {returncode} and said nothing"
    return CudaCheck(ran=True, ok=False, seconds=seconds, error=error[:_ERROR_LIMIT])


def _last_json_line(text: str) -> dict[str, Any] | None:
    # Site hooks or torch itself may print first: the answer is the last line that is a JSON object.
    for line in reversed(text.splitlines()):
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    return None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
