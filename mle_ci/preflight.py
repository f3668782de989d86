"""The hardware preflight: probe, diagnose, plan; and ``mle-ci preflight`` around it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from mle_ci.console import inert_lines
from mle_ci.contract import ExitCode
from mle_ci.hardware.diagnosis import diagnose
from mle_ci.hardware.model import Diagnosis, HardwareProfile, Severity, TrainingPlan
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


def preflight_command(settings: Settings, *, as_json: bool, cuda_timeout: float, stream: TextIO) -> int:
    """``mle-ci preflight``: print the profile, findings and plan; exit 3 when a required GPU is unusable."""
    from mle_ci.hardware.render import preflight_json, render_preflight_text

    result = run_preflight(settings, cuda_check=True, cuda_timeout=cuda_timeout)
    if as_json:
        stream.write(
            inert_lines(json.dumps(preflight_json(result.profile, result.diagnosis, result.plan), indent=2)) + "\n"
        )
    else:
        stream.write(inert_lines(render_preflight_text(result.profile, result.diagnosis, result.plan)) + "\n")
    stream.flush()
    blocked = failed(result, settings)
    if settings.github_actions:
        _annotate(result, settings, stream, blocked=blocked)
    return int(ExitCode.GPU_UNAVAILABLE if blocked else ExitCode.OK)


def _annotate(result: Preflight, settings: Settings, stream: TextIO, *, blocked: bool) -> None:
    from mle_ci.github import GitHub, Level

    github = GitHub.from_env(settings.env, stream)
    if github is None:
        return
    for finding in result.diagnosis.findings:
        if finding.severity is Severity.INFO:
            continue
        level: Level = "error" if finding.severity is Severity.ERROR and blocked else "warning"
        github.annotate(level, finding.sentence, title=f"GPU preflight: {finding.code}")
