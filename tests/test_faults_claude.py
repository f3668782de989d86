"""The Anthropic API drops mid-conversation, end to end: the harness, the claude agent, the anthropic SDK and the
local Messages API server (``tests/anthropic_server.py``), which hangs up without an answer."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from anthropic_server import AnthropicServer, Drop, reply, text, tool_use
from helpers import mle_ci
from test_faults import MARKER_VAR, assert_no_survivors, assert_reports

pytest.importorskip("anthropic")

KEY = f"sk-ant-api03-{uuid.uuid4().hex}{uuid.uuid4().hex}-FAULTSAA"
COPY = 'cp "$MLE_CI_DATA_DIR/sample_submission.csv" "$SUBMISSION_DIR/submission.csv"; echo copied'


def test_the_api_dropping_mid_conversation_keeps_the_submission_and_every_report(tmp_path: Path) -> None:
    """After one turn that hands in a submission the server hangs up on every request: the run still ends
    with exit 0, valid reports, the submission it had, the turn before the drop in the transcript, no survivor."""
    marker = uuid.uuid4().hex
    script = [reply(text("A first submission."), tool_use("bash", command=COPY)), Drop(), Drop(), Drop()]
    env = {
        "ANTHROPIC_API_KEY": KEY,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "MLE_CI_API_MAX_RETRIES": "1",
        MARKER_VAR: marker,
    }
    options = ["--agent", "claude", "--competition", "breast-cancer", "--timeout", "2m", "--heartbeat", "0"]
    options += ["--model", "claude-sonnet-test", "--max-turns", "10", "--max-cost", "1", "--api-reserve", "5s"]
    with AnthropicServer(script, api_key=KEY) as server:
        env["ANTHROPIC_BASE_URL"] = server.url
        run = mle_ci(options, tmp_path / "out", env=env, timeout=180)
        played = server.steps_played
    assert run.returncode == 0, run.stdout[-3000:]
    assert played >= 2  # the turn, then at least one request that was dropped
    result = assert_reports(run.out, "success")
    assert result.submission_producer == "claude"
    assert result.validation is not None and result.validation.valid
    assert (run.out / "submission.csv").read_text().startswith("id")
    records = [json.loads(line) for line in (run.out / "transcript.jsonl").read_text().splitlines()]
    assert any("A first submission." in json.dumps(r) for r in records)  # the turn before the drop is kept
    assert any(r.get("kind") == "error" and "connection" in str(r.get("error", "")) for r in records)
    for path in run.out.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path.name
    assert_no_survivors(marker)
