"""How to use the machine: device, batch size, mixed precision and DataLoader workers, from the profile."""

from __future__ import annotations

from mle_ci.hardware.cudaenv import cuda_visible_gpus
from mle_ci.hardware.diagnosis import GIB, SHM, SHM_MINIMUM, bf16_support
from mle_ci.hardware.model import Diagnosis, GpuInfo, HardwareProfile, TaskSize, TrainingPlan

GB = 10**9
BATCH_PER_10GB = 32
BATCH_MIN, BATCH_MAX = 16, 1024
CPU_BATCH = 64
MAX_WORKERS = 8
SHM_FEW_WORKERS = 4 * GIB
"""Below this ``/dev/shm`` holds the prefetched batches of only a couple of workers."""


def plan_training(profile: HardwareProfile, diagnosis: Diagnosis, task: TaskSize | None = None) -> TrainingPlan:
    """The training plan; the rules, one ``reasons`` line each.

    - device: ``cuda`` when the diagnosis found CUDA usable, else ``cpu``; ``gpu_count`` = usable GPUs (0 on CPU).
    - batch size: 32 per 10 GB (10^9 bytes) free on the smallest usable GPU, rounded down to a power of two and
      clamped to 16..1024 (an H100 80GB gives 256, a 16 GB V100 32); 64 on CPU; then at most a quarter of the
      samples (rounded down to a power of two, at least 1) when their number is known.
    - mixed precision: ``bf16`` when every usable GPU has compute capability ≥ 8.0 (or the CUDA check said bf16),
      ``fp16`` below (the child needs ``torch.amp.GradScaler("cuda")``), ``off`` on CPU.
    - workers: min(8, CPUs per GPU − 1), at least 0 (all CPUs on a CPU run); 0 when ``/dev/shm`` < 1 GiB and at
      most 2 when it is < 4 GiB.
    """
    reasons: list[str] = []
    gpus = _usable_gpus(profile) if diagnosis.cuda_usable else ()
    if diagnosis.cuda_usable:
        device, gpu_count = "cuda", diagnosis.usable_gpus
        reasons.append(f"device cuda: CUDA is usable on {gpu_count} GPU(s)")
    else:
        device, gpu_count = "cpu", 0
        reasons.append("device cpu: CUDA is not usable")
    batch_size = _batch_size(gpus, task, reasons)
    amp = _amp(profile, gpus, reasons) if device == "cuda" else "off"
    if device == "cpu":
        reasons.append("mixed precision off: CPU run")
    num_workers = _workers(profile, gpu_count, reasons)
    return TrainingPlan(
        device=device,
        gpu_count=gpu_count,
        batch_size=batch_size,
        amp=amp,
        num_workers=num_workers,
        reasons=tuple(reasons),
    )


def _usable_gpus(profile: HardwareProfile) -> tuple[GpuInfo, ...]:
    visible = cuda_visible_gpus(profile).gpus
    # MIG instances cannot be mapped to a GPU here: then judge by every GPU NVML sees.
    return visible or profile.gpus


def _power_of_two_floor(value: float) -> int:
    return 1 << (int(value).bit_length() - 1) if value >= 1 else 1


def _batch_size(gpus: tuple[GpuInfo, ...], task: TaskSize | None, reasons: list[str]) -> int:
    if gpus:
        smallest = min(gpus, key=lambda g: g.memory_free_bytes)
        free_gb = smallest.memory_free_bytes / GB
        batch = min(BATCH_MAX, max(BATCH_MIN, _power_of_two_floor(BATCH_PER_10GB * free_gb / 10)))
        why = f"{free_gb:.0f} GB free on {smallest.name} ({BATCH_PER_10GB} per 10 GB, a power of two)"
    else:
        batch, why = CPU_BATCH, "the CPU default"
    if task is not None and task.samples is not None:
        cap = _power_of_two_floor(task.samples / 4)
        if cap < batch:
            batch, why = cap, f"a quarter of the {task.samples} samples"
    reasons.append(f"batch size {batch}: {why}")
    return batch


def _amp(profile: HardwareProfile, gpus: tuple[GpuInfo, ...], reasons: list[str]) -> str:
    supported, why = bf16_support(profile, gpus)
    if supported:
        reasons.append(f"mixed precision bf16: {why}")
        return "bf16"
    reasons.append(f'mixed precision fp16 with torch.amp.GradScaler("cuda"): {why}')
    return "fp16"


def _workers(profile: HardwareProfile, gpu_count: int, reasons: list[str]) -> int:
    cpus = profile.cpu_count // max(gpu_count, 1)
    workers = max(0, min(MAX_WORKERS, cpus - 1))
    per = f"{cpus} CPU(s) per GPU" if gpu_count else f"{cpus} CPU(s)"
    why = f"{per}, one left for the training process"
    shm = profile.shm_bytes
    if shm is not None and shm < SHM_MINIMUM and workers > 0:
        workers, why = 0, f"{SHM} is {shm / 1024**2:.0f} MiB (< 1 GiB): workers would crash with a bus error"
    elif shm is not None and shm < SHM_FEW_WORKERS and workers > 2:
        workers, why = 2, f"{SHM} is {shm / GIB:.1f} GiB (< 4 GiB): at most 2 workers"
    reasons.append(f"{workers} DataLoader worker(s): {why}")
    return workers
