"""Usage and the submission's producer from events to result.json, summary, outputs and the closing line; redaction."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mle_ci.cli import main
from mle_ci.events import MessageEvent, SubmissionEvent, UsageEvent
from mle_ci.redaction import Redactor, find_key
from mle_ci.report.agent import agent_line, render_agent
from mle_ci.report.outputs import decide_outputs
from mle_ci.report.summary import render_summary
from mle_ci.result import RunResult
from mle_ci.resultparts import AgentUsage, FoldResult, FoldStatus, Metric, RunStatus
from mle_ci.stages import publish
from mle_ci.stages.publish import read_transcript, scrub_files
from mle_ci.tracker import RunTracker

GOLDEN = Path(__file__).parent / "golden"
STARTED = 1714564800.0
KEY = "sk-ant-api03-PLANTEDreport-0123456789abcdef"


def _usage(ts: float, requests: int, cost: float) -> UsageEvent:
    return UsageEvent(
        ts=ts,
        model="claude-sonnet-4-5",
        requests=requests,
        input_tokens=1000 * requests,
        output_tokens=100 * requests,
        cache_creation_input_tokens=4000,
        cache_read_input_tokens=3000 * requests,
        cost_usd=cost,
    )


# --- tracker and result ------------------------------------------------------------------------------------


def test_the_last_usage_event_is_the_runs_usage() -> None:
    """Usage totals are cumulative: the tracker keeps the last one, not a sum."""
    tracker = RunTracker(started_at=0.0)
    for event in (_usage(1.0, 1, 0.01), _usage(2.0, 2, 0.03), _usage(3.0, 5, 0.11)):
        tracker.apply(event)
    snapshot = tracker.snapshot(RunResult(status=RunStatus.RUNNING), final=False)
    assert snapshot.agent_usage == AgentUsage(
        model="claude-sonnet-4-5",
        requests=5,
        input_tokens=5000,
        output_tokens=500,
        cache_creation_input_tokens=4000,
        cache_read_input_tokens=15000,
        cost_usd=0.11,
    )


def test_the_producer_comes_from_the_last_submission_event() -> None:
    """A later submission by the baseline fallback replaces the claude agent's; one without a producer clears it."""
    tracker = RunTracker(started_at=0.0)
    tracker.apply(SubmissionEvent(ts=1.0, path="a.csv", producer="claude"))
    tracker.apply(SubmissionEvent(ts=2.0, path="b.csv", producer="baseline"))
    snapshot = tracker.snapshot(RunResult(status=RunStatus.RUNNING), final=True)
    assert (snapshot.submission, snapshot.submission_producer) == ("b.csv", "baseline")
    tracker.apply(SubmissionEvent(ts=3.0, path="c.csv"))
    assert tracker.snapshot(RunResult(status=RunStatus.RUNNING), final=True).submission_producer is None


def test_no_agent_events_leave_the_fields_empty() -> None:
    """A plain command's run has no usage and no producer."""
    tracker = RunTracker(started_at=0.0)
    tracker.apply(MessageEvent(ts=1.0, text="hello"))
    snapshot = tracker.snapshot(RunResult(status=RunStatus.RUNNING), final=True)
    assert (snapshot.agent_usage, snapshot.submission_producer) == (None, None)


def _claude_run(**changes: object) -> RunResult:
    base = RunResult(
        status=RunStatus.SUCCESS,
        command=("/usr/bin/python3", "-m", "mle_ci.agents.claude"),
        agent="claude",
        started_at=STARTED,
        finished_at=STARTED + 1500.0,
        duration_s=1500.0,
        timeout_s=1800.0,
        child_exit_code=0,
        competition="breast-cancer",
        metric=Metric("auc"),
        folds=(
            FoldResult(1, FoldStatus.COMPLETED, score=0.9901, epochs=0, seconds=3.0),
            FoldResult(2, FoldStatus.COMPLETED, score=0.9877, epochs=0, seconds=3.1),
        ),
        total_folds=2,
        submission="mle-ci-results/submission.csv",
        agent_usage=AgentUsage(
            model="claude-sonnet-4-5",
            requests=23,
            input_tokens=48210,
            output_tokens=9120,
            cache_creation_input_tokens=6200,
            cache_read_input_tokens=310400,
            cost_usd=0.3812,
        ),
        submission_producer="baseline",
    )
    return RunResult(**{**base.__dict__, **changes})


def test_usage_and_producer_round_trip_through_result_json() -> None:
    """to_dict and from_dict keep every usage field and the producer."""
    result = _claude_run()
    again = RunResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.agent_usage == result.agent_usage
    assert again.submission_producer == "baseline"
    assert result.to_dict()["agent_usage"]["cache_read_input_tokens"] == 310400


def test_a_version_1_result_without_the_new_fields_still_reads() -> None:
    """A result.json written before these fields existed reads back with them empty."""
    data = RunResult(status=RunStatus.SUCCESS).to_dict()
    del data["agent_usage"], data["submission_producer"]
    again = RunResult.from_dict(data)
    assert (again.agent_usage, again.submission_producer) == (None, None)


# --- summary, outputs, closing line --------------------------------------------------------------------------


def test_the_agent_section_of_a_fallback_run_matches_its_golden_file() -> None:
    """A claude run that the baseline fallback rescued: the whole summary, Agent section included, as reviewed."""
    rendered = render_summary(_claude_run())
    path = GOLDEN / "claude_fallback.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == rendered


def test_the_agent_section_in_exact_words() -> None:
    """Model, requests, tokens by kind, cost, and who produced the submission."""
    assert render_agent(_claude_run(submission_producer="claude")) == [
        "### Agent",
        "",
        "| Model | Requests | Input tokens | Output tokens | Cache read | Cache write | Cost |",
        "| :--- | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| `claude-sonnet-4-5` | 23 | 48,210 | 9,120 | 310,400 | 6,200 | $0.3812 |",
        "",
        "Final submission by **claude**.",
    ]
    fallback = render_agent(_claude_run())
    assert fallback[-1] == (
        "Final submission by **baseline** · fallback: baseline (the claude agent left no valid submission)."
    )


def test_a_claude_run_without_requests_says_so() -> None:
    """The agent ended before its first request (an auth error): no table, and the missing submission said."""
    lines = render_agent(_claude_run(agent_usage=None, submission_producer=None, submission=None))
    assert lines == ["### Agent", "", "The agent made no model requests.", "", "No agent reported a final submission."]


def test_runs_without_a_model_agent_get_no_agent_section() -> None:
    """The baseline agent and plain commands keep their summaries as they were."""
    plain = _claude_run(agent="baseline", agent_usage=None)
    assert render_agent(plain) == []
    assert agent_line(plain) is None
    assert "### Agent" not in render_summary(plain)


def test_a_users_own_agent_reporting_usage_gets_the_section() -> None:
    """Any command that emits usage events (its own LLM agent) has its usage reported too."""
    mine = _claude_run(agent=None, submission_producer=None)
    assert render_agent(mine)[0] == "### Agent"
    assert agent_line(mine) == (
        "agent claude-sonnet-4-5: 23 requests, 48,210 in / 9,120 out tokens (cache 310,400 read, 6,200 written), "
        "$0.3812"
    )


def test_the_closing_line_names_the_fallback() -> None:
    """The console's last agent line: usage, then who produced the final submission."""
    assert agent_line(_claude_run()) == (
        "agent claude-sonnet-4-5: 23 requests, 48,210 in / 9,120 out tokens (cache 310,400 read, 6,200 written), "
        "$0.3812; final submission by baseline (fallback: baseline)"
    )
    assert agent_line(_claude_run(agent_usage=None, submission_producer="claude")) == (
        "agent: no model requests; final submission by claude"
    )


def test_outputs_for_a_claude_run_and_for_a_plain_one() -> None:
    """model, tokens, cost and producer as exact strings; all empty without an agent."""
    outputs = decide_outputs(_claude_run(), files={})
    assert {k: outputs[k] for k in ("model", "input-tokens", "output-tokens", "cost-usd", "submission-producer")} == {
        "model": "claude-sonnet-4-5",
        "input-tokens": "48210",
        "output-tokens": "9120",
        "cost-usd": "0.3812",
        "submission-producer": "baseline",
    }
    plain = decide_outputs(RunResult(status=RunStatus.SUCCESS), files={})
    assert [plain[k] for k in ("model", "input-tokens", "output-tokens", "cost-usd", "submission-producer")] == [""] * 5


# --- redaction -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key={KEY}!", "key=***!"),
        (f'{{"x-api-key": "{KEY}"}}', '{"x-api-key": "***"}'),
        (f"{KEY[:18]} cut", "*** cut"),
        ("sk-ant- is the prefix of a key", "sk-ant- is the prefix of a key"),
        ("task-ant-colony sk-ant-short", "task-ant-colony sk-ant-short"),
        (f"{KEY}\n{KEY}", "***\n***"),
    ],
)
def test_key_shaped_runs_are_redacted(text: str, expected: str) -> None:
    """Anything shaped like an Anthropic key (prefix and eight key characters or more) becomes ***."""
    assert Redactor().text(text) == expected
    assert Redactor().bytes(text.encode()) == expected.encode()
    assert (find_key(text) is not None) == (text != expected)


def test_the_run_redactor_hides_known_secrets_and_unknown_keys() -> None:
    """Declared secret values and undeclared sk-ant- keys alike; it is never empty, so the monitor always applies it."""
    redactor = Redactor(["ghs_declared-token-value"])
    assert redactor.text(f"t=ghs_declared-token-value k={KEY}") == "t=*** k=***"
    assert redactor.bytes(f"k={KEY}".encode()) == b"k=***"
    assert bool(Redactor([]))


def test_scrub_rewrites_only_files_with_a_secret(tmp_path: Path) -> None:
    """Child-written files are redacted in place; clean or missing files are left alone."""
    dirty, clean = tmp_path / "events.jsonl", tmp_path / "transcript.jsonl"
    dirty.write_text(json.dumps({"text": f"key {KEY}"}) + "\n")
    clean.write_text('{"text": "nothing"}\n')
    before = clean.stat().st_mtime_ns
    assert scrub_files((dirty, clean, tmp_path / "missing"), Redactor([])) == []
    assert json.loads(dirty.read_text()) == {"text": "key ***"}
    assert clean.stat().st_mtime_ns == before


def test_a_torn_transcript_line_is_skipped(tmp_path: Path) -> None:
    """transcript.jsonl read for rendering: whole records only, a half-written last line dropped."""
    path = tmp_path / "transcript.jsonl"
    path.write_text('{"type": "request", "turn": 1}\n[1, 2]\n{"type": "resp')
    assert read_transcript(path) == [{"type": "request", "turn": 1}]


def test_report_renders_the_transcript_through_the_agents_renderer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mle-ci report` gives the whole records of transcript.jsonl to render_transcript; transcript.md is redacted."""
    seen: list[list[dict[str, object]]] = []

    def render_transcript(records: list[dict[str, object]]) -> str:
        seen.append(list(records))
        return "".join(f"- {record['type']}: {record.get('text', '')}\n" for record in records)

    monkeypatch.setattr(publish, "render_transcript", render_transcript)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps(_claude_run(submission_producer="claude").to_dict()))
    (folder / "transcript.jsonl").write_text(
        json.dumps({"type": "request", "text": "hello"})
        + "\n"
        + json.dumps({"type": "tool_result", "text": f"echo {KEY}"})
        + '\n{"type": "resp'
    )
    assert main(["report", str(folder)]) == 0
    assert seen == [[{"type": "request", "text": "hello"}, {"type": "tool_result", "text": f"echo {KEY}"}]]
    assert (folder / "transcript.md").read_text() == "- request: hello\n- tool_result: echo ***\n"
    assert "wrote summary.md, junit.xml and transcript.md" in capsys.readouterr().out


def test_no_transcript_means_no_transcript_md(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run without a transcript (a plain command) gets no transcript.md, and the report line says so."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps(RunResult(status=RunStatus.SUCCESS).to_dict()))
    assert main(["report", str(folder)]) == 0
    assert not (folder / "transcript.md").exists()
    assert "wrote summary.md and junit.xml" in capsys.readouterr().out


def test_a_child_file_too_large_to_check_is_emptied_and_said(tmp_path: Path) -> None:
    """A sparse terabyte transcript cannot be redacted in bounded memory: it is emptied, never published as is."""
    huge = tmp_path / "transcript.jsonl"
    with huge.open("wb") as handle:
        handle.write(f"key {KEY}\n".encode())
        handle.truncate(1024**4)
    problems = scrub_files((huge,), Redactor([]))
    assert huge.stat().st_size == 0
    assert len(problems) == 1 and "emptied" in problems[0] and "1048576 MiB" in problems[0]
