"""The tool's own errors, one tree (their exit codes are :class:`mle_ci.contract.ExitCode`).

MleCiError                      a problem the tool reports as ``Error: ...`` with an exit code (1 unless below)
├── ConfigError                 bad option, input or config file: nothing was run (exit 2)
│   ├── DurationError           a duration that cannot be read
│   ├── CompetitionError        an unknown or unusable competition (mle_ci.competitions.model)
│   ├── OptionsError            a baseline agent flag or variable (mle_ci.agents.baseline.options)
│   └── PriceError              the claude agent's price table (mle_ci.agents.claude.prices)
├── EventError                  a progress event that is not valid (skipped, never fatal)
├── ResultError                 a result folder that cannot be read back (exit 2)
├── GitHubFileError             a runner file that cannot be written (mle_ci.github)
├── TableError                  a CSV that cannot be read as a table (mle_ci.competitions.csvtable; a ValueError)
├── InvalidSubmission           a submission MLE-bench's rules refuse (mle_ci.competitions.rules)
├── NvmlError                   an NVML call that failed (mle_ci.hardware.nvml)
├── TaskError                   data the baseline cannot learn from (mle_ci.agents.baseline.task)
│   └── LayoutError             files laid out as no known competition is (mle_ci.agents.baseline.layout)
├── SpecialInputError           a special layout's files that cannot be read (mle_ci.agents.baseline.special)
├── AiffError                   an audio clip that cannot be read (a ValueError)
├── UnreadableFile              an archive member or file that cannot be read (mle_ci.agents.baseline.archives)
├── ApiFailure                  the Messages API gave up (mle_ci.agents.claude.api)
├── Refused                     a path the agent's file tools refuse (mle_ci.agents.claude.confined)
│   ├── Outside                 one that leads outside every root
│   └── ReadOnly                a write into a read-only root
└── ToolError                   a tool call the claude agent cannot carry out (mle_ci.agents.claude.workspace)

``tests/test_contract.py`` checks that every exception class of the package is in this tree.
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
