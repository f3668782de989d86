"""One supervised run from settings to reports: the orchestration of ``mle-ci run``."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO, cast

from mle_ci.console import Console, make_console
from mle_ci.decisions import Clocks, child_environment, min_score_gate, run_status
from mle_ci.errors import ConfigError, ResultError
from mle_ci.files import LogFile, Redactor, write_atomic
from mle_ci.github import GitHub, GitHubFileError, Level, secret_values
from mle_ci.monitor import RunMonitor
from mle_ci.report import (
    decide_annotations,
    decide_outputs,
    find_crash_site,
    render_junit,
    render_summary,
    verdict_line,
)
from mle_ci.result import RunResult, RunStatus
from mle_ci.settings import Settings
from mle_ci.supervisor import ChildExit, ChildSpec, SignalTrap, StopReason, Supervisor
from mle_ci.tracker import RunTracker

INTERRUPT_GRACE = 2.0
"""Grace after a cancel: the runner sends SIGTERM 7.5 s after SIGINT, so everything is written well before."""


@dataclass(frozen=True)
class ResultFiles:
    """The paths of one result folder."""

    root: Path

    @property
    def events(self) -> Path:
        return self.root / "events.jsonl"

    @property
    def log(self) -> Path:
        return self.root / "log.txt"

    @property
    def result(self) -> Path:
        return self.root / "result.json"

    @property
    def summary(self) -> Path:
        return self.root / "summary.md"

    @property
    def junit(self) -> Path:
        return self.root / "junit.xml"

    def as_outputs(self) -> dict[str, str]:
        return {"result": str(self.result), "summary": str(self.summary), "junit": str(self.junit)}


def prepare_folder(path: Path) -> ResultFiles:
    """Create the result folder and clear this run's files from an earlier run; nothing runs if it can't."""
    files = ResultFiles(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        for stale in (files.events, files.result, files.summary, files.junit):
            stale.unlink(missing_ok=True)
        files.events.touch()
    except OSError as exc:
        raise ConfigError(f"output-dir: cannot use {path}: {exc.strerror or exc}") from None
    return files


def check_command(command: tuple[str, ...], env: Mapping[str, str], cwd: Path) -> None:
    """Fail before anything starts when the program cannot be found or run."""
    if not command:
        raise ConfigError(
            "no command to run: give one after `--` (e.g. `mle-ci run -- python train.py`) or set `command:`"
        )
    program = command[0]
    if os.sep in program:
        target = (cwd / program) if not os.path.isabs(program) else Path(program)
        if not (target.is_file() and os.access(target, os.X_OK)):
            raise ConfigError(f"command: {program} is not an executable file")
    elif shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        raise ConfigError(f"command: {program!r} was not found on PATH")


def execute(settings: Settings, *, stream: TextIO) -> RunResult:
    """Run the settings' command under supervision and write every report; the result says how it ended."""
    check_command(settings.command, settings.env, settings.workspace)
    files = prepare_folder(settings.output_dir)
    github = GitHub.from_env(settings.env, stream) if settings.github_actions else None
    secrets = secret_values(settings.env)
    if github is not None:
        for secret in secrets:
            github.mask(secret)
    redactor = Redactor(secrets)
    console = make_console(stream, display=settings.display, github_actions=settings.github_actions)
    with SignalTrap() as trap:
        result = _supervise(
            settings=settings, files=files, console=console, github=github, redactor=redactor, trap=trap
        )
        publish(result, files, github=github, redactor=redactor, console=console)
        console.note(redactor.text(verdict_line(result)))
        console.note(f"reports in {files.root}: summary.md, junit.xml, result.json, events.jsonl, log.txt")
    return result


def _supervise(
    *,
    settings: Settings,
    files: ResultFiles,
    console: Console,
    github: GitHub | None,
    redactor: Redactor,
    trap: SignalTrap,
) -> RunResult:
    wall_start = time.time()
    mono_start = time.monotonic()
    timeout = settings.timeout or None
    clocks = Clocks(
        started=mono_start,
        deadline=mono_start + timeout if timeout else None,
        last_activity=mono_start,
        last_output=mono_start,
        last_beat=mono_start,
        stall_timeout=settings.stall_timeout or None,
        heartbeat=settings.heartbeat,
    )
    extra = {"LOGS_DIR": str(files.root)}
    if settings.competition:
        extra["COMPETITION_ID"] = settings.competition
    env = child_environment(
        settings.env,
        events=str(files.events.resolve()),
        deadline_unix=wall_start + timeout if timeout else None,
        time_limit=timeout,
        extra=extra,
    )
    base = RunResult(
        status=RunStatus.RUNNING,
        command=settings.command,
        started_at=wall_start,
        timeout_s=timeout,
        stall_timeout_s=settings.stall_timeout or None,
        deadline=wall_start + timeout if timeout else None,
        competition=settings.competition,
        min_score=settings.min_score,
        output_dir=str(files.root),
    )
    tracker = RunTracker(
        started_at=wall_start,
        total_folds=settings.folds,
        metric_name=settings.metric,
        higher_is_better=settings.higher_is_better,
    )
    log = LogFile(files.log)
    monitor: RunMonitor | None = None

    def save_live() -> None:
        assert monitor is not None
        live = replace(
            base,
            duration_s=time.monotonic() - mono_start,
            log_tail=tuple(redactor.text(line) for line in list(monitor.tail)[-50:]),
        )
        write_atomic(files.result, _to_json(tracker.snapshot(live, final=False)))

    monitor = RunMonitor(
        tracker=tracker,
        console=console,
        log=log,
        events_path=files.events,
        redactor=redactor,
        patterns=settings.patterns,
        clocks=clocks,
        save=save_live,
    )
    monitor.save(mono_start)

    def started(pid: int) -> None:
        nonlocal base
        assert monitor is not None
        base = replace(base, child_pid=pid)
        monitor.save(time.monotonic())
        console.start()
        console.note(f"started {' '.join(settings.command)} (pid {pid}){_budget_phrase(settings)}")

    spec = ChildSpec(
        argv=settings.command,
        env=env,
        cwd=settings.workspace,
        grace=settings.grace,
        interrupt_grace=INTERRUPT_GRACE,
    )
    try:
        if github is not None:
            with github.stop_commands():
                child = Supervisor().run(spec, monitor, trap=trap, on_start=started)
        else:
            child = Supervisor().run(spec, monitor, trap=trap, on_start=started)
    finally:
        console.stop()
    monitor.finish()
    console.note(_ending_note(child, settings))
    return _final_result(
        base=base,
        tracker=tracker,
        monitor=monitor,
        child=child,
        settings=settings,
        log=log,
        wall_start=wall_start,
    )


def _budget_phrase(settings: Settings) -> str:
    from mle_ci.durations import format_duration

    parts = []
    if settings.timeout:
        parts.append(f"timeout {format_duration(settings.timeout)}, grace {format_duration(settings.grace)}")
    if settings.stall_timeout:
        parts.append(f"stall timeout {format_duration(settings.stall_timeout)}")
    return f" with {'; '.join(parts)}" if parts else ""


def _ending_note(child: ChildExit, settings: Settings) -> str:
    from mle_ci.durations import format_duration

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
    wall_start: float,
) -> RunResult:
    warnings = []
    for problem in (log.error, monitor.events_file_error):
        if problem:
            warnings.append(problem)
    if child.leftovers_killed:
        warnings.append(f"the command left {child.leftovers_killed} process(es) running; they were killed")
    tail = tuple(monitor.tail)
    finished = replace(
        base,
        finished_at=wall_start + (child.ended - child.started),
        duration_s=child.ended - child.started,
        child_exit_code=child.returncode,
        child_signal=child.signal_name,
        warnings=tuple(warnings),
        log_tail=tuple(tail[-50:]),
    )
    snapshot = tracker.snapshot(replace(finished, status=RunStatus.CRASHED), final=True)
    gate = min_score_gate(snapshot.score, settings.min_score, snapshot.metric)
    gates = (gate,) if gate is not None else ()
    stop = child.stop_reason.value if child.stop_reason is not None else None
    status = run_status(stop=stop, returncode=0 if child.returncode == 0 else 1, gates=gates)
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
