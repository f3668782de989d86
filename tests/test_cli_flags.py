"""The command line's options as a user meets them: ``--gpus``, a ``--no-`` form for every boolean flag, and the
``MLE_CI_*`` variable of each setting's option in ``--help``."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import mle_ci.commands.run as run_module
from mle_ci.cli import COMMANDS, main
from mle_ci.commands.options import SettingOption
from mle_ci.contract import ExitCode
from mle_ci.settinglayers import ENV_NAMES
from mle_ci.settings import Settings

NOT_SETTINGS = {
    ("monitor", "require_gpu"): "the monitor reads no settings: only its own flags",
    ("aggregate", "output_dir"): "the aggregate's own folder (mle-ci-aggregate), not a run's",
    ("grade", "competition"): "required on the command line: the submission's competition",
    ("grade", "leaderboard"): "given to the grader directly, not through the settings",
    ("validate", "competition"): "required on the command line: the submission's competition",
}
"""Options named like a setting's key that a command reads itself, never through the settings."""


def command(name: str) -> click.Command:
    module, _, attribute = COMMANDS[name].where.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    assert isinstance(found, click.Command)
    return found


def options(name: str) -> list[click.Option]:
    return [p for p in command(name).params if isinstance(p, click.Option)]


@dataclass
class Recorded:
    settings: list[Settings]


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """``mle-ci run`` with its pipeline replaced: the settings it would run are recorded, and it exits 0."""
    monkeypatch.chdir(tmp_path)
    seen = Recorded([])

    @dataclass
    class Ended:
        exit_code: ExitCode = ExitCode.OK

    def execute(settings: Settings, **_: object) -> Ended:
        seen.settings.append(settings)
        return Ended()

    monkeypatch.setattr(run_module, "execute", execute)
    return seen


def run_settings(recorded: Recorded, *args: str) -> Settings:
    assert main(["run", *args, "--", sys.executable, "-c", "pass"]) == 0
    return recorded.settings[-1]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_boolean_flag_has_a_no_form(name: str) -> None:
    """Each boolean flag of each command is ``--x/--no-x``, so a ``true`` from a lower layer can be turned off."""
    for option in options(name):
        if option.is_flag and not option.count and option.name != "help":
            assert option.secondary_opts == [f"--no-{option.opts[0].removeprefix('--')}"], (name, option.name)


@pytest.mark.parametrize(
    ("layer", "flag", "field"),
    [
        ({"MLE_CI_REQUIRE_GPU": "true"}, "--no-require-gpu", "require_gpu"),
        ({"MLE_CI_FAIL_ON_IDLE_GPU": "true"}, "--no-fail-on-idle-gpu", "fail_on_idle_gpu"),
        ({"INPUT_FAIL-ON-IDLE-GPU": "true"}, "--no-fail-on-idle-gpu", "fail_on_idle_gpu"),
    ],
)
def test_a_no_flag_turns_off_a_true_from_the_environment(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch, layer: dict[str, str], flag: str, field: str
) -> None:
    """``--no-x`` beats the variable's ``true``; without a flag the variable holds, and ``--x`` is true."""
    for name, value in layer.items():
        monkeypatch.setenv(name, value)
    assert getattr(run_settings(recorded), field) is True
    assert getattr(run_settings(recorded, flag), field) is False
    assert getattr(run_settings(recorded, flag.replace("--no-", "--")), field) is True


def test_a_no_flag_turns_off_a_true_from_the_config_file(recorded: Recorded, tmp_path: Path) -> None:
    """``--no-require-gpu`` beats ``require-gpu: true`` in mle-ci.yml."""
    (tmp_path / "mle-ci.yml").write_text("require-gpu: true\nfail-on-idle-gpu: true\n", encoding="utf-8")
    settings = run_settings(recorded, "--no-require-gpu", "--no-fail-on-idle-gpu")
    assert (settings.require_gpu, settings.fail_on_idle_gpu) == (False, False)


@pytest.mark.parametrize(
    ("gpus", "required"), [("none", False), ("NONE", False), ("all", True), ("2", True), ("0,1", True)]
)
def test_gpus_on_the_command_line_means_what_the_input_means(recorded: Recorded, gpus: str, required: bool) -> None:
    """``--gpus none`` requires no GPU; anything else requires one, as the action's ``gpus`` input does."""
    settings = run_settings(recorded, "--gpus", gpus)
    assert (settings.gpus, settings.require_gpu) == (gpus, required)


def test_gpus_none_on_the_command_line_beats_the_environment(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--gpus none`` over ``MLE_CI_REQUIRE_GPU=true``: no GPU required; ``--require-gpu`` beside it still wins."""
    monkeypatch.setenv("MLE_CI_REQUIRE_GPU", "true")
    assert run_settings(recorded, "--gpus", "none").require_gpu is False
    assert run_settings(recorded, "--gpus", "none", "--require-gpu").require_gpu is True


def test_an_empty_gpus_is_a_usage_error(in_tmp_main: None, capsys: pytest.CaptureFixture[str]) -> None:
    """``--gpus ''`` is exit 2 naming the flag, before anything runs."""
    assert main(["run", "--gpus", " ", "--", sys.executable, "-c", "pass"]) == 2
    assert "--gpus: expected all, none, a GPU count or a device list" in capsys.readouterr().err


@pytest.fixture
def in_tmp_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_every_run_option_is_a_setting_that_shows_its_variable() -> None:
    """Every option of ``mle-ci run`` sets a setting, and says which ``MLE_CI_*`` variable sets it too."""
    for option in options("run"):
        if option.name == "help":
            continue
        assert isinstance(option, SettingOption), option.name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_the_variable_of_every_setting_option(name: str) -> None:
    """``--help`` names ``MLE_CI_<KEY>`` (from the environment layer's table) for each option that a variable also
    sets, and no variable for any other option."""
    text = " ".join(CliRunner().invoke(command(name), ["--help"], terminal_width=400).output.split())
    for option in options(name):
        if isinstance(option, SettingOption):
            assert f"[env var: {ENV_NAMES[option.name or '']}]" in text, (name, option.name)
        elif option.name in ENV_NAMES:
            assert (name, option.name) in NOT_SETTINGS, (name, option.name, "a setting's option, not SettingOption")
    shown = text.count("[env var: MLE_CI_")
    assert shown == sum(isinstance(option, SettingOption) for option in options(name))


def test_run_help_names_the_timeout_variable_beside_the_flag() -> None:
    """What a user reads: the flag's line ends with its variable."""
    output = CliRunner().invoke(command("run"), ["--help"], terminal_width=200).output
    line = next(line for line in output.splitlines() if line.strip().startswith("--timeout"))
    assert line.rstrip().endswith("[env var: MLE_CI_TIMEOUT]")


def test_a_setting_option_must_be_a_settings_key() -> None:
    """A SettingOption on something no variable sets is a bug found when the command is declared."""
    with pytest.raises(ValueError, match="not a setting's key"):
        SettingOption(["--interval"])
