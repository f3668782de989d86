from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mle_ci.hardware.model import GpuSample
from mle_ci.hardware.nvml import fake_gpu
from mle_ci.hardware.usage import (
    GIB,
    IdleDetector,
    IdleEvent,
    format_gpu_status,
    nearest_rank,
    summarise_usage,
    timeline,
)

H100 = fake_gpu(0).info
SECOND = fake_gpu(1).info


def sample(
    ts: float, util: float | None, index: int = 0, memory: int | None = GIB, error: str | None = None
) -> GpuSample:
    return GpuSample(
        ts=ts,
        index=index,
        utilization=util,
        memory_used_bytes=memory,
        memory_total_bytes=80 * GIB,
        error=error,
    )


def test_statistics_match_hand_computed_values() -> None:
    """Mean, median, nearest-rank p95, peak memory and the sample count of one GPU."""
    samples = [sample(t, u, memory=m * GIB) for t, (u, m) in enumerate([(10, 1), (20, 3), (30, 2), (40, 5), (100, 4)])]
    (usage,) = summarise_usage(samples, [H100])
    assert usage.index == 0
    assert usage.name == "NVIDIA H100 80GB HBM3"
    assert usage.samples == 5
    assert usage.util_mean == 40.0
    assert usage.util_median == 30.0
    assert usage.util_p95 == 100.0
    assert usage.memory_peak_bytes == 5 * GIB
    assert usage.memory_total_bytes == H100.memory_total_bytes
    assert (usage.idle, usage.idle_seconds) == (False, 0.0)


def test_p95_is_the_nearest_rank_an_observed_value() -> None:
    """p95 of 1..20 is the 19th value; of 10 values the largest; p50 of 4 values the 2nd; never interpolated."""
    assert nearest_rank([float(v) for v in range(20, 0, -1)], 95) == 19.0
    assert nearest_rank([float(v) for v in range(10)], 95) == 9.0
    assert nearest_rank([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert nearest_rank([7.0], 95) == 7.0
    assert nearest_rank([1.0, 2.0], 100) == 2.0


@pytest.mark.parametrize(("values", "percent"), [([], 95), ([1.0], 0), ([1.0], 101)])
def test_nearest_rank_rejects_nonsense(values: list[float], percent: float) -> None:
    """No values or a percent outside (0, 100] is a programming error."""
    with pytest.raises(ValueError):
        nearest_rank(values, percent)


@given(st.lists(st.floats(0, 100), min_size=1, max_size=200))
def test_p95_lies_between_median_and_max(utils: list[float]) -> None:
    """For any readings, median <= p95 <= max, and p95 is one of them."""
    (usage,) = summarise_usage([sample(i, u) for i, u in enumerate(utils)], [H100])
    assert usage.util_median is not None
    assert usage.util_p95 is not None
    assert usage.util_median <= usage.util_p95 <= max(utils)
    assert usage.util_p95 in utils


def test_error_and_empty_samples_count_nowhere() -> None:
    """NVML errors and missing utilization are left out of the count and every figure."""
    samples = [
        sample(0, 50),
        sample(1, None, memory=70 * GIB),
        sample(2, None, memory=None, error="NVMLError_Unknown: Unknown Error"),
        sample(3, 70),
    ]
    (usage,) = summarise_usage(samples, [H100])
    assert usage.samples == 2
    assert usage.util_mean == 60.0
    assert usage.memory_peak_bytes == GIB
    assert usage.timeline == (50.0, 70.0)


def test_a_gpu_without_readings_still_has_a_row() -> None:
    """A GPU that only failed (or was never sampled) reports zero samples and no figures, with its total memory."""
    usages = summarise_usage([sample(0, None, error="lost")], [H100, SECOND])
    assert [u.index for u in usages] == [0, 1]
    assert all(u.samples == 0 and u.util_mean is None and u.util_p95 is None for u in usages)
    assert all(u.memory_peak_bytes is None and u.timeline == () for u in usages)
    assert usages[1].memory_total_bytes == SECOND.memory_total_bytes


def test_gpus_follow_the_infos_then_unknown_ones() -> None:
    """GPUs come in the order of ``infos``; a sampled GPU missing from them comes last, named unknown."""
    usages = summarise_usage([sample(0, 10, index=5), sample(0, 20, index=1), sample(0, 30)], [SECOND, H100])
    assert [(u.index, u.name, u.util_mean) for u in usages] == [
        (1, SECOND.name, 20.0),
        (0, H100.name, 30.0),
        (5, "unknown", 10.0),
    ]
    assert usages[2].memory_total_bytes == 80 * GIB


def test_idle_mapping_flags_gpus() -> None:
    """A GPU in ``idle`` is flagged with its seconds; the others are not."""
    usages = summarise_usage([sample(0, 1), sample(0, 90, index=1)], [H100, SECOND], idle={0: 120.0})
    assert [(u.idle, u.idle_seconds) for u in usages] == [(True, 120.0), (False, 0.0)]


def test_timeline_averages_into_equal_time_buckets() -> None:
    """120 samples a second apart fall into 60 buckets of two: each value is the mean of a pair."""
    samples = [sample(float(t), float(t % 100)) for t in range(120)]
    line = timeline(samples, 60)
    assert len(line) == 60
    assert line[0] == 0.5
    assert line[10] == 20.5
    assert line[59] == 18.5  # samples 118 and 119 read 18 and 19


def test_timeline_with_few_samples_keeps_each_one() -> None:
    """Fewer regular samples than buckets give one value per sample; one sample gives one value."""
    assert timeline([sample(t * 5.0, u) for t, u in enumerate([10.0, 20.0, 30.0, 40.0])], 60) == (10, 20, 30, 40)
    assert timeline([sample(3.0, 42.25)], 60) == (42.2,)
    assert timeline([], 60) == ()


def test_timeline_repeats_the_previous_value_over_a_gap() -> None:
    """A stretch without samples (NVML errors) repeats the value before it, keeping the time axis."""
    samples = [sample(0, 10), sample(1, 20), sample(2, None, error="x"), sample(3, None, error="x"), sample(4, 50)]
    # Three good samples over 4 s: buckets [0, 1.33) [1.33, 2.67) [2.67, 4]; the middle one is empty.
    assert timeline(samples, 3) == (15.0, 15.0, 50.0)


def test_timeline_rejects_zero_buckets() -> None:
    """At least one bucket."""
    with pytest.raises(ValueError):
        timeline([sample(0, 1)], 0)


@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 100)), max_size=300), st.integers(1, 80))
def test_timeline_never_exceeds_its_buckets(points: list[tuple[float, float]], buckets: int) -> None:
    """At most ``buckets`` values, each within the readings' range."""
    line = timeline([sample(ts, u) for ts, u in points], buckets)
    assert len(line) <= buckets
    assert len(line) == (min(buckets, len(points)) if points else 0) or len(line) == 1
    if points:
        low, high = min(u for _, u in points), max(u for _, u in points)
        assert all(round(low, 1) - 0.05 <= v <= round(high, 1) + 0.05 for v in line)


def test_gpu_status_for_the_heartbeat() -> None:
    """One GPU reads ``GPU 87 % 5.2/80 GB``; several are numbered; none is empty; a failed reading is n/a."""
    one = sample(0, 87.4, memory=int(5.2 * GIB))
    assert format_gpu_status([one]) == "GPU 87 % 5.2/80 GB"
    two = [sample(0, 3, index=1, memory=int(0.4 * GIB)), one]
    assert format_gpu_status(two) == "GPU0 87 % 5.2/80 GB, GPU1 3 % 0.4/80 GB"
    assert format_gpu_status([]) == ""
    assert format_gpu_status([sample(0, None, error="lost")]) == "GPU n/a"
    assert format_gpu_status([sample(0, 12, memory=None)]) == "GPU 12 %"


def feed_all(
    detector: IdleDetector, readings: list[tuple[float, float]], *, running: bool = True, started_at: float = 0.0
) -> list[IdleEvent]:
    """Feed (ts, utilization) readings of GPU 0; the events returned."""
    events = [detector.feed(sample(ts, util), running, started_at) for ts, util in readings]
    return [event for event in events if event is not None]


def test_idle_counts_only_after_the_warmup() -> None:
    """Idle readings during the warm-up count for nothing; the stretch starts at the first one after it."""
    detector = IdleDetector(warmup=10, window=5)
    assert feed_all(detector, [(float(t), 0.0) for t in range(15)]) == []
    assert detector.idle_seconds(0) == 4.0
    assert feed_all(detector, [(15.0, 0.0)]) == [IdleEvent(index=0, since=10.0, seconds=5.0, threshold=5.0)]


def test_a_busy_reading_resets_the_stretch() -> None:
    """One reading at or above the threshold ends the stretch; the next one starts afresh."""
    detector = IdleDetector(warmup=0, window=5)
    readings = [(0.0, 0.0), (1.0, 1.0), (2.0, 4.9), (3.0, 2.0), (4.0, 5.0), *((float(t), 0.0) for t in range(5, 10))]
    assert feed_all(detector, readings) == []
    assert detector.idle_seconds(0) == 4.0
    (event,) = feed_all(detector, [(10.0, 0.0)])
    assert (event.since, event.seconds) == (5.0, 5.0)


def test_fires_once_per_gpu_and_keeps_measuring() -> None:
    """An idle GPU fires once; its longest stretch keeps growing; another GPU fires on its own."""
    detector = IdleDetector(warmup=0, window=3, threshold=10)
    events = feed_all(detector, [(float(t), 0.0) for t in range(20)])
    assert len(events) == 1
    assert events[0].threshold == 10
    assert detector.idle_seconds(0) == 19.0
    assert detector.idle_seconds(1) == 0.0
    other = [detector.feed(sample(float(t), 0.0, index=1), True, 0.0) for t in range(5)]
    assert [e.index for e in other if e is not None] == [1]
    assert [e.index for e in detector.events] == [0, 1]
    assert detector.idle_map() == {0: 19.0, 1: 4.0}


def test_idle_counts_only_while_the_child_runs() -> None:
    """Without a running child nothing counts, and a pause of the child ends the stretch."""
    detector = IdleDetector(warmup=0, window=3)
    assert feed_all(detector, [(float(t), 0.0) for t in range(10)], running=False) == []
    assert detector.idle_seconds(0) == 0.0
    assert feed_all(detector, [(10.0, 0.0), (11.0, 0.0), (12.0, 0.0)]) == []
    assert feed_all(detector, [(13.0, 0.0)], running=False) == []
    assert feed_all(detector, [(14.0, 0.0), (15.0, 0.0), (16.0, 0.0)]) == []
    assert len(feed_all(detector, [(17.0, 0.0)])) == 1


def test_an_nvml_error_ends_the_stretch() -> None:
    """An unknown reading is not an idle one: a failed sample ends the stretch."""
    detector = IdleDetector(warmup=0, window=3)
    feed_all(detector, [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)])
    assert detector.feed(sample(3.0, None, error="lost"), True, 0.0) is None
    assert feed_all(detector, [(4.0, 0.0), (5.0, 0.0), (6.0, 0.0)]) == []
    assert detector.idle_seconds(0) == 2.0


def test_a_clock_stepping_back_does_not_stretch_idleness() -> None:
    """A reading older than the last one restarts the stretch instead of lengthening it."""
    detector = IdleDetector(warmup=0, window=3)
    assert feed_all(detector, [(100.0, 0.0), (102.0, 0.0), (50.0, 0.0), (52.0, 0.0)]) == []
    assert detector.idle_seconds(0) == 2.0


@pytest.mark.parametrize("kwargs", [{"warmup": -1, "window": 1}, {"warmup": 0, "window": -1}, {"threshold": 0}])
def test_detector_rejects_nonsense_settings(kwargs: dict[str, float]) -> None:
    """Negative times or a threshold outside (0, 100] are programming errors."""
    settings = {"warmup": 0.0, "window": 1.0, **kwargs}
    with pytest.raises(ValueError):
        IdleDetector(**settings)


@given(
    st.lists(st.tuples(st.floats(0, 60), st.floats(5, 100), st.booleans()), max_size=200),
    st.floats(0, 30),
    st.floats(0, 30),
)
def test_never_fires_when_every_reading_is_busy(
    steps: list[tuple[float, float, bool]], warmup: float, window: float
) -> None:
    """Whatever the timing and the child's state, readings at or above the threshold never make an event."""
    detector = IdleDetector(warmup=warmup, window=window, threshold=5.0)
    ts = 0.0
    for step, util, running in steps:
        ts += step
        assert detector.feed(sample(ts, util), running, 0.0) is None
    assert detector.events == ()
    assert detector.idle_seconds(0) == 0.0
