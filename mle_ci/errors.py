"""The tool's own errors (their exit codes are :class:`mle_ci.contract.ExitCode`).

MleCiError                 a problem the tool reports as ``Error: ...`` with an exit code
├── ConfigError            bad option, input or config file: nothing was run (exit 2)
│   └── DurationError      a duration that cannot be read
├── EventError             a progress event that is not valid (skipped, never fatal)
└── ResultError            a result folder that cannot be read back (exit 2)
"""

from __future__ import annotations

from mle_ci.contract import ExitCode


class MleCiError(Exception):
    """Base of the tool's own errors; ``exit_code`` is what the command exits with."""

    exit_code: ExitCode = ExitCode.FAILED


class ConfigError(MleCiError):
    """A setting is wrong; the message names the key and, where known, where it came from."""

    exit_code = ExitCode.USAGE


class DurationError(ConfigError):
    """A duration such as ``90s``, ``30m`` or ``1h30m`` could not be read."""


class EventError(MleCiError):
    """A progress event is malformed."""


class ResultError(MleCiError):
    """A result folder or ``result.json`` cannot be read."""

    exit_code = ExitCode.USAGE
