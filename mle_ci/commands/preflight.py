"""``mle-ci preflight``: print the hardware profile, findings and training plan; exit 3 when a required GPU is
unusable, with the findings as annotations in GitHub Actions."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

import click

from mle_ci.commands.options import setting_option
from mle_ci.console import inert_lines
from mle_ci.contract import ExitCode
from mle_ci.durations import parse_duration
from mle_ci.github import GitHub, Level
from mle_ci.hardware.model import Severity
from mle_ci.hardware.render import preflight_json, render_preflight_text
from mle_ci.settings import Settings, load_settings
from mle_ci.stages.preflight import CUDA_CHECK_TIMEOUT, Preflight, failed, run_preflight


@click.command()
@setting_option("--require-gpu/--no-require-gpu", "require_gpu", default=None, help="Exit 3 unless CUDA works.")
@click.option("--json/--no-json", "as_json", help="Print the profile, findings and plan as JSON.")
@click.option("--timeout", "cuda_timeout", metavar="DURATION", help="Limit for the CUDA check.")
def preflight(require_gpu: bool | None, as_json: bool, cuda_timeout: str | None) -> None:
    """Hardware profile, diagnosis and training plan; exit 3 with --require-gpu when CUDA is unusable."""
    values: dict[str, object] = {} if require_gpu is None else {"require_gpu": require_gpu}
    settings = load_settings(values, dict(os.environ), Path.cwd())
    timeout = CUDA_CHECK_TIMEOUT if cuda_timeout is None else parse_duration(cuda_timeout, key="--timeout")
    raise SystemExit(preflight_command(settings, as_json=as_json, cuda_timeout=timeout, stream=sys.stdout))


def preflight_command(settings: Settings, *, as_json: bool, cuda_timeout: float, stream: TextIO) -> int:
    """Print the profile, findings and plan; exit 3 when a required GPU is unusable."""
    result = run_preflight(settings, cuda_check=True, cuda_timeout=cuda_timeout)
    if as_json:
        stream.write(
            inert_lines(json.dumps(preflight_json(result.profile, result.diagnosis, result.plan), indent=2)) + "\n"
        )
    else:
        stream.write(inert_lines(render_preflight_text(result.profile, result.diagnosis, result.plan)) + "\n")
    stream.flush()
    blocked = failed(result, settings)
    if settings.github_actions:
        _annotate(result, settings, stream, blocked=blocked)
    return int(ExitCode.GPU_UNAVAILABLE if blocked else ExitCode.OK)


def _annotate(result: Preflight, settings: Settings, stream: TextIO, *, blocked: bool) -> None:
    """Every finding worth a look as an annotation: an error when it blocks the run, else a warning."""
    github = GitHub.from_env(settings.env, stream)
    if github is None:
        return
    for finding in result.diagnosis.findings:
        if finding.severity is Severity.INFO:
            continue
        level: Level = "error" if finding.severity is Severity.ERROR and blocked else "warning"
        github.annotate(level, finding.sentence, title=f"GPU preflight: {finding.code}")
