"""Why CUDA is (un)usable: ordered checks over a hardware profile, cheapest first, each failure with a fix.

The checks follow a chain (device nodes and variables, NVML, ``CUDA_VISIBLE_DEVICES``, the torch wheel, the
driver's CUDA, the spawned CUDA proof); the chain stops at its first fatal problem, so consequences of one cause
are not reported as causes of their own. Independent warnings (a small ``/dev/shm``) always appear.
"""

from __future__ import annotations

import re

from mle_ci.hardware.cudaenv import (
    MINIMUM_DRIVER,
    VisibleGpus,
    cuda_version_text,
    cuda_visible_gpus,
    parse_cuda,
    wheel_index,
)
from mle_ci.hardware.model import (
    Diagnosis,
    FaultKind,
    Finding,
    GpuInfo,
    HardwareProfile,
    NvmlFault,
    Severity,
)

GIB = 1024**3
SHM = "/dev/shm"  # noqa: S108 (a name shown to people, never a file written)
SHM_MINIMUM = GIB
"""Below this a DataLoader worker's shared-memory tensors overflow ``/dev/shm`` (Docker's default is 64 MiB)."""

DRIVER_TOO_OLD = "driver-too-old"
_GPUS_FLAG_FIX = (
    "start the container with GPUs: set the action's `gpus` input (e.g. `gpus: all`), "
    "or run `docker run --gpus all ...`, or give a job container `options: --gpus all`"
)


class _Checks:
    """The findings of one diagnosis, with the severity rule that depends on ``require_gpu``."""

    def __init__(self, profile: HardwareProfile, *, require_gpu: bool) -> None:
        self.profile = profile
        self.require_gpu = require_gpu

    def fatal(self, code: str, kind: FaultKind, cause: str, fix: str, *, no_gpu_here: bool = False) -> Finding:
        """A problem that makes CUDA unusable: an error when a GPU is required, else a note or a warning."""
        # A machine without any GPU is a legitimate CPU runner; GPUs present but unusable deserve a warning.
        quiet = Severity.INFO if no_gpu_here else Severity.WARNING
        severity = Severity.ERROR if self.require_gpu else quiet
        return Finding(code, severity, kind, cause, fix)

    def device(self, visible: VisibleGpus) -> Finding | None:
        """Device nodes, NVIDIA_VISIBLE_DEVICES, NVML and CUDA_VISIBLE_DEVICES, in that order."""
        p = self.profile
        nvd = (p.nvidia_visible_devices or "").strip()
        gpu_nodes = [n for n in p.device_nodes if re.fullmatch(r"nvidia\d+", n)]
        if not p.gpus or p.nvml_fault is not None:
            if nvd.lower() == "none" and not gpu_nodes:
                return self.fatal(
                    "gpus-hidden",
                    FaultKind.CONFIGURATION,
                    "NVIDIA_VISIBLE_DEVICES=none: the driver libraries are mounted but every GPU is hidden",
                    "remove `NVIDIA_VISIBLE_DEVICES=none` from the image or job, or set it to `all` "
                    "(the action's `gpus` input, `docker run --gpus all`)",
                    no_gpu_here=True,
                )
            if not p.device_nodes:
                return self.fatal(
                    "no-gpus-flag", FaultKind.CONFIGURATION, _no_nodes_cause(nvd), _GPUS_FLAG_FIX, no_gpu_here=True
                )
        if p.nvml_fault is not None:
            return self.nvml_fault(p.nvml_fault, p.nvml_error)
        if not p.gpus:
            return self.fatal(
                "no-gpu-attached",
                FaultKind.INFRASTRUCTURE,
                f"the NVIDIA driver{f' {p.driver_version}' if p.driver_version else ''} is loaded but NVML sees no GPU",
                "run on a runner that has a GPU (check the job's `runs-on` labels); if it should have one, "
                "`nvidia-smi` on the host tells whether it fell off the bus: retry on another runner",
                no_gpu_here=True,
            )
        if visible.count == 0:
            return self.fatal(
                "cuda-visible-devices-empty",
                FaultKind.CONFIGURATION,
                f"CUDA_VISIBLE_DEVICES={p.cuda_visible_devices!r} leaves CUDA no device "
                f"({visible.problem}) although NVML sees {len(p.gpus)} GPU(s)",
                "unset CUDA_VISIBLE_DEVICES or list valid, distinct ids, e.g. "
                f"`CUDA_VISIBLE_DEVICES={','.join(str(g.index) for g in p.gpus)}`",
            )
        return None

    def nvml_fault(self, fault: NvmlFault, error: str | None) -> Finding:
        """The NVML failure, named by what it means on a CI runner."""
        said = f" ({error})" if error else ""
        if fault is NvmlFault.LIBRARY_NOT_FOUND:
            return self.fatal(
                "driver-libraries-missing",
                FaultKind.CONFIGURATION,
                f"/dev/nvidia* device nodes exist but libnvidia-ml.so.1 cannot be loaded{said}: "
                "the driver libraries were not injected into the container",
                "let the NVIDIA container toolkit mount them: set "
                "`NVIDIA_DRIVER_CAPABILITIES=compute,utility` (or `all`) and start the container with `--gpus all` "
                "instead of passing `--device /dev/nvidia0` (on a host: reinstall the driver)",
            )
        if fault is NvmlFault.DRIVER_NOT_LOADED:
            return self.fatal(
                "driver-not-loaded",
                FaultKind.INFRASTRUCTURE,
                f"NVML reports that the NVIDIA kernel driver is not loaded{said}",
                "the runner is broken: retry on another runner; on the host, `sudo modprobe nvidia` or "
                "reinstall the driver",
            )
        if fault is NvmlFault.VERSION_MISMATCH:
            return self.fatal(
                "driver-version-mismatch",
                FaultKind.INFRASTRUCTURE,
                "the NVIDIA driver was upgraded but the old kernel module is still loaded "
                f"(NVML LibRmVersionMismatch; `nvidia-smi` exits 18){said}",
                "the host needs a reboot (or the old module unloaded): retry on another runner and have the "
                "runner's host rebooted",
            )
        if fault is NvmlFault.UNKNOWN:
            return self.fatal(
                "device-access-lost",
                FaultKind.INFRASTRUCTURE,
                f"NVML failed with an unknown error{said}: the container lost access to the GPU, typically after "
                "`systemctl daemon-reload` on the host (cgroup device rules reset)",
                "retry on another runner (or restart the container); on the host, configure the container "
                "toolkit for systemd cgroups so a daemon-reload keeps device access",
            )
        if fault is NvmlFault.NO_PERMISSION:
            return self.fatal(
                "nvml-no-permission",
                FaultKind.CONFIGURATION,
                f"NVML has no permission to use the GPU{said}",
                "give the user access to /dev/nvidia* (the `video` group, or run the container with "
                "`--gpus all` instead of bare `--device` flags)",
            )
        return self.fatal(
            "nvml-failed",
            FaultKind.INFRASTRUCTURE,
            f"NVML failed{said}",
            "run `nvidia-smi` to see the driver's state; retry on another runner",
        )

    def torch(self) -> Finding | None:
        """Is there a torch, and is it a CUDA build?"""
        p = self.profile
        install = _pip_install(p.cuda_driver_version) or "`pip install torch` on a machine with a newer driver"
        if p.torch_version is None:
            return Finding(
                "torch-missing",
                Severity.ERROR if self.require_gpu else Severity.WARNING,
                FaultKind.ENVIRONMENT,
                "torch is not installed in the harness's Python, so CUDA cannot be proven usable",
                f"install a CUDA build: {install}",
            )
        if p.torch_cuda is None:
            build = "a ROCm build" if "rocm" in p.torch_version else "a CPU-only build"
            return self.fatal(
                "torch-cpu-build",
                FaultKind.ENVIRONMENT,
                f"torch {p.torch_version} is installed: {build} without CUDA, so it cannot use the GPU",
                f"install a CUDA build, e.g. {install} "
                "(a plain `pip install torch` from PyPI is a CUDA build on Linux x86_64)",
            )
        return None

    def driver(self) -> Finding | None:
        """Does the driver run torch's CUDA (different major: no; newer minor: minor version compatibility)?"""
        p = self.profile
        wanted, driver_cuda = parse_cuda(p.torch_cuda), cuda_version_text(p.cuda_driver_version)
        if wanted is None or p.cuda_driver_version is None or driver_cuda is None:
            return None
        supported = (p.cuda_driver_version // 1000, p.cuda_driver_version % 1000 // 10)
        if wanted <= supported:
            return None
        driver = f"driver {p.driver_version}" if p.driver_version else "the driver"
        minimum = MINIMUM_DRIVER.get(wanted[0])
        needs = f"; CUDA {wanted[0]}.x needs driver ≥ {minimum}" if minimum else ""
        cause = f"{driver} supports CUDA {driver_cuda} but torch {p.torch_version} was built for {p.torch_cuda}"
        older = _pip_install(p.cuda_driver_version)
        if wanted[0] > supported[0]:
            return self.fatal(
                DRIVER_TOO_OLD,
                FaultKind.ENVIRONMENT,
                f"{cause}{needs}: PyTorch will say “The NVIDIA driver on your system is too old”",
                (f"install a torch built for CUDA ≤ {driver_cuda}, e.g. {older}, or " if older else "")
                + f"use a runner whose driver is ≥ {minimum or 'the one for that CUDA'}"
                + ("" if older else f": no PyTorch wheel runs on CUDA {driver_cuda}"),
            )
        return Finding(
            "driver-minor-version-compat",
            Severity.WARNING,
            FaultKind.ENVIRONMENT,
            f"{cause}{needs}: it runs through CUDA minor version compatibility, but kernels compiled at run "
            "time (PTX JIT) may fail",
            f"if the CUDA check or training fails, install {older or 'an older torch'} or use a newer driver",
        )

    def cuda_check(self) -> Finding | None:
        """The spawned proof: did allocate, matmul and synchronize work in a fresh process?"""
        check = self.profile.cuda_check
        if not check.ran or check.ok:
            return None
        if check.timed_out:
            took = f" within {check.seconds:.0f} s" if check.seconds is not None else ""
            return self.fatal(
                "cuda-check-timeout",
                FaultKind.INFRASTRUCTURE,
                f"the CUDA check (allocate, matmul, synchronize in a fresh process) did not finish{took}: "
                "CUDA initialisation hangs on this machine",
                "retry on another runner; if the GPU is newer than the torch build, kernels are JIT-compiled "
                "from PTX on first use (minutes): install a torch build with kernels for this GPU",
            )
        error = check.error or "no error text"
        kind, fix = _check_failure_fix(error, self.profile)
        return self.fatal(
            "cuda-check-failed",
            kind,
            f"the CUDA check (allocate, matmul, synchronize in a fresh process) failed: {error}",
            fix,
        )


def _pip_install(driver_cuda: int | None) -> str | None:
    index = wheel_index(driver_cuda)
    return None if index is None else f"`pip install torch --index-url {index}`"


def _no_nodes_cause(nvd: str) -> str:
    if nvd.lower() in ("", "void"):
        said = "NVIDIA_VISIBLE_DEVICES is unset" if not nvd else f"NVIDIA_VISIBLE_DEVICES={nvd}"
    else:
        said = f"NVIDIA_VISIBLE_DEVICES={nvd} (an image default, which alone exposes nothing)"
    return (
        f"no /dev/nvidia* device nodes and {said}: the container was started without `--gpus` "
        "(on a host without containers: the NVIDIA driver is not loaded)"
    )


def _check_failure_fix(error: str, profile: HardwareProfile) -> tuple[FaultKind, str]:
    text = error.lower()
    if "too old" in text or "insufficient" in text:
        return (
            FaultKind.ENVIRONMENT,
            "install a torch built for the driver's CUDA, e.g. "
            f"{_pip_install(profile.cuda_driver_version) or 'an older torch'}, or use a newer driver",
        )
    if "no kernel image" in text:
        capability = ", ".join(
            f"{g.name} is sm_{g.compute_capability[0]}{g.compute_capability[1]}"
            for g in profile.gpus
            if g.compute_capability is not None
        )
        return (
            FaultKind.ENVIRONMENT,
            f"torch {profile.torch_version} has no kernels for this GPU ({capability or 'unknown architecture'}): "
            "install a torch build whose `torch.cuda.get_arch_list()` includes it (usually a newer one)",
        )
    if "out of memory" in text or "busy or unavailable" in text:
        return (
            FaultKind.INFRASTRUCTURE,
            "another process holds the GPU (exclusive compute mode or its memory is full): "
            "check `nvidia-smi`, or retry on another runner",
        )
    if "no module named" in text:
        return FaultKind.ENVIRONMENT, "install torch in the Python that runs the job"
    return FaultKind.INFRASTRUCTURE, "run `nvidia-smi` to see the GPU's state, and retry on another runner"


def diagnose(profile: HardwareProfile, *, require_gpu: bool) -> Diagnosis:
    """The findings about ``profile`` in check order, and whether CUDA is usable and on how many GPUs."""
    checks = _Checks(profile, require_gpu=require_gpu)
    visible = cuda_visible_gpus(profile)
    findings: list[Finding] = []

    device = checks.device(visible)
    if device is not None:
        findings.append(device)
    elif visible.problem is not None:
        findings.append(
            Finding(
                "cuda-visible-devices-partial",
                Severity.WARNING,
                FaultKind.CONFIGURATION,
                f"CUDA_VISIBLE_DEVICES={profile.cuda_visible_devices!r}: {visible.problem}, so CUDA ignores it "
                f"and every id after it and sees {visible.count} device(s)",
                "list only valid, distinct ids (NVML indices "
                f"{', '.join(str(g.index) for g in profile.gpus)} or their `GPU-...` UUIDs)",
            )
        )

    # The wheel is checked even when the device chain failed if a GPU is required: it is an independent cause
    # with its own fix, and a CI round trip per cause is expensive. A GPU-less CPU run needs no CUDA wheel.
    gpus_seen = bool(profile.gpus) and profile.nvml_fault is None
    torch = checks.torch() if require_gpu or gpus_seen else None
    if torch is not None:
        findings.append(torch)

    blocked = device is not None or torch is not None
    if not blocked:
        driver = checks.driver()
        if driver is not None:
            findings.append(driver)
            blocked = driver.code == DRIVER_TOO_OLD
    if not blocked:
        failed = checks.cuda_check()
        if failed is not None:
            findings.append(failed)
            blocked = True
    usable = 0 if blocked else visible.count
    if usable and profile.cuda_check.ok and profile.cuda_check.device_count:
        usable = profile.cuda_check.device_count
    if usable:
        findings.extend(_bf16_note(profile, visible))
    findings.extend(_shm_warning(profile))
    return Diagnosis(findings=tuple(findings), cuda_usable=usable > 0, usable_gpus=usable)


def bf16_support(profile: HardwareProfile, gpus: tuple[GpuInfo, ...]) -> tuple[bool | None, str]:
    """Whether every GPU of ``gpus`` has bfloat16 (None: unknown), and why; the check only tests ``cuda:0``."""
    old = [g for g in gpus if g.compute_capability is not None and g.compute_capability < (8, 0)]
    if old:
        return False, "; ".join(f"{g.name} has compute capability {_capability(g)} < 8.0" for g in old)
    check = profile.cuda_check
    if check.ran and check.ok and check.bf16 is not None:
        return check.bf16, f"the CUDA check found {'' if check.bf16 else 'no '}bf16 on {check.device_name or 'cuda:0'}"
    if gpus and all(g.compute_capability is not None for g in gpus):
        lowest = min(gpus, key=lambda g: g.compute_capability or (0, 0))
        return True, f"compute capability {_capability(lowest)} ≥ 8.0"
    return None, "compute capability unknown"


def _bf16_note(profile: HardwareProfile, visible: VisibleGpus) -> list[Finding]:
    supported, why = bf16_support(profile, visible.gpus or profile.gpus)
    if supported is not False:
        return []
    return [
        Finding(
            "no-bf16",
            Severity.INFO,
            FaultKind.ENVIRONMENT,
            f"no bfloat16 ({why}): mixed precision uses float16, which needs a GradScaler",
            'nothing to do: use `torch.autocast("cuda", dtype=torch.float16)` with `torch.amp.GradScaler("cuda")`; '
            "bf16 needs compute capability ≥ 8.0 (A100, L4, H100...)",
        )
    ]


def _capability(gpu: GpuInfo) -> str:
    return "unknown" if gpu.compute_capability is None else "{}.{}".format(*gpu.compute_capability)


def _shm_warning(profile: HardwareProfile) -> list[Finding]:
    if profile.shm_bytes is None or profile.shm_bytes >= SHM_MINIMUM:
        return []
    return [
        Finding(
            "shm-small",
            Severity.WARNING,
            FaultKind.CONFIGURATION,
            f"{SHM} is only {profile.shm_bytes / 1024**2:.0f} MiB: DataLoader workers will crash with a bus "
            "error when they pass batches through shared memory",
            "pass `--shm-size=8g` (docker run) or `options: --shm-size 8g` (job container); "
            "until then the plan uses 0 DataLoader workers",
        )
    ]
