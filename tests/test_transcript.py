"""transcript.jsonl as the claude agent writes it (redacted, one object a line) and its Markdown rendering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mle_ci.agents.claude.transcript import Transcript
from mle_ci.redaction import REDACTED as MASK
from mle_ci.redaction import Redactor, secret_names, secret_values
from mle_ci.report.transcript import render_transcript

KEY = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGH"


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_secrets_are_redacted_in_every_field(tmp_path: Path) -> None:
    """The key's value, any sk-ant- pattern, GitHub tokens and *_TOKEN values never reach the file."""
    env = {"ANTHROPIC_API_KEY": KEY, "MY_SERVICE_TOKEN": "tok-1234567890", "DEBUG_KEY": "1", "HOME": "/home/u"}
    transcript = Transcript(tmp_path / "t.jsonl", Redactor(secret_values(env)))
    transcript.write(
        "tool_result",
        3,
        text=f"env: {KEY} and sk-ant-admin01-zzzzzzzzzzzz and ghp_{'a' * 36} and tok-1234567890",
        nested={"list": [KEY, {"deep": f"x{KEY}y"}]},
    )
    raw = (tmp_path / "t.jsonl").read_text()
    for secret in (KEY, "sk-ant-admin01", "ghp_aaaa", "tok-1234567890"):
        assert secret not in raw
    (record,) = records(tmp_path / "t.jsonl")
    assert record["v"] == 1 and record["turn"] == 3 and record["kind"] == "tool_result"
    assert record["nested"] == {"list": [MASK, {"deep": f"x{MASK}y"}]}
    assert set(secret_names(env)) == {"ANTHROPIC_API_KEY", "MY_SERVICE_TOKEN", "DEBUG_KEY"}


def test_short_values_of_secret_named_variables_are_left_alone() -> None:
    """Masking a value like "1" would garble every number in the transcript."""
    redactor = Redactor(secret_values({"DEBUG_KEY": "1", "X_SECRET": "true"}))
    assert redactor.text("epoch 1 true") == "epoch 1 true"


def test_unknown_kinds_are_refused(tmp_path: Path) -> None:
    """Only the documented kinds are written."""
    with pytest.raises(ValueError, match="unknown transcript kind"):
        Transcript(tmp_path / "t.jsonl", Redactor()).write("chatter", 1)


def sample(tmp_path: Path) -> list[dict[str, Any]]:
    transcript = Transcript(tmp_path / "t.jsonl", Redactor())
    transcript.write("note", 0, text="system prompt", system="You are an expert.", tools=["bash", "finish"])
    transcript.write("request", 1, model="m", content="Start now.")
    transcript.write(
        "response",
        1,
        id="msg_1",
        stop_reason="tool_use",
        content=[
            {"type": "text", "text": "Let me *look* <b>first</b>."},
            {"type": "tool_use", "id": "t1", "name": "bash", "input": {"command": "ls ```x```", "timeout_s": 30}},
            {"type": "tool_use", "id": "t2", "name": "write_file", "input": {"path": "a.py", "content": "x\n" * 50}},
        ],
        usage={"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 900, "cost_usd": 0.0123},
    )
    transcript.write("tool_result", 1, tool="bash", tool_use_id="t1", is_error=True, text="ls: no such file\n" * 200)
    transcript.write("request", 2, model="m", content=[{"type": "tool_result", "tool_use_id": "t1", "content": "x"}])
    transcript.write("error", 2, error="rate limited (HTTP 429): slow down", fatal=False, status=429)
    transcript.write("note", 0, text="stopped job(s) still running: job-1")
    return records(tmp_path / "t.jsonl")


def test_render_shows_turns_calls_results_and_usage(tmp_path: Path) -> None:
    """Turns in order, the model's words escaped, tool inputs and trimmed results fenced, usage totalled."""
    text = render_transcript(sample(tmp_path))
    assert text.startswith("# Agent transcript\n")
    assert "2 turn(s), 1 model response(s): 100 input tokens, 0 written to and 900 read from the cache" in text
    assert "$0.0123" in text
    assert text.index("## Turn 1") < text.index("## Turn 2")
    assert "<details><summary>System prompt</summary>" in text and "You are an expert." in text
    assert "**To the model:** Start now." in text
    assert "<b>" not in text and r"\*look\*" in text
    # A fence longer than any backtick run in the command keeps the block closed.
    assert "````sh\nls ```x```\n````" in text
    assert "[... 20 more lines]" in text
    assert "**Result** of `bash` (error):" in text and "characters cut" in text
    assert "**API error:** rate limited (HTTP 429): slow down" in text
    assert "*Note:* stopped job(s) still running: job-1" in text


def test_render_tolerates_broken_records() -> None:
    """Records with missing or wrong-typed fields, and no records at all, still render."""
    broken: list[Any] = [
        {"kind": "response", "turn": "x", "content": "not a list", "usage": [1]},
        {"kind": "tool_result"},
        {"kind": "mystery", "turn": 4},
        {"turn": 5, "kind": "response", "content": [None, {"type": "tool_use"}], "usage": {"cost_usd": "lots"}},
        "not a mapping",
    ]
    text = render_transcript(broken)
    assert "*Unknown record mystery.*" in text and "## Turn 5" in text and "tool call `?`" in text
    assert render_transcript([]).startswith("# Agent transcript\n\n0 turn(s)")


def test_a_search_s_transcript_is_told_node_by_node_with_its_whole_cost(tmp_path: Path) -> None:
    """Each node's records carry it; the rendering heads each node and sums each node's last (cumulative) cost."""
    run = Transcript(tmp_path / "t.jsonl", Redactor())
    for node, cost in ((1, 0.25), (2, 0.5)):
        tagged = run.tagged(node)
        tagged.write("note", 0, text=f"node {node}: draft")
        tagged.write("request", 1, model="m", content="go")
        tagged.write("response", 1, id="r", stop_reason="end_turn", content=[], usage={"cost_usd": cost / 2})
        tagged.write("response", 2, id="r", stop_reason="end_turn", content=[], usage={"cost_usd": cost})
    run.write("note", 0, text="search ends")
    written = records(tmp_path / "t.jsonl")
    assert [r.get("node") for r in written] == [1] * 4 + [2] * 4 + [None]
    shown = render_transcript(written)
    assert shown.splitlines()[2].startswith("2 node(s), 4 model response(s)") and "$0.7500" in shown
    assert shown.index("## Node 1") < shown.index("### Turn 2") < shown.index("## Node 2")
