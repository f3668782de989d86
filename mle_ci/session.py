"""One supervised run after its child has started: watching, the final result, and every report."""

from __future__ import annotations

import contextlib
import importlib
import shlex
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mle_ci import contract
from mle_ci.contract import ExitCode
from mle_ci.decisions import Clocks, min_score_gate, regression_gate, run_status
from mle_ci.durations import format_duration
from mle_ci.errors import MleCiError
from mle_ci.files import LogFile, SpaceReserve, write_atomic
from mle_ci.gpuwatch import GpuVerdict, GpuWatch, IdleRule
from mle_ci.hardware.model import Severity
from mle_ci.hardware.nvml import NvmlBackend
from mle_ci.monitor import RunMonitor
from mle_ci.preflight import Preflight
from mle_ci.publishing import Outlets, minimal_result, publish, result_json, scrub_files, write_result_file
from mle_ci.result import RunResult
from mle_ci.resultparts import BaselineComparison, Gate, Metric, RunStatus
from mle_ci.runnerwatch import RunnerFilesWatch, tampering_gate
from mle_ci.runplan import Launch, ResultFiles
from mle_ci.settings import Settings
from mle_ci.signaltrap import SignalTrap
from mle_ci.supervisor import ChildExit, RunningChild, StopReason
from mle_ci.tracker import RunTracker

if TYPE_CHECKING:
    from mle_ci.competitions.model import Competition, GradeReport

DEFAULT_AGENT_FOLDS = 5
"""The built-in agents' fold count when none is set (as the baseline's own default)."""
LIVE_TAIL = 50
"""Lines of output kept in result.json."""
CANCELLED_CHECK_SECONDS = 2.0
"""The most a cancelled run spends checking its submission: the runner kills 7.5 s after its SIGINT, and every
report must be written before that."""


def _warm_up_reporting() -> None:
    """Load the renderers while the child runs, so that reporting at the end does not wait for imports."""
    importlib.import_module("mle_ci.report")


class RunSession:
    """Everything one run needs once its child is running: outlets, monitor, tracker, GPU watch."""

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
    ) -> None:
        self._settings = settings
        self._watch = watch
        self._files = files
        self._launch = launch
        self._outlets = outlets
        timeout = launch.timeout
        start = launch.mono_start
        self._competition = competition
        spec = competition.spec if competition is not None else None
        self._base = RunResult(
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
        self._preflight = preflight
        self._tracker = RunTracker(
            started_at=launch.wall_start,
            total_folds=settings.folds or (DEFAULT_AGENT_FOLDS if not settings.command else None),
            metric_name=settings.metric or (spec.metric if spec is not None else None),
            higher_is_better=settings.higher_is_better
            if settings.higher_is_better is not None
            else (spec.higher_is_better if spec is not None else None),
        )
        self._gpus: GpuWatch | None = None
        self._verdict: GpuVerdict | None = None
        if preflight.profile.gpus and preflight.profile.nvml_fault is None:
            self._gpus = GpuWatch(
                preflight.profile,
                rule=IdleRule(
                    warmup=settings.idle_warmup,
                    window=settings.idle_window,
                    threshold=settings.idle_threshold,
                    fail=settings.fail_on_idle_gpu,
                ),
                interval=settings.gpu_interval,
                csv_path=files.gpu_csv,
                started_at=launch.wall_start,
                backend=nvml,
            )
        self._log = LogFile(files.log)
        self._reserve = SpaceReserve(files.root)
        self._monitor = RunMonitor(
            tracker=self._tracker,
            console=self._outlets.console,
            log=self._log,
            events_path=files.events,
            redactor=self._outlets.redactor,
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
            warm_up=_warm_up_reporting,
            gpu_status=self._gpus.status if self._gpus is not None else None,
            notes=self._gpus.notes if self._gpus is not None else None,
        )
        self._monitor.save(time.monotonic())

    def _save_live(self) -> None:
        live = replace(
            self._base,
            duration_s=time.monotonic() - self._launch.mono_start,
            log_tail=tuple(self._monitor.tail)[-LIVE_TAIL:],
        )
        snapshot = self._tracker.snapshot(live, final=False)
        write_atomic(self._files.result, self._outlets.redactor.text(result_json(snapshot)))

    def _check_seconds(self, result: RunResult) -> float | None:
        """How long the submission's check may take: what is left of the time limit and its grace (at least the
        grace), and no more than a cancelled run can wait for before the runner kills it."""
        settings = self._settings
        seconds = None
        if settings.timeout:
            left = self._launch.mono_start + settings.timeout + settings.grace - time.monotonic()
            seconds = max(settings.grace, left)
        if result.status is RunStatus.INTERRUPTED:
            seconds = min(seconds or CANCELLED_CHECK_SECONDS, CANCELLED_CHECK_SECONDS)
        return seconds

    def _conclude(self, ended: ChildExit, trap: SignalTrap | None = None) -> RunResult:
        """The final result, with the runner's files checked; written small and first when the disk is short."""
        outlets, settings = self._outlets, self._settings
        tampering = self._watch.check() if self._watch is not None else ()
        gate = tampering_gate(tampering)
        if gate is not None:
            outlets.console.note(gate.message)
        outlets.console.note(_ending_note(ended, settings))
        result = _final_result(
            base=self._base,
            tracker=self._tracker,
            monitor=self._monitor,
            child=ended,
            settings=settings,
            log=self._log,
            launch=self._launch,
            gpus=self._verdict,
            extra_gates=() if gate is None else (gate,),
            reserve_problem=self._reserve.problem,
        )
        if trap is not None and trap.received and result.status is not RunStatus.INTERRUPTED:
            # cancelled after the command ended: the run stops here, as in any other phase (exit 130)
            late = f"{signal.Signals(trap.received[0]).name} after the command ended: the run was cancelled"
            result = replace(result, status=RunStatus.INTERRUPTED, errors=(*result.errors, late))
        if self._competition is not None:
            result = judge_submission(
                result, self._files.submission, self._competition, seconds=self._check_seconds(result), trap=trap
            )
        if self._reserve.problem is not None:
            # No space was held back: before anything else takes the disk, a small final record replaces the
            # `running` one, so that result.json agrees with the exit code whatever happens next.
            minimal = outlets.redactor.text(result_json(minimal_result(result)))
            problem = write_result_file(self._files.result, minimal, minimal)
            if problem is not None:
                outlets.console.note(problem)
        return result

    def _settle(self, error: Exception) -> None:
        """The harness failed after its command ended: result.json says so, or goes, as the exit code will."""
        if isinstance(error, MleCiError) and error.exit_code is not ExitCode.FAILED:
            # No status of a run that ran means this exit code: no record rather than a contradicting one.
            with contextlib.suppress(OSError):
                self._files.result.unlink(missing_ok=True)
            return
        failed = replace(
            self._base,
            status=RunStatus.FAILED,
            errors=(*self._base.errors, f"the harness failed while concluding the run: {error!r}"),
        )
        text = self._outlets.redactor.text(result_json(minimal_result(failed)))
        write_result_file(self._files.result, text, text)

    def _announce(self, child: RunningChild) -> None:
        console, settings = self._outlets.console, self._settings
        command = _command_text(self._launch.spec.argv, self._outlets.redactor.text)
        started = f"started {command} (pid {child.pid}){_budget_phrase(settings)}"
        console.note(self._outlets.redactor.text(started))
        console.note(child.containment)
        for note in self._outlets.notes:
            console.note(note)
        console.note(_plan_phrase(self._preflight))
        for finding in self._preflight.diagnosis.findings:
            if finding.severity is not Severity.INFO:
                console.note(f"{finding.severity.value}: {finding.sentence}")
        if self._gpus is not None and self._gpus.start_error:
            console.note(self._gpus.start_error)
        if self._reserve.problem is not None:
            console.note(self._reserve.problem)

    def run(self, child: RunningChild) -> RunResult:
        """Supervise ``child`` to the end, then write and publish every report."""
        outlets = self._outlets
        outlets.console.start()
        if self._gpus is not None:
            self._gpus.start()
        try:
            self._announce(child)
            ended = child.supervise(self._monitor)
        finally:
            # Paused before the child started (mle_ci.pipeline); on again once every process of the run is gone.
            outlets.resume_commands()
            outlets.console.stop()
            self._verdict = self._gpus.finish() if self._gpus is not None else None
            # Room for the final reports, even when the run filled the disk.
            self._reserve.release()
        trap = child.trap
        self._monitor.finish(stop=lambda: bool(trap.received))
        try:
            result = self._conclude(ended, trap)
            # The child wrote these itself: a secret it let slip is redacted before anything reads them.
            for problem in scrub_files((self._files.events, self._files.transcript), outlets.redactor):
                outlets.console.note(problem)
            publish(result, self._files, outlets)
        except Exception as exc:
            self._settle(exc)
            raise
        from mle_ci.report import verdict_line
        from mle_ci.report.agent import agent_line

        outlets.console.note(outlets.redactor.text(verdict_line(result)))
        about_agent = agent_line(result)
        if about_agent is not None:
            outlets.console.note(outlets.redactor.text(about_agent))
        outlets.console.note(f"reports in {self._files.root}: {', '.join(self._files.names())}")
        return result


def _command_text(command: tuple[str, ...], hide: Callable[[str], str], limit: int = 200) -> str:
    """The command as a shell would show it, on one line, its secrets hidden before it is shortened when long (a
    secret cut in two would no longer be recognised)."""
    text = hide(shlex.join(command)).replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plan_phrase(preflight: Preflight) -> str:
    plan, profile = preflight.plan, preflight.profile
    if plan.device == "cuda":
        names = sorted({gpu.name for gpu in profile.gpus})
        where = f"{plan.gpu_count}× {', '.join(names)}" if names else f"{plan.gpu_count} GPU(s)"
    else:
        where = f"CPU ({profile.cpu_count} cores)"
    return f"plan: {plan.device} on {where}, batch size {plan.batch_size}, AMP {plan.amp}, {plan.num_workers} workers"


def _budget_phrase(settings: Settings) -> str:
    parts = []
    if settings.timeout:
        parts.append(f"timeout {format_duration(settings.timeout)}, grace {format_duration(settings.grace)}")
    if settings.stall_timeout:
        parts.append(f"stall timeout {format_duration(settings.stall_timeout)}")
    return f" with {'; '.join(parts)}" if parts else ""


def _ending_note(child: ChildExit, settings: Settings) -> str:
    took = format_duration(child.ended - child.started)
    if child.stop_reason is StopReason.TIMEOUT:
        how = f"stopped at the {format_duration(settings.timeout or 0)} time limit"
    elif child.stop_reason is StopReason.STALLED:
        how = f"stopped after {format_duration(settings.stall_timeout or 0)} without output or events"
    elif child.stop_reason is StopReason.INTERRUPTED:
        how = "stopped because the harness was interrupted"
    elif child.signal is not None:
        how = f"killed by {child.signal_name}"
    else:
        how = f"exited with code {child.returncode}"
    extra = " (SIGKILL after the grace period)" if child.killed else ""
    left = f"; {child.leftovers_killed} leftover process(es) ended" if child.leftovers_killed else ""
    if child.survivors:
        left += f"; {len(child.survivors)} survived SIGKILL ({_pids(child.survivors)})"
    return f"command {how}{extra} after {took}{left}"


def _pids(pids: tuple[int, ...], shown: int = 10) -> str:
    more = f" and {len(pids) - shown} more" if len(pids) > shown else ""
    return "pid " + ", ".join(str(pid) for pid in pids[:shown]) + more


def _process_warnings(child: ChildExit) -> list[str]:
    """What the run's processes did that people should know: left running, escaped the cgroup, survived."""
    warnings = []
    if child.leftovers_killed:
        warnings.append(f"the command left {child.leftovers_killed} process(es) running; they were killed")
    if child.escaped:
        warnings.append(
            f"{len(child.escaped)} process(es) had left the run's cgroup ({_pids(child.escaped)}); "
            "they were found in the process tree and killed"
        )
    if child.survivors:
        warnings.append(
            f"{len(child.survivors)} process(es) of the run were still running after SIGKILL "
            f"({_pids(child.survivors)}); they may affect later steps on this machine"
        )
    return warnings


def _final_result(
    *,
    base: RunResult,
    tracker: RunTracker,
    monitor: RunMonitor,
    child: ChildExit,
    settings: Settings,
    log: LogFile,
    launch: Launch,
    gpus: GpuVerdict | None,
    extra_gates: tuple[Gate, ...] = (),
    reserve_problem: str | None = None,
) -> RunResult:
    warnings = []
    for problem in (reserve_problem, log.error, monitor.events_file_error):
        if problem:
            warnings.append(problem)
    warnings.extend(_process_warnings(child))
    tail = tuple(monitor.tail)
    duration = child.ended - launch.mono_start
    finished = replace(
        base,
        finished_at=launch.wall_start + duration,
        duration_s=duration,
        child_exit_code=child.returncode,
        child_signal=child.signal_name,
        warnings=tuple(warnings),
        log_tail=tail[-LIVE_TAIL:],
    )
    if gpus is not None:
        warnings.extend(gpus.warnings)
        finished = replace(finished, warnings=tuple(warnings), gpu_usage=gpus.usage, gpu_errors=gpus.errors)
    snapshot = tracker.snapshot(finished, final=True)
    comparison, regression = _compare_to_baseline(snapshot, settings)
    candidates = (
        min_score_gate(snapshot.score, settings.min_score, snapshot.metric),
        gpus.gate if gpus is not None else None,
        regression,
        *extra_gates,
    )
    gates = tuple(gate for gate in candidates if gate is not None)
    stop = child.stop_reason.value if child.stop_reason is not None else None
    status = run_status(stop=stop, returncode=child.returncode, gates=gates)
    from mle_ci.report import find_crash_site

    crash = find_crash_site(list(tail), str(settings.workspace)) if status is RunStatus.CRASHED else None
    errors = list(snapshot.errors)
    if status is RunStatus.CRASHED:
        how = f"was killed by {child.signal_name}" if child.signal_name else f"exited with code {child.returncode}"
        errors.append(f"the command {how}")
    return replace(snapshot, status=status, gates=gates, crash=crash, errors=tuple(errors), baseline=comparison)


def _compare_to_baseline(result: RunResult, settings: Settings) -> tuple[BaselineComparison | None, Gate | None]:
    """The regression gate against ``baseline-result``, when one was given."""
    if settings.baseline is None:
        return None, None
    limit = settings.max_regression or 0.0
    return regression_gate(result.score, result.metric, settings.baseline, limit, competition=result.competition)


def _child_seed(env: Mapping[str, str]) -> int | None:
    """The seed the child is given (``MLE_CI_SEED``), recorded so that matrix runs can be told apart."""
    raw = env.get(contract.SEED, "").strip()
    return int(raw) if raw.lstrip("-").isdigit() else None


def _graded_gates(result: RunResult, grade: GradeReport | None, competition: Competition) -> tuple[Gate, ...]:
    """The run's gates, with ``min-score`` held against the graded score in the competition's metric."""
    if grade is None or grade.score is None or result.min_score is None:
        return result.gates
    metric = Metric(competition.spec.metric, competition.spec.higher_is_better)
    graded = min_score_gate(grade.score, result.min_score, metric)
    assert graded is not None
    graded = replace(graded, message=f"graded {graded.message}")
    return tuple(graded if g.name == "min-score" else g for g in result.gates) + (
        () if any(g.name == "min-score" for g in result.gates) else (graded,)
    )


def judge_submission(
    result: RunResult,
    path: Path,
    competition: Competition,
    *,
    seconds: float | None = None,
    trap: SignalTrap | None = None,
) -> RunResult:
    """Validate the submission the run left (and grade it when the answers exist) within ``seconds`` and bounded
    memory (:mod:`mle_ci.competitions.isolated`); invalid, or not checkable, fails the run; a signal ``trap``
    receives meanwhile ends it as interrupted."""
    from mle_ci.competitions.isolated import Cancel, check_submission
    from mle_ci.competitions.model import ValidationReport

    cancel = None
    if trap is not None:
        seen = len(trap.received)
        cancel = Cancel(trap.read_fd, lambda: len(trap.received) > seen)
    checked = check_submission(path, competition, seconds=seconds, cancel=cancel)
    if checked.cancelled:
        return replace(result, status=RunStatus.INTERRUPTED, errors=(*result.errors, str(checked.problem)))
    validation = checked.validation or ValidationReport(False, (str(checked.problem),), None, str(path))
    grade = checked.grade
    if validation.valid:
        gate = Gate("submission-valid", True, f"{path.name} is valid ({validation.rows} rows)")
    else:
        shown = "; ".join(validation.problems[:3]) + (" …" if len(validation.problems) > 3 else "")
        gate = Gate("submission-valid", False, f"{path.name} is not a valid submission: {shown}")
    gates = (*_graded_gates(result, grade, competition), gate)
    status = result.status
    if status in (RunStatus.SUCCESS, RunStatus.FAILED):
        # only the gates decide between these two, and the graded score may have changed one
        status = RunStatus.SUCCESS if all(g.passed for g in gates) else RunStatus.FAILED
    return replace(
        result,
        status=status,
        gates=gates,
        validation=validation,
        grade=grade,
        submission=str(path) if path.exists() else result.submission,
    )
