from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from mle_ci.commands.monitor import run_monitor, short_name
from mle_ci.hardware.model import NvmlFault
from mle_ci.hardware.nvml import FakeNvml, fake_gpu
from mle_ci.hardware.usage import GIB

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z


class FakeTime:
    """A clock that only moves when slept on; can raise KeyboardInterrupt at the n-th sleep."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.now = START
        self.sleeps: list[float] = []
        self.interrupt_at = interrupt_at

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.interrupt_at is not None and len(self.sleeps) >= self.interrupt_at:
            raise KeyboardInterrupt
        self.now += seconds


def two_gpus(time: FakeTime, **kwargs: object) -> FakeNvml:
    return FakeNvml(
        [
            fake_gpu(0, load=lambda _ts: 87.0, memory_used_bytes=int(5.2 * GIB), temperature_c=61.0, power_w=312.4),
            fake_gpu(1, load=lambda _ts: 3.0, memory_used_bytes=int(0.4 * GIB)),
        ],
        clock=time.clock,
        **kwargs,  # type: ignore[arg-type]
    )


def monitor(
    backend: FakeNvml,
    time: FakeTime,
    *,
    duration: float | None = 10.0,
    csv_path: Path | None = None,
    require_gpu: bool = False,
) -> tuple[int, list[str]]:
    stream = io.StringIO()
    code = run_monitor(
        backend=backend,
        interval=5.0,
        duration=duration,
        csv_path=csv_path,
        require_gpu=require_gpu,
        stream=stream,
        clock=time.clock,
        sleep=time.sleep,
    )
    return code, stream.getvalue().splitlines()


@pytest.mark.parametrize(("require_gpu", "code"), [(False, 0), (True, 3)])
def test_no_driver_is_one_plain_line(require_gpu: bool, code: int) -> None:
    """Without NVML the monitor says so in one line and exits 0, or 3 when a GPU is required."""
    time = FakeTime()
    backend = FakeNvml(init_fault=NvmlFault.LIBRARY_NOT_FOUND)
    assert monitor(backend, time, require_gpu=require_gpu) == (
        code,
        ["no NVIDIA GPU here: NVML library not found (no driver)"],
    )
    assert time.sleeps == []


@pytest.mark.parametrize(("require_gpu", "code"), [(False, 0), (True, 3)])
def test_no_device_is_one_plain_line(require_gpu: bool, code: int) -> None:
    """NVML that sees no GPU is the same as no GPU; NVML is shut down again."""
    backend = FakeNvml([])
    assert monitor(backend, FakeTime(), require_gpu=require_gpu) == (code, ["no NVIDIA GPU here: NVML sees no device"])
    assert not backend.initialised


def test_an_unusable_driver_names_the_cause() -> None:
    """A version mismatch is not "no GPU": the line says what is wrong."""
    code, lines = monitor(FakeNvml(init_fault=NvmlFault.VERSION_MISMATCH), FakeTime(), require_gpu=True)
    assert code == 3
    assert lines == ["NVIDIA GPU not usable here: driver and NVML library versions differ (reboot needed)"]


def test_two_gpus_for_a_duration(tmp_path: Path) -> None:
    """One timestamped line per round until the duration, then a summary; the CSV has every sample."""
    time = FakeTime()
    backend = two_gpus(time)
    path = tmp_path / "gpu.csv"
    code, lines = monitor(backend, time, csv_path=path)
    assert code == 0
    round_ = "GPU0 H100 87 % 5.2/80.0 GB 61 °C 312 W | GPU1 H100 3 % 0.4/80.0 GB 40 °C 70 W"
    assert lines == [
        f"monitoring GPU0 NVIDIA H100 80GB HBM3, GPU1 NVIDIA H100 80GB HBM3 every 5 s for 10 s; CSV: {path}",
        f"2023-11-14T22:13:20Z {round_}",
        f"2023-11-14T22:13:25Z {round_}",
        f"2023-11-14T22:13:30Z {round_}",
        "summary: GPU0 H100 mean 87 % p95 87 % peak 5.2/80.0 GB (3 samples)"
        " | GPU1 H100 mean 3 % p95 3 % peak 0.4/80.0 GB (3 samples)",
    ]
    assert time.sleeps == [5.0, 5.0]
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["gpu"] for row in rows] == ["0", "1"] * 3
    assert not backend.initialised


def test_ctrl_c_ends_with_the_summary() -> None:
    """Without a duration the monitor runs until Ctrl-C, then prints the summary and exits 0."""
    time = FakeTime(interrupt_at=3)
    code, lines = monitor(two_gpus(time), time, duration=None)
    assert code == 0
    assert lines[0].endswith("every 5 s until Ctrl-C")
    assert len(lines) == 1 + 3 + 1
    assert lines[-1].startswith("summary: GPU0 H100 mean 87 % p95 87 % peak 5.2/80.0 GB (3 samples)")


def test_nvml_failing_mid_run_shows_errors_and_goes_on() -> None:
    """Rounds after NVML fails show the error; the summary counts only good readings."""
    time = FakeTime()
    code, lines = monitor(two_gpus(time, fail_samples_after=2), time)
    assert code == 0
    assert lines[2] == (
        "2023-11-14T22:13:25Z GPU0 H100 error: fake NVML sample failure: unknown"
        " | GPU1 H100 error: fake NVML sample failure: unknown"
    )
    assert lines[-1].startswith("summary: GPU0 H100 mean 87 % p95 87 % peak 5.2/80.0 GB (1 sample) | ")


def test_a_gpu_that_never_answered_has_no_readings() -> None:
    """The summary says so instead of inventing figures."""
    time = FakeTime()
    code, lines = monitor(two_gpus(time, fail_samples_after=0), time, duration=0)
    assert code == 0
    assert lines[-1] == "summary: GPU0 H100 no readings | GPU1 H100 no readings"


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA A100-SXM4-80GB", "A100-SXM4-80GB"),
        ("NVIDIA H100 PCIe", "H100"),
        ("Tesla T4", "Tesla T4"),
        ("NVIDIA GeForce RTX 4090", "GeForce RTX 4090"),
        ("NVIDIA", "NVIDIA"),
    ],
)
def test_short_gpu_names(name: str, short: str) -> None:
    """Vendor, memory size and form factor are dropped; a name never becomes empty."""
    assert short_name(name) == short
