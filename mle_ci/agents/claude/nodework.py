"""Where a search node works and what it measured: its own folder and variables, the relay of its commands' progress
lines, and the fold scores its events report.

A node's commands (``bash`` or ``start_job``) run in the node's folder with its id in ``contract.NODE``, so that
the progress API tags their events; the lines they print are parsed here and reported tagged as well (the harness
leaves lines marked ``[node-N ...]`` to the agent), so a script run with ``bash`` reaches the reports as a job does.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from mle_ci import contract
from mle_ci.eventlog import BadLine, EventLogReader, append_event
from mle_ci.events import NODE_LINE_PREFIX, EpochEvent, FoldEvent, MetricEvent
from mle_ci.lineparser import parse_line

SUBMISSION_FOLDER = "submission"
"""The node's submission folder, inside its own folder: the submission folder its commands are given."""
CODE_SUFFIXES = (".py", ".sh", ".r", ".R", ".jl", ".yaml", ".yml", ".toml", ".cfg", ".json", ".ipynb", ".sql")
MAX_CODE_FILE = 100_000
MAX_CODE_FILES = 20
RELAYED_SOURCE = "agent"
"""The ``source`` of the events the agent parses from its nodes' lines (the harness skips only its own, ``line``)."""
UNSAFE_IN_LABEL = re.compile(r"[^A-Za-z0-9_.-]+")
"""What a job's name or a relayed line's tag may not hold (each run becomes one ``-``): labels go into file names
and the relayed lines' prefix."""


@dataclass(frozen=True)
class NodePlace:
    """One node's folder (its working directory, with its submission folder inside) and its device."""

    id: int
    folder: Path
    device: str | None = None
    """The CUDA ordinal the node is pinned to (``CUDA_VISIBLE_DEVICES``), or None: whatever the run has."""

    @property
    def submission_dir(self) -> Path:
        return self.folder / SUBMISSION_FOLDER

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """The variables of the node's commands: the run's, with the node, its submission folder and its device."""
        env = dict(base)
        env[contract.NODE] = str(self.id)
        env[contract.SUBMISSION_DIR] = str(self.submission_dir)
        if self.device is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.device
            env[contract.GPU_COUNT] = "1"
        return env


def device_label(device: str | None, run_device: str | None) -> str:
    """How a node's device is shown: ``cuda:N`` when it is pinned to one GPU, else the run's device."""
    return f"cuda:{device}" if device is not None else run_device or "cpu"


def node_devices(plan: Mapping[str, str], environ: Mapping[str, str]) -> tuple[str | None, ...]:
    """The slots nodes run in at once: one per visible GPU when there are several, else one unpinned slot."""
    if plan.get(contract.DEVICE) != "cuda":
        return (None,)
    visible = [d.strip() for d in environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    try:
        count = int(plan.get(contract.GPU_COUNT, "1"))
    except ValueError:
        count = 1
    devices = visible[:count] if visible else [str(i) for i in range(count)]
    return tuple(devices) if len(devices) > 1 else (None,)


class Relay:
    """Echoes a node's output lines (``[node-N tag] line``) and reports the progress they hold, tagged with the node."""

    def __init__(self, node: int, events: Path | None, echo: IO[str] | None = None, lock: threading.Lock | None = None):
        self._node = node
        self._events = events
        self._echo = echo if echo is not None else sys.stdout
        self._lock = lock or threading.Lock()

    def lines(self, tag: str, text: str) -> None:
        label = UNSAFE_IN_LABEL.sub("-", tag)[:30]
        for line in text.splitlines():
            self.line(label, line)

    def line(self, tag: str, text: str) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            print(f"{NODE_LINE_PREFIX}{self._node} {tag}] {text}", file=self._echo, flush=True)
        event = parse_line(text, time.time())
        if event is None or self._events is None:
            return
        with contextlib.suppress(OSError):
            append_event(self._events, replace(event, node=self._node, source=RELAYED_SOURCE))


@dataclass
class _Measured:
    folds: dict[int, float] = field(default_factory=dict)
    reported: float | None = None
    times: list[float] = field(default_factory=list)
    """When each of its progress events (epoch, fold, metric) was reported."""


class NodeScores:
    """Fold scores and reported CV scores per node, read from the run's events file as it grows."""

    def __init__(self, events: Path | None) -> None:
        self._reader = EventLogReader(events) if events is not None else None
        self._nodes: dict[int, _Measured] = {}
        self._lock = threading.Lock()

    def of(self, node: int) -> tuple[tuple[float, ...], float | None]:
        """The node's fold scores in fold order and the CV score it reported (None when it named none)."""
        with self._lock:
            self._read()
            measured = self._nodes.get(node, _Measured())
            return tuple(measured.folds[k] for k in sorted(measured.folds)), measured.reported

    def reported_between(self, node: int, start: float, end: float) -> bool:
        """Whether the node reported any progress between ``start`` and ``end`` (one of its commands ran then)."""
        with self._lock:
            self._read()
            measured = self._nodes.get(node)
            return measured is not None and any(start <= ts <= end for ts in measured.times)

    def _read(self) -> None:
        if self._reader is None:
            return
        for item in self._reader.read_new():
            if isinstance(item, BadLine) or item.node is None:
                continue
            measured = self._nodes.setdefault(item.node, _Measured())
            if isinstance(item, FoldEvent | EpochEvent | MetricEvent):
                measured.times.append(item.ts)
            if isinstance(item, FoldEvent):
                measured.folds[item.fold] = item.score
            elif isinstance(item, MetricEvent) and item.value is not None:
                measured.reported = item.value


def code_snapshot(folder: Path) -> tuple[tuple[str, str], ...]:
    """The node's code as ``(relative path, text)``: its source files in path order (20 at most, none over 100 kB)."""
    found: list[tuple[str, str]] = []
    skip = folder / SUBMISSION_FOLDER
    for path in sorted(folder.rglob("*")):
        if len(found) >= MAX_CODE_FILES:
            break
        if skip in path.parents or path.suffix not in CODE_SUFFIXES or path.is_symlink() or not path.is_file():
            continue
        with contextlib.suppress(OSError):
            if path.stat().st_size <= MAX_CODE_FILE:
                found.append((str(path.relative_to(folder)), path.read_text(encoding="utf-8", errors="replace")))
    return tuple(found)
