"""Path confinement: tools read and write in the workspace, read the competition data, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ToolError(Exception):
    """A tool call that cannot be carried out; its message goes back to the model as an error result."""


@dataclass(frozen=True)
class Workspace:
    """The folder the agent works in, the read-only data, and the submission folder it may write to."""

    root: Path
    data: Path
    submission_dir: Path

    def _resolve(self, path: str) -> Path:
        if not path.strip():
            raise ToolError("empty path")
        if "\x00" in path:
            raise ToolError("a path cannot contain a NUL character")
        given = Path(path).expanduser()
        # Symlinks and `..` are resolved before the check, so neither can lead outside.
        return (given if given.is_absolute() else self.root / given).resolve()

    @staticmethod
    def _inside(path: Path, folder: Path) -> bool:
        return path == folder or folder in path.parents

    def readable(self, path: str) -> Path:
        """The real path of ``path`` when it lies in the workspace, the submission folder or the data."""
        real = self._resolve(path)
        if any(self._inside(real, folder.resolve()) for folder in (self.root, self.submission_dir, self.data)):
            return real
        raise ToolError(f"{path}: outside the workspace ({self.root}) and the competition data ({self.data}); refused")

    def writable(self, path: str) -> Path:
        """The real path of ``path`` when it lies in the workspace or the submission folder (never the data)."""
        real = self._resolve(path)
        data = self.data.resolve()
        if self._inside(real, data):
            raise ToolError(f"{path}: the competition data ({self.data}) is read-only")
        if any(self._inside(real, folder.resolve()) for folder in (self.root, self.submission_dir)):
            return real
        raise ToolError(f"{path}: outside the workspace ({self.root}); writing there is refused")
