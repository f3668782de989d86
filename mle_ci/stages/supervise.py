"""The supervision stage: the child runs to its end while its output, events, GPUs and the runner's files are
watched; what was seen goes to the judge (:mod:`mle_ci.stages.judge`) as facts, nothing decided yet."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mle_ci import contract
from mle_ci.files import LogFile, SpaceReserve, write_atomic
from mle_ci.hardware.model import Severity
from mle_ci.hardware.nvml import NvmlBackend
from mle_ci.report import runlog
from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus
from mle_ci.runnerwatch import RunnerFilesWatch, Tampering
from mle_ci.stages.clock import Clocks
from mle_ci.stages.gpuwatch import GpuVerdict, GpuWatch, IdleRule
from mle_ci.stages.outlets import Outlets
from mle_ci.stages.outputwatch import OutputWatcher
from mle_ci.stages.plan import Launch, ResultFiles
from mle_ci.stages.record import result_json
from mle_ci.supervisor import ChildExit, RunningChild
from mle_ci.tracker import RunTracker

if TYPE_CHECKING:
    from mle_ci.competitions.model import Competition
    from mle_ci.settings import Settings
    from mle_ci.stages.preflight import Preflight

DEFAULT_AGENT_FOLDS = 5
"""The built-in agents' fold count when none is set (as the baseline's own default)."""
LIVE_TAIL = 50
"""Lines of output kept in result.json."""


@dataclass(frozen=True)
class Watched:
    """What supervising the child came to: the run's record with all that was seen (its status still ``running``),
    how the child ended, its GPUs' verdict and what it did to the runner's files."""

    record: RunResult
    tail: tuple[str, ...]
    """The last lines of output (more than the record keeps), where a crash's traceback is looked for."""
    child: ChildExit
    gpus: GpuVerdict | None
    tampering: tuple[Tampering, ...]
    disk_short: bool
    """No space could be held back for the reports: the final record is written small and first."""


class Supervision:
    """Everything one run needs while its child runs: the output watcher, the tracker, the GPU watch, the log."""

    def __init__(
        self,
        *,
        settings: Settings,
        files: ResultFiles,
        launch: Launch,
        pid: int,
        outlets: Outlets,
        preflight: Preflight,
        competition: Competition | None = None,
        nvml: NvmlBackend | None = None,
        watch: RunnerFilesWatch | None = None,
        warm_up: Callable[[], None] | None = None,
    ) -> None:
        """``warm_up`` runs once the child has had the CPU for its own start (the later stages' imports)."""
        self._settings = settings
        self._runner_files = watch
        self._files = files
        self._launch = launch
        self.outlets = outlets
        self._preflight = preflight
        timeout = launch.timeout
        start = launch.mono_start
        spec = competition.spec if competition is not None else None
        self.base = RunResult(
            status=RunStatus.RUNNING,
            command=launch.spec.argv,
            agent=None if settings.command else (settings.agent or "baseline"),
            started_at=launch.wall_start,
            timeout_s=timeout,
            stall_timeout_s=settings.stall_timeout or None,
            deadline=launch.deadline_unix,
            child_pid=pid,
            competition=spec.id if spec is not None else settings.competition,
            min_score=settings.min_score,
            seed=_child_seed(settings.env),
            output_dir=str(files.root),
            hardware=preflight.profile,
            diagnosis=preflight.diagnosis,
            plan=preflight.plan,
        )
        """The run's record as it started: what the live result.json and a failed conclusion are written from."""
        self._tracker = RunTracker(
            started_at=launch.wall_start,
            total_folds=settings.folds,
            default_folds=DEFAULT_AGENT_FOLDS if not settings.command else None,
            metric_name=settings.metric or (spec.metric if spec is not None else None),
            higher_is_better=settings.higher_is_better
            if settings.higher_is_better is not None
            else (spec.higher_is_better if spec is not None else None),
        )
        self._gpus: GpuWatch | None = None
        if preflight.profile.gpus and preflight.profile.nvml_fault is None:
            self._gpus = GpuWatch(
                preflight.profile,
                rule=IdleRule(
                    warmup=settings.idle_warmup,
                    window=settings.idle_window,
                    threshold=settings.idle_threshold,
                ),
                interval=settings.gpu_interval,
                csv_path=files.gpu_csv,
                started_at=launch.wall_start,
                backend=nvml,
            )
        self._log = LogFile(files.log)
        self._reserve = SpaceReserve(files.root)
        self._watcher = OutputWatcher(
            tracker=self._tracker,
            console=self.outlets.console,
            log=self._log,
            events_path=files.events,
            redactor=self.outlets.redactor,
            patterns=settings.patterns,
            clocks=Clocks(
                started=start,
                deadline=start + timeout if timeout else None,
                last_activity=start,
                last_output=start,
                last_beat=start,
                stall_timeout=settings.stall_timeout or None,
                heartbeat=settings.heartbeat,
            ),
            save=self._save_live,
            warm_up=warm_up,
            gpu_status=self._gpus.status if self._gpus is not None else None,
            notes=self._gpus.notes if self._gpus is not None else None,
        )
        self._watcher.save(time.monotonic())

    def _save_live(self) -> None:
        live = replace(
            self.base,
            duration_s=time.monotonic() - self._launch.mono_start,
            log_tail=tuple(self._watcher.tail)[-LIVE_TAIL:],
        )
        snapshot = self._tracker.snapshot(live, final=False)
        write_atomic(self._files.result, self.outlets.redactor.text(result_json(snapshot)))

    def _announce(self, child: RunningChild) -> None:
        console, settings, redactor = self.outlets.console, self._settings, self.outlets.redactor
        command = runlog.command_text(self._launch.spec.argv, redactor.text)
        budget = runlog.budget_phrase(settings.timeout or None, settings.grace, settings.stall_timeout or None)
        console.note(redactor.text(f"started {command} (pid {child.pid}){budget}"))
        console.note(child.containment)
        for note in self.outlets.notes:
            console.note(note)
        console.note(runlog.plan_phrase(self._preflight.plan, self._preflight.profile))
        for finding in self._preflight.diagnosis.findings:
            if finding.severity is not Severity.INFO:
                console.note(f"{finding.severity.value}: {finding.sentence}")
        if self._gpus is not None and self._gpus.start_error:
            console.note(self._gpus.start_error)
        if self._reserve.problem is not None:
            console.note(self._reserve.problem)

    def watch(self, child: RunningChild) -> Watched:
        """Supervise ``child`` to the end and gather what was seen: every process of the run is gone after this."""
        outlets = self.outlets
        outlets.console.start()
        if self._gpus is not None:
            self._gpus.start()
        gpus = None
        try:
            self._announce(child)
            ended = child.supervise(self._watcher)
        finally:
            # Paused before the child started (mle_ci.pipeline); on again once every process of the run is gone.
            outlets.resume_commands()
            outlets.console.stop()
            gpus = self._gpus.finish() if self._gpus is not None else None
            # Room for the final reports, even when the run filled the disk.
            self._reserve.release()
        trap = child.trap
        self._watcher.finish(stop=lambda: bool(trap.received))
        tampering = self._runner_files.check() if self._runner_files is not None else ()
        settings = self._settings
        outlets.console.note(
            runlog.ending_note(ended, timeout=settings.timeout or None, stall_timeout=settings.stall_timeout or None)
        )
        tail = tuple(self._watcher.tail)
        return Watched(self._record(ended, gpus), tail, ended, gpus, tampering, self._reserve.problem is not None)

    def _record(self, child: ChildExit, gpus: GpuVerdict | None) -> RunResult:
        """The run's record with what was seen: times, the child's exit, warnings, the output's tail, GPU use and
        the folds and scores the child reported."""
        warnings = [
            problem for problem in (self._reserve.problem, self._log.error, self._watcher.events_file_error) if problem
        ]
        warnings.extend(runlog.process_warnings(child))
        if gpus is not None:
            warnings.extend(gpus.warnings)
        duration = child.ended - self._launch.mono_start
        finished = replace(
            self.base,
            finished_at=self._launch.wall_start + duration,
            duration_s=duration,
            child_exit_code=child.returncode,
            child_signal=child.signal_name,
            warnings=tuple(warnings),
            log_tail=tuple(self._watcher.tail)[-LIVE_TAIL:],
        )
        if gpus is not None:
            finished = replace(finished, gpu_usage=gpus.usage, gpu_errors=gpus.errors)
        return self._tracker.snapshot(finished, final=True)


def _child_seed(env: Mapping[str, str]) -> int | None:
    """The seed the child is given (``MLE_CI_SEED``), recorded so that matrix runs can be told apart."""
    raw = env.get(contract.SEED, "").strip()
    return int(raw) if raw.lstrip("-").isdigit() else None
