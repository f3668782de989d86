"""The preflight as text and JSON; two golden files in ``tests/golden`` (``UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mle_ci.hardware.diagnosis import diagnose
from mle_ci.hardware.model import CudaCheck, HardwareProfile, NvmlFault
from mle_ci.hardware.nvml import fake_gpu
from mle_ci.hardware.plan import plan_training
from mle_ci.hardware.render import preflight_json, render_preflight_text

GOLDEN = Path(__file__).parent / "golden"
GIB = 1024**3

H100_MACHINE = HardwareProfile(
    gpus=(fake_gpu(0).info, fake_gpu(1).info),
    driver_version="550.54.15",
    cuda_driver_version=12040,
    nvidia_visible_devices="all",
    device_nodes=("nvidia-uvm", "nvidia0", "nvidia1", "nvidiactl"),
    torch_version="2.5.1+cu124",
    torch_cuda="12.4",
    cpu_count=32,
    memory_total_bytes=256 * GIB,
    shm_bytes=64 * 1024**2,
    cuda_check=CudaCheck(
        ran=True, ok=True, seconds=2.34, device_count=2, device_name="NVIDIA H100 80GB HBM3", bf16=True
    ),
)
NO_GPU_MACHINE = HardwareProfile(
    nvml_fault=NvmlFault.SKIPPED,
    torch_version="2.5.1+cpu",
    cpu_count=4,
    memory_total_bytes=16 * GIB,
    shm_bytes=8 * GIB,
)


def rendered(profile: HardwareProfile, *, require_gpu: bool) -> str:
    diagnosis = diagnose(profile, require_gpu=require_gpu)
    return render_preflight_text(profile, diagnosis, plan_training(profile, diagnosis))


@pytest.mark.parametrize(
    ("name", "profile", "require_gpu"),
    [("preflight_h100.txt", H100_MACHINE, True), ("preflight_no_gpu.txt", NO_GPU_MACHINE, True)],
)
def test_golden_text(name: str, profile: HardwareProfile, require_gpu: bool) -> None:
    """The text preflight of a healthy two-H100 machine with a small /dev/shm, and of a GPU-less one."""
    text = rendered(profile, require_gpu=require_gpu) + "\n"
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_text_names_the_hardware_findings_and_plan() -> None:
    """GPUs, driver, CUDA check, torch, CPUs, memory and /dev/shm; the finding with cause and fix; the plan."""
    text = rendered(H100_MACHINE, require_gpu=True)
    for fragment in (
        "0: NVIDIA H100 80GB HBM3 (80.0 GiB, 80.0 GiB free, compute 9.0)",
        "550.54.15 (supports CUDA ≤ 12.4)",
        "passed in 2.3 s, 2 device(s), bf16",
        "2.5.1+cu124 (CUDA 12.4)",
        "CPUs          32",
        "memory        256.0 GiB",
        "/dev/shm      64 MiB",
        "Diagnosis: CUDA usable on 2 GPU(s)",
        "WARNING shm-small (configuration)",
        "cause: /dev/shm is only 64 MiB",
        "fix:   pass `--shm-size=8g`",
        "device        cuda × 2",
        "precision     bf16",
        "workers       0",
    ):
        assert fragment in text, fragment


def test_text_of_a_failed_probe() -> None:
    """An NVML failure, a failed CUDA check and a CPU plan read plainly."""
    profile = HardwareProfile(
        device_nodes=("nvidia0",),
        nvml_fault=NvmlFault.UNKNOWN,
        nvml_error="NVMLError_Unknown: Unknown Error",
        cuda_check=CudaCheck(ran=True, ok=False, seconds=0.5, error="RuntimeError: boom"),
    )
    text = rendered(profile, require_gpu=True)
    assert "GPUs          unknown (NVML: NVMLError_Unknown: Unknown Error)" in text
    assert "CUDA check    failed in 0.5 s: RuntimeError: boom" in text
    assert "torch         not installed" in text
    assert "ERROR   device-access-lost (infrastructure)" in text
    assert "device        cpu" in text
    timed_out = HardwareProfile(cuda_check=CudaCheck(ran=True, timed_out=True, seconds=60.1))
    assert "CUDA check    timed out in 60.1 s" in rendered(timed_out, require_gpu=False)


def test_long_findings_are_wrapped_under_their_label() -> None:
    """Causes and fixes wrap at 110 columns, continuation lines aligned under the text."""
    lines = rendered(NO_GPU_MACHINE, require_gpu=True).splitlines()
    assert max(len(line) for line in lines if line.lstrip().startswith(("cause:", "fix:"))) <= 110
    cause = next(n for n, line in enumerate(lines) if "cause: no /dev/nvidia*" in line)
    assert lines[cause + 1].startswith(" " * 17)
    assert not lines[cause + 1].startswith(" " * 18)


def test_json_has_a_schema_version_and_the_three_records() -> None:
    """schema_version 1, then the profile, diagnosis and plan as their own dictionaries; JSON-serialisable."""
    diagnosis = diagnose(H100_MACHINE, require_gpu=True)
    plan = plan_training(H100_MACHINE, diagnosis)
    data = preflight_json(H100_MACHINE, diagnosis, plan)
    assert data == {
        "schema_version": 1,
        "profile": H100_MACHINE.to_dict(),
        "diagnosis": diagnosis.to_dict(),
        "plan": plan.to_dict(),
    }
    back = json.loads(json.dumps(data))
    assert back["diagnosis"]["findings"][0]["code"] == "shm-small"
    assert back["plan"]["amp"] == "bf16"
    assert back["profile"]["gpus"][0]["compute_capability"] == "9.0"
