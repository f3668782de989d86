"""The container's entry point: the action's inputs become the same settings and the same run as ``mle-ci run``.

Inputs arrive as ``INPUT_<NAME>`` (upper-cased, hyphens kept), or under their plain name when someone runs the
image by hand (``docker run -e TIMEOUT_MINUTES=30 ...``); an empty value is unset. :func:`load_settings`
reads them (one code path with the CLI), :func:`mle_ci.pipeline.execute` runs them and traps SIGINT/SIGTERM
while the command runs, so a cancelled workflow still gets every report and exit 130.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from mle_ci.console import inert_line
from mle_ci.errors import ExitCode, MleCiError
from mle_ci.github import GitHub
from mle_ci.settings import ACTION_INPUTS, load_settings

__all__ = ["input_environment", "main"]

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

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


def main(env: Mapping[str, str] | None = None, cwd: Path | None = None, stream: TextIO | None = None) -> int:
    """Run the action's inputs as ``mle-ci run`` would; the exit code is the documented one."""
    environ = dict(os.environ if env is None else env)
    out = sys.stdout if stream is None else stream
    workspace = environ.get("GITHUB_WORKSPACE", "").strip()
    folder = cwd if cwd is not None else Path(workspace) if workspace else Path.cwd()
    previous = _interrupt_on(signal.SIGTERM, signal.SIGHUP)
    try:
        from mle_ci.pipeline import execute

        settings = load_settings({}, input_environment(environ), folder)
        result = execute(settings, stream=out)
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
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt_on(*signals: signal.Signals) -> dict[signal.Signals, _Handler]:
    """Until the pipeline's own trap takes over, SIGTERM and SIGHUP interrupt like SIGINT (not a silent death)."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    return {sig: signal.signal(sig, interrupt) for sig in signals}
