"""Background jobs: long commands in their own process group, output to a log file and relayed as their node's."""

from __future__ import annotations

import collections
import contextlib
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mle_ci.agents.claude.nodework import UNSAFE_IN_LABEL, Relay
from mle_ci.agents.claude.processes import BASH, stop_group
from mle_ci.agents.claude.workspace import ToolError
from mle_ci.contract import EventType
from mle_ci.events import PROGRESS_LINE_PREFIX

TAIL_LINES = 20
MAX_JOBS = 8


@dataclass
class Job:
    """One background command and what is known of it so far."""

    id: str
    name: str
    command: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=TAIL_LINES))
    ended: float | None = None
    stopped: bool = False
    pump: threading.Thread | None = None
    relay: Relay | None = None
    """Where the lines of a search node's job go (echoed as the node's, their progress reported tagged with it)."""
    node: int | None = None

    def state(self) -> str:
        code = self.process.poll()
        if code is None:
            return "running"
        if self.ended is None:
            self.ended = time.time()
        if self.stopped:
            return f"stopped (exit code {code})"
        return "succeeded" if code == 0 else f"failed (exit code {code})"


_TRAINING_EVENTS = (EventType.EPOCH, EventType.FOLD, EventType.FOLD_START)
"""The events a job's training reports, shown to the model with the job's output."""


def gpu_now(run: Callable[..., Any] = subprocess.run, which: Callable[[str], str | None] = shutil.which) -> str:
    """GPU use at this moment from nvidia-smi, or ``no GPU`` where there is none."""
    if which("nvidia-smi") is None:
        return "no GPU (nvidia-smi not found)"
    query = "index,utilization.gpu,memory.used,memory.total"
    try:
        done = run(
            ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"GPU use unknown: {exc}"
    if done.returncode != 0:
        return f"GPU use unknown: nvidia-smi exit {done.returncode}"
    rows = []
    for line in done.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 4:
            rows.append(f"GPU {parts[0]}: {parts[1]}% busy, {parts[2]}/{parts[3]} MiB")
    return "; ".join(rows) or "no GPU listed by nvidia-smi"


def job_events(events: Path | None, since: float, limit: int = 5, node: int | None = None) -> list[str]:
    """The latest epoch and fold events written to the run's events file since ``since`` (of ``node`` when given:
    nodes in parallel write the same file), one line each."""
    if events is None or not events.is_file():
        return []
    found: list[str] = []
    with contextlib.suppress(OSError), events.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if not isinstance(data, dict) or data.get("type") not in (
                EventType.EPOCH,
                EventType.FOLD,
                EventType.FOLD_START,
            ):
                continue
            if not isinstance(data.get("ts"), int | float) or data["ts"] < since:
                continue
            if node is not None and data.get("node") != node:
                continue
            found.append(" ".join(f"{k}={v}" for k, v in data.items() if k not in ("v", "ts", "source", "node")))
    return found[-limit:]


class Jobs:
    """Starts, watches and stops the agent's background jobs; each job's lines are echoed to ``echo``."""

    def __init__(
        self,
        *,
        folder: Path,
        cwd: Path,
        env: Mapping[str, str],
        events: Path | None,
        redact: Callable[[str], str],
        echo: IO[str] | None = None,
    ) -> None:
        self._folder = folder
        self._cwd = cwd
        self._env = dict(env)
        self._events = events
        self._redact = redact
        self._echo = echo if echo is not None else sys.stdout
        self._echo_lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def start(
        self,
        command: str,
        name: str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        relay: Relay | None = None,
        node: int | None = None,
    ) -> Job:
        """Start ``command`` in the background: by default in the run's folder with its variables; a search node's
        job runs in the node's folder with the node's variables, and its lines go through the node's relay."""
        if not command.strip():
            raise ToolError("start_job needs a command")
        running = [j for j in self._jobs.values() if j.state() == "running"]
        if len(running) >= MAX_JOBS:
            raise ToolError(f"{len(running)} jobs are running already (at most {MAX_JOBS}): stop one first")
        label = UNSAFE_IN_LABEL.sub("-", name.strip())[:24] or "job"
        job_id = f"job-{len(self._jobs) + 1}"
        self._folder.mkdir(parents=True, exist_ok=True)
        log = self._folder / f"{job_id}-{label}.log"
        process = subprocess.Popen(
            [BASH, "-c", command],
            cwd=cwd or self._cwd,
            env=dict(env) if env is not None else self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        job = Job(
            id=job_id,
            name=label,
            command=command,
            process=process,
            log=log,
            started=time.time(),
            relay=relay,
            node=node,
        )
        job.pump = threading.Thread(target=self._pump, args=(job,), name=f"pump-{job_id}", daemon=True)
        job.pump.start()
        self._jobs[job_id] = job
        return job

    def _pump(self, job: Job) -> None:
        """Copy the job's output to its log file, its tail, and the agent's stdout (where the harness parses it)."""
        assert job.process.stdout is not None
        tag = f"[{job.id} {job.name}]"[:40]
        with job.log.open("w", encoding="utf-8") as log:
            for raw in job.process.stdout:
                line = self._redact(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                log.write(line + "\n")
                log.flush()
                job.tail.append(line)
                if job.relay is not None:
                    job.relay.line(f"{job.id} {job.name}", line)
                    continue
                # Progress API lines are passed as they are: the harness skips them (their event is in the file).
                shown = line if line.startswith(PROGRESS_LINE_PREFIX) else f"{tag} {line}"
                with self._echo_lock, contextlib.suppress(OSError, ValueError):
                    print(shown, file=self._echo, flush=True)
        job.process.stdout.close()
        job.process.wait()

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id.strip())
        if job is None:
            known = ", ".join(self._jobs) or "none started"
            raise ToolError(f"no job {job_id!r} (jobs: {known})")
        return job

    def status(self, job_id: str, *, gpu: Callable[[], str] = gpu_now) -> str:
        job = self.get(job_id)
        state = job.state()
        elapsed = (job.ended or time.time()) - job.started
        lines = [
            f"{job.id} ({job.name}): {state}, {elapsed:.0f}s elapsed",
            f"command: {job.command}",
            f"log: {job.log}",
        ]
        events = job_events(self._events, job.started, node=job.node)
        lines.append("latest progress events: " + ("; ".join(events) if events else "none yet"))
        lines.append(f"GPU now: {gpu()}")
        lines.append(f"last {len(job.tail)} log lines:")
        lines.extend(job.tail)
        return "\n".join(lines)

    def stop(self, job_id: str) -> str:
        job = self.get(job_id)
        if job.state() == "running":
            job.stopped = True
            stop_group(job.process)
        self._join(job)
        return f"{job.id} ({job.name}): {job.state()}"

    def running(self, node: int | None = None) -> list[Job]:
        """The jobs still running (of ``node`` when given)."""
        return [job for job in self._jobs.values() if job.state() == "running" and (node is None or job.node == node)]

    def of_node(self, node: int) -> list[Job]:
        return [job for job in self._jobs.values() if job.node == node]

    def stop_node(self, node: int, grace: float = 5.0) -> list[str]:
        """Stop the node's running jobs (its time is up); the ids stopped."""
        stopped = []
        for job in self.running(node):
            job.stopped = True
            stop_group(job.process, grace)
            stopped.append(job.id)
        for job in self.of_node(node):
            self._join(job)
        return stopped

    def stop_all(self, grace: float = 5.0) -> list[str]:
        """Stop every running job (SIGTERM to its group, SIGKILL after ``grace``); the ids stopped."""
        stopped = []
        for job in self.running():
            job.stopped = True
            stop_group(job.process, grace)
            stopped.append(job.id)
        for job in self._jobs.values():
            self._join(job)
        return stopped

    @staticmethod
    def _join(job: Job) -> None:
        if job.pump is not None:
            job.pump.join(timeout=5)
