"""The GPU sampler: a daemon thread that samples every GPU each interval, writes ``gpu.csv`` and spots idle GPUs.

Nothing raised while sampling leaves the thread: an NVML failure becomes a row with its ``error`` column set and
an entry in :meth:`GpuSampler.errors`, a CSV write failure an entry there too, and sampling goes on each interval.
The backend must already be initialised; the sampler never shuts it down.
"""

from __future__ import annotations

import contextlib
import csv
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mle_ci.hardware.model import GpuSample
from mle_ci.hardware.nvml import NvmlBackend, NvmlError
from mle_ci.hardware.usage import IdleDetector, IdleEvent

CSV_HEADER = (
    "timestamp",
    "gpu",
    "utilization_pct",
    "memory_used_mib",
    "memory_total_mib",
    "temperature_c",
    "power_w",
    "error",
)
MAX_SAMPLES = 100_000
MAX_ERRORS = 20
_MIB = 1024**2


def iso_utc(ts: float, timespec: str = "milliseconds") -> str:
    """A Unix time as ISO-8601 UTC with a ``Z``: ``2026-11-25T18:00:05.123Z``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def csv_row(sample: GpuSample) -> list[str]:
    """One ``gpu.csv`` row (see :data:`CSV_HEADER`); absent values are empty cells."""

    def number(value: float | None, digits: int) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    def mib(value: int | None) -> str:
        return "" if value is None else str(round(value / _MIB))

    return [
        iso_utc(sample.ts),
        str(sample.index),
        number(sample.utilization, 0),
        mib(sample.memory_used_bytes),
        mib(sample.memory_total_bytes),
        number(sample.temperature_c, 0),
        number(sample.power_w, 1),
        sample.error or "",
    ]


class GpuSampler:
    """Samples GPUs ``indices`` every ``interval`` s on a daemon thread, or round by round via :meth:`sample_once`.

    Samples kept in memory are bounded by ``max_samples``: when full, every other sample round is dropped and from
    then on only every 2nd (then 4th, 8th...) round is kept, so the kept rounds still cover the whole run evenly.
    ``gpu.csv`` and the idle detector get every sample regardless.
    """

    def __init__(
        self,
        backend: NvmlBackend,
        indices: Sequence[int],
        *,
        interval: float = 5.0,
        csv_path: Path | None = None,
        detector: IdleDetector | None = None,
        started_at: float,
        clock: Callable[[], float] = time.time,
        on_idle: Callable[[IdleEvent], None] | None = None,
        max_samples: int = MAX_SAMPLES,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self._backend = backend
        self._indices = tuple(indices)
        self._interval = interval
        self._csv_path = csv_path
        self._detector = detector
        self._started_at = started_at
        self._clock = clock
        self._on_idle = on_idle
        self._max_rounds = max(1, max_samples // max(1, len(self._indices)))
        self._lock = threading.Lock()
        self._file_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child_running = True
        self._latest: dict[int, GpuSample] = {}
        self._rounds: list[tuple[GpuSample, ...]] = []
        self._round_number = 0
        self._keep_every = 1
        self._errors: list[str] = []
        self._file: TextIO | None = None
        self._csv_tried = False

    @property
    def interval(self) -> float:
        """Seconds between sample rounds."""
        return self._interval

    def start(self) -> None:
        """Open ``gpu.csv`` and start the sampling thread; its first round runs at once."""
        if self._thread is not None:
            return
        self._open_csv()
        self._thread = threading.Thread(target=self._run, name="mle-ci-gpu-sampler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread (waiting up to ``timeout`` s for a round in progress) and close ``gpu.csv``; idempotent."""
        self._stop.set()
        thread = self._thread
        # A thread still stuck in an NVML call after the timeout is left behind: a daemon, it ends with the process.
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._file_lock:
            if self._file is not None:
                try:
                    self._file.close()
                except OSError as exc:
                    self._record(f"gpu.csv: {exc}")
                self._file = None

    def alive(self) -> bool:
        """Whether the sampling thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def set_child_running(self, running: bool) -> None:
        """Tell the idle detector whether the child runs (idle time counts only while it does; it does until told)."""
        self._child_running = running

    def latest(self) -> tuple[GpuSample, ...]:
        """The last sample of each GPU (errors included), by GPU index; empty before the first round."""
        with self._lock:
            return tuple(self._latest[index] for index in sorted(self._latest))

    def samples(self) -> tuple[GpuSample, ...]:
        """The samples kept so far (errors included), in order; thinned evenly past ``max_samples``."""
        with self._lock:
            return tuple(sample for round_ in self._rounds for sample in round_)

    def errors(self) -> tuple[str, ...]:
        """The distinct errors seen (NVML, CSV, callback), the first :data:`MAX_ERRORS` of them."""
        with self._lock:
            return tuple(self._errors)

    def sample_once(self) -> tuple[GpuSample, ...]:
        """Take one round: sample every GPU, keep, write and judge the samples; never raises."""
        taken = tuple(self._sample(index) for index in self._indices)
        with self._lock:
            for sample in taken:
                self._latest[sample.index] = sample
            self._keep(taken)
        self._write(taken)
        self._judge(taken)
        return taken

    def _run(self) -> None:
        # Rounds keep to a fixed schedule; one that overran (a slow NVML call) pushes the next one back.
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception as exc:  # a bug here must not end the run's GPU sampling with a thread traceback
                self._record(f"GPU sampler: {type(exc).__name__}: {exc}")
            next_at = max(next_at + self._interval, time.monotonic())
            if self._stop.wait(next_at - time.monotonic()):
                break

    def _sample(self, index: int) -> GpuSample:
        try:
            return self._backend.sample(index)
        except NvmlError as exc:
            message = exc.message
        except Exception as exc:  # a backend bug must not end the sampling
            message = f"{type(exc).__name__}: {exc}"
        self._record(message)
        return GpuSample(
            ts=self._clock(),
            index=index,
            utilization=None,
            memory_used_bytes=None,
            memory_total_bytes=None,
            temperature_c=None,
            power_w=None,
            error=message,
        )

    def _keep(self, taken: tuple[GpuSample, ...]) -> None:
        if self._round_number % self._keep_every == 0:
            self._rounds.append(taken)
            if len(self._rounds) > self._max_rounds:
                # Kept rounds are those numbered k * keep_every from 0, so [::2] leaves k * 2 * keep_every.
                self._rounds = self._rounds[::2]
                self._keep_every *= 2
        self._round_number += 1

    def _record(self, message: str) -> None:
        with self._lock:
            if message not in self._errors and len(self._errors) < MAX_ERRORS:
                self._errors.append(message)

    def _open_csv(self) -> None:
        with self._file_lock:
            if self._csv_tried or self._csv_path is None:
                return
            self._csv_tried = True
            try:
                self._csv_path.parent.mkdir(parents=True, exist_ok=True)
                # newline="" as the csv module asks; each round is flushed so a killed run leaves whole rows.
                self._file = self._csv_path.open("w", encoding="utf-8", newline="")
                csv.writer(self._file).writerow(CSV_HEADER)
                self._file.flush()
            except OSError as exc:
                self._record(f"gpu.csv: {exc}")
                if self._file is not None:
                    with contextlib.suppress(OSError):
                        self._file.close()
                self._file = None

    def _write(self, taken: tuple[GpuSample, ...]) -> None:
        self._open_csv()
        with self._file_lock:
            if self._file is None:
                return
            try:
                csv.writer(self._file).writerows(csv_row(sample) for sample in taken)
                self._file.flush()
            except (OSError, ValueError) as exc:
                self._record(f"gpu.csv: {exc}")

    def _judge(self, taken: tuple[GpuSample, ...]) -> None:
        if self._detector is None:
            return
        for sample in taken:
            event = self._detector.feed(sample, self._child_running, self._started_at)
            if event is not None and self._on_idle is not None:
                try:
                    self._on_idle(event)
                except Exception as exc:  # nor must a bug in the callback
                    self._record(f"on_idle: {type(exc).__name__}: {exc}")
