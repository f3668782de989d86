"""The hardware parts of the job summary: what the machine was, what the preflight found, how the GPUs were used."""

from __future__ import annotations

import math

from mle_ci.hardware.model import GpuUsage, HardwareProfile, Severity
from mle_ci.report._markdown import md, prose
from mle_ci.result import RunResult

_SEVERITY_MARK = {Severity.ERROR: "⛔", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
GIB = 1024**3


def gib(value: int | None) -> str:
    """Bytes as GiB with one decimal (``79.6``), or ``–``."""
    return "–" if value is None else f"{value / GIB:.1f}"


def _cuda(version: int | None) -> str | None:
    """NVML's 12040 as ``12.4``."""
    if version is None:
        return None
    return f"{version // 1000}.{(version % 1000) // 10}"


def machine_line(profile: HardwareProfile) -> str:
    """Driver, CUDA, torch, CPUs, memory and /dev/shm in one line."""
    parts = []
    if profile.driver_version:
        cuda = _cuda(profile.cuda_driver_version)
        parts.append(f"driver {md(profile.driver_version)}" + (f" (CUDA ≤ {cuda})" if cuda else ""))
    elif profile.nvml_fault is not None:
        parts.append(f"no NVIDIA driver in use ({md(profile.nvml_fault.value)})")
    if profile.torch_version:
        built = f"CUDA {md(profile.torch_cuda)}" if profile.torch_cuda else "CPU build"
        parts.append(f"torch {md(profile.torch_version)} ({built})")
    else:
        parts.append("torch not installed")
    parts.append(f"{profile.cpu_count} CPUs")
    if profile.memory_total_bytes:
        parts.append(f"{gib(profile.memory_total_bytes)} GiB RAM")
    if profile.shm_bytes is not None:
        parts.append(f"/dev/shm {gib(profile.shm_bytes)} GiB")  # noqa: S108 - a label, not a path used
    return " · ".join(parts)


def render_hardware(result: RunResult) -> list[str]:
    """Section: the GPUs, the machine, the plan and the preflight's findings."""
    profile = result.hardware
    if profile is None:
        return []
    lines = ["### Hardware", ""]
    if profile.gpus:
        lines += [
            "| GPU | Name | Memory (GiB) | Free at start | Compute capability |",
            "| ---: | :--- | ---: | ---: | :---: |",
        ]
        for gpu in profile.gpus:
            capability = ".".join(map(str, gpu.compute_capability)) if gpu.compute_capability else "–"
            lines.append(
                f"| {gpu.index} | {md(gpu.name)} | {gib(gpu.memory_total_bytes)} | "
                f"{gib(gpu.memory_free_bytes)} | {capability} |"
            )
        lines.append("")
    else:
        lines += ["No GPU.", ""]
    lines.append(machine_line(profile))
    if result.plan is not None:
        plan = result.plan
        lines += [
            "",
            f"**Plan** device `{plan.device}` · {plan.gpu_count} GPU(s) · batch size {plan.batch_size} · "
            f"AMP `{plan.amp}` · {plan.num_workers} DataLoader workers",
        ]
        lines += [f"- {prose(reason)}" for reason in plan.reasons]
    if result.diagnosis is not None and result.diagnosis.findings:
        lines += ["", "**Preflight**", ""]
        for finding in result.diagnosis.findings:
            mark, what = _SEVERITY_MARK[finding.severity], f"`{finding.code}` ({finding.kind.value})"
            lines.append(f"- {mark} {what}: {prose(finding.cause)} **Fix:** {prose(finding.fix)}")
    return lines


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def render_gpu_use(result: RunResult) -> list[str]:
    """Section: per-GPU utilization statistics and a utilization timeline."""
    if not result.gpu_usage and not result.gpu_errors:
        return []
    lines = ["### GPU use", ""]
    if result.gpu_usage:
        lines += [
            "| GPU | Name | Samples | Mean | Median | p95 | Peak memory (GiB) | Idle |",
            "| ---: | :--- | ---: | ---: | ---: | ---: | ---: | :--- |",
        ]
        for usage in result.gpu_usage:
            idle = f"⚠️ idle {usage.idle_seconds:.0f}s" if usage.idle else "no"
            lines.append(
                f"| {usage.index} | {md(usage.name)} | {usage.samples} | {_percent(usage.util_mean)} | "
                f"{_percent(usage.util_median)} | {_percent(usage.util_p95)} | "
                f"{gib(usage.memory_peak_bytes)} / {gib(usage.memory_total_bytes)} | {idle} |"
            )
        lines += _timeline(result.gpu_usage)
    if result.gpu_errors:
        lines += ["", "NVML reported errors while sampling (sampling went on):", ""]
        lines += [f"- {md(error)}" for error in result.gpu_errors[:10]]
    return lines


def _timeline(usages: tuple[GpuUsage, ...]) -> list[str]:
    series = [u for u in usages if len(u.timeline) >= 2 and all(math.isfinite(v) for v in u.timeline)]
    if not series:
        return []
    width = max(len(u.timeline) for u in series)
    lines = [
        "",
        "```mermaid",
        "xychart-beta",
        '    title "GPU utilization over the run"',
        f'    x-axis "percent of the run" [{", ".join(str(round(100 * (i + 1) / width)) for i in range(width))}]',
        '    y-axis "utilization %" 0 --> 100',
    ]
    for usage in series:
        values = list(usage.timeline) + [usage.timeline[-1]] * (width - len(usage.timeline))
        lines.append(f"    line [{', '.join(f'{v:.1f}' for v in values)}]")
    lines.append("```")
    if len(series) > 1:
        lines += ["", "Lines, in order: " + ", ".join(f"GPU {u.index}" for u in series) + "."]
    return lines
