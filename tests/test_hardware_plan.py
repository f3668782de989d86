from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mle_ci.hardware.diagnosis import diagnose
from mle_ci.hardware.model import CudaCheck, GpuInfo, HardwareProfile, NvmlFault, TaskSize, TrainingPlan
from mle_ci.hardware.nvml import fake_gpu
from mle_ci.hardware.plan import plan_training

GIB = 1024**3
H100 = fake_gpu(0).info
V100 = fake_gpu(0, name="Tesla V100-SXM2-16GB", memory_gb=16, compute_capability=(7, 0)).info

GPU_MACHINE = HardwareProfile(
    gpus=(H100,),
    driver_version="550.54.15",
    cuda_driver_version=12040,
    device_nodes=("nvidia0", "nvidiactl"),
    torch_version="2.5.1+cu124",
    torch_cuda="12.4",
    cpu_count=16,
    shm_bytes=16 * GIB,
)
CPU_MACHINE = HardwareProfile(nvml_fault=NvmlFault.SKIPPED, torch_version="2.5.1+cpu", cpu_count=4, shm_bytes=8 * GIB)


def plan(profile: HardwareProfile, task: TaskSize | None = None, **changes: Any) -> TrainingPlan:
    profile = replace(profile, **changes)
    return plan_training(profile, diagnose(profile, require_gpu=False), task)


def gpu(memory_gb: float, capability: tuple[int, int] = (9, 0), index: int = 0) -> GpuInfo:
    return fake_gpu(index, memory_gb=memory_gb, compute_capability=capability).info


def test_h100_plan() -> None:
    """An H100 80GB: cuda, bf16, 256 a batch (80 GiB is 86 GB: 275 rounded down), 8 workers of 16 CPUs."""
    result = plan(GPU_MACHINE)
    assert (result.device, result.gpu_count, result.amp, result.batch_size, result.num_workers) == (
        "cuda",
        1,
        "bf16",
        256,
        8,
    )
    assert result.to_env()["MLE_CI_AMP"] == "bf16"
    assert len(result.reasons) == 4
    assert "compute capability 9.0 ≥ 8.0" in result.reasons[2]


def test_v100_plan_is_fp16_with_a_scaler() -> None:
    """A V100 (7.0) has no bf16: fp16, and the reason names the GradScaler; 16 GiB free gives 32."""
    result = plan(GPU_MACHINE, gpus=(V100,))
    assert (result.amp, result.batch_size) == ("fp16", 32)
    assert 'torch.amp.GradScaler("cuda")' in result.reasons[2]
    assert "compute capability 7.0 < 8.0" in result.reasons[2]


def test_cpu_plan() -> None:
    """No usable CUDA: cpu, no mixed precision, the CPU batch default, CPUs − 1 workers."""
    result = plan(CPU_MACHINE)
    assert result == TrainingPlan(
        device="cpu",
        gpu_count=0,
        batch_size=64,
        amp="off",
        num_workers=3,
        reasons=result.reasons,
    )
    assert result.reasons[0] == "device cpu: CUDA is not usable"
    assert result.reasons[2] == "mixed precision off: CPU run"


def test_unusable_gpus_plan_for_cpu() -> None:
    """GPUs present but a CPU wheel: the plan is a CPU plan."""
    result = plan(GPU_MACHINE, torch_cuda=None, torch_version="2.5.1+cpu")
    assert (result.device, result.gpu_count, result.amp) == ("cpu", 0, "off")


def test_the_cuda_check_decides_bf16_when_capabilities_are_unknown() -> None:
    """Without a compute capability from NVML, the CUDA check's bf16 answer decides; without either, fp16."""
    unknown = replace(H100, compute_capability=None)
    yes = CudaCheck(ran=True, ok=True, device_count=1, device_name="H100", bf16=True)
    no = replace(yes, bf16=False)
    assert plan(GPU_MACHINE, gpus=(unknown,), cuda_check=yes).amp == "bf16"
    assert plan(GPU_MACHINE, gpus=(unknown,), cuda_check=no).amp == "fp16"
    assert plan(GPU_MACHINE, gpus=(H100,), cuda_check=no).amp == "fp16"
    assert plan(GPU_MACHINE, gpus=(unknown,)).amp == "fp16"


def test_a_mixed_machine_plans_for_its_weakest_gpu() -> None:
    """An H100 next to a V100: fp16 (the V100 has no bf16) and the V100's memory sizes the batch."""
    result = plan(GPU_MACHINE, gpus=(gpu(80), gpu(16, (7, 0), index=1)), cpu_count=32)
    assert (result.gpu_count, result.amp, result.batch_size, result.num_workers) == (2, "fp16", 32, 8)


def test_cuda_visible_devices_picks_the_gpus_that_count() -> None:
    """Only the visible GPUs size the batch: with CUDA_VISIBLE_DEVICES=0 the small second GPU is ignored."""
    profile = replace(GPU_MACHINE, gpus=(gpu(80), gpu(16, (7, 0), index=1)))
    assert plan(profile, cuda_visible_devices="0").batch_size == 256
    assert plan(profile, cuda_visible_devices="0").amp == "bf16"
    assert plan(profile, cuda_visible_devices="1").batch_size == 32


@pytest.mark.parametrize(
    ("memory_gb", "batch"),
    [(2, 16), (4, 16), (8, 16), (12, 32), (24, 64), (40, 128), (48, 128), (141, 256), (400, 1024), (1000, 1024)],
)
def test_batch_size_from_free_memory(memory_gb: float, batch: int) -> None:
    """32 per 10 GB free, rounded down to a power of two, clamped to 16..1024."""
    assert plan(GPU_MACHINE, gpus=(gpu(memory_gb),)).batch_size == batch


@pytest.mark.parametrize(("samples", "batch"), [(None, 256), (100_000, 256), (1000, 128), (100, 16), (10, 2), (2, 1)])
def test_batch_size_at_most_a_quarter_of_the_samples(samples: int | None, batch: int) -> None:
    """A known sample count caps the batch at a quarter of it (a power of two, at least 1)."""
    result = plan(GPU_MACHINE, TaskSize(samples=samples))
    assert result.batch_size == batch
    if samples is not None and batch < 256:
        assert f"a quarter of the {samples} samples" in result.reasons[1]


def test_cpu_batch_is_capped_by_samples_too() -> None:
    """The CPU default of 64 also yields to a tiny data set."""
    assert plan(CPU_MACHINE, TaskSize(samples=40)).batch_size == 8


@pytest.mark.parametrize(
    ("cpus", "gpus", "workers"),
    [(16, 1, 8), (64, 1, 8), (16, 2, 7), (8, 2, 3), (4, 1, 3), (2, 1, 1), (1, 1, 0), (3, 4, 0)],
)
def test_workers_from_cpus_per_gpu(cpus: int, gpus: int, workers: int) -> None:
    """min(8, CPUs per GPU − 1), never negative."""
    profile = replace(GPU_MACHINE, gpus=tuple(gpu(80, index=i) for i in range(gpus)), cpu_count=cpus)
    assert plan(profile).num_workers == workers


@pytest.mark.parametrize(
    ("shm", "workers"),
    [(64 * 1024**2, 0), (GIB - 1, 0), (GIB, 2), (2 * GIB, 2), (4 * GIB - 1, 2), (4 * GIB, 8), (None, 8)],
)
def test_workers_limited_by_shm(shm: int | None, workers: int) -> None:
    """/dev/shm < 1 GiB: no workers (bus errors); < 4 GiB: at most 2; unknown: no limit."""
    result = plan(GPU_MACHINE, shm_bytes=shm)
    assert result.num_workers == workers
    if shm is not None and shm < GIB:
        assert "bus error" in result.reasons[-1]
    if shm is not None and GIB <= shm < 4 * GIB:
        assert "at most 2 workers" in result.reasons[-1]


def test_small_shm_on_cpu_too() -> None:
    """A CPU run with Docker's 64 MiB /dev/shm gets no workers."""
    assert plan(CPU_MACHINE, shm_bytes=64 * 1024**2).num_workers == 0
