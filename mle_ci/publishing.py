"""Writing a run's reports and publishing them to GitHub: the same for every way a run can end."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from mle_ci.console import Console, make_console
from mle_ci.errors import ResultError
from mle_ci.files import write_atomic
from mle_ci.github import GitHub, GitHubFileError, Level
from mle_ci.hardware.model import Severity
from mle_ci.redaction import Redactor
from mle_ci.result import RunResult, RunStatus
from mle_ci.runplan import ResultFiles

if TYPE_CHECKING:
    from mle_ci.preflight import Preflight
    from mle_ci.settings import Settings
    from mle_ci.supervisor import SignalTrap


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


def open_outlets(settings: Settings, stream: TextIO) -> Outlets:
    """The console and GitHub adapter, with every secret masked before anything is printed."""
    github = GitHub.from_env(settings.env, stream) if settings.github_actions else None
    redactor = run_redactor(settings)
    if github is not None:
        for secret in redactor.values:
            github.mask(secret)
    console = make_console(stream, display=settings.display, github_actions=settings.github_actions)
    return Outlets(console, github, redactor)


def result_json(result: RunResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def publish(result: RunResult, files: ResultFiles, outlets: Outlets) -> None:
    """Write result.json, summary.md and junit.xml, then the GitHub outputs, summary and annotations."""
    from mle_ci.report import decide_annotations, decide_outputs, render_junit, render_summary

    github, redactor, console = outlets.github, outlets.redactor, outlets.console
    problems: list[str] = []
    raw = result_json(result)
    clean = redactor.text(raw)
    if clean != raw:
        # A secret in the record itself (a message, the command): render from the redacted record, as
        # `mle-ci report` will, so that both write the same reports.
        result = RunResult.from_dict(json.loads(clean))
    summary = redactor.text(render_summary(result))
    written = [
        (files.result, clean),
        (files.summary, summary),
        (files.junit, redactor.text(render_junit(result))),
    ]
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
    try:
        github.append_summary(summary)
        outputs = decide_outputs(result, files=files.as_outputs())
        github.set_outputs({name: redactor.text(value) for name, value in outputs.items()})
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


def scrub_files(paths: Iterable[Path], redactor: Redactor) -> list[str]:
    """Rewrite files the child wrote (events, transcript) with secrets redacted; the problems met, if any."""
    problems = []
    for path in paths:
        try:
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
        data = json.loads(path.read_text(encoding="utf-8"))
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
