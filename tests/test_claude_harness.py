"""The harness side of the claude agent: who gets the key, exit 2 without one, and a planted key leaking nowhere."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import CHILDREN, github_files, read_outputs

from mle_ci.cli import cli, main
from mle_ci.contract import ExitCode
from mle_ci.errors import ConfigError
from mle_ci.pipeline import execute
from mle_ci.settings import Settings, load_settings
from mle_ci.stages import plan as runplan
from mle_ci.stages.plan import ResultFiles, plan_launch

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-ant-api03-PLANTEDharnessKEY-0123456789abcdefXYZ"
OTHER_KEY = "sk-ant-api03-USERSOWNkey-9876543210zyxwvu"
TOKEN = "ghs_PLANTEDworkflowTOKEN0123456789abcdef"


@pytest.fixture(autouse=True)
def _no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in the machine's own environment must not make a test pass or leak."""
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _settings(tmp_path: Path, cli_values: dict[str, object], env: dict[str, str]) -> Settings:
    return load_settings({"output_dir": str(tmp_path / "out"), **cli_values}, env, tmp_path)


def _child_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return dict(plan_launch(settings, ResultFiles(tmp_path / "out")).spec.env)


# --- the child's environment ---------------------------------------------------------------------------------


def test_the_claude_child_gets_the_key_under_the_sdk_name_and_its_budgets(tmp_path: Path) -> None:
    """Whichever layer gave the key, the claude child gets it as ANTHROPIC_API_KEY, with model and budgets."""
    env = {"INPUT_ANTHROPIC-API-KEY": KEY, "MLE_CI_ANTHROPIC_API_KEY": OTHER_KEY, "PATH": "/bin"}
    env["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9/"
    cli_values: dict[str, object] = {
        "agent": "claude",
        "model": "claude-test-1",
        "max_turns": "7",
        "max_cost": "0.5",
        "api_reserve": "90s",
        "fallback_min": "2m",
        "prices": '{"claude-test-1": {"input": 1, "output": 5}}',
    }
    child = _child_env(_settings(tmp_path, cli_values, env), tmp_path)
    assert child["ANTHROPIC_API_KEY"] == KEY
    assert child["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9/"
    assert child["MLE_CI_MODEL"] == "claude-test-1"
    assert child["MLE_CI_MAX_TURNS"] == "7"
    assert float(child["MLE_CI_MAX_COST_USD"]) == 0.5
    assert float(child["MLE_CI_API_RESERVE_SECS"]) == 90.0
    assert float(child["MLE_CI_FALLBACK_MIN_SECS"]) == 120.0
    assert json.loads(child["MLE_CI_PRICES"]) == {
        "claude-test-1": {"input": 1.0, "output": 5.0, "cache_write": 1.25, "cache_read": 0.1}
    }
    assert "INPUT_ANTHROPIC-API-KEY" not in child
    assert "MLE_CI_ANTHROPIC_API_KEY" not in child
    assert OTHER_KEY not in child.values()


def test_unset_budgets_are_left_to_the_agent(tmp_path: Path) -> None:
    """Without budget settings the claude child gets none of their variables, so its own defaults apply."""
    child = _child_env(_settings(tmp_path, {"agent": "claude"}, {"ANTHROPIC_API_KEY": KEY}), tmp_path)
    assert child["ANTHROPIC_API_KEY"] == KEY
    for name in ("MLE_CI_MODEL", "MLE_CI_MAX_TURNS", "MLE_CI_MAX_COST_USD", "MLE_CI_PRICES"):
        assert name not in child


def test_the_baseline_child_never_gets_a_model_credential(tmp_path: Path) -> None:
    """The baseline agent talks to no model: every Anthropic credential, from any layer, is kept from it."""
    env = {
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_AUTH_TOKEN": "bearer-planted-0123456789",
        "MLE_CI_ANTHROPIC_API_KEY": OTHER_KEY,
        "INPUT_ANTHROPIC-API-KEY": KEY,
    }
    for agent in (None, "baseline"):
        child = _child_env(_settings(tmp_path, {"agent": agent}, env), tmp_path)
        assert not [name for name in child if "ANTHROPIC" in name], agent
        assert KEY not in child.values()


def test_a_user_command_keeps_its_own_key_but_never_the_action_input(tmp_path: Path) -> None:
    """A user's command keeps the ANTHROPIC_API_KEY it already had; the input's and MLE_CI_'s keys never reach it."""
    command: dict[str, object] = {"command": (sys.executable, "-c", "pass")}
    child = _child_env(_settings(tmp_path, command, {"ANTHROPIC_API_KEY": OTHER_KEY}), tmp_path)
    assert child["ANTHROPIC_API_KEY"] == OTHER_KEY
    env = {"INPUT_ANTHROPIC-API-KEY": KEY, "MLE_CI_ANTHROPIC_API_KEY": KEY}
    child = _child_env(_settings(tmp_path, command, env), tmp_path)
    assert KEY not in child.values()
    assert "ANTHROPIC_API_KEY" not in child
    # Even with --agent claude, a command means the command runs, and it gets no key it did not have.
    child = _child_env(_settings(tmp_path, {**command, "agent": "claude"}, env), tmp_path)
    assert KEY not in child.values()


def _in_process_env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": f"{CHILDREN}{os.pathsep}{ROOT}",
        **extra,
    }


def test_a_real_baseline_child_sees_no_planted_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The baseline path started for real (an env-reporting stand-in): no Anthropic variable, no planted value."""
    monkeypatch.syspath_prepend(str(CHILDREN))
    monkeypatch.setitem(runplan.AGENT_MODULES, "baseline", "env_report")
    env = _in_process_env(
        tmp_path, {"ANTHROPIC_API_KEY": KEY, "INPUT_ANTHROPIC-API-KEY": KEY, "FAKE_PLANTED": KEY[-20:]}
    )
    cli_values: dict[str, object] = {"competition": "breast-cancer", "cache_dir": str(tmp_path / "cache")}
    settings = _settings(tmp_path, {**cli_values, "display": "plain", "heartbeat": "0"}, env)
    execute(settings, stream=io.StringIO())
    report = json.loads((tmp_path / "out" / "env.json").read_text())
    assert report["credentials"] == []
    assert report["leaked"] == []
    assert "MLE_CI_EVENTS" in report["names"]


# --- exit 2 without a key -------------------------------------------------------------------------------------


@pytest.fixture
def marked_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The claude agent replaced by a stand-in that leaves a marker file if it is ever started."""
    monkeypatch.syspath_prepend(str(CHILDREN))
    monkeypatch.setitem(runplan.AGENT_MODULES, "claude", "env_report")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "mle-ci-results"


def test_no_key_exits_2_through_main_before_anything(marked_agent: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mle-ci run --agent claude` without a key: exit 2, the way to set one named, no folder, no demo built."""
    assert main(["run", "--agent", "claude"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: agent: the claude agent needs an Anthropic API key")
    assert "ANTHROPIC_API_KEY" in err
    assert "anthropic-api-key" in err
    assert "Traceback" not in err
    assert not marked_agent.exists()
    assert not (marked_agent.parent / "cache").exists()


def test_no_key_through_the_click_command_raises_the_usage_error(marked_agent: Path) -> None:
    """Through click's own runner the same ConfigError (exit code 2) comes out, and nothing was run."""
    result = CliRunner().invoke(cli, ["run", "--agent", "claude", "--competition", "breast-cancer"])
    assert isinstance(result.exception, ConfigError)
    assert result.exception.exit_code is ExitCode.USAGE
    assert "needs an Anthropic API key" in str(result.exception)
    assert not marked_agent.exists()


def test_no_key_through_execute_starts_nothing(marked_agent: Path) -> None:
    """execute() refuses before the result folder, the preflight or the child."""
    settings = load_settings({"agent": "claude"}, {"PATH": os.environ.get("PATH", "")}, marked_agent.parent)
    with pytest.raises(ConfigError, match="needs an Anthropic API key"):
        execute(settings, stream=io.StringIO())
    assert not marked_agent.exists()


def test_a_blank_key_is_no_key(
    marked_agent: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty input (a secret that is not set in the repository) is the same as none."""
    monkeypatch.setenv("INPUT_ANTHROPIC-API-KEY", "   ")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    assert main(["run", "--agent", "claude"]) == 2
    assert "needs an Anthropic API key" in capsys.readouterr().err
    assert not marked_agent.exists()


# --- a planted key, end to end --------------------------------------------------------------------------------


def _github(tmp_path: Path) -> dict[str, str]:
    return {
        **github_files(tmp_path / "gh"),
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_TOKEN": TOKEN,
    }


def test_a_planted_key_reaches_the_agent_and_no_produced_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent gets the input's key; its output, events and transcript leak it; no file or line keeps it."""
    monkeypatch.syspath_prepend(str(CHILDREN))
    monkeypatch.setitem(runplan.AGENT_MODULES, "claude", "fake_claude")
    env = _in_process_env(tmp_path, {"INPUT_ANTHROPIC-API-KEY": KEY, **_github(tmp_path)})
    env["FAKE_EXPECTED_SHA"] = hashlib.sha256(KEY.encode()).hexdigest()
    cli_values: dict[str, object] = {
        "agent": "claude",
        "competition": "breast-cancer",
        "cache_dir": str(tmp_path / "cache"),
        "display": "plain",
        "heartbeat": "0",
        "model": "claude-sonnet-4-5",
        "max_cost": "2",
    }
    stream = io.StringIO()
    result = execute(_settings(tmp_path, cli_values, env), stream=stream)
    out = tmp_path / "out"

    assert result.exit_code is ExitCode.OK, stream.getvalue()[-2000:]
    report = json.loads((out / "env.json").read_text())
    assert report["has_key"] is True
    assert report["key_matches"] is True
    assert report["vars"]["MLE_CI_MODEL"] == "claude-sonnet-4-5"
    assert float(report["vars"]["MLE_CI_MAX_COST_USD"]) == 2.0
    assert "MLE_CI_ANTHROPIC_API_KEY" not in report["vars"]

    usage = result.agent_usage
    assert usage is not None
    assert (usage.requests, usage.input_tokens, usage.output_tokens) == (3, 5210, 1100)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens, usage.cost_usd) == (12000, 4000, 0.0512)
    assert result.submission_producer == "baseline"

    text = stream.getvalue()
    masks = [line for line in text.splitlines() if line.startswith("::add-mask::")]
    assert f"::add-mask::{KEY}" in masks
    assert text.index("::add-mask::") < text.index("::stop-commands::")
    shown = "\n".join(line for line in text.splitlines() if not line.startswith("::add-mask::"))
    produced = {path.name: path.read_bytes() for path in (*out.iterdir(), *(tmp_path / "gh").iterdir())}
    produced["stdout"] = shown.encode()
    expected = {"log.txt", "result.json", "summary.md", "junit.xml", "events.jsonl", "transcript.jsonl"}
    assert expected | {"transcript.md", "output", "summary"} <= set(produced)
    for name, data in produced.items():
        for secret in (KEY, KEY[:20], TOKEN):
            assert secret.encode() not in data, f"{secret[:10]}… leaked into {name}"
    assert "calling the model with key ***" in (out / "log.txt").read_text()
    assert "the key again, cut: ***" in shown
    assert "authorised as ***" in json.loads((out / "result.json").read_text())["warnings"]

    records = [json.loads(line) for line in (out / "transcript.jsonl").read_text().splitlines()[:3]]
    assert records[0]["content"] == "the task; key ***"
    transcript = (out / "transcript.md").read_text()
    assert "Let me look at the data." in transcript
    assert "ANTHROPIC_API_KEY=***" in transcript

    summary = (out / "summary.md").read_text()
    assert "### Agent" in summary
    assert "fallback: baseline" in summary
    assert (tmp_path / "gh" / "summary").read_text() == summary
    outputs = read_outputs(tmp_path / "gh" / "output")
    assert outputs["model"] == "claude-sonnet-4-5"
    assert (outputs["input-tokens"], outputs["output-tokens"], outputs["cost-usd"]) == ("5210", "1100", "0.0512")
    assert outputs["submission-producer"] == "baseline"
    assert "agent claude-sonnet-4-5: 3 requests, 5,210 in / 1,100 out tokens" in shown
    assert "final submission by baseline (fallback: baseline)" in shown


def test_report_again_keeps_usage_and_producer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mle-ci report` on the folder reads usage and producer back from result.json and renders them again."""
    monkeypatch.syspath_prepend(str(CHILDREN))
    monkeypatch.setitem(runplan.AGENT_MODULES, "claude", "fake_claude")
    env = _in_process_env(tmp_path, {"ANTHROPIC_API_KEY": KEY})
    cli_values: dict[str, object] = {
        "agent": "claude",
        "competition": "breast-cancer",
        "cache_dir": str(tmp_path / "cache"),
        "display": "plain",
        "heartbeat": "0",
    }
    execute(_settings(tmp_path, cli_values, env), stream=io.StringIO())
    out = tmp_path / "out"
    before = (out / "summary.md").read_text()
    (out / "summary.md").unlink()
    assert main(["report", str(out)]) == 0  # rendered, whatever the run's own exit code
    assert (out / "summary.md").read_text() == before
    again = json.loads((out / "result.json").read_text())
    assert again["agent_usage"]["cost_usd"] == 0.0512
    assert again["submission_producer"] == "baseline"
    assert KEY.encode() not in (out / "transcript.jsonl").read_bytes()
