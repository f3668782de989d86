"""The hardware preflight: probe, diagnose, plan; before every run, and for ``mle-ci preflight``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mle_ci.hardware.diagnosis import diagnose
from mle_ci.hardware.model import Diagnosis, HardwareProfile, TrainingPlan
from mle_ci.hardware.plan import plan_training
from mle_ci.hardware.probe import probe_hardware

if TYPE_CHECKING:
    from mle_ci.hardware.nvml import NvmlBackend
    from mle_ci.settings import Settings

CUDA_CHECK_TIMEOUT = 60.0
"""The first CUDA initialisation can take seconds per GPU (much longer when PTX must be JIT-compiled)."""


@dataclass(frozen=True)
class Preflight:
    """What the machine is, what is wrong with it, and how to use it."""

    profile: HardwareProfile
    diagnosis: Diagnosis
    plan: TrainingPlan


def run_preflight(
    settings: Settings,
    *,
    cuda_check: bool,
    cuda_timeout: float = CUDA_CHECK_TIMEOUT,
    nvml: NvmlBackend | None = None,
) -> Preflight:
    """Probe the hardware (the CUDA proof only when asked), diagnose it and plan the training."""
    profile = probe_hardware(settings.env, nvml=nvml, cuda_check=cuda_check, cuda_timeout=cuda_timeout)
    diagnosis = diagnose(profile, require_gpu=settings.require_gpu)
    return Preflight(profile, diagnosis, plan_training(profile, diagnosis))


def failed(preflight: Preflight, settings: Settings) -> bool:
    """Whether the run must stop before anything starts (exit 3)."""
    return settings.require_gpu and not preflight.diagnosis.cuda_usable
