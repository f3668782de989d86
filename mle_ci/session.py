"""One supervised run after its child has started: watching, the final result, and every report."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TextIO, cast

from mle_ci.console import Console, make_console
from mle_ci.decisions import Clocks, min_score_gate, run_status
from mle_ci.durations import format_duration
from mle_ci.errors import ResultError
from mle_ci.files import LogFile, Redactor, write_atomic
from mle_ci.github import GitHub, GitHubFileError, Level, secret_values
from mle_ci.monitor import RunMonitor
from mle_ci.result import RunResult, RunStatus
from mle_ci.runplan import Launch, ResultFiles
from mle_ci.settings import Settings
from mle_ci.supervisor import ChildExit, RunningChild, StopReason
from mle_ci.tracker import RunTracker

LIVE_TAIL = 50
"""Lines of output kept in result.json."""


def _warm_up_reporting() -> None:
    """Load the renderers while the child runs, so that reporting at the end does not wait for imports."""
    importlib.import_module("mle_ci.report")


class RunSession:
    """Everything one run needs once its child is running: console, GitHub, monitor, tracker."""

    def __init__(self, *, settings: Settings, files: ResultFiles, launch: Launch, pid: int, stream: TextIO) -> None:
        self._settings = settings
        self._files = files
        self._launch = launch
        self._github = GitHub.from_env(settings.env, stream) if settings.github_actions else None
        secrets = secret_values(settings.env)
        if self._github is not None:
            for secret in secrets:
                self._github.mask(secret)
        self._redactor = Redactor(secrets)
        self._console = make_console(stream, display=settings.display, github_actions=settings.github_actions)
        timeout = launch.timeout
        start = launch.mono_start
        self._base = RunResult(
            status=RunStatus.RUNNING,
            command=settings.command,
            started_at=launch.wall_start,
            timeout_s=timeout,
            stall_timeout_s=settings.stall_timeout or None,
            deadline=launch.deadline_unix,
            child_pid=pid,
            competition=settings.competition,
            min_score=settings.min_score,
            output_dir=str(files.root),
        )
        self._tracker = RunTracker(
            started_at=launch.wall_start,
            total_folds=settings.folds,
            metric_name=settings.metric,
            higher_is_better=settings.higher_is_better,
        )
        self._log = LogFile(files.log)
        self._monitor = RunMonitor(
            tracker=self._tracker,
            console=self._console,
            log=self._log,
            events_path=files.events,
            redactor=self._redactor,
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
        )
        self._monitor.save(time.monotonic())

    def _save_live(self) -> None:
        live = replace(
            self._base,
            duration_s=time.monotonic() - self._launch.mono_start,
            log_tail=tuple(self._monitor.tail)[-LIVE_TAIL:],
        )
        write_atomic(self._files.result, _to_json(self._tracker.snapshot(live, final=False)))

    def run(self, child: RunningChild) -> RunResult:
        """Supervise ``child`` to the end, then write and publish every report."""
        settings, console = self._settings, self._console
        console.start()
        console.note(f"started {' '.join(settings.command)} (pid {child.pid}){_budget_phrase(settings)}")
        try:
            if self._github is not None:
                with self._github.stop_commands():
                    ended = child.supervise(self._monitor)
            else:
                ended = child.supervise(self._monitor)
        finally:
            console.stop()
        self._monitor.finish()
        console.note(_ending_note(ended, settings))
        result = _final_result(
            base=self._base,
            tracker=self._tracker,
            monitor=self._monitor,
            child=ended,
            settings=settings,
            log=self._log,
            launch=self._launch,
        )
        publish(result, self._files, github=self._github, redactor=self._redactor, console=console)
        from mle_ci.report import verdict_line

        console.note(self._redactor.text(verdict_line(result)))
        console.note(f"reports in {self._files.root}: summary.md, junit.xml, result.json, events.jsonl, log.txt")
        return result


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
    return f"command {how}{extra} after {took}{left}"


def _final_result(
    *,
    base: RunResult,
    tracker: RunTracker,
    monitor: RunMonitor,
    child: ChildExit,
    settings: Settings,
    log: LogFile,
    launch: Launch,
) -> RunResult:
    warnings = []
    for problem in (log.error, monitor.events_file_error):
        if problem:
            warnings.append(problem)
    if child.leftovers_killed:
        warnings.append(f"the command left {child.leftovers_killed} process(es) running; they were killed")
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
    snapshot = tracker.snapshot(finished, final=True)
    gate = min_score_gate(snapshot.score, settings.min_score, snapshot.metric)
    gates = (gate,) if gate is not None else ()
    stop = child.stop_reason.value if child.stop_reason is not None else None
    status = run_status(stop=stop, returncode=child.returncode, gates=gates)
    from mle_ci.report import find_crash_site

    crash = find_crash_site(list(tail), str(settings.workspace)) if status is RunStatus.CRASHED else None
    errors = list(snapshot.errors)
    if status is RunStatus.CRASHED:
        how = f"was killed by {child.signal_name}" if child.signal_name else f"exited with code {child.returncode}"
        errors.append(f"the command {how}")
    return replace(snapshot, status=status, gates=gates, crash=crash, errors=tuple(errors))


def publish(
    result: RunResult,
    files: ResultFiles,
    *,
    github: GitHub | None,
    redactor: Redactor,
    console: Console,
) -> None:
    """Write result.json, summary.md and junit.xml, then the GitHub outputs, summary and annotations."""
    from mle_ci.report import decide_annotations, decide_outputs, render_junit, render_summary

    problems: list[str] = []
    summary = redactor.text(render_summary(result))
    for path, text in (
        (files.result, _to_json(result)),
        (files.summary, summary),
        (files.junit, redactor.text(render_junit(result))),
    ):
        try:
            write_atomic(path, text)
        except OSError as exc:
            problems.append(f"cannot write {path.name}: {exc.strerror or exc}")
    for problem in problems:
        console.note(problem)
    if github is None:
        return
    try:
        github.append_summary(summary)
        github.set_outputs(decide_outputs(result, files=files.as_outputs()))
    except GitHubFileError as exc:
        console.note(str(exc))
    for annotation in decide_annotations(result):
        github.annotate(
            cast("Level", annotation.level),
            redactor.text(annotation.message),
            title=annotation.title,
            file=annotation.file,
            line=annotation.line,
        )


def _to_json(result: RunResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def load_result(folder: Path) -> RunResult:
    """Read a result folder's result.json back."""
    path = folder / "result.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultError(f"{folder} holds no result.json") from None
    except (OSError, ValueError) as exc:
        raise ResultError(f"cannot read {path}: {exc}") from None
    return RunResult.from_dict(data)


def republish(folder: Path, *, env: Mapping[str, str], stream: TextIO) -> RunResult:
    """``mle-ci report``: render summary, JUnit and (in GitHub Actions) outputs and annotations again."""
    result = load_result(folder)
    files = ResultFiles(folder)
    github = GitHub.from_env(env, stream) if env.get("GITHUB_ACTIONS") == "true" else None
    redactor = Redactor(secret_values(env))
    console = make_console(stream, display="plain", github_actions=github is not None)
    publish(result, files, github=github, redactor=redactor, console=console)
    return result
