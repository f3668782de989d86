"""The preflight for people (an aligned text table) and for machines (a versioned JSON object)."""

from __future__ import annotations

import textwrap
from typing import Any

from mle_ci.hardware.cudaenv import cuda_version_text
from mle_ci.hardware.diagnosis import SHM
from mle_ci.hardware.model import CudaCheck, Diagnosis, GpuInfo, HardwareProfile, NvmlFault, TrainingPlan

PREFLIGHT_SCHEMA_VERSION = 1
_LABEL = 14
_INDENT = "  "
_WIDTH = 110


def preflight_json(profile: HardwareProfile, diagnosis: Diagnosis, plan: TrainingPlan) -> dict[str, Any]:
    """The preflight as one JSON-ready object with a schema version."""
    return {
        "schema_version": PREFLIGHT_SCHEMA_VERSION,
        "profile": profile.to_dict(),
        "diagnosis": diagnosis.to_dict(),
        "plan": plan.to_dict(),
    }


def render_preflight_text(profile: HardwareProfile, diagnosis: Diagnosis, plan: TrainingPlan) -> str:
    """The preflight as aligned text: the hardware, each finding with its cause and fix, and the plan."""
    lines = ["Hardware"]
    lines += _rows(_hardware_rows(profile))
    lines += ["", _verdict(diagnosis)]
    for finding in diagnosis.findings:
        lines.append(f"{_INDENT}{finding.severity.value.upper():<8}{finding.code} ({finding.kind.value})")
        lines += _wrapped("cause: ", finding.cause)
        lines += _wrapped("fix:   ", finding.fix)
    lines += ["", "Plan"]
    lines += _rows(
        [
            ("device", plan.device if plan.device == "cpu" else f"{plan.device} × {plan.gpu_count}"),
            ("batch size", str(plan.batch_size)),
            ("precision", plan.amp),
            ("workers", str(plan.num_workers)),
        ]
    )
    lines += [f"{_INDENT}{'':<{_LABEL}}· {reason}" for reason in plan.reasons]
    return "\n".join(lines)


def _wrapped(label: str, text: str) -> list[str]:
    indent = _INDENT + " " * 8
    return textwrap.wrap(
        text, _WIDTH, initial_indent=indent + label, subsequent_indent=indent + " " * len(label), break_on_hyphens=False
    )


def _rows(rows: list[tuple[str, str]]) -> list[str]:
    return [f"{_INDENT}{label:<{_LABEL}}{value}" for label, value in rows]


def _verdict(diagnosis: Diagnosis) -> str:
    state = f"CUDA usable on {diagnosis.usable_gpus} GPU(s)" if diagnosis.cuda_usable else "CUDA not usable"
    return f"Diagnosis: {state}" + ("" if diagnosis.findings else ", nothing to report")


def _hardware_rows(p: HardwareProfile) -> list[tuple[str, str]]:
    rows = _gpu_rows(p)
    rows.append(("driver", _driver(p)))
    rows.append(("CUDA check", _check(p.cuda_check)))
    torch = "not installed" if p.torch_version is None else p.torch_version
    if p.torch_version is not None:
        torch += f" (CUDA {p.torch_cuda})" if p.torch_cuda else " (no CUDA)"
    rows.append(("torch", torch))
    rows.append(("CPUs", str(p.cpu_count)))
    rows.append(("memory", _bytes(p.memory_total_bytes)))
    rows.append((SHM, _bytes(p.shm_bytes)))
    rows.append(("variables", _variables(p)))
    rows.append(("device nodes", ", ".join(p.device_nodes) or "none"))
    return rows


def _gpu_rows(p: HardwareProfile) -> list[tuple[str, str]]:
    if p.gpus:
        return [("GPUs" if n == 0 else "", _gpu(gpu)) for n, gpu in enumerate(p.gpus)]
    if p.nvml_fault is NvmlFault.SKIPPED:
        return [("GPUs", "none (no /dev/nvidia* nodes: NVML not tried)")]
    if p.nvml_fault is not None:
        return [("GPUs", f"unknown (NVML: {p.nvml_error or p.nvml_fault.value})")]
    return [("GPUs", "none (NVML sees no GPU)")]


def _gpu(gpu: GpuInfo) -> str:
    capability = "" if gpu.compute_capability is None else ", compute {}.{}".format(*gpu.compute_capability)
    memory = f"{_bytes(gpu.memory_total_bytes)}, {_bytes(gpu.memory_free_bytes)} free"
    return f"{gpu.index}: {gpu.name} ({memory}{capability})"


def _driver(p: HardwareProfile) -> str:
    if p.driver_version is None:
        return "unknown"
    cuda = cuda_version_text(p.cuda_driver_version)
    return p.driver_version + (f" (supports CUDA ≤ {cuda})" if cuda else "")


def _check(check: CudaCheck) -> str:
    took = "" if check.seconds is None else f" in {check.seconds:.1f} s"
    if not check.ran:
        return "not run"
    if check.timed_out:
        return f"timed out{took}"
    if not check.ok:
        return f"failed{took}: {check.error or 'no error text'}"
    count = "" if check.device_count is None else f", {check.device_count} device(s)"
    bf16 = "" if check.bf16 is None else (", bf16" if check.bf16 else ", no bf16")
    return f"passed{took}{count}{bf16}"


def _variables(p: HardwareProfile) -> str:
    def shown(name: str, value: str | None) -> str:
        return f"{name} unset" if value is None else f"{name}={value!r}"

    return " · ".join(
        (
            shown("NVIDIA_VISIBLE_DEVICES", p.nvidia_visible_devices),
            shown("CUDA_VISIBLE_DEVICES", p.cuda_visible_devices),
        )
    )


def _bytes(value: int | None) -> str:
    if value is None:
        return "unknown"
    if value >= 1024**3:
        return f"{value / 1024**3:.1f} GiB"
    return f"{value / 1024**2:.0f} MiB"
