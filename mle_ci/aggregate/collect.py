"""Finding the result.json of every run in folders of downloaded artifacts, and reading each one."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from mle_ci.aggregate.model import LoadedRun
from mle_ci.errors import ConfigError, ResultError
from mle_ci.result import RunResult
from mle_ci.usertext import read_json

RESULT_NAME = "result.json"


def find_results(folders: Sequence[Path], *, cwd: Path) -> list[Path]:
    """Every ``result.json`` under ``folders`` (recursively, relative to ``cwd``), each once, in a stable order."""
    found: dict[Path, None] = {}
    for given in folders:
        folder = cwd / given
        if not folder.exists():
            raise ConfigError(f"RESULT_DIR: {str(given)!r} does not exist")
        if not folder.is_dir():
            raise ConfigError(f"RESULT_DIR: {str(given)!r} is not a folder")
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            if RESULT_NAME in files:
                found.setdefault((Path(root) / RESULT_NAME).resolve(), None)
    return sorted(found)


def load_run(path: Path, *, source: str) -> LoadedRun:
    """One run; a result.json that cannot be read or understood becomes a run with its problem named."""
    try:
        data = read_json(path)
    except OSError as exc:
        return LoadedRun(source, None, problem=f"unreadable: cannot read result.json: {exc.strerror or exc}")
    except ValueError as exc:
        return LoadedRun(source, None, problem=f"unreadable: result.json is not valid JSON ({exc})")
    try:
        result = RunResult.from_dict(data)
    except ResultError as exc:
        return LoadedRun(source, None, problem=f"unreadable: {exc}")
    return LoadedRun(source, result, raw=data)


def load_runs(folders: Sequence[Path], *, cwd: Path) -> list[LoadedRun]:
    """Every run under ``folders``; each named by its folder, relative to ``cwd`` where possible."""
    runs = []
    for path in find_results(folders, cwd=cwd):
        folder = path.parent
        try:
            source = str(folder.relative_to(cwd.resolve()))
        except ValueError:
            source = str(folder)
        runs.append(load_run(path, source=source))
    return runs
