"""`mle-ci run --agent claude` for real: the harness, the agent, the anthropic SDK and the local Messages API server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anthropic_server import AnthropicServer, reply, text, tool_use
from helpers import github_files, mle_ci, read_outputs

pytest.importorskip("anthropic")

KEY = "sk-ant-api03-PLANTEDe2eKEY0123456789abcdefghijklmnopqrstuvwxyz"
TOKEN = "ghs_PLANTEDe2eWorkflowToken0123456789abcdef"
# The model's first act: the sample submission as a valid first submission, and a look at its own key.
COPY = (
    'cp "$MLE_CI_DATA_DIR/sample_submission.csv" "$SUBMISSION_DIR/submission.csv"; '
    'echo "key=${ANTHROPIC_API_KEY:-none}"'
)


def _github(tmp_path: Path) -> dict[str, str]:
    return {
        **github_files(tmp_path / "gh"),
        "GITHUB_TOKEN": TOKEN,
    }


def test_a_claude_run_under_the_harness_reports_usage_producer_and_no_key(tmp_path: Path) -> None:
    """The input's key reaches the API only; usage, producer and transcript reach every report; no file keeps it."""
    script = [
        reply(text("A valid submission first."), tool_use("bash", command=COPY)),
        reply(tool_use("validate_submission")),
        reply(tool_use("finish", summary="the sample submission, as a start")),
    ]
    env = {
        "INPUT_ANTHROPIC-API-KEY": KEY,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "MLE_CI_API_MAX_RETRIES": "0",
        **_github(tmp_path),
    }
    options = ["--agent", "claude", "--competition", "breast-cancer", "--timeout", "2m", "--heartbeat", "0"]
    options += ["--model", "claude-sonnet-test", "--max-turns", "10", "--max-cost", "1", "--api-reserve", "5s"]
    with AnthropicServer(script, api_key=KEY) as server:
        env["ANTHROPIC_BASE_URL"] = server.url
        run = mle_ci(options, tmp_path / "out", env=env, timeout=180)
        played = server.steps_played
    assert run.returncode == 0, run.stdout[-3000:]
    assert played == 3

    result = run.result
    assert result["agent"] == "claude"
    assert result["submission_producer"] == "claude"
    usage = result["agent_usage"]
    assert usage["model"] == "claude-sonnet-test"
    assert usage["requests"] == 3
    assert usage["output_tokens"] > 0
    assert usage["cost_usd"] > 0
    assert result["submission_check"]["valid"] is True

    summary = run.file("summary.md")
    assert "### Agent" in summary
    assert "Final submission by **claude**." in summary
    outputs = read_outputs(tmp_path / "gh" / "output")
    assert outputs["model"] == "claude-sonnet-test"
    assert outputs["submission-producer"] == "claude"
    assert float(outputs["cost-usd"]) == usage["cost_usd"]
    assert int(outputs["input-tokens"]) == usage["input_tokens"]
    transcript = run.file("transcript.md")
    assert "A valid submission first." in transcript
    assert "key=none" in transcript  # the agent's own commands never see the key
    assert "agent claude-sonnet-test: 3 requests" in run.stdout

    shown = "\n".join(line for line in run.stdout.splitlines() if not line.startswith("::add-mask::"))
    assert f"::add-mask::{KEY}" in run.stdout
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()] + list((tmp_path / "gh").iterdir())
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data, f"the key leaked into {path.name}"
        assert TOKEN.encode() not in data, f"the token leaked into {path.name}"
    assert KEY not in shown
    assert json.loads((tmp_path / "out" / "result.json").read_text())["exit_code"] == 0


def test_a_model_that_never_submits_ends_with_the_baseline_fallback_in_the_reports(tmp_path: Path) -> None:
    """The model finishes with nothing: the agent's baseline fallback hands in, and the reports say so."""
    script = [reply(tool_use("finish", summary="nothing done"))]
    env = {
        "ANTHROPIC_API_KEY": KEY,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "MLE_CI_API_MAX_RETRIES": "0",
        "MLE_CI_MAX_EPOCHS": "2",
        **_github(tmp_path),
    }
    options = ["--agent", "claude", "--competition", "breast-cancer", "--folds", "2", "--timeout", "3m"]
    options += ["--heartbeat", "0", "--model", "claude-haiku-test", "--fallback-min", "20s"]
    with AnthropicServer(script, api_key=KEY) as server:
        env["ANTHROPIC_BASE_URL"] = server.url
        run = mle_ci(options, tmp_path / "out", env=env, timeout=240)
    assert run.returncode == 0, run.stdout[-3000:]
    result = run.result
    assert result["submission_producer"] == "baseline"
    assert result["agent_usage"]["requests"] == 1
    assert result["submission_check"]["valid"] is True
    assert "fallback: baseline" in run.file("summary.md")
    assert read_outputs(tmp_path / "gh" / "output")["submission-producer"] == "baseline"
    assert "final submission by baseline (fallback: baseline)" in run.stdout
    assert [f["status"] for f in result["folds"]] == ["completed", "completed"]
