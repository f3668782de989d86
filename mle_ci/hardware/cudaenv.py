"""How CUDA reads its environment: the ids in ``CUDA_VISIBLE_DEVICES``, version numbers, fitting PyTorch wheels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mle_ci.hardware.model import GpuInfo, HardwareProfile

MINIMUM_DRIVER = {13: 580, 12: 525, 11: 450}
"""Oldest driver branch that runs any CUDA toolkit of a major version (minor version compatibility)."""

WHEEL_CUDA = ((11, 8), (12, 1), (12, 4), (12, 6), (12, 8), (12, 9), (13, 0))
"""CUDA versions PyTorch publishes wheels for (``https://download.pytorch.org/whl/cuXYZ``)."""

_INDEX = "https://download.pytorch.org/whl/"


@dataclass(frozen=True)
class VisibleGpus:
    """What ``CUDA_VISIBLE_DEVICES`` leaves to CUDA, read the way CUDA and torch read it."""

    count: int
    gpus: tuple[GpuInfo, ...]
    """The GPUs identified (MIG instances count but cannot be mapped to a GPU here)."""
    problem: str | None = None
    """Why an id was dropped (and every id after it), or None."""


def cuda_visible_gpus(profile: HardwareProfile) -> VisibleGpus:
    """The GPUs CUDA will see; integer ids are taken as NVML (PCI) indices, as with ``CUDA_DEVICE_ORDER=PCI_BUS_ID``."""
    raw = profile.cuda_visible_devices
    if raw is None:
        return VisibleGpus(len(profile.gpus), profile.gpus)
    ids = [part.strip() for part in raw.split(",")]
    # CUDA (and torch's parser) treats any repeated id as an empty list.
    repeated = next((i for n, i in enumerate(ids) if i and i in ids[:n]), None)
    if repeated is not None:
        return VisibleGpus(0, (), f"id {repeated} is listed twice, and CUDA then sees no device at all")
    count, gpus = 0, list[GpuInfo]()
    for item in ids:
        problem = _invalid_id(item, profile.gpus)
        if problem is not None:
            return VisibleGpus(count, tuple(gpus), problem)
        count += 1
        if not item.startswith("MIG-"):
            gpu = _gpu_for_id(item, profile.gpus)
            if gpu is not None:
                gpus.append(gpu)
    return VisibleGpus(count, tuple(gpus))


def _invalid_id(item: str, gpus: tuple[GpuInfo, ...]) -> str | None:
    if not item:
        return "an empty id"
    if item.startswith("MIG-"):
        return None
    if item.startswith("GPU-"):
        return None if _gpu_for_id(item, gpus) else f"{item} matches no GPU's UUID"
    digits = re.match(r"[+-]?\d+", item)  # CUDA reads ids like strtoul: `1gpu` is 1
    if digits is None:
        return f"{item!r} is not a device id"
    index = int(digits.group())
    if index < 0:
        return f"{item} is negative, which hides every device from there on"
    if index >= len(gpus):
        return f"id {index} is beyond the {len(gpus)} GPU(s) NVML sees (0-{len(gpus) - 1})"
    return None


def _gpu_for_id(item: str, gpus: tuple[GpuInfo, ...]) -> GpuInfo | None:
    if item.startswith("GPU-"):
        return next((g for g in gpus if g.uuid.startswith(item)), None)
    digits = re.match(r"[+-]?\d+", item)
    index = int(digits.group()) if digits else -1
    return next((g for g in gpus if g.index == index), None)


def cuda_version_text(version: int | None) -> str | None:
    """NVML's CUDA version integer as people write it (12040 -> ``12.4``)."""
    if version is None:
        return None
    return f"{version // 1000}.{version % 1000 // 10}"


def parse_cuda(text: str | None) -> tuple[int, int] | None:
    """A CUDA version as written by torch (``12.8``) as a comparable pair."""
    match = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def wheel_index(driver_cuda: int | None) -> str | None:
    """The PyTorch wheel index to suggest for a driver; None when no published wheel runs on it.

    The newest wheel not newer than the driver's CUDA, within its major version; else that major's oldest wheel
    (it runs by minor version compatibility); ``cu124`` when the driver is unknown.
    """
    if driver_cuda is None:
        return _INDEX + "cu124"
    supported = (driver_cuda // 1000, driver_cuda % 1000 // 10)
    same_major = [v for v in WHEEL_CUDA if v[0] == supported[0]]
    if not same_major:
        older = [v for v in WHEEL_CUDA if v <= supported]
        if not older:
            return None
        same_major = older
    fitting = [v for v in same_major if v <= supported]
    chosen = fitting[-1] if fitting else same_major[0]
    return f"{_INDEX}cu{chosen[0]}{chosen[1]}"
