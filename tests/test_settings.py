"""Tests for mle_ci.settings and the layers and values it reads: layers and precedence, every error path, durations,
inputs, patterns."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mle_ci import settingvalues
from mle_ci.config_file import PATTERN_GROUPS
from mle_ci.errors import ConfigError
from mle_ci.redaction import is_secret_name
from mle_ci.settings import Settings, load_settings
from mle_ci.settingvalues import LinePattern


def write(cwd: Path, text: str, name: str = "mle-ci.yml") -> Path:
    path = cwd / name
    path.write_text(text, encoding="utf-8")
    return path


def load(cwd: Path, cli: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    return load_settings(cli or {}, env or {}, cwd)


def error_of(cwd: Path, cli: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(cwd, cli, env)
    return str(caught.value)


# --- defaults and layers ---------------------------------------------------------------------------------


def test_defaults_apply_when_nothing_is_given(tmp_path: Path) -> None:
    """With no file, no environment and no flags every field has its default, paths under cwd."""
    s = load(tmp_path)
    assert s.command == ()
    assert s.agent is None
    assert s.output_dir == tmp_path / "mle-ci-results"
    assert s.data_dir is None
    assert (s.timeout, s.grace, s.heartbeat, s.stall_timeout) == (None, 15.0, 30.0, None)
    assert s.require_gpu is False
    assert s.gpus is None
    assert s.higher_is_better is None
    assert s.patterns == ()
    assert s.display == "auto"
    assert s.workspace == tmp_path
    assert s.github_actions is False
    assert s.config_file is None


# Each row: field, config-file line, MLE_CI_* variable, action input, CLI key and value, and the value each
# layer should produce once it is the highest one present.
PRECEDENCE = [
    ("agent", "agent: claude", ("MLE_CI_AGENT", "baseline"), ("INPUT_AGENT", "claude"), ("agent", "baseline"),
     ["claude", "baseline", "claude", "baseline"]),
    ("competition", "competition: a", ("MLE_CI_COMPETITION", "b"), ("INPUT_COMPETITION", "c"),
     ("competition", "d"), ["a", "b", "c", "d"]),
    ("timeout", "timeout: 10m", ("MLE_CI_TIMEOUT", "20m"), ("INPUT_TIMEOUT", "30m"), ("timeout", "40m"),
     [600.0, 1200.0, 1800.0, 2400.0]),
    ("grace", "grace: 5", ("MLE_CI_GRACE", "6s"), ("INPUT_GRACE", "7s"), ("grace", "8s"),
     [5.0, 6.0, 7.0, 8.0]),
    ("heartbeat", "heartbeat: 1m", ("MLE_CI_HEARTBEAT", "2m"), ("INPUT_HEARTBEAT", "3"),
     ("heartbeat", 4.0), [60.0, 120.0, 3.0, 4.0]),
    ("stall_timeout", "stall-timeout: 1h", ("MLE_CI_STALL_TIMEOUT", "2h"), ("INPUT_STALL-TIMEOUT", "3m"),
     ("stall_timeout", "4m"), [3600.0, 7200.0, 180.0, 240.0]),
    ("folds", "folds: 2", ("MLE_CI_FOLDS", "3"), ("INPUT_FOLDS", "4"), ("folds", 5), [2, 3, 4, 5]),
    ("min_score", "min_score: 0.1", ("MLE_CI_MIN_SCORE", "0.2"), ("INPUT_MIN-SCORE", "0.3"),
     ("min_score", 0.4), [0.1, 0.2, 0.3, 0.4]),
    ("model", "model: m1", ("MLE_CI_MODEL", "m2"), ("INPUT_MODEL", "m3"), ("model", "m4"),
     ["m1", "m2", "m3", "m4"]),
    ("metric", "metric: auc", ("MLE_CI_METRIC", "rmse"), ("INPUT_METRIC", "f1"), ("metric", "logloss"),
     ["auc", "rmse", "f1", "logloss"]),
    ("higher_is_better", "direction: max", ("MLE_CI_DIRECTION", "min"), ("INPUT_DIRECTION", "higher"),
     ("direction", "auto"), [True, False, True, None]),
    ("display", "display: plain", ("MLE_CI_DISPLAY", "live"), ("INPUT_DISPLAY", "plain"), ("display", "live"),
     ["plain", "live", "plain", "live"]),
    ("command", "command: python a.py", ("MLE_CI_COMMAND", "python b.py"), ("INPUT_COMMAND", "python 'c d.py'"),
     ("command", ("python", "e.py")),
     [("python", "a.py"), ("python", "b.py"), ("python", "c d.py"), ("python", "e.py")]),
    ("require_gpu", "require-gpu: true", ("MLE_CI_REQUIRE_GPU", "false"), ("INPUT_GPUS", "all"),
     ("require_gpu", False), [True, False, True, False]),
    ("data_dir", "data-dir: a", ("MLE_CI_DATA_DIR", "b"), ("INPUT_DATA-DIR", "c"), ("data_dir", Path("d")),
     ["a", "b", "c", "d"]),
    ("output_dir", "output_dir: a", ("MLE_CI_OUTPUT_DIR", "b"), ("INPUT_OUTPUT-DIR", "c"), ("output_dir", "d"),
     ["a", "b", "c", "d"]),
    ("max_turns", "max-turns: 10", ("MLE_CI_MAX_TURNS", "20"), ("INPUT_MAX-TURNS", "30"), ("max_turns", "40"),
     [10, 20, 30, 40]),
    ("max_cost", "max-cost: 1", ("MLE_CI_MAX_COST", "2.5"), ("INPUT_MAX-COST", "3"), ("max_cost", "0.25"),
     [1.0, 2.5, 3.0, 0.25]),
    ("api_reserve", "api-reserve: 1m", ("MLE_CI_API_RESERVE", "90s"), ("INPUT_API-RESERVE", "2m"),
     ("api_reserve", "30"), [60.0, 90.0, 120.0, 30.0]),
    ("fallback_min", "fallback_min: 2m", ("MLE_CI_FALLBACK_MIN", "3m"), ("INPUT_FALLBACK-MIN", "45"),
     ("fallback_min", "1m30s"), [120.0, 180.0, 45.0, 90.0]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "line", "variable", "action_input", "flag", "expected"), PRECEDENCE, ids=[r[0] for r in PRECEDENCE]
)
def test_each_layer_beats_the_one_below(
    tmp_path: Path,
    name: str,
    line: str,
    variable: tuple[str, str],
    action_input: tuple[str, str],
    flag: tuple[str, object],
    expected: list[object],
) -> None:
    """File beats default, MLE_CI_* beats file, INPUT_* beats MLE_CI_*, and the CLI beats them all."""
    write(tmp_path, line + "\n")
    if name.endswith("_dir"):
        expected = [tmp_path / str(e) for e in expected]
    layers: list[tuple[dict[str, object], dict[str, str]]] = [
        ({}, {}),
        ({}, dict([variable])),
        ({}, dict([variable, action_input])),
        (dict([flag]), dict([variable, action_input])),
    ]
    for (cli, env), want in zip(layers, expected, strict=True):
        assert getattr(load(tmp_path, cli, env), name) == want, (cli, env)


def test_a_layer_that_does_not_set_a_key_keeps_the_lower_value(tmp_path: Path) -> None:
    """Precedence is per key: the CLI setting one key leaves the file's other keys alone."""
    write(tmp_path, "folds: 3\ncompetition: spaceship\n")
    s = load(tmp_path, {"folds": 7, "competition": None, "agent": None}, {"MLE_CI_AGENT": "claude"})
    assert (s.folds, s.competition, s.agent) == (7, "spaceship", "claude")


def test_empty_environment_values_mean_unset(tmp_path: Path) -> None:
    """An empty or blank MLE_CI_* or INPUT_* value leaves the lower layer's value."""
    write(tmp_path, "folds: 3\ntimeout: 1m\nagent: claude\n")
    s = load(tmp_path, env={"MLE_CI_FOLDS": "", "INPUT_TIMEOUT-MINUTES": "", "INPUT_AGENT": "  "})
    assert (s.folds, s.timeout, s.agent) == (3, 60.0, "claude")


def test_empty_cli_command_means_not_given(tmp_path: Path) -> None:
    """An empty command tuple from the CLI leaves the configured command in place."""
    write(tmp_path, "command: [python, train.py, --epochs, 5]\n")
    assert load(tmp_path, {"command": ()}).command == ("python", "train.py", "--epochs", "5")


def test_yaml_null_leaves_the_default(tmp_path: Path) -> None:
    """A key with no value in the file is the same as leaving it out."""
    write(tmp_path, "grace:\npatterns:\n")
    s = load(tmp_path)
    assert (s.grace, s.patterns) == (15.0, ())


def test_unknown_mle_ci_variables_are_ignored(tmp_path: Path) -> None:
    """Child-facing variables such as MLE_CI_EVENTS, and anything else unknown, are not settings."""
    env = {"MLE_CI_EVENTS": "/x", "MLE_CI_DEADLINE": "soon", "MLE_CI_DEVICE": "cuda", "MLE_CI_TIMOUT": "x"}
    assert load(tmp_path, env=env).timeout is None


def test_cli_accepts_typed_values(tmp_path: Path) -> None:
    """Values click already converted (int, float, bool, Path) are taken as they are."""
    s = load(tmp_path, {"folds": 4, "min_score": 1, "require_gpu": True, "data_dir": Path("/data"), "grace": 2})
    assert (s.folds, s.min_score, s.require_gpu, s.data_dir, s.grace) == (4, 1.0, True, Path("/data"), 2.0)


def test_unknown_cli_key_is_a_programming_error(tmp_path: Path) -> None:
    """A CLI key that is no setting is the caller's bug, not a ConfigError."""
    with pytest.raises(ValueError, match="unknown CLI key 'timout'"):
        load(tmp_path, {"timout": "5m"})


def test_relative_paths_resolve_against_cwd_and_absolute_paths_stay(tmp_path: Path) -> None:
    """data_dir, leaderboard and output_dir are made absolute against cwd, from any layer."""
    s = load(tmp_path, {"data_dir": "in/data", "output_dir": str(tmp_path / "abs")})
    assert s.data_dir == tmp_path / "in" / "data"
    assert s.output_dir == tmp_path / "abs"
    assert s.leaderboard is None
    assert load(tmp_path, env={"MLE_CI_LEADERBOARD": "lb.csv"}).leaderboard == tmp_path / "lb.csv"
    assert load(tmp_path, env={"INPUT_LEADERBOARD": "b/lb.csv"}).leaderboard == tmp_path / "b" / "lb.csv"
    write(tmp_path, "leaderboard: from-file.csv\n")
    assert load(tmp_path).leaderboard == tmp_path / "from-file.csv"


def test_workspace_and_github_actions_come_from_the_environment(tmp_path: Path) -> None:
    """GITHUB_WORKSPACE sets the workspace; only GITHUB_ACTIONS=true turns on Actions mode."""
    s = load(tmp_path, env={"GITHUB_WORKSPACE": str(tmp_path / "ws"), "GITHUB_ACTIONS": "true"})
    assert (s.workspace, s.github_actions) == (tmp_path / "ws", True)
    assert load(tmp_path, env={"GITHUB_ACTIONS": "1"}).github_actions is False


# --- config file location -----------------------------------------------------------------------------------


def test_mle_ci_yaml_is_found_too(tmp_path: Path) -> None:
    """mle-ci.yaml in cwd is read when mle-ci.yml is absent."""
    path = write(tmp_path, "folds: 2\n", name="mle-ci.yaml")
    s = load(tmp_path)
    assert (s.folds, s.config_file) == (2, path)


def test_both_default_names_present_is_an_error(tmp_path: Path) -> None:
    """Two candidate files are ambiguous, so neither is chosen silently."""
    write(tmp_path, "folds: 2\n")
    write(tmp_path, "folds: 3\n", name="mle-ci.yaml")
    assert "both mle-ci.yml and mle-ci.yaml exist" in error_of(tmp_path)


def test_named_config_file_order(tmp_path: Path) -> None:
    """--config beats INPUT_CONFIG, which beats MLE_CI_CONFIG, which beats the default name."""
    write(tmp_path, "folds: 1\n")
    for n in (2, 3, 4):
        write(tmp_path, f"folds: {n}\n", name=f"c{n}.yml")
    env = {"MLE_CI_CONFIG": "c2.yml"}
    assert load(tmp_path, env=env).folds == 2
    env["INPUT_CONFIG"] = "c3.yml"
    assert load(tmp_path, env=env).folds == 3
    s = load(tmp_path, {"config": "c4.yml"}, env)
    assert (s.folds, s.config_file) == (4, tmp_path / "c4.yml")


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        ({"config": "nope.yml"}, {}, "--config: config file 'nope.yml' does not exist"),
        ({}, {"INPUT_CONFIG": "nope.yml"}, "input config: config file 'nope.yml' does not exist"),
        ({}, {"MLE_CI_CONFIG": "nope.yml"}, "environment MLE_CI_CONFIG: config file 'nope.yml' does not exist"),
        ({"config": "."}, {}, "--config: config file '.' is not a file"),
    ],
)
def test_named_config_file_must_exist(
    tmp_path: Path, cli: dict[str, object], env: dict[str, str], message: str
) -> None:
    """A config file named explicitly that is not there is an error naming where it was named."""
    assert error_of(tmp_path, cli, env) == message


def test_error_messages_use_the_name_given_for_the_file(tmp_path: Path) -> None:
    """Messages name the file as the user wrote it."""
    (tmp_path / "ci").mkdir()
    write(tmp_path, "folds: 0\n", name="ci/run.yml")
    assert (
        error_of(tmp_path, {"config": "ci/run.yml"}) == "ci/run.yml line 1: folds: expected a positive integer, got 0"
    )


# --- config file errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agent: baseline\n\ntimout: 5\n", "mle-ci.yml line 3: unknown key 'timout' — did you mean 'timeout'?"),
        ("stall-timout: 5\n", "mle-ci.yml line 1: unknown key 'stall-timout' — did you mean 'stall-timeout'?"),
        ("higher_is_better: true\n", "mle-ci.yml line 1: unknown key 'higher_is_better'"),
        ("zzz: 1\n", "mle-ci.yml line 1: unknown key 'zzz'; known keys: agent, api_reserve, baseline_result, cache"),
        ("folds: 2\nfolds: 3\n", "mle-ci.yml line 2: 'folds' is set twice (first on line 1)"),
        ("folds: 2\ngrace: 1\nfolds: [3]\n", "mle-ci.yml line 3: 'folds' is set twice"),
        ("folds: [1, 2]\n", "mle-ci.yml line 1: folds: expected a positive integer, got a list"),
        ("folds: '5'\n", "mle-ci.yml line 1: folds: expected a positive integer, got '5'"),
        ("folds: 2.5\n", "mle-ci.yml line 1: folds: expected a positive integer, got 2.5"),
        ("folds: true\n", "mle-ci.yml line 1: folds: expected a positive integer, got true"),
        ("folds: 1001\n", "mle-ci.yml line 1: folds: expected at most 1000 folds, got 1001"),
        ("min-score: high\n", "mle-ci.yml line 1: min-score: expected a number, got 'high'"),
        (
            "timeout: {a: 1}\n",
            "mle-ci.yml line 1: timeout: expected a duration such as 90s, 30m or 1h30m, got a mapping",
        ),
        ("\n\n\ntimeout: '-5m'\n", "mle-ci.yml line 4: timeout: '-5m' is not a duration"),
        ("timeout: -5\n", "mle-ci.yml line 1: timeout: a duration cannot be negative (-5)"),
        ("require-gpu: 'true'\n", "mle-ci.yml line 1: require-gpu: expected true or false, got 'true'"),
        ("agent: gpt\n", "mle-ci.yml line 1: agent: expected one of baseline, claude, got 'gpt'"),
        ("display: fancy\n", "mle-ci.yml line 1: display: expected one of auto, plain, live, got 'fancy'"),
        ("direction: up\n", "mle-ci.yml line 1: direction: expected max, higher, min, lower or auto, got 'up'"),
        ("competition: 2023\n", "mle-ci.yml line 1: competition: expected a non-empty string, got 2023"),
        ("data-dir: [a]\n", "mle-ci.yml line 1: data-dir: expected a path, got a list"),
        ("gpus: ''\n", "mle-ci.yml line 1: gpus: expected all, none, a GPU count or a device list"),
        ("command: {run: x}\n", "mle-ci.yml line 1: command: expected a command line (a string or a list of words)"),
        ("command: [python, {a: 1}]\n", "mle-ci.yml line 1: command: word 1 of the command must be a string"),
        ('command: "python \'a.py"\n', 'mle-ci.yml line 1: command: cannot split "python \'a.py" into words'),
        ("agent: [baseline\n", "mle-ci.yml line 2: invalid YAML:"),
        ("agent: baseline\n  folds: 2\n", "mle-ci.yml line 2: invalid YAML: mapping values are not allowed here"),
        ("folds: 1\n---\nfolds: 2\n", "mle-ci.yml line 2: invalid YAML:"),
        ("- folds\n", "mle-ci.yml line 1: the top level must be a mapping of settings (key: value)"),
        ("just text\n", "mle-ci.yml line 1: the top level must be a mapping"),
        ("[1]: 2\n", "mle-ci.yml line 1: keys must be names, not [1]"),
        ("model: !!python/name:os.system\n", "mle-ci.yml line 1: model: could not determine a constructor"),
    ],
)
def test_config_file_errors_name_the_key_and_line(tmp_path: Path, text: str, message: str) -> None:
    """Every problem in the file is a ConfigError naming the file, the line and the key."""
    write(tmp_path, text)
    assert error_of(tmp_path).startswith(message)


def test_config_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    """Undecodable bytes are reported, not raised as UnicodeDecodeError."""
    (tmp_path / "mle-ci.yml").write_bytes(b"model: \xff\n")
    assert error_of(tmp_path).startswith("mle-ci.yml: not UTF-8 text")


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_an_empty_config_file_is_fine(tmp_path: Path, text: str) -> None:
    """An empty file (or only comments) sets nothing."""
    path = write(tmp_path, text)
    assert load(tmp_path).config_file == path


def test_config_keys_accept_hyphens_and_underscores(tmp_path: Path) -> None:
    """Both spellings of a key are the same key."""
    write(tmp_path, "min-score: 0.5\nstall_timeout: 2m\ndata_dir: d\n")
    s = load(tmp_path)
    assert (s.min_score, s.stall_timeout, s.data_dir) == (0.5, 120.0, tmp_path / "d")


def test_yaml_anchors_and_booleans_are_read(tmp_path: Path) -> None:
    """Ordinary YAML features work: aliases, booleans, numbers as seconds."""
    write(tmp_path, "heartbeat: &h 45\ngrace: *h\nrequire-gpu: false\ncommand: [python, -c, 'print(1)']\n")
    s = load(tmp_path)
    assert (s.heartbeat, s.grace, s.require_gpu, s.command) == (45.0, 45.0, False, ("python", "-c", "print(1)"))


# --- environment, inputs and CLI errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        ({}, {"MLE_CI_FOLDS": "five"}, "environment MLE_CI_FOLDS: expected a positive integer, got 'five'"),
        ({}, {"MLE_CI_FOLDS": "0"}, "environment MLE_CI_FOLDS: expected a positive integer, got '0'"),
        ({}, {"INPUT_FOLDS": "2.0"}, "input folds: expected a positive integer, got '2.0'"),
        ({}, {"MLE_CI_MIN_SCORE": "nan"}, "environment MLE_CI_MIN_SCORE: expected a number, got 'nan'"),
        ({}, {"INPUT_MIN-SCORE": "inf"}, "input min-score: expected a number, got 'inf'"),
        ({}, {"MLE_CI_TIMEOUT": "soon"}, "environment MLE_CI_TIMEOUT: 'soon' is not a duration"),
        ({}, {"MLE_CI_GRACE": "-3"}, "environment MLE_CI_GRACE: a duration cannot be negative ('-3')"),
        ({}, {"MLE_CI_REQUIRE_GPU": "yes"}, "environment MLE_CI_REQUIRE_GPU: expected true or false, got 'yes'"),
        ({}, {"INPUT_REQUIRE-GPU": "1"}, "input require-gpu: expected true or false, got '1'"),
        ({}, {"INPUT_AGENT": "gpt"}, "input agent: expected one of baseline, claude, got 'gpt'"),
        ({}, {"INPUT_DIRECTION": "sideways"}, "input direction: expected max, higher, min, lower or auto"),
        ({}, {"INPUT_COMMAND": "python 'x"}, 'input command: cannot split "python \'x" into words'),
        ({}, {"INPUT_TIMEOUT": "soon"}, "input timeout: 'soon' is not a duration"),
        ({}, {"INPUT_STALL-TIMEOUT": "-1m"}, "input stall-timeout: '-1m' is not a duration"),
        ({}, {"INPUT_GRACE": "-3"}, "input grace: a duration cannot be negative ('-3')"),
        (
            {},
            {"INPUT_HEARTBEAT-SECONDS": "often"},
            "input heartbeat-seconds: expected a duration such as 90s, 30m or 1h30m, or a plain number of seconds, "
            "got 'often'",
        ),
        (
            {},
            {"INPUT_STALL-MINUTES": "10 minutes"},
            "input stall-minutes: expected a duration such as 90s, 30m or 1h30m, or a plain number of minutes, "
            "got '10 minutes'",
        ),
        ({}, {"INPUT_TIMEOUT-MINUTES": "-1"}, "input timeout-minutes: a duration cannot be negative ('-1')"),
        ({}, {"INPUT_TIMEOUT-MINUTES": "inf"}, "input timeout-minutes: 'inf' is not a finite duration"),
        (
            {},
            {"INPUT_TIMEOUT": "30m", "INPUT_TIMEOUT-MINUTES": "30"},
            "inputs timeout and timeout-minutes are both given; keep timeout (timeout-minutes is its old name)",
        ),
        ({"timeout": "soon"}, {}, "--timeout: 'soon' is not a duration"),
        ({"stall_timeout": [1]}, {}, "--stall-timeout: expected a duration such as 90s, 30m or 1h30m, got a list"),
        ({"folds": "x"}, {}, "--folds: expected a positive integer, got 'x'"),
        ({"require_gpu": "maybe"}, {}, "--require-gpu: expected true or false, got 'maybe'"),
        ({"command": "python 'x"}, {}, "COMMAND: cannot split"),
        ({"competition": ""}, {}, "--competition: expected a non-empty string, got ''"),
        ({"config": 5}, {}, "--config: expected a path, got 5"),
    ],
)
def test_environment_input_and_cli_errors_name_their_source(
    tmp_path: Path, cli: dict[str, object], env: dict[str, str], message: str
) -> None:
    """A bad value names the variable, input or flag it came from."""
    assert error_of(tmp_path, cli, env).startswith(message)


def test_a_bad_value_is_reported_even_when_a_higher_layer_overrides_it(tmp_path: Path) -> None:
    """Every layer is validated, so a typo in a variable does not hide behind a flag."""
    assert error_of(tmp_path, {"folds": 2}, {"MLE_CI_FOLDS": "two"}).startswith("environment MLE_CI_FOLDS")


@pytest.mark.parametrize(("word", "value"), [("true", True), ("TRUE", True), (" True ", True), ("False", False)])
def test_booleans_accept_true_and_false_in_any_case(tmp_path: Path, word: str, value: bool) -> None:
    """Only true/false are booleans in the environment and inputs, in any case."""
    assert load(tmp_path, env={"MLE_CI_REQUIRE_GPU": word}).require_gpu is value
    assert load(tmp_path, env={"INPUT_REQUIRE-GPU": word}).require_gpu is value


def test_secret_looking_names_never_show_their_value() -> None:
    """A value from a variable named like a secret is hidden in messages."""
    source = settingvalues.Source("environment MLE_CI_API_KEY", text=True, secret=True)
    with pytest.raises(ConfigError) as caught:
        settingvalues._duration("sk-12345", source)
    assert "sk-12345" not in str(caught.value)
    assert source.show("sk-12345") == "(value hidden)"
    assert is_secret_name("INPUT_ANTHROPIC-API-KEY")
    assert not is_secret_name("MLE_CI_FOLDS")


# --- durations and action input units ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90.0), ("30m", 1800.0), ("1h30m", 5400.0), ("45", 45.0), ("1.5h", 5400.0)]
)
def test_duration_forms(tmp_path: Path, text: str, seconds: float) -> None:
    """Durations read as people write them, in every layer that takes a duration."""
    write(tmp_path, f"grace: {text}\n")
    assert load(tmp_path).grace == seconds
    assert load(tmp_path, env={"MLE_CI_GRACE": text}).grace == seconds
    assert load(tmp_path, {"grace": text}).grace == seconds


@pytest.mark.parametrize(("text", "seconds"), [("90", 90.0), ("1.5", 1.5)])
def test_yaml_numbers_are_seconds(tmp_path: Path, text: str, seconds: float) -> None:
    """A bare YAML number is seconds."""
    write(tmp_path, f"heartbeat: {text}\n")
    assert load(tmp_path).heartbeat == seconds


def test_zero_turns_limits_off(tmp_path: Path) -> None:
    """0 means no timeout, no stall timeout and no heartbeat."""
    write(tmp_path, "timeout: 0\nstall-timeout: 0s\nheartbeat: 0\n")
    s = load(tmp_path)
    assert (s.timeout, s.stall_timeout, s.heartbeat) == (None, None, 0.0)
    s = load(tmp_path, env={"INPUT_TIMEOUT-MINUTES": "0", "INPUT_STALL-MINUTES": "0", "INPUT_HEARTBEAT-SECONDS": "0"})
    assert (s.timeout, s.stall_timeout, s.heartbeat) == (None, None, 0.0)
    s = load(tmp_path, env={"INPUT_TIMEOUT": "0", "INPUT_STALL-TIMEOUT": "0s", "INPUT_HEARTBEAT": "0"})
    assert (s.timeout, s.stall_timeout, s.heartbeat) == (None, None, 0.0)


def test_time_inputs_take_durations(tmp_path: Path) -> None:
    """timeout, stall-timeout, grace and heartbeat take durations as the flags do; a plain number is seconds."""
    env = {"INPUT_TIMEOUT": "1h30m", "INPUT_STALL-TIMEOUT": " 10m ", "INPUT_GRACE": "20", "INPUT_HEARTBEAT": "1m"}
    s = load(tmp_path, env=env)
    assert (s.timeout, s.stall_timeout, s.grace, s.heartbeat) == (5400.0, 600.0, 20.0, 60.0)
    assert s.deprecations == ()


def test_old_time_inputs_keep_their_units_and_take_durations(tmp_path: Path) -> None:
    """timeout-minutes and stall-minutes read a plain number as minutes, grace-seconds and heartbeat-seconds as
    seconds, and all four take a duration."""
    env = {
        "INPUT_TIMEOUT-MINUTES": "1.5",
        "INPUT_STALL-MINUTES": " 10 ",
        "INPUT_GRACE-SECONDS": "20",
        "INPUT_HEARTBEAT-SECONDS": "60",
    }
    s = load(tmp_path, env=env)
    assert (s.timeout, s.stall_timeout, s.grace, s.heartbeat) == (90.0, 600.0, 20.0, 60.0)
    env = {
        "INPUT_TIMEOUT-MINUTES": "2h",
        "INPUT_STALL-MINUTES": "90s",
        "INPUT_GRACE-SECONDS": "1m",
        "INPUT_HEARTBEAT-SECONDS": "5s",
    }
    s = load(tmp_path, env=env)
    assert (s.timeout, s.stall_timeout, s.grace, s.heartbeat) == (7200.0, 90.0, 60.0, 5.0)


def test_each_old_input_name_used_gives_one_deprecation_notice(tmp_path: Path) -> None:
    """One notice per old name given (in the table's order), naming its replacement; an empty one is not given."""
    env = {"INPUT_STALL-MINUTES": "3", "INPUT_TIMEOUT-MINUTES": "30", "INPUT_GRACE-SECONDS": " "}
    notices = load(tmp_path, env=env).deprecations
    assert len(notices) == 2
    assert notices[0].startswith("input timeout-minutes is deprecated: use timeout, a duration such as 30m")
    assert "timeout-minutes still reads one as minutes" in notices[0]
    assert notices[1].startswith("input stall-minutes is deprecated: use stall-timeout")


@pytest.mark.parametrize(
    ("old", "new"),
    [("TIMEOUT-MINUTES", "TIMEOUT"), ("GRACE-SECONDS", "GRACE"), ("HEARTBEAT-SECONDS", "HEARTBEAT"),
     ("STALL-MINUTES", "STALL-TIMEOUT")],
)  # fmt: skip
def test_an_old_input_and_its_replacement_both_given_is_a_usage_error(tmp_path: Path, old: str, new: str) -> None:
    """Both names at once is ambiguous: a ConfigError (exit 2) that names both."""
    message = error_of(tmp_path, env={f"INPUT_{old}": "1", f"INPUT_{new}": "1"})
    assert message.startswith(f"inputs {new.lower()} and {old.lower()} are both given; keep {new.lower()}")


def test_action_inputs_keep_their_hyphens(tmp_path: Path) -> None:
    """INPUT_TIMEOUT_MINUTES and INPUT_STALL_TIMEOUT (underscores) are not the action's inputs and are ignored."""
    assert load(tmp_path, env={"INPUT_TIMEOUT_MINUTES": "5", "INPUT_DATA_DIR": "x"}).timeout is None
    assert load(tmp_path, env={"INPUT_STALL_TIMEOUT": "5"}).stall_timeout is None


# --- gpus -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gpus", "required"), [("none", False), ("NONE", False), ("all", True), ("2", True), ("0,1", True)]
)
def test_gpus_input_sets_require_gpu(tmp_path: Path, gpus: str, required: bool) -> None:
    """gpus=none asks for no GPU; anything else requires one, and the raw value is kept."""
    s = load(tmp_path, env={"INPUT_GPUS": gpus})
    assert (s.gpus, s.require_gpu) == (gpus, required)


def test_gpus_count_in_yaml_is_kept_as_text(tmp_path: Path) -> None:
    """gpus: 2 in the file reads as the string '2'."""
    write(tmp_path, "gpus: 2\n")
    s = load(tmp_path)
    assert (s.gpus, s.require_gpu) == ("2", True)


def test_explicit_require_gpu_in_the_same_layer_beats_gpus(tmp_path: Path) -> None:
    """require-gpu said outright wins over what gpus implies at the same level."""
    s = load(tmp_path, env={"MLE_CI_GPUS": "all", "MLE_CI_REQUIRE_GPU": "false"})
    assert (s.gpus, s.require_gpu) == ("all", False)


def test_gpus_from_a_higher_layer_beats_a_lower_require_gpu(tmp_path: Path) -> None:
    """INPUT_GPUS=none outranks require-gpu: true in the file."""
    write(tmp_path, "require-gpu: true\n")
    assert load(tmp_path, env={"INPUT_GPUS": "none"}).require_gpu is False


# --- patterns -------------------------------------------------------------------------------------------------


def test_patterns_compile_and_infer_their_event(tmp_path: Path) -> None:
    """The event follows from the named groups when it is not given."""
    write(
        tmp_path,
        "patterns:\n"
        "  - regex: 'CV (?P<fold>\\d+): (?P<score>[\\d.]+)'\n"
        "  - regex: 'ep (?P<epoch>\\d+) loss (?P<loss>[\\d.]+)'\n"
        "  - regex: '(?P<name>\\w+)=(?P<value>[\\d.]+)'\n"
        "  - {regex: 'stop at (?P<best_score>[\\d.]+)', event: early_stop}\n"
        "  - {regex: '(?P<text>NOTE .*)', event: message}\n",
    )
    patterns = load(tmp_path).patterns
    assert [p.event for p in patterns] == ["fold", "epoch", "metric", "early_stop", "message"]
    assert all(isinstance(p, LinePattern) for p in patterns)
    match = patterns[0].regex.search("CV 3: 0.91")
    assert match is not None
    assert match.groupdict() == {"fold": "3", "score": "0.91"}


def test_explicit_event_beats_inference(tmp_path: Path) -> None:
    """A given event is used even when the groups suggest another."""
    write(tmp_path, "patterns:\n  - {regex: '(?P<epoch>\\d+)', event: metric}\n")
    assert load(tmp_path).patterns[0].event == "metric"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("  - regex: 'ok (?P<value>\\d+)'\n  - regex: '(?P<fold>\\d+'\n",
         "mle-ci.yml line 3: patterns[1].regex: does not compile: missing ), unterminated subpattern at position 0"),
        ("  - regex: 'no groups (\\d+)'\n",
         "mle-ci.yml line 2: patterns[0].regex: needs a named group such as (?P<score>...); allowed: best_score,"),
        ("  - regex: '(?P<acc>\\d+)'\n", "mle-ci.yml line 2: patterns[0].regex: unknown group name 'acc'; allowed:"),
        ("  - regex: '(?P<loss>\\d+)'\n", "mle-ci.yml line 2: patterns[0]: cannot tell the event from the groups"),
        ("  - regex: '(?P<fold>\\d+)'\n", "mle-ci.yml line 2: patterns[0]: cannot tell the event"),
        ("  - {regex: '(?P<value>\\d+)', event: score}\n",
         "mle-ci.yml line 2: patterns[0].event: expected one of fold, epoch, metric, early_stop, message, got 'score'"),
        ("  - {event: fold}\n", "mle-ci.yml line 2: patterns[0].regex: expected a regular expression"),
        ("  - {regex: [a]}\n", "mle-ci.yml line 2: patterns[0].regex: expected a regular"),
        ("  - {regx: '(?P<value>.)'}\n", "mle-ci.yml line 2: patterns[0]: unknown key 'regx' — did you mean 'regex'?"),
        ("  - 'CV (?P<score>.*)'\n", "mle-ci.yml line 2: patterns[0]: expected a mapping {regex: ..., event: ...}"),
        ("    regex: x\n", "mle-ci.yml line 1: patterns: expected a list of {regex: ..., event: ...} mappings"),
    ],
)  # fmt: skip
def test_pattern_errors_name_the_index_and_line(tmp_path: Path, items: str, message: str) -> None:
    """A bad pattern is reported with its index in the list and its YAML line."""
    write(tmp_path, "patterns:\n" + items)
    assert error_of(tmp_path).startswith(message)


def test_allowed_group_names_are_exactly_the_documented_ones() -> None:
    """The group names the line parser understands are pinned."""
    assert (
        frozenset(
            {"fold", "total_folds", "epoch", "total_epochs", "loss", "val_score", "score", "best_score"}
            | {"seconds", "value", "name", "text"}
        )
        == PATTERN_GROUPS
    )


# --- the Settings object ---------------------------------------------------------------------------------------


def test_settings_is_frozen(tmp_path: Path) -> None:
    """Assigning to a field raises."""
    s = load(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.timeout = 5.0  # type: ignore[misc]


def test_env_is_a_read_only_copy_kept_out_of_repr_and_eq(tmp_path: Path) -> None:
    """The child's environment is copied, read-only, and never printed or compared."""
    env = {"ANTHROPIC_API_KEY": "sk-ant-secret-value", "PATH": "/bin"}
    s = load(tmp_path, env=env)
    env["PATH"] = "/changed"
    assert s.env["PATH"] == "/bin"
    assert isinstance(s.env, MappingProxyType)
    with pytest.raises(TypeError):
        s.env["X"] = "y"  # type: ignore[index]
    assert "sk-ant-secret-value" not in repr(s)
    assert "env=" not in repr(s)
    assert s == load(tmp_path)
    assert hash(s) == hash(load(tmp_path))


def test_settings_can_be_built_directly_with_defaults() -> None:
    """Other modules' tests can make a Settings without loading anything."""
    s = Settings(folds=3)
    assert (s.folds, dict(s.env)) == (3, {})


class _PoisonedEnviron(dict[str, str]):
    def _fail(self, *args: object, **kwargs: object) -> Iterator[str]:
        raise AssertionError("load_settings read os.environ")

    __getitem__ = get = __contains__ = __iter__ = __len__ = keys = items = values = copy = _fail  # type: ignore[assignment]


def test_load_settings_never_reads_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything comes from the env argument; os.environ is not touched."""
    write(tmp_path, "timeout: 1h\npatterns:\n  - regex: '(?P<value>\\d+)'\n")
    monkeypatch.setattr(os, "environ", _PoisonedEnviron())
    s = load_settings({"folds": 2}, {"MLE_CI_GRACE": "5", "INPUT_GPUS": "all", "HOME": "/h"}, tmp_path)
    assert (s.timeout, s.folds, s.grace, s.require_gpu) == (3600.0, 2, 5.0, True)
    assert dict(s.env) == {"MLE_CI_GRACE": "5", "INPUT_GPUS": "all", "HOME": "/h"}


# --- properties ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("empty")


_SECONDS = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(seconds=_SECONDS)
def test_any_non_negative_seconds_round_trip(empty_dir: Path, seconds: float) -> None:
    """A non-negative float written as plain seconds reads back exactly, from the CLI and the environment."""
    assert load(empty_dir, {"grace": repr(seconds)}).grace == seconds
    assert load(empty_dir, env={"MLE_CI_HEARTBEAT": repr(seconds)}).heartbeat == seconds
    assert load(empty_dir, {"grace": seconds}).grace == seconds


@given(text=st.text(max_size=30))
def test_garbage_durations_give_config_error_or_a_valid_value(empty_dir: Path, text: str) -> None:
    """Whatever is written for a duration, the result is a valid number or a ConfigError, nothing else."""
    for cli, env in (
        ({"timeout": text}, {}),
        ({}, {"MLE_CI_STALL_TIMEOUT": text}),
        ({}, {"INPUT_TIMEOUT-MINUTES": text}),
        ({}, {"INPUT_GRACE-SECONDS": text}),
        ({}, {"INPUT_TIMEOUT": text}),
    ):
        try:
            s = load(empty_dir, cli, env)
        except ConfigError:
            continue
        for value in (s.timeout, s.stall_timeout, s.grace):
            assert value is None or (math.isfinite(value) and value >= 0)


@given(text=st.text(max_size=20))
def test_garbage_in_any_setting_gives_config_error_or_a_value(empty_dir: Path, text: str) -> None:
    """No setting raises anything but ConfigError for any string from the environment."""
    for key in ("FOLDS", "MIN_SCORE", "REQUIRE_GPU", "COMMAND", "AGENT", "DIRECTION", "GPUS", "DATA_DIR"):
        with contextlib.suppress(ConfigError):
            load(empty_dir, env={f"MLE_CI_{key}": text})


def test_error_messages_quote_long_values_briefly(tmp_path: Path) -> None:
    """A very long bad value is cut in the message."""
    message = error_of(tmp_path, env={"MLE_CI_AGENT": "x" * 500})
    assert re.search(r"got 'x{77}\.\.\.'$", message)


# --- the claude agent: key, budgets, prices ---------------------------------------------------------------------

KEY = "sk-ant-api03-PLANTEDplantedPLANTED-0123456789"


def test_api_key_comes_from_three_names_in_rising_precedence(tmp_path: Path) -> None:
    """ANTHROPIC_API_KEY < MLE_CI_ANTHROPIC_API_KEY < the action input anthropic-api-key; blank means unset."""
    env = {"ANTHROPIC_API_KEY": "k-sdk-12345678"}
    assert load(tmp_path, env=env).anthropic_api_key == "k-sdk-12345678"
    env["MLE_CI_ANTHROPIC_API_KEY"] = " k-mle-12345678 "
    assert load(tmp_path, env=env).anthropic_api_key == "k-mle-12345678"
    env["INPUT_ANTHROPIC-API-KEY"] = "k-input-12345678"
    assert load(tmp_path, env=env).anthropic_api_key == "k-input-12345678"
    env["INPUT_ANTHROPIC-API-KEY"] = "  "
    assert load(tmp_path, env=env).anthropic_api_key == "k-mle-12345678"
    assert load(tmp_path).anthropic_api_key is None


def test_api_key_is_never_in_repr_and_does_not_change_equality(tmp_path: Path) -> None:
    """The key's value is kept out of repr (and of eq/hash, like env)."""
    s = load(tmp_path, env={"INPUT_ANTHROPIC-API-KEY": KEY})
    assert s.anthropic_api_key == KEY
    assert KEY not in repr(s)
    assert "anthropic_api_key" not in repr(s)
    assert s == load(tmp_path)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ANTHROPIC_API_KEY": KEY[:10] + " " + KEY[10:]}, "environment ANTHROPIC_API_KEY: an API key is one word"),
        ({"MLE_CI_ANTHROPIC_API_KEY": KEY + "\nx"}, "environment MLE_CI_ANTHROPIC_API_KEY: an API key is one word"),
        ({"INPUT_ANTHROPIC-API-KEY": KEY + " extra"}, "input anthropic-api-key: an API key is one word"),
    ],
)
def test_a_malformed_key_is_refused_without_showing_it(tmp_path: Path, env: dict[str, str], message: str) -> None:
    """A key with spaces or line breaks is a ConfigError naming its source and hiding its value."""
    text = error_of(tmp_path, env=env)
    assert text.startswith(message)
    assert "value hidden" in text
    assert KEY[:12] not in text
    assert KEY[12:] not in text


def test_a_key_passed_as_a_cli_value_is_hidden_too(tmp_path: Path) -> None:
    """A caller passing the key through the CLI layer gets the same hidden messages."""
    text = error_of(tmp_path, {"anthropic_api_key": f"{KEY} {KEY}"})
    assert text.startswith("--anthropic-api-key: ")
    assert KEY not in text


@pytest.mark.parametrize("spelling", ["anthropic-api-key", "anthropic_api_key", "ANTHROPIC_API_KEY", "api_key"])
def test_an_api_key_in_the_config_file_is_refused(tmp_path: Path, spelling: str) -> None:
    """The key is not a config-file setting: a committed file must not hold it, and the message says where instead."""
    write(tmp_path, f"folds: 2\n{spelling}: not-a-real-key\n")
    text = error_of(tmp_path)
    assert text.startswith(f"mle-ci.yml line 2: {spelling}: an API key must never be written in a config file")
    assert "ANTHROPIC_API_KEY in the environment" in text
    assert "anthropic-api-key" in text
    assert "not-a-real-key" not in text


def test_a_key_shaped_value_anywhere_in_the_config_file_is_refused(tmp_path: Path) -> None:
    """An sk-ant- key hidden in another setting (an env assignment in the command) is refused, its line named."""
    write(tmp_path, f"folds: 2\ncompetition: x\ncommand: env ANTHROPIC_API_KEY={KEY} python agent.py\n")
    text = error_of(tmp_path)
    assert text.startswith("mle-ci.yml line 3: holds what looks like a credential (value hidden)")
    assert KEY not in text
    assert "sk-ant" not in text


def test_the_config_file_still_lists_no_key_among_its_known_keys(tmp_path: Path) -> None:
    """A misspelt key's hint never suggests writing the API key into the file."""
    write(tmp_path, "zzz: 1\n")
    assert "anthropic" not in error_of(tmp_path)


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        ({}, {"MLE_CI_MAX_TURNS": "0"}, "environment MLE_CI_MAX_TURNS: expected a positive integer, got '0'"),
        ({}, {"INPUT_MAX-TURNS": "ten"}, "input max-turns: expected a positive integer, got 'ten'"),
        ({"max_turns": "2.5"}, {}, "--max-turns: expected a positive integer, got '2.5'"),
        ({"max_cost": "0"}, {}, "--max-cost: must be more than zero, got '0'"),
        ({"max_cost": "-1"}, {}, "--max-cost: must be more than zero, got '-1'"),
        ({}, {"INPUT_MAX-COST": "$5"}, "input max-cost: expected a number, got '$5'"),
        ({}, {"MLE_CI_MAX_COST": "inf"}, "environment MLE_CI_MAX_COST: expected a number, got 'inf'"),
        ({"api_reserve": "soon"}, {}, "--api-reserve: 'soon' is not a duration"),
        ({}, {"INPUT_API-RESERVE": "-1m"}, "input api-reserve: '-1m' is not a duration"),
        ({"fallback_min": "-5"}, {}, "--fallback-min: a duration cannot be negative ('-5')"),
        ({}, {"INPUT_MODEL": " "}, None),
        ({"model": ""}, {}, "--model: expected a non-empty string, got ''"),
    ],
)
def test_agent_budget_errors_name_their_source(
    tmp_path: Path, cli: dict[str, object], env: dict[str, str], message: str | None
) -> None:
    """Bad turns, spend, reserve, fallback and model values are ConfigErrors naming the flag, variable or input."""
    if message is None:
        assert load(tmp_path, cli, env).model is None  # blank input: unset
    else:
        assert error_of(tmp_path, cli, env).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max-turns: 0\n", "mle-ci.yml line 1: max-turns: expected a positive integer, got 0"),
        ("max-cost: '5'\n", "mle-ci.yml line 1: max-cost: expected a number, got '5'"),
        ("max-cost: 0.0\n", "mle-ci.yml line 1: max-cost: must be more than zero, got 0.0"),
        ("api-reserve: [1]\n", "mle-ci.yml line 1: api-reserve: expected a duration such as 90s"),
        ("prices: 3\n", "mle-ci.yml line 1: prices: expected a mapping of model name to {input, output,"),
        ("prices: {}\n", "mle-ci.yml line 1: prices: expected a mapping of model name"),
        ("prices:\n  m: 3\n", "mle-ci.yml line 1: prices.m: expected a mapping of input, output, cache_write"),
        ("prices:\n  m: {input: 3}\n", "mle-ci.yml line 1: prices.m.output: expected USD per million tokens"),
        ("prices:\n  m: {input: 3, output: -1}\n", "mle-ci.yml line 1: prices.m.output: expected USD per million"),
        ("prices:\n  m: {input: '3', output: 1}\n", "mle-ci.yml line 1: prices.m.input: expected USD per million"),
        ("prices:\n  m: {input: 3, output: 1, cache_reed: 1}\n",
         "mle-ci.yml line 1: prices.m: unknown price 'cache_reed' — did you mean 'cache_read'?"),
        ("prices:\n  1: {input: 3, output: 1}\n", "mle-ci.yml line 1: prices: a model name must be a non-empty string"),
    ],
)  # fmt: skip
def test_agent_settings_in_the_config_file_are_validated(tmp_path: Path, text: str, message: str) -> None:
    """Each claude setting in the file is checked where it stands, the price table entry by entry."""
    write(tmp_path, text)
    assert error_of(tmp_path).startswith(message)


def test_prices_from_the_file_are_typed_and_cache_prices_follow_input(tmp_path: Path) -> None:
    """A price table reads into ModelPrice records; missing cache prices are 1.25x and 0.1x the input price."""
    write(
        tmp_path,
        "prices:\n"
        "  claude-b: {input: 2, output: 10}\n"
        "  claude-a: {input: 3, output: 15, cache_write: 3.75, cache_read: 0.3}\n",
    )
    prices = load(tmp_path).prices
    assert prices == (
        settingvalues.ModelPrice("claude-a", input=3.0, output=15.0, cache_write=3.75, cache_read=0.3),
        settingvalues.ModelPrice("claude-b", input=2.0, output=10.0, cache_write=2.5, cache_read=0.2),
    )


@pytest.mark.parametrize("name", ["MLE_CI_PRICES", "INPUT_PRICES"])
def test_prices_as_text_are_json(tmp_path: Path, name: str) -> None:
    """From the environment, an input or the CLI, the price table is JSON; bad JSON names the source."""
    table = '{"m": {"input": 1, "output": 5, "cache_write": 1.25, "cache_read": 0.1}}'
    assert load(tmp_path, env={name: table}).prices[0].output == 5.0
    assert load(tmp_path, {"prices": table}).prices[0].model == "m"
    label = "environment MLE_CI_PRICES" if name == "MLE_CI_PRICES" else "input prices"
    assert error_of(tmp_path, env={name: "{m: 1}"}).startswith(f"{label}: expected a JSON object of model prices")
    assert error_of(tmp_path, env={name: "[1]"}).startswith(f"{label}: expected a mapping of model name")


def test_agent_settings_default_to_the_agents_own(tmp_path: Path) -> None:
    """Unset budgets stay None: the agent applies its documented defaults."""
    s = load(tmp_path)
    assert (s.max_turns, s.max_cost, s.api_reserve, s.fallback_min, s.prices) == (None, None, None, None, ())


def test_settings_with_prices_stay_hashable(tmp_path: Path) -> None:
    """The price table is a tuple of frozen records, so Settings stays hashable."""
    write(tmp_path, "prices:\n  m: {input: 1, output: 2}\n")
    s = load(tmp_path)
    assert hash(s) == hash(load(tmp_path))
