from __future__ import annotations

import csv
import importlib.util
import itertools
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from mle_ci.hardware import sampler as sampler_module
from mle_ci.hardware.model import GpuSample
from mle_ci.hardware.nvml import FakeNvml, NvmlError, RealNvml, fake_gpu
from mle_ci.hardware.sampler import CSV_HEADER, GpuSampler
from mle_ci.hardware.usage import GIB, IdleDetector, IdleEvent, summarise_usage

FAST = 0.02


def wait_for(condition: Callable[[], bool], limit: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail after a generous ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture
def started() -> Iterator[list[GpuSampler]]:
    """Samplers a test starts, stopped at the end whatever happens."""
    samplers: list[GpuSampler] = []
    yield samplers
    for sampler in samplers:
        sampler.stop()


def backend(*gpus: int, **kwargs: object) -> FakeNvml:
    """An initialised fake with GPUs at these constant utilizations (5.0 GiB used each)."""
    fake = FakeNvml(
        [fake_gpu(i, load=lambda _ts, u=u: float(u), memory_used_bytes=5 * GIB) for i, u in enumerate(gpus)],
        **kwargs,  # type: ignore[arg-type]
    )
    fake.init()
    return fake


def start(started: list[GpuSampler], fake: FakeNvml, **kwargs: object) -> GpuSampler:
    options: dict[str, object] = {"interval": FAST, "started_at": time.time(), **kwargs}
    sampler = GpuSampler(fake, range(len(fake.gpus)), **options)  # type: ignore[arg-type]
    started.append(sampler)
    sampler.start()
    return sampler


def test_csv_has_the_header_and_parseable_rows(tmp_path: Path, started: list[GpuSampler]) -> None:
    """Every sample is a row of gpu.csv as it goes: ISO UTC time, GPU, percent, MiB, °C, W, empty error."""
    path = tmp_path / "out" / "gpu.csv"
    sampler = start(started, backend(87, 3), csv_path=path)
    wait_for(lambda: len(sampler.samples()) >= 6)
    # Flushed each round: readable while the sampler still writes.
    header, rows = read_rows(path)
    assert tuple(header) == CSV_HEADER
    assert len(rows) >= 2
    sampler.stop()
    header, rows = read_rows(path)
    assert len(rows) == len(sampler.samples())
    assert {row["gpu"] for row in rows} == {"0", "1"}
    for row in rows:
        stamp = datetime.fromisoformat(row["timestamp"])
        assert row["timestamp"].endswith("Z")
        assert stamp.utcoffset() is not None
        assert stamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert float(row["utilization_pct"]) == (87.0 if row["gpu"] == "0" else 3.0)
        assert int(row["memory_used_mib"]) == 5 * 1024
        assert int(row["memory_total_mib"]) == 80 * 1024
        assert (row["temperature_c"], row["power_w"], row["error"]) == ("40", "70.0", "")


def test_nvml_failing_mid_run_gives_error_rows_not_a_crash(tmp_path: Path, started: list[GpuSampler]) -> None:
    """After NVML starts failing, each round is an error row, errors() names it once, and the thread keeps going."""
    path = tmp_path / "gpu.csv"
    fake = backend(50, fail_samples_after=3)
    sampler = start(started, fake, csv_path=path)
    wait_for(lambda: fake.samples_taken >= 8)
    assert sampler.alive()
    assert sampler.errors() == ("fake NVML sample failure: unknown",)
    latest = sampler.latest()
    assert latest[0].error == "fake NVML sample failure: unknown"
    assert latest[0].utilization is None
    sampler.stop()
    assert not sampler.alive()
    _, rows = read_rows(path)
    assert [row["error"] for row in rows[:3]] == ["", "", ""]
    assert all(row["error"] == "fake NVML sample failure: unknown" for row in rows[3:])
    assert all(row["utilization_pct"] == "" for row in rows[3:])
    assert len(rows) >= 8


def test_a_backend_bug_is_recorded_too(started: list[GpuSampler]) -> None:
    """An exception that is not an NvmlError does not escape the thread either."""

    class Broken(FakeNvml):
        def sample(self, index: int) -> GpuSample:
            raise RuntimeError("boom")

    fake = Broken([fake_gpu(0)])
    fake.init()
    sampler = start(started, fake)
    wait_for(lambda: len(sampler.samples()) >= 3)
    assert sampler.errors() == ("RuntimeError: boom",)
    assert sampler.alive()


def test_stop_is_immediate_and_idempotent(started: list[GpuSampler]) -> None:
    """Stopping does not wait out the interval; stopping twice, or a sampler never started, is fine."""
    sampler = start(started, backend(10), interval=60.0)
    wait_for(lambda: len(sampler.latest()) == 1)  # the first round runs at once
    began = time.monotonic()
    sampler.stop()
    assert time.monotonic() - began < 1.0
    assert not sampler.alive()
    sampler.stop()
    GpuSampler(backend(10), [0], started_at=0.0).stop()


def test_latest_gives_the_last_sample_of_each_gpu(started: list[GpuSampler]) -> None:
    """latest() is one sample per GPU, in index order, with that GPU's reading."""
    sampler = start(started, backend(87, 3, 55))
    wait_for(lambda: len(sampler.samples()) >= 9)
    latest = sampler.latest()
    assert [s.index for s in latest] == [0, 1, 2]
    assert [s.utilization for s in latest] == [87.0, 3.0, 55.0]
    assert all(s.ts >= t.ts for s in latest for t in sampler.samples() if t.index == s.index)


def test_on_idle_fires_once_for_the_idle_gpu_only(started: list[GpuSampler]) -> None:
    """An idle GPU beside a busy one: on_idle is called once, from the thread, for the idle one."""
    events: list[IdleEvent] = []
    detector = IdleDetector(warmup=0.0, window=0.1)
    sampler = start(started, backend(90, 0), detector=detector, on_idle=events.append)
    wait_for(lambda: bool(events))
    rounds = len(sampler.samples())
    wait_for(lambda: len(sampler.samples()) >= rounds + 10)
    sampler.stop()
    assert [event.index for event in events] == [1]
    assert events[0].seconds >= 0.1
    assert detector.idle_map().keys() == {1}
    assert sampler.errors() == ()


def test_no_idle_event_while_the_child_is_not_running(started: list[GpuSampler]) -> None:
    """set_child_running(False) stops idle time from counting."""
    events: list[IdleEvent] = []
    fake = backend(0)
    sampler = GpuSampler(
        fake,
        [0],
        interval=FAST,
        detector=IdleDetector(warmup=0.0, window=0.05),
        started_at=time.time(),
        on_idle=events.append,
    )
    started.append(sampler)
    sampler.set_child_running(False)
    sampler.start()
    wait_for(lambda: len(sampler.samples()) >= 10)
    assert events == []
    sampler.set_child_running(True)
    wait_for(lambda: bool(events))


def test_a_failing_callback_is_recorded_and_sampling_goes_on(started: list[GpuSampler]) -> None:
    """An exception from on_idle lands in errors(), not in the thread's traceback."""

    def explode(_event: IdleEvent) -> None:
        raise ValueError("callback bug")

    sampler = start(started, backend(0), detector=IdleDetector(warmup=0.0, window=0.0), on_idle=explode)
    wait_for(lambda: bool(sampler.errors()))
    rounds = len(sampler.samples())
    wait_for(lambda: len(sampler.samples()) > rounds)
    assert sampler.errors() == ("on_idle: ValueError: callback bug",)


def test_csv_that_cannot_be_opened_leaves_sampling_running(tmp_path: Path, started: list[GpuSampler]) -> None:
    """A CSV path that is a folder is an error entry; samples are still taken."""
    sampler = start(started, backend(20), csv_path=tmp_path)
    wait_for(lambda: len(sampler.samples()) >= 3)
    (error,) = sampler.errors()
    assert error.startswith("gpu.csv: ")


def test_a_write_error_mid_run_is_recorded(
    tmp_path: Path, started: list[GpuSampler], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows that fail to write become one error entry; later rows are still written."""
    real_row = sampler_module.csv_row
    calls = itertools.count()

    def flaky(sample: GpuSample) -> list[str]:
        if 3 <= next(calls) < 6:
            raise OSError(28, "No space left on device")
        return real_row(sample)

    monkeypatch.setattr(sampler_module, "csv_row", flaky)
    path = tmp_path / "gpu.csv"
    sampler = start(started, backend(20), csv_path=path)
    wait_for(lambda: len(sampler.samples()) >= 10)
    sampler.stop()
    assert sampler.errors() == ("gpu.csv: [Errno 28] No space left on device",)
    _, rows = read_rows(path)
    assert 4 <= len(rows) <= len(sampler.samples()) - 3


def test_memory_is_bounded_by_thinning_evenly() -> None:
    """Past max_samples, every other round goes and later rounds are kept at the new spacing."""
    ticks = itertools.count()
    fake = FakeNvml([fake_gpu(0), fake_gpu(1)], clock=lambda: float(next(ticks)))
    fake.init()
    sampler = GpuSampler(fake, [0, 1], max_samples=10, started_at=0.0)
    for _ in range(100):
        sampler.sample_once()
    kept = sampler.samples()
    assert len(kept) <= 10
    rounds = sorted({int(s.ts) // 2 for s in kept})  # two GPUs, two ticks a round
    assert rounds[0] == 0
    gaps = {b - a for a, b in itertools.pairwise(rounds)}
    assert len(gaps) == 1
    assert rounds[-1] + gaps.pop() >= 100 - 32  # the kept rounds reach the end of the run
    assert [s.index for s in kept] == [0, 1] * (len(kept) // 2)
    assert len(sampler.latest()) == 2


def test_sample_once_without_a_thread(tmp_path: Path) -> None:
    """Rounds can be driven by the caller: each returns the samples and writes its rows."""
    path = tmp_path / "gpu.csv"
    sampler = GpuSampler(backend(7, 8), [0, 1], csv_path=path, started_at=0.0)
    taken = sampler.sample_once()
    assert [s.utilization for s in taken] == [7.0, 8.0]
    sampler.stop()
    _, rows = read_rows(path)
    assert len(rows) == 2


def test_nonsense_interval_is_rejected() -> None:
    """An interval must be positive."""
    with pytest.raises(ValueError):
        GpuSampler(backend(1), [0], interval=0, started_at=0.0)


@pytest.fixture
def real_nvml() -> Iterator[RealNvml]:
    """NVML of this machine, or a skip when there is no NVIDIA GPU."""
    nvml = RealNvml()
    try:
        nvml.init()
        count = nvml.device_count()
    except NvmlError as exc:
        pytest.skip(f"no NVIDIA GPU: {exc.message}")
    if count == 0:
        nvml.shutdown()
        pytest.skip("NVML sees no GPU")
    yield nvml
    nvml.shutdown()


MATMUL = """
import sys, time, torch
x = torch.randn(8192, 8192, device="cuda")
(x @ x).sum().item()
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    for _ in range(10):
        y = x @ x
    torch.cuda.synchronize()
"""


@pytest.mark.gpu
def test_real_sampler_sees_a_matmul_loop(real_nvml: RealNvml, tmp_path: Path) -> None:
    """While a child multiplies matrices on the GPU, some GPU's mean utilization is above 30 %."""
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    indices = list(range(real_nvml.device_count()))
    child = subprocess.Popen([sys.executable, "-c", MATMUL, "6"], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "ready"  # CUDA start-up is not part of the measurement
        sampler = GpuSampler(real_nvml, indices, interval=0.25, csv_path=tmp_path / "gpu.csv", started_at=time.time())
        sampler.start()
        try:
            assert child.wait(timeout=120) == 0
        finally:
            sampler.stop()
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
    usages = summarise_usage(sampler.samples(), [real_nvml.device(i) for i in indices])
    assert sampler.errors() == ()
    assert max(u.util_mean or 0.0 for u in usages) > 30.0, usages


@pytest.mark.gpu
def test_real_sampler_flags_a_sleeping_child(real_nvml: RealNvml) -> None:
    """A child that only sleeps leaves the GPU idle: the detector fires."""
    events: list[IdleEvent] = []
    indices = list(range(real_nvml.device_count()))
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    sampler = GpuSampler(
        real_nvml,
        indices,
        interval=0.1,
        detector=IdleDetector(warmup=0.5, window=1.5),
        started_at=time.time(),
        on_idle=events.append,
    )
    sampler.start()
    try:
        child.wait(timeout=30)
    finally:
        sampler.set_child_running(False)
        sampler.stop()
        if child.poll() is None:
            child.kill()
            child.wait()
    assert events, f"no idle event; latest readings {sampler.latest()}"
    assert all(event.seconds >= 1.5 for event in events)
