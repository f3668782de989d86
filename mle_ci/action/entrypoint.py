"""The container's entry point: the action's inputs become the same settings and the same run as ``mle-ci run``.

Inputs arrive as ``INPUT_<NAME>`` (upper-cased, hyphens kept), or under their plain name when someone runs the
image by hand (``docker run -e TIMEOUT=30m ...``); an empty value is unset; an old input name (``timeout-minutes``)
still works, with a warning. :func:`load_settings` reads them (one code path with the CLI),
:func:`mle_ci.pipeline.execute` runs them and traps the harness signals
(SIGINT, SIGTERM, SIGHUP, SIGQUIT) while the command runs, so a cancelled workflow still gets every report and
exit 130; a signal during the checks ends it before the command starts, and none after it changes the exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from mle_ci.console import inert_line
from mle_ci.contract import ExitCode
from mle_ci.errors import MleCiError
from mle_ci.github import GitHub
from mle_ci.settinglayers import ACTION_INPUTS
from mle_ci.settings import load_settings
from mle_ci.signaltrap import SignalTrap

__all__ = ["input_environment", "main", "process_main", "warn_deprecated"]

# DISPLAY is X11's; any other plain name that means something else to a program is left out here too.
_NO_PLAIN_FALLBACK = frozenset({"display"})


def input_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with each input missing as ``INPUT_<NAME>`` taken from its plain name (``NAME``, ``-`` or ``_``)."""
    merged = dict(env)
    for name in ACTION_INPUTS:
        key = f"INPUT_{name.upper()}"
        if merged.get(key, "").strip() or name in _NO_PLAIN_FALLBACK:
            continue
        for plain in dict.fromkeys((name.upper(), name.upper().replace("-", "_"))):
            if env.get(plain, "").strip():
                merged[key] = env[plain]
                break
    return merged


def main(
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stream: TextIO | None = None,
    *,
    process: bool = False,
) -> int:
    """Run the action's inputs as ``mle-ci run`` would; the exit code is the documented one.

    ``process``: this is the container's process itself (:func:`process_main`), whose signals stay ignored after
    the run until it exits; a caller in the same interpreter gets its own signal handling back.
    """
    environ = dict(os.environ if env is None else env)
    out = sys.stdout if stream is None else stream
    workspace = environ.get("GITHUB_WORKSPACE", "").strip()
    folder = cwd if cwd is not None else Path(workspace) if workspace else Path.cwd()
    with SignalTrap(for_process=process) as trap:
        return _run(environ, folder, out, trap)
    raise AssertionError("unreachable")  # pragma: no cover


def _run(environ: Mapping[str, str], folder: Path, out: TextIO, trap: SignalTrap) -> int:
    try:
        # After the trap is set: a cancel in the 48 ms the run's modules take to load still ends with reports.
        from mle_ci.pipeline import execute  # noqa: PLC0415

        settings = load_settings({}, input_environment(environ), folder)
        warn_deprecated(settings.deprecations, environ, out)
        result = execute(settings, stream=out, trap=trap)
        return int(result.exit_code)
    except MleCiError as exc:
        github = GitHub.from_env(environ, out)
        if github is not None:
            github.annotate("error", str(exc), title="mle-gpu-agent")
            out.flush()
        print(inert_line(f"Error: {exc}"), file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("Interrupted before the run started; nothing was run.", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


def warn_deprecated(notices: Sequence[str], environ: Mapping[str, str], out: TextIO) -> None:
    """Each deprecation notice once: a warning annotation in GitHub Actions, else a ``Warning:`` line on stderr."""
    github = GitHub.from_env(environ, out)
    for notice in notices:
        if github is not None:
            github.annotate("warning", notice, title="mle-gpu-agent deprecated input")
        else:
            print(inert_line(f"Warning: {notice}"), file=sys.stderr)
    out.flush()


def process_main() -> int:
    """The action's container process (``entrypoint.py``)."""
    return main(process=True)
