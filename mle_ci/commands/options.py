"""What several commands share on the command line: a path type for user-given paths, the data and cache options,
and the settings of a command that reads competitions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from mle_ci.config_file import describe
from mle_ci.settings import Settings, load_settings
from mle_ci.usertext import path_problem


class UserPath(click.Path):
    """A path from the command line that the one rule for user text accepts (:mod:`mle_ci.usertext`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        problem = path_problem(value) if isinstance(value, str) else None
        if problem is not None:
            self.fail(f"{describe(value)} {problem}", param, ctx)
        return super().convert(value, param, ctx)


DATA_DIR = click.option("--data-dir", "data_dir", metavar="DIR", help="Folder of prepared competitions.")
CACHE_DIR = click.option("--cache-dir", "cache_dir", metavar="DIR", help="Where demo competitions are built.")


def competition_settings(**values: object) -> Settings:
    """The settings of a command that reads competitions: its flags given (``None``: not given), file, environment."""
    return load_settings({k: v for k, v in values.items() if v is not None}, dict(os.environ), Path.cwd())
