"""The publishing stage: a run's reports written and published to GitHub, the same for every way a run can end."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from mle_ci.contract import ExitCode
from mle_ci.errors import MleCiError
from mle_ci.files import write_atomic
from mle_ci.github import GitHubFileError, Level
from mle_ci.hardware.model import Severity
from mle_ci.redaction import Redactor
from mle_ci.report import decide_annotations, decide_outputs, render_junit, render_summary, verdict_line
from mle_ci.report.agent import agent_line
from mle_ci.report.transcript import render_transcript
from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus
from mle_ci.stages.outlets import Outlets, open_outlets
from mle_ci.stages.plan import ResultFiles
from mle_ci.stages.record import minimal_result, result_json, write_result_file

if TYPE_CHECKING:
    from mle_ci.settings import Settings
    from mle_ci.signaltrap import SignalTrap
    from mle_ci.stages.preflight import Preflight


def publish(result: RunResult, files: ResultFiles, outlets: Outlets) -> None:
    """Write result.json, summary.md and junit.xml, then the GitHub outputs, summary and annotations.

    result.json goes first and alone (nothing to render that could fail before it); the step outputs do not
    depend on the job summary, so a summary the runner cannot take loses nothing else.
    """
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


def secure_record(result: RunResult, files: ResultFiles, outlets: Outlets) -> None:
    """No space was held back for the reports: before anything else takes the disk, a small final record replaces
    the ``running`` one, so that result.json agrees with the exit code whatever happens next."""
    minimal = outlets.redactor.text(result_json(minimal_result(result)))
    problem = write_result_file(files.result, minimal, minimal)
    if problem is not None:
        outlets.console.note(problem)


def record_failure(error: Exception, base: RunResult, files: ResultFiles, redactor: Redactor) -> None:
    """The harness failed after its command ended: result.json says so, or goes, as the exit code will."""
    if isinstance(error, MleCiError) and error.exit_code is not ExitCode.FAILED:
        # No status of a run that ran means this exit code: no record rather than a contradicting one.
        with contextlib.suppress(OSError):
            files.result.unlink(missing_ok=True)
        return
    failed = replace(
        base, status=RunStatus.FAILED, errors=(*base.errors, f"the harness failed while concluding the run: {error!r}")
    )
    text = redactor.text(result_json(minimal_result(failed)))
    write_result_file(files.result, text, text)


def say_verdict(result: RunResult, files: ResultFiles, outlets: Outlets) -> None:
    """The run's last lines: its verdict, what the agent did, and where the reports are."""
    console, redactor = outlets.console, outlets.redactor
    console.note(redactor.text(verdict_line(result)))
    about_agent = agent_line(result)
    if about_agent is not None:
        console.note(redactor.text(about_agent))
    console.note(f"reports in {files.root}: {', '.join(files.names())}")
