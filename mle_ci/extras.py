"""Which extra of the package installs each optional library, and the error that names it.

``pip install mle-gpu-agent`` is the harness alone: supervising a command and its reports need none of these.
A command or a run that needs one refuses, before it starts anything, with the ``pip install`` line that brings it
(exit 2, a :class:`~mle_ci.errors.ConfigError`). ``tests/test_packaging.py`` holds this table to pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType

from mle_ci.errors import ConfigError

DISTRIBUTION = "mle-gpu-agent"
"""The package's name on PyPI, as ``pip install`` takes it."""


@dataclass(frozen=True)
class OptionalLibrary:
    """An optional library: its name on PyPI and the extra of this package that installs it."""

    distribution: str
    extra: str


OPTIONAL: Mapping[str, OptionalLibrary] = MappingProxyType(
    {
        "numpy": OptionalLibrary("numpy", "grading"),
        "pandas": OptionalLibrary("pandas", "grading"),
        "sklearn": OptionalLibrary("scikit-learn", "grading"),
        "threadpoolctl": OptionalLibrary("threadpoolctl", "grading"),
        "torch": OptionalLibrary("torch", "agents"),
        "PIL": OptionalLibrary("pillow", "agents"),
        "anthropic": OptionalLibrary("anthropic", "claude"),
    }
)
"""Every optional library by its top-level import name."""


def install_line(module: str) -> str:
    """The command that installs the extra bringing ``module`` (a key of :data:`OPTIONAL`)."""
    return f"pip install '{DISTRIBUTION}[{OPTIONAL[module].extra}]'"


def extra_missing(module: str, needed_by: str) -> ConfigError:
    """The error for ``needed_by`` (``mle-ci grade``, ``the baseline agent``) when ``module`` is not installed."""
    optional = OPTIONAL[module]
    return ConfigError(
        f"{needed_by} needs {optional.distribution} (the {optional.extra!r} extra), which is not installed here: "
        f"{install_line(module)}"
    )


def extra_for(exc: ModuleNotFoundError, needed_by: str) -> ConfigError | None:
    """The error naming the extra when ``exc`` is an optional library missing; ``None`` for any other module (one
    of the package's own, or a library no extra brings: a bug, shown as it is)."""
    module = (exc.name or "").partition(".")[0]
    return extra_missing(module, needed_by) if module in OPTIONAL else None


@contextmanager
def extra_needed(needed_by: str) -> Iterator[None]:
    """Within: an optional library that cannot be imported becomes the error naming its extra."""
    try:
        yield
    except ModuleNotFoundError as exc:
        error = extra_for(exc, needed_by)
        if error is None:
            raise
        raise error from None
