from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mle_ci.hardware.cudaenv import cuda_visible_gpus, wheel_index
from mle_ci.hardware.diagnosis import diagnose
from mle_ci.hardware.model import (
    CudaCheck,
    Diagnosis,
    FaultKind,
    Finding,
    HardwareProfile,
    NvmlFault,
    Severity,
)
from mle_ci.hardware.nvml import fake_gpu

GIB = 1024**3
H100 = fake_gpu(0).info
V100 = fake_gpu(0, name="Tesla V100-SXM2-16GB", memory_gb=16, compute_capability=(7, 0)).info
NODES = ("nvidia-uvm", "nvidia0", "nvidiactl")

HEALTHY = HardwareProfile(
    gpus=(H100,),
    driver_version="550.54.15",
    cuda_driver_version=12040,
    nvidia_visible_devices="all",
    device_nodes=NODES,
    torch_version="2.5.1+cu124",
    torch_cuda="12.4",
    cpu_count=16,
    memory_total_bytes=128 * GIB,
    shm_bytes=8 * GIB,
)
NO_GPU = HardwareProfile(
    nvml_fault=NvmlFault.SKIPPED,
    torch_version="2.5.1+cpu",
    cpu_count=4,
    memory_total_bytes=16 * GIB,
    shm_bytes=8 * GIB,
)
TWO = tuple(fake_gpu(i).info for i in range(2))


def healthy(**changes: Any) -> HardwareProfile:
    return replace(HEALTHY, **changes)


def only(diagnosis: Diagnosis) -> Finding:
    assert len(diagnosis.findings) == 1, diagnosis.findings
    return diagnosis.findings[0]


def codes(diagnosis: Diagnosis) -> list[str]:
    return [f.code for f in diagnosis.findings]


def test_a_healthy_gpu_machine_has_nothing_to_report() -> None:
    """NVML sees an H100, torch is a CUDA build the driver supports: CUDA is usable on one GPU, no finding."""
    diagnosis = diagnose(HEALTHY, require_gpu=True)
    assert diagnosis == Diagnosis(findings=(), cuda_usable=True, usable_gpus=1)


def test_a_passed_cuda_check_counts_the_devices() -> None:
    """The CUDA check's device count is the number of usable GPUs."""
    check = CudaCheck(ran=True, ok=True, device_count=2, device_name="NVIDIA H100 80GB HBM3", bf16=True)
    diagnosis = diagnose(healthy(gpus=TWO, cuda_check=check), require_gpu=True)
    assert diagnosis.cuda_usable
    assert diagnosis.usable_gpus == 2
    assert diagnosis.findings == ()


@pytest.mark.parametrize("nvd", [None, "", "void"])
def test_no_gpus_flag_when_nothing_exposes_a_gpu(nvd: str | None) -> None:
    """No /dev/nvidia* and NVIDIA_VISIBLE_DEVICES unset, empty or void: the container lacks `--gpus`."""
    profile = replace(NO_GPU, nvidia_visible_devices=nvd, torch_version="2.5.1", torch_cuda="12.4")
    finding = only(diagnose(profile, require_gpu=True))
    assert (finding.code, finding.severity, finding.kind) == ("no-gpus-flag", Severity.ERROR, FaultKind.CONFIGURATION)
    assert "started without `--gpus`" in finding.cause
    assert "no /dev/nvidia* device nodes" in finding.cause
    assert "`gpus` input" in finding.fix
    assert "docker run --gpus all" in finding.fix
    assert "options: --gpus all" in finding.fix


def test_no_gpus_flag_with_the_images_default_variable() -> None:
    """NVIDIA_VISIBLE_DEVICES=all from a CUDA base image, but no device nodes: still a missing `--gpus`."""
    profile = replace(NO_GPU, nvidia_visible_devices="all", nvml_fault=NvmlFault.LIBRARY_NOT_FOUND, torch_cuda="12.4")
    finding = diagnose(profile, require_gpu=True).findings[0]
    assert finding.code == "no-gpus-flag"
    assert "NVIDIA_VISIBLE_DEVICES=all (an image default" in finding.cause


def test_a_cpu_machine_without_a_required_gpu_is_only_a_note() -> None:
    """Without `--require-gpu` a GPU-less machine is a legitimate CPU runner: an info, and no torch complaint."""
    diagnosis = diagnose(NO_GPU, require_gpu=False)
    finding = only(diagnosis)
    assert (finding.code, finding.severity) == ("no-gpus-flag", Severity.INFO)
    assert not diagnosis.cuda_usable
    assert diagnosis.usable_gpus == 0
    assert diagnosis.errors == ()


def test_required_gpu_reports_the_wheel_as_an_independent_cause() -> None:
    """With a GPU required, a CPU wheel is named next to the missing `--gpus`: both need fixing."""
    diagnosis = diagnose(NO_GPU, require_gpu=True)
    assert codes(diagnosis) == ["no-gpus-flag", "torch-cpu-build"]
    assert all(f.severity is Severity.ERROR for f in diagnosis.findings)


def test_gpus_hidden_by_none() -> None:
    """NVIDIA_VISIBLE_DEVICES=none: libraries and control nodes are there, the GPUs deliberately are not."""
    profile = healthy(gpus=(), nvidia_visible_devices="none", device_nodes=("nvidiactl", "nvidia-uvm"))
    finding = only(diagnose(profile, require_gpu=True))
    assert (finding.code, finding.severity, finding.kind) == ("gpus-hidden", Severity.ERROR, FaultKind.CONFIGURATION)
    assert "NVIDIA_VISIBLE_DEVICES=none" in finding.cause
    assert "NVIDIA_VISIBLE_DEVICES=none" in finding.fix
    assert only(diagnose(profile, require_gpu=False)).severity is Severity.INFO


@pytest.mark.parametrize(
    ("fault", "code", "kind", "cause", "fix"),
    [
        (
            NvmlFault.LIBRARY_NOT_FOUND,
            "driver-libraries-missing",
            FaultKind.CONFIGURATION,
            "libnvidia-ml.so.1 cannot be loaded",
            "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
        ),
        (NvmlFault.DRIVER_NOT_LOADED, "driver-not-loaded", FaultKind.INFRASTRUCTURE, "not loaded", "another runner"),
        (NvmlFault.VERSION_MISMATCH, "driver-version-mismatch", FaultKind.INFRASTRUCTURE, "upgraded", "reboot"),
        (
            NvmlFault.UNKNOWN,
            "device-access-lost",
            FaultKind.INFRASTRUCTURE,
            "systemctl daemon-reload",
            "another runner",
        ),
        (NvmlFault.NO_PERMISSION, "nvml-no-permission", FaultKind.CONFIGURATION, "no permission", "/dev/nvidia*"),
        (NvmlFault.OTHER, "nvml-failed", FaultKind.INFRASTRUCTURE, "NVML failed", "nvidia-smi"),
    ],
)
def test_nvml_faults_with_device_nodes(fault: NvmlFault, code: str, kind: FaultKind, cause: str, fix: str) -> None:
    """Device nodes exist but NVML fails: each failure is named, with whose problem it is and what to do."""
    profile = healthy(gpus=(), driver_version=None, cuda_driver_version=None, nvml_fault=fault, nvml_error="E: x")
    finding = only(diagnose(profile, require_gpu=True))
    assert (finding.code, finding.severity, finding.kind) == (code, Severity.ERROR, kind)
    assert cause in finding.cause
    assert "E: x" in finding.cause
    assert fix in finding.fix
    relaxed = only(diagnose(profile, require_gpu=False))
    assert (relaxed.code, relaxed.severity) == (code, Severity.WARNING)


def test_version_mismatch_says_reboot() -> None:
    """LibRmVersionMismatch: the host needs a reboot, an infrastructure fault."""
    finding = only(diagnose(healthy(gpus=(), nvml_fault=NvmlFault.VERSION_MISMATCH), require_gpu=True))
    assert "nvidia-smi` exits 18" in finding.cause
    assert "reboot" in finding.fix


def test_no_gpu_attached() -> None:
    """The driver loads but NVML sees no GPU."""
    finding = only(diagnose(healthy(gpus=()), require_gpu=True))
    assert (finding.code, finding.kind) == ("no-gpu-attached", FaultKind.INFRASTRUCTURE)
    assert "550.54.15 is loaded but NVML sees no GPU" in finding.cause
    assert "runs-on" in finding.fix


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("-1", "negative"),
        ("", "an empty id"),
        ("0,0", "listed twice"),
        ("1,0,1", "listed twice"),
        ("x", "'x' is not a device id"),
        ("2", "beyond the 2 GPU(s)"),
        ("GPU-ffff", "matches no GPU's UUID"),
    ],
)
def test_cuda_visible_devices_leaving_nothing(value: str, fragment: str) -> None:
    """CUDA sees no device though NVML sees two: a configuration error naming the offending id."""
    diagnosis = diagnose(healthy(gpus=TWO, cuda_visible_devices=value), require_gpu=True)
    finding = only(diagnosis)
    assert (finding.code, finding.severity, finding.kind) == (
        "cuda-visible-devices-empty",
        Severity.ERROR,
        FaultKind.CONFIGURATION,
    )
    assert f"CUDA_VISIBLE_DEVICES={value!r}" in finding.cause
    assert fragment in finding.cause
    assert "NVML sees 2 GPU(s)" in finding.cause
    assert "CUDA_VISIBLE_DEVICES=0,1" in finding.fix
    assert not diagnosis.cuda_usable


def test_cuda_visible_devices_partly_valid_is_a_warning() -> None:
    """`0,7` on two GPUs: CUDA uses GPU 0 and ignores 7; usable, with a warning."""
    diagnosis = diagnose(healthy(gpus=TWO, cuda_visible_devices="0,7"), require_gpu=True)
    finding = only(diagnosis)
    assert (finding.code, finding.severity) == ("cuda-visible-devices-partial", Severity.WARNING)
    assert "id 7 is beyond the 2 GPU(s)" in finding.cause
    assert diagnosis.cuda_usable
    assert diagnosis.usable_gpus == 1


@pytest.mark.parametrize(
    ("value", "count", "indices"),
    [
        (None, 2, (0, 1)),
        ("1", 1, (1,)),
        ("1, 0", 2, (1, 0)),
        ("1gpu", 1, (1,)),
        ("GPU-00000000-0000-0000-0000-000000000001", 1, (1,)),
        ("GPU-00000000", 1, (0,)),
        ("MIG-4b6d1f3e-aaaa,MIG-5c7e2a4f-bbbb", 2, ()),
        ("0,-1,1", 1, (0,)),
    ],
)
def test_valid_visible_ids(value: str | None, count: int, indices: tuple[int, ...]) -> None:
    """Ordinals, strtoul-like ordinals, GPU UUID prefixes and MIG ids are read as CUDA reads them."""
    visible = cuda_visible_gpus(healthy(gpus=TWO, cuda_visible_devices=value))
    assert visible.count == count
    assert tuple(g.index for g in visible.gpus) == indices


def test_torch_missing_is_an_error_only_when_a_gpu_is_required() -> None:
    """No torch: an error with a GPU required, a warning otherwise (GPUs present), nothing on a CPU machine."""
    profile = healthy(torch_version=None, torch_cuda=None)
    finding = only(diagnose(profile, require_gpu=True))
    assert (finding.code, finding.severity, finding.kind) == ("torch-missing", Severity.ERROR, FaultKind.ENVIRONMENT)
    assert "pip install torch --index-url https://download.pytorch.org/whl/cu124" in finding.fix
    assert only(diagnose(profile, require_gpu=False)).severity is Severity.WARNING
    assert "torch-missing" not in codes(diagnose(replace(NO_GPU, torch_version=None), require_gpu=False))


def test_cpu_wheel() -> None:
    """A `+cpu` torch on a GPU machine: install a CUDA build from PyTorch's index for the driver."""
    diagnosis = diagnose(healthy(torch_version="2.5.1+cpu", torch_cuda=None), require_gpu=True)
    finding = only(diagnosis)
    assert (finding.code, finding.severity, finding.kind) == ("torch-cpu-build", Severity.ERROR, FaultKind.ENVIRONMENT)
    assert "torch 2.5.1+cpu is installed" in finding.cause
    assert "`pip install torch --index-url https://download.pytorch.org/whl/cu124`" in finding.fix
    assert not diagnosis.cuda_usable


def test_rocm_wheel_is_named_as_such() -> None:
    """A ROCm torch cannot use an NVIDIA GPU either."""
    finding = only(diagnose(healthy(torch_version="2.5.1+rocm6.1", torch_cuda=None), require_gpu=True))
    assert finding.code == "torch-cpu-build"
    assert "ROCm build" in finding.cause


@pytest.mark.parametrize(
    ("driver_cuda", "torch_cuda", "says", "minimum", "index"),
    [
        (12080, "13.0", "supports CUDA 12.8 but torch 2.9.0 was built for 13.0", "≥ 580", "cu128"),
        (11040, "12.1", "supports CUDA 11.4 but torch 2.9.0 was built for 12.1", "≥ 525", "cu118"),
        (10020, "11.8", "supports CUDA 10.2 but torch 2.9.0 was built for 11.8", "≥ 450", None),
    ],
)
def test_driver_too_old_for_torchs_cuda_major(
    driver_cuda: int, torch_cuda: str, says: str, minimum: str, index: str | None
) -> None:
    """Torch built for a newer CUDA major than the driver supports: PyTorch's "driver too old"."""
    profile = healthy(
        cuda_driver_version=driver_cuda, driver_version="470.1", torch_version="2.9.0", torch_cuda=torch_cuda
    )
    diagnosis = diagnose(profile, require_gpu=True)
    finding = only(diagnosis)
    assert (finding.code, finding.severity, finding.kind) == ("driver-too-old", Severity.ERROR, FaultKind.ENVIRONMENT)
    assert f"driver 470.1 {says}" in finding.cause
    assert f"driver {minimum}" in finding.cause
    assert "The NVIDIA driver on your system is too old" in finding.cause
    if index is None:
        assert finding.fix == "use a runner whose driver is ≥ 450: no PyTorch wheel runs on CUDA 10.2"
    else:
        assert f"https://download.pytorch.org/whl/{index}" in finding.fix
        assert f"or use a runner whose driver is {minimum}" in finding.fix
    assert not diagnosis.cuda_usable


def test_newer_minor_runs_by_minor_version_compatibility() -> None:
    """Driver for 12.2, torch for 12.8: same major, so it runs; a warning, CUDA still usable."""
    profile = healthy(cuda_driver_version=12020, driver_version="535.104.05", torch_version="2.8.0", torch_cuda="12.8")
    diagnosis = diagnose(profile, require_gpu=True)
    finding = only(diagnosis)
    assert (finding.code, finding.severity) == ("driver-minor-version-compat", Severity.WARNING)
    assert "driver 535.104.05 supports CUDA 12.2 but torch 2.8.0 was built for 12.8" in finding.cause
    assert "https://download.pytorch.org/whl/cu121" in finding.fix
    assert diagnosis.cuda_usable


def test_failed_cuda_check_quotes_pytorch() -> None:
    """The spawned check's error (PyTorch's own message) is in the cause; a driver message gets a driver fix."""
    error = "RuntimeError: The NVIDIA driver on your system is too old (found version 11040)."
    diagnosis = diagnose(healthy(cuda_check=CudaCheck(ran=True, ok=False, error=error)), require_gpu=True)
    finding = only(diagnosis)
    assert (finding.code, finding.severity, finding.kind) == (
        "cuda-check-failed",
        Severity.ERROR,
        FaultKind.ENVIRONMENT,
    )
    assert error in finding.cause
    assert "allocate, matmul, synchronize" in finding.cause
    assert "index-url https://download.pytorch.org/whl/cu124" in finding.fix
    assert not diagnosis.cuda_usable


@pytest.mark.parametrize(
    ("error", "kind", "fix"),
    [
        (
            "RuntimeError: CUDA error: no kernel image is available for execution on the device",
            FaultKind.ENVIRONMENT,
            "get_arch_list()",
        ),
        ("RuntimeError: CUDA error: out of memory", FaultKind.INFRASTRUCTURE, "another process holds the GPU"),
        ("RuntimeError: CUDA driver initialization failed", FaultKind.INFRASTRUCTURE, "another runner"),
    ],
)
def test_failed_cuda_check_fixes_by_message(error: str, kind: FaultKind, fix: str) -> None:
    """Known PyTorch messages get their own fix; anything else is the machine's problem."""
    finding = only(diagnose(healthy(cuda_check=CudaCheck(ran=True, ok=False, error=error)), require_gpu=True))
    assert finding.code == "cuda-check-failed"
    assert finding.kind is kind
    assert fix in finding.fix


def test_a_hanging_cuda_check() -> None:
    """A check that timed out: CUDA init hangs, an infrastructure fault; CUDA is not usable."""
    check = CudaCheck(ran=True, ok=False, timed_out=True, seconds=60.2, error="no answer within 60 s")
    diagnosis = diagnose(healthy(cuda_check=check), require_gpu=True)
    finding = only(diagnosis)
    assert (finding.code, finding.severity, finding.kind) == (
        "cuda-check-timeout",
        Severity.ERROR,
        FaultKind.INFRASTRUCTURE,
    )
    assert "did not finish within 60 s" in finding.cause
    assert "another runner" in finding.fix
    assert not diagnosis.cuda_usable
    assert only(diagnose(healthy(cuda_check=check), require_gpu=False)).severity is Severity.WARNING


def test_small_shm_is_an_independent_warning() -> None:
    """/dev/shm of 64 MiB is flagged on a healthy GPU machine and next to a fatal GPU problem alike."""
    for profile in (healthy(shm_bytes=64 * 1024**2), replace(NO_GPU, shm_bytes=64 * 1024**2)):
        diagnosis = diagnose(profile, require_gpu=False)
        finding = diagnosis.findings[-1]
        assert (finding.code, finding.severity, finding.kind) == (
            "shm-small",
            Severity.WARNING,
            FaultKind.CONFIGURATION,
        )
        assert "/dev/shm is only 64 MiB" in finding.cause
        assert "bus error" in finding.cause
        assert "--shm-size=8g" in finding.fix
        assert "options: --shm-size 8g" in finding.fix
        assert "0 DataLoader workers" in finding.fix
    assert diagnose(healthy(shm_bytes=64 * 1024**2), require_gpu=True).cuda_usable
    assert codes(diagnose(healthy(shm_bytes=GIB), require_gpu=True)) == []
    assert codes(diagnose(healthy(shm_bytes=None), require_gpu=True)) == []


def test_no_bf16_on_a_v100() -> None:
    """A compute-capability-7.0 GPU: an info that mixed precision will be float16 with a GradScaler."""
    diagnosis = diagnose(healthy(gpus=(V100,)), require_gpu=True)
    finding = only(diagnosis)
    assert (finding.code, finding.severity) == ("no-bf16", Severity.INFO)
    assert "Tesla V100-SXM2-16GB has compute capability 7.0 < 8.0" in finding.cause
    assert 'torch.amp.GradScaler("cuda")' in finding.fix
    assert diagnosis.cuda_usable
    no_bf16_check = CudaCheck(ran=True, ok=True, device_count=1, device_name="X", bf16=False)
    assert codes(diagnose(healthy(cuda_check=no_bf16_check), require_gpu=True)) == ["no-bf16"]


def test_the_chain_stops_at_the_first_fatal_problem() -> None:
    """Consequences of the first cause are not piled up: one device finding, nothing about the CUDA check."""
    profile = healthy(
        nvml_fault=NvmlFault.UNKNOWN,
        cuda_visible_devices="-1",
        cuda_driver_version=11040,
        cuda_check=CudaCheck(ran=True, ok=False, error="boom"),
    )
    assert codes(diagnose(profile, require_gpu=True)) == ["device-access-lost"]
    too_old = healthy(cuda_driver_version=11040, cuda_check=CudaCheck(ran=True, ok=False, error="boom"))
    assert codes(diagnose(too_old, require_gpu=True)) == ["driver-too-old"]


@pytest.mark.parametrize(
    ("driver_cuda", "index"),
    [
        (None, "cu124"),
        (13020, "cu130"),
        (12090, "cu129"),
        (12050, "cu124"),
        (12000, "cu121"),
        (11040, "cu118"),
        (14000, "cu130"),
        (10020, None),
    ],
)
def test_wheel_index_fits_the_driver(driver_cuda: int | None, index: str | None) -> None:
    """The suggested wheel is the newest one the driver supports (its major's oldest when none is older)."""
    expected = None if index is None else f"https://download.pytorch.org/whl/{index}"
    assert wheel_index(driver_cuda) == expected
