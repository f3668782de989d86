"""Folds in parallel: one worker process per GPU (or per ``MLE_CI_PARALLEL_FOLDS`` on the CPU).

The decisions are pure (:func:`fold_workers`, :func:`worker_devices`, :func:`next_assignments`); the rest starts
workers, hands them folds and folds their results into the submission. Each worker is ``python -m`` this module
with its own ``CUDA_VISIBLE_DEVICES`` (one of the visible devices) and a private socket to the agent. Workers
append their epoch events to the run's events file themselves; the agent announces each fold, adds each finished
fold's test outputs to the ensemble and rewrites the submission atomically, so it is valid at every moment. A
fold starts only when the deadline rule says it can finish; SIGTERM to the agent is passed on to every worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait

import numpy as np
import torch
from numpy.typing import NDArray

from mle_ci import progress
from mle_ci.agents.baseline.data import Dataset
from mle_ci.agents.baseline.deadline import StopSignal, decide_fold
from mle_ci.agents.baseline.folds import fit_fold_models, record_fold
from mle_ci.agents.baseline.options import AgentOptions, OptionsError
from mle_ci.agents.baseline.selection import CandidateFit, Candidates
from mle_ci.agents.baseline.task import Competition, Task
from mle_ci.agents.baseline.train import TrainConfig

PARALLEL_VARIABLE = "MLE_CI_PARALLEL_FOLDS"
"""Worker processes for the folds; by default the plan's GPU count on CUDA, else 1 (folds one after another)."""
WORKER_FD_VARIABLE = "MLE_CI_FOLD_WORKER_FD"
STOP_WAIT = 8.0
"""Seconds the agent waits for stopped workers to report their folds (within the harness's 15 s grace)."""
EXIT_WAIT = 4.0
"""Seconds the agent then gives its workers to exit before it kills them."""

# --- decisions (pure) ---------------------------------------------------------------------------------------


def fold_workers(environ: Mapping[str, str], options: AgentOptions) -> int:
    """How many folds train at once: ``MLE_CI_PARALLEL_FOLDS``, else the GPU count on CUDA, at most the folds."""
    raw = environ.get(PARALLEL_VARIABLE, "").strip()
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            raise OptionsError(f"parallel-folds: {raw!r} is not a valid int") from None
        if wanted < 1:
            raise OptionsError(f"parallel-folds: must be at least 1, not {wanted}")
    else:
        cuda = (options.device or "").startswith("cuda")
        wanted = options.gpu_count or 1 if cuda else 1
    return max(1, min(wanted, options.folds))


def worker_devices(workers: int, *, cuda: bool, visible: str | None, gpu_count: int | None) -> tuple[str | None, ...]:
    """``CUDA_VISIBLE_DEVICES`` of each worker: the visible devices in turn, one each; None off CUDA."""
    if not cuda:
        return (None,) * workers
    listed = [d.strip() for d in (visible or "").split(",") if d.strip()]
    devices = listed or [str(i) for i in range(max(1, gpu_count or 1))]
    return tuple(devices[i % len(devices)] for i in range(workers))


@dataclass(frozen=True)
class Assignment:
    """Fold ``fold`` goes to worker ``worker``."""

    fold: int
    worker: int


def next_assignments(
    pending: Sequence[int], idle: Sequence[int], durations: Sequence[float], remaining: float, *, margin: float
) -> tuple[tuple[Assignment, ...], str | None]:
    """Which pending folds start now on which idle workers, or why none may start (the deadline).

    As one after another: before any fold has finished, a first fold starts on every idle worker while more than
    the margin is left; after that a fold starts only if the slowest one so far, padded, fits in the time left.
    """
    if not pending or not idle:
        return (), None
    decision = decide_fold(durations, remaining, margin=margin)
    if not decision.start:
        return (), decision.reason
    return tuple(Assignment(f, w) for f, w in zip(pending, idle, strict=False)), None


# --- messages between the agent and its workers -------------------------------------------------------------


@dataclass(frozen=True)
class WorkerJob:
    """What a worker trains with, sent once."""

    worker: int
    task: Task
    dataset: Dataset
    config: TrainConfig
    options: AgentOptions
    threads: int


@dataclass(frozen=True)
class FoldOrder:
    """Train fold ``fold`` on every row outside ``val_rows``."""

    fold: int
    val_rows: NDArray[np.int64]
    seed: int


@dataclass(frozen=True)
class FoldReport:
    """A worker's fold: how its first model's training ended, and each usable model (none: nothing usable)."""

    fold: int
    worker: int
    ended: str
    seconds: float = 0.0
    fits: tuple[CandidateFit, ...] = ()
    cut: tuple[str, ...] = ()
    """The candidates cut short (deadline or stop request)."""


# --- the worker ---------------------------------------------------------------------------------------------


def _train(job: WorkerJob, order: FoldOrder, stop: StopSignal) -> FoldReport:
    started = time.perf_counter()
    work = fit_fold_models(
        order.fold, order.val_rows, options=job.options, task=job.task, dataset=job.dataset, config=job.config,
        seed=order.seed, stop=stop,
    )  # fmt: skip
    return FoldReport(order.fold, job.worker, work.outcome.ended, time.perf_counter() - started, work.fits, work.cut)


def worker_main(environ: Mapping[str, str]) -> int:
    """A worker: take folds from the agent until told to stop; SIGTERM ends the current fold at a safe point."""
    stop = StopSignal()
    stop.install()
    conn = Connection(int(environ[WORKER_FD_VARIABLE]))
    try:
        job: WorkerJob = conn.recv()
        torch.set_num_threads(job.threads)
        while not stop.is_set():
            order: FoldOrder | None = conn.recv()
            if order is None:
                break
            where = environ.get("CUDA_VISIBLE_DEVICES", "")
            on = f"GPU {where}" if job.config.device.type == "cuda" else "the CPU"
            progress.message(f"fold {order.fold} on worker {job.worker} (pid {os.getpid()}, {on})")
            try:
                report = _train(job, order, stop)
            except Exception:
                progress.message(f"fold {order.fold} failed on worker {job.worker}:\n{traceback.format_exc()}", "error")
                report = FoldReport(order.fold, job.worker, "error")
            conn.send(report)
    except EOFError:
        return 0  # the agent went away: nothing left to report to
    finally:
        conn.close()
    return 0


# --- the agent's side ---------------------------------------------------------------------------------------


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    conn: Connection
    fold: int | None = None
    alive: bool = True


def _start_worker(index: int, device: str | None) -> _Worker:
    ours, theirs = socket.socketpair()
    env = dict(os.environ)
    env[WORKER_FD_VARIABLE] = str(theirs.fileno())
    if device is not None:
        env["CUDA_VISIBLE_DEVICES"] = device
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "mle_ci.agents.baseline.worker"], env=env, pass_fds=(theirs.fileno(),)
        )
    finally:
        theirs.close()
    return _Worker(index, process, Connection(ours.detach()))


Finished = Callable[[FoldReport, NDArray[np.int64]], None]


@dataclass
class ParallelFolds:
    """The agent's state while workers train: what is left, what runs, and what is known of fold durations."""

    pending: deque[tuple[int, NDArray[np.int64]]]
    total: int
    durations: list[float]
    budget_cut: bool = False
    retried: set[int] = field(default_factory=set)


def train_in_parallel(
    splits: Sequence[tuple[int, NDArray[np.int64]]],
    *,
    workers: int,
    options: AgentOptions,
    competition: Competition,
    dataset: Dataset,
    config: TrainConfig,
    candidates: Candidates,
    stop: StopSignal,
) -> bool:
    """Train every fold of ``splits`` on ``workers`` processes; True when the time budget cut the run short."""
    task = competition.task
    cuda = config.device.type == "cuda"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    devices = worker_devices(workers, cuda=cuda, visible=visible, gpu_count=options.gpu_count)
    threads = max(1, (os.cpu_count() or 1) // workers)
    # Each worker sees only its own GPU, where it is device 0.
    worker_config = replace(config, device=torch.device("cuda")) if cuda else config
    where = ", ".join(f"GPU {d}" for d in devices) if cuda else f"the CPU, {threads} thread(s) each"
    progress.message(f"training {len(splits)} folds on {workers} worker processes ({where})")
    state = ParallelFolds(deque(splits), len(splits), [])
    pool: list[_Worker] = []
    try:
        for index, device in enumerate(devices, start=1):
            pool.append(_start_worker(index, device))
        # Every worker imports torch at once; then each reads the data while the next one is sent.
        for worker in pool:
            worker.conn.send(WorkerJob(worker.index, task, dataset, worker_config, options, threads))
        finished = _collector(state, options=options, competition=competition, dataset=dataset, candidates=candidates)
        _schedule(state, pool, options=options, stop=stop, finished=finished)
    finally:
        _shut_down(pool)
    return state.budget_cut


def _collector(
    state: ParallelFolds, *, options: AgentOptions, competition: Competition, dataset: Dataset, candidates: Candidates
) -> Finished:
    """What to do with each fold report, as the one-after-another loop does with each fold."""

    def finished(report: FoldReport, val_rows: NDArray[np.int64]) -> None:
        state.budget_cut = state.budget_cut or report.ended == "deadline" or bool(report.cut)
        refusal = candidates.refusal(report.fits, report.cut)
        if refusal is not None:
            progress.message(f"fold {report.fold}: {refusal}, its models are not used", "warning")
            state.pending.clear()
            return
        state.durations.append(report.seconds)
        record_fold(
            report.fold, val_rows, list(report.fits), report.seconds, total=state.total, options=options,
            competition=competition, dataset=dataset, candidates=candidates,
        )  # fmt: skip
        if report.cut:
            state.pending.clear()

    return finished


def _schedule(
    state: ParallelFolds, pool: list[_Worker], *, options: AgentOptions, stop: StopSignal, finished: Finished
) -> None:
    """Hand out folds as workers free up, until every fold is done, the deadline forbids more, or a stop."""
    running: dict[int, NDArray[np.int64]] = {}
    stopping_since: float | None = None
    while True:
        if stop.is_set() and stopping_since is None:
            stopping_since = time.monotonic()
            state.pending.clear()
            for worker in pool:
                if worker.alive and worker.process.poll() is None:
                    worker.process.send_signal(signal.SIGTERM)
        if stopping_since is None:
            _hand_out(state, pool, running, options)
        busy = [w for w in pool if w.alive and w.fold is not None]
        if not busy:
            if state.pending and any(w.alive for w in pool):
                continue  # a fold came back from a worker that had gone: an idle one takes it
            if state.pending:
                progress.message(f"every fold worker has gone: {len(state.pending)} fold(s) not trained", "error")
            return
        if stopping_since is not None and time.monotonic() - stopping_since > STOP_WAIT:
            return
        for conn in wait([w.conn for w in busy], timeout=0.5):
            worker = next(w for w in busy if w.conn is conn)
            try:
                report: FoldReport = worker.conn.recv()
            except (EOFError, OSError):
                _lost(state, worker, running.pop(worker.fold or 0, None), retry=stopping_since is None)
                continue
            worker.fold = None
            finished(report, running.pop(report.fold))


def _hand_out(
    state: ParallelFolds, pool: list[_Worker], running: dict[int, NDArray[np.int64]], options: AgentOptions
) -> None:
    """Start pending folds on idle workers as the deadline rule allows."""
    idle = [w.index for w in pool if w.alive and w.fold is None]
    assignments, reason = next_assignments(
        [f for f, _ in state.pending], idle, state.durations, progress.remaining(), margin=options.margin
    )
    if reason is not None:
        progress.message(f"not starting fold {state.pending[0][0]}/{state.total}: {reason}", "warning")
        state.budget_cut = True
        state.pending.clear()
    for assignment in assignments:
        fold, val_rows = state.pending.popleft()
        worker = pool[assignment.worker - 1]
        try:
            worker.conn.send(FoldOrder(fold, val_rows, options.seed * 1000 + fold))
        except OSError:  # it died while idle: the fold waits for another worker
            progress.message(f"fold worker {worker.index} has gone", "error")
            worker.alive = False
            state.pending.appendleft((fold, val_rows))
            continue
        progress.fold_start(fold, state.total)
        worker.fold = fold
        running[fold] = val_rows


def _lost(state: ParallelFolds, worker: _Worker, val_rows: NDArray[np.int64] | None, *, retry: bool) -> None:
    """A worker died mid-fold (killed, out of memory): its fold goes to another worker, once."""
    fold = worker.fold
    worker.alive, worker.fold = False, None
    lost = f"fold worker {worker.index} ended without reporting fold {fold}"
    if retry and fold is not None and val_rows is not None and fold not in state.retried:
        progress.message(f"{lost}; the fold goes to another worker", "error")
        state.retried.add(fold)
        state.pending.appendleft((fold, val_rows))
        return
    progress.message(f"{lost}; the fold is not used", "error")


def _shut_down(pool: list[_Worker]) -> None:
    """Tell every worker to stop (a busy one by SIGTERM), then make sure none is left running."""
    for worker in pool:
        if worker.fold is not None and worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(OSError):  # it has already gone
            worker.conn.send(None)
    end = time.monotonic() + EXIT_WAIT
    for worker in pool:
        try:
            worker.process.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        worker.conn.close()
