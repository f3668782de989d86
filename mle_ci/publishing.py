"""Writing a run's reports and publishing them to GitHub: the same for every way a run can end."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from mle_ci.console import Console, make_console
from mle_ci.errors import ResultError
from mle_ci.files import write_atomic
from mle_ci.github import SETTLE_SECONDS, GitHub, GitHubFileError, Level
from mle_ci.hardware.model import Severity
from mle_ci.redaction import Redactor
from mle_ci.result import RunResult
from mle_ci.resultparts import FoldStatus, RunStatus
from mle_ci.runplan import ResultFiles
from mle_ci.usertext import read_json

if TYPE_CHECKING:
    from mle_ci.preflight import Preflight
    from mle_ci.settings import Settings
    from mle_ci.signaltrap import SignalTrap


def run_redactor(settings: Settings) -> Redactor:
    """The run's secrets to mask and redact: secret-named variables and the run's API key, from any layer."""
    key = settings.anthropic_api_key
    return Redactor.from_env(settings.env, extra=(key,) if key else ())


@dataclass(frozen=True)
class Outlets:
    """Where a run speaks: the console, GitHub (in Actions), and the redactor every text passes through."""

    console: Console
    github: GitHub | None
    redactor: Redactor
    notes: tuple[str, ...] = ()
    """What the run's log should say about opening them."""

    def resume_commands(self) -> None:
        """Workflow commands on again, if ``open_outlets(pause_commands=True)`` turned them off."""
        if self.github is not None:
            self.github.resume_commands()


def open_outlets(settings: Settings, stream: TextIO, *, pause_commands: bool = False) -> Outlets:
    """The console and GitHub adapter, with every secret masked before anything is printed.

    With ``pause_commands`` (in Actions, before the child starts), the runner's command processing is then turned
    off, and the runner given a moment to read these lines out of the step's stdout pipe, so that no process of
    the run can print a command ahead of the block or read a mask or the block's token out of the pipe first.
    """
    github = GitHub.from_env(settings.env, stream) if settings.github_actions else None
    redactor = run_redactor(settings)
    notes: list[str] = []
    if github is not None:
        for secret in redactor.values:
            github.mask(secret)
        if pause_commands:
            github.pause_commands()
            if not github.settle():
                notes.append(
                    f"the runner had not read the harness's first lines after {SETTLE_SECONDS:g}s; "
                    "the command started all the same"
                )
    console = make_console(stream, display=settings.display, github_actions=settings.github_actions)
    return Outlets(console, github, redactor, tuple(notes))


def result_json(result: RunResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


MINIMAL_NOTE = "result.json holds the run's minimal record only: the disk was short of space for the full one"


def minimal_result(result: RunResult) -> RunResult:
    """The record that says how the run ended in few bytes: status, exit, times, score, gates and messages."""
    return RunResult(
        status=result.status,
        command=result.command,
        started_at=result.started_at,
        finished_at=result.finished_at,
        duration_s=result.duration_s,
        timeout_s=result.timeout_s,
        child_pid=result.child_pid,
        child_exit_code=result.child_exit_code,
        child_signal=result.child_signal,
        competition=result.competition,
        metric=result.metric,
        folds=tuple(f for f in result.folds if f.status is FoldStatus.COMPLETED),
        total_folds=result.total_folds,
        reported_score=result.reported_score,
        min_score=result.min_score,
        submission=result.submission,
        gates=result.gates,
        crash=result.crash,
        errors=result.errors,
        warnings=(*(w for w in result.warnings if w != MINIMAL_NOTE), MINIMAL_NOTE),
        output_dir=result.output_dir,
        agent=result.agent,
        submission_producer=result.submission_producer,
    )


def write_result_file(path: Path, full: str, minimal: str) -> str | None:
    """Replace result.json with ``full``, else with ``minimal``: an earlier record (``running``) never outlives this.

    Each write replaces the file in one step; when not even the minimal record fits beside the old file, the old
    one goes first (its blocks make the room). Returns what went wrong, or None when ``full`` was written.
    """
    try:
        write_atomic(path, full)
    except OSError as exc:
        why = exc.strerror or str(exc)
    else:
        return None
    kept = f"cannot write {path.name} in full ({why}): it holds the minimal record"
    if minimal != full and _done(lambda: write_atomic(path, minimal)):
        return kept
    dropped = _done(lambda: path.unlink(missing_ok=True))
    if dropped and _done(lambda: write_atomic(path, minimal)):
        return kept
    # A folder that takes no new file may still let the old one be rewritten in place.
    if not dropped and _done(lambda: _rewrite(path, minimal)):
        return kept
    if dropped or _done(lambda: os.truncate(path, 0)):
        return f"cannot write {path.name} ({why}): no record of the run is left in the folder"
    return f"cannot write {path.name} ({why}), nor take away the earlier one: do not trust it"


def _done(action: Callable[[], object]) -> bool:
    """Whether ``action`` ran without an OSError."""
    try:
        action()
    except OSError:
        return False
    return True


def _rewrite(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def publish(result: RunResult, files: ResultFiles, outlets: Outlets) -> None:
    """Write result.json, summary.md and junit.xml, then the GitHub outputs, summary and annotations.

    result.json goes first and alone (nothing to render that could fail before it); the step outputs do not
    depend on the job summary, so a summary the runner cannot take loses nothing else.
    """
    from mle_ci.report import decide_annotations, decide_outputs, render_junit, render_summary

    github, redactor, console = outlets.github, outlets.redactor, outlets.console
    with contextlib.suppress(OSError):  # the child runs as our user: it may have removed the output folder
        files.root.mkdir(parents=True, exist_ok=True)
    raw = result_json(result)
    clean = redactor.text(raw)
    if clean != raw:
        # A secret in the record itself (a message, the command): render from the redacted record, as
        # `mle-ci report` will, so that both write the same reports.
        result = RunResult.from_dict(json.loads(clean))
    problem = write_result_file(files.result, clean, redactor.text(result_json(minimal_result(result))))
    problems = [problem] if problem is not None else []
    summary = redactor.text(render_summary(result))
    written = [(files.summary, summary), (files.junit, redactor.text(render_junit(result)))]
    transcript = render_transcript_file(files.transcript)
    if transcript is not None:
        written.append((files.transcript_md, redactor.text(transcript)))
    for path, text in written:
        try:
            write_atomic(path, text)
        except OSError as exc:
            problems.append(f"cannot write {path.name}: {exc.strerror or exc}")
    for problem in problems:
        console.note(problem)
    if github is None:
        return
    outputs = decide_outputs(result, files=files.as_outputs())
    try:
        github.set_outputs({name: redactor.text(value) for name, value in outputs.items()})
    except GitHubFileError as exc:
        console.note(str(exc))
    try:
        github.append_summary(summary)
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


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """The records of a transcript.jsonl; a line that is not a JSON object (a torn last write) is skipped."""
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    records.append(record)
    return records


def render_transcript_file(path: Path) -> str | None:
    """transcript.md's text from the transcript.jsonl at ``path``, or None when there is none."""
    from mle_ci.report.transcript import render_transcript

    try:
        records = read_transcript(path)
    except OSError:
        return None
    return render_transcript(records)


MAX_SCRUB = 256 * 1024 * 1024
"""Bytes of a child-written file (events, transcript) read whole to redact it."""


def scrub_files(paths: Iterable[Path], redactor: Redactor) -> list[str]:
    """Rewrite files the child wrote (events, transcript) with secrets redacted; the problems met, if any. A file
    larger than ``MAX_SCRUB`` (a sparse terabyte a child made) cannot be checked in bounded memory and time: it is
    emptied, and that is said, rather than published unchecked."""
    problems = []
    for path in paths:
        try:
            size = path.stat().st_size
            if size > MAX_SCRUB:
                os.truncate(path, 0)
                problems.append(
                    f"{path.name} was {size / 2**20:.0f} MiB, more than the {MAX_SCRUB // 2**20} MiB whose secrets "
                    "can be checked: emptied"
                )
                continue
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(f"cannot read {path.name} to redact secrets: {exc.strerror or exc}")
            continue
        clean = redactor.bytes(data)
        if clean != data:
            try:
                write_atomic(path, clean.decode("utf-8", errors="replace"))
            except OSError as exc:
                problems.append(f"cannot redact secrets in {path.name}: {exc.strerror or exc}")
    return problems


def load_result(folder: Path) -> RunResult:
    """Read a result folder's result.json back."""
    path = folder / "result.json"
    try:
        data = read_json(path)
    except FileNotFoundError:
        raise ResultError(f"{folder} holds no result.json") from None
    except (OSError, ValueError) as exc:
        raise ResultError(f"cannot read {path}: {exc}") from None
    return RunResult.from_dict(data)


def republish(folder: Path, *, env: Mapping[str, str], stream: TextIO) -> RunResult:
    """``mle-ci report``: render summary, JUnit and (in GitHub Actions) outputs and annotations again."""
    result = load_result(folder)
    github = GitHub.from_env(env, stream) if env.get("GITHUB_ACTIONS") == "true" else None
    console = make_console(stream, display="plain", github_actions=github is not None)
    publish(result, ResultFiles(folder), Outlets(console, github, Redactor.from_env(env)))
    return result


def publish_not_started(
    *, settings: Settings, files: ResultFiles, preflight: Preflight, stream: TextIO, trap: SignalTrap
) -> RunResult:
    """Reports for a run whose command never started: a required GPU is unusable (exit 3), or a cancel came first."""
    outlets = open_outlets(settings, stream)
    interrupted = bool(trap.received)
    now = time.time()
    result = RunResult(
        status=RunStatus.INTERRUPTED if interrupted else RunStatus.GPU_UNAVAILABLE,
        command=settings.command,
        started_at=now,
        finished_at=now,
        competition=settings.competition,
        min_score=settings.min_score,
        total_folds=settings.folds,
        output_dir=str(files.root),
        hardware=preflight.profile,
        diagnosis=preflight.diagnosis,
        plan=preflight.plan,
    )
    if not interrupted:
        for finding in preflight.diagnosis.findings:
            if finding.severity is not Severity.INFO:
                outlets.console.note(f"GPU preflight: {finding.sentence}")
        outlets.console.note("a GPU was required and CUDA is unusable: the command was not started")
    publish(result, files, outlets)
    return result
