"""Path confinement: tools read and write in the workspace, read the competition data, and nothing else.

The rules (which folders, which are read-only, what a refusal says) are here; the race-free walk that keeps them
is :mod:`.confined`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from mle_ci.agents.claude.config import SUBMISSION_NAME
from mle_ci.agents.claude.confined import Outside, ReadOnly, Refused, Root, open_file, pin, replace_file
from mle_ci.errors import MleCiError


class ToolError(MleCiError):
    """A tool call that cannot be carried out; its message goes back to the model as an error result."""


@dataclass(frozen=True)
class Workspace:
    """The folder the agent works in, the read-only data, and the submission folder it may write to.

    The three folders are pinned when the workspace is made: one moved or replaced later is refused, not followed.
    """

    root: Path
    data: Path
    submission_dir: Path
    _roots: tuple[Root, Root, Root] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The data first: where it lies inside the workspace, the innermost root (the data) says read-only.
        roots = (pin(self.data, writable=False), pin(self.root, writable=True), pin(self.submission_dir, writable=True))
        object.__setattr__(self, "_roots", roots)

    @property
    def _workspace(self) -> Root:
        return self._roots[1]

    def _refusal(self, path: str, exc: Refused | OSError, allowed: str) -> ToolError:
        if isinstance(exc, Outside):
            return ToolError(f"{path}: outside {allowed}; refused")
        if isinstance(exc, ReadOnly):
            return ToolError(f"{path}: the competition data ({self.data}) is read-only")
        if isinstance(exc, FileNotFoundError):
            return ToolError(f"{path}: no such file")
        if isinstance(exc, OSError):
            return ToolError(f"{path}: {exc.strerror or exc}")
        return ToolError(f"{path}: {exc}")

    @property
    def _everywhere(self) -> str:
        return (
            f"the workspace ({self.root}), the submission folder ({self.submission_dir}) "
            f"and the competition data ({self.data})"
        )

    @staticmethod
    def _checked(path: str) -> str:
        if not path.strip():
            raise ToolError("empty path")
        if "\x00" in path:
            raise ToolError("a path cannot contain a NUL character")
        return path

    def open(self, path: str) -> BinaryIO:
        """The regular file ``path`` names in the workspace, the submission folder or the data, open to read."""
        try:
            return os.fdopen(open_file(self._checked(path), self._roots, self._workspace), "rb")
        except (Refused, OSError) as exc:
            raise self._refusal(path, exc, self._everywhere) from None

    def open_submission(self, path: str | None = None) -> BinaryIO:
        """The submission open to read: ``path`` as :meth:`open` does, by default ``submission.csv`` of the
        submission folder, which no link may lead out of."""
        if path is not None:
            return self.open(path)
        folder = self._roots[2]
        try:
            return os.fdopen(open_file(SUBMISSION_NAME, (folder,), folder), "rb")
        except (Refused, OSError) as exc:
            raise self._refusal(
                str(self.submission_path()), exc, f"the submission folder ({self.submission_dir})"
            ) from None

    def submission_path(self) -> Path:
        """Where the run's submission is, as the model is told."""
        return self.submission_dir / SUBMISSION_NAME

    def write(self, path: str, content: bytes) -> Path:
        """Write ``content`` as ``path`` in the workspace or the submission folder, replacing it whole; its path."""
        try:
            return Path(replace_file(self._checked(path), content, self._roots, self._workspace))
        except (Refused, OSError) as exc:
            raise self._refusal(path, exc, self._everywhere) from None
