"""What several commands share on the command line: a path type for user-given paths, an option for a setting
(its ``MLE_CI_*`` variable shown in ``--help``), the data and cache options, and the settings of a command that
reads competitions."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mle_ci.config_file import describe
from mle_ci.settinglayers import ENV_NAMES
from mle_ci.settings import Settings, load_settings
from mle_ci.usertext import path_problem

Decorated = TypeVar("Decorated", bound=Callable[..., Any])


class UserPath(click.Path):
    """A path from the command line that the one rule for user text accepts (:mod:`mle_ci.usertext`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        problem = path_problem(value) if isinstance(value, str) else None
        if problem is not None:
            self.fail(f"{describe(value)} {problem}", param, ctx)
        return super().convert(value, param, ctx)


class SettingOption(click.Option):
    """An option for a setting (its name is the setting's key): ``--help`` names the ``MLE_CI_*`` variable that
    also sets it. The settings read that variable themselves, below the option; click never does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.name not in ENV_NAMES:
            raise ValueError(f"SettingOption {self.name!r} is not a setting's key")  # a bug here, not a user's

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        """Click's help line with ``[env var: MLE_CI_KEY]`` after the text."""
        record = super().get_help_record(ctx)
        if record is None:
            return None
        spec, text = record
        return spec, f"{text}  [env var: {ENV_NAMES[self.name or '']}]"


def setting_option(*decls: str, **attrs: Any) -> Callable[[Decorated], Decorated]:
    """``click.option`` for a setting: a :class:`SettingOption`."""
    return click.option(*decls, cls=SettingOption, **attrs)


DATA_DIR = setting_option("--data-dir", "data_dir", metavar="DIR", help="Folder of prepared competitions.")
CACHE_DIR = setting_option("--cache-dir", "cache_dir", metavar="DIR", help="Where demo competitions are built.")


def competition_settings(**values: object) -> Settings:
    """The settings of a command that reads competitions: its flags given (``None``: not given), file, environment."""
    return load_settings({k: v for k, v in values.items() if v is not None}, dict(os.environ), Path.cwd())
