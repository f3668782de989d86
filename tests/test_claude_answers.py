"""Every answer the Messages API can give, through the real SDK and the conversation: each ``stop_reason`` has its
outcome, retries wait only as long as the time left allows, and the server sees tool calls paired throughout."""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from anthropic_server import (
    AnthropicServer,
    Error,
    PromptCache,
    Reply,
    Step,
    context_full,
    cut_off,
    overloaded,
    pairing_error,
    paused,
    rate_limited,
    refused,
    reply,
    text,
    tool_use,
)
from test_claude_units import KEY, toolbox

from mle_ci.agents.claude.api import AnthropicClient, ApiFailure
from mle_ci.agents.claude.loop import Budget, Conversation, LoopOutcome
from mle_ci.agents.claude.prices import Price
from mle_ci.agents.claude.retries import GiveUp, Wait, parse_retry_after, retry_wait, should_retry
from mle_ci.agents.claude.stops import CONTINUE
from mle_ci.agents.claude.transcript import Transcript
from mle_ci.redaction import Redactor


@dataclass
class Talk:
    """One conversation against the server, and what it left: outcome, requests, waits, lines said, transcript."""

    outcome: LoopOutcome
    server: AnthropicServer
    conversation: Conversation
    sleeps: list[float]
    said: list[str]
    records: list[dict[str, Any]] = field(default_factory=list)

    def request(self, index: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.server.received[index].body["messages"]
        return messages


def talk(
    tmp_path: Path,
    script: Sequence[Step],
    *,
    remaining: Callable[[], float] = lambda: 500.0,
    reserve: float = 0.0,
    max_retries: int = 2,
) -> Talk:
    sleeps: list[float] = []
    said: list[str] = []
    with AnthropicServer(script, api_key=KEY) as server:
        client = AnthropicClient(api_key=KEY, model="claude-test", base_url=server.url, timeout=10)
        convo = Conversation(
            client=client,
            model="claude-test",
            price=Price(3, 15, 3.75, 0.3),
            toolbox=toolbox(tmp_path),
            transcript=Transcript(tmp_path / "t.jsonl", Redactor()),
            system="system",
            budget=Budget(10, 5.0, reserve),
            max_tokens=100,
            api_timeout=10,
            remaining=remaining,
            on_usage=lambda totals, cost: None,
            say=said.append,
            sleep=sleeps.append,
            max_retries=max_retries,
        )
        try:
            outcome = convo.run("go")
        finally:
            client.close()
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    return Talk(outcome, server, convo, sleeps, said, records)


def finish(summary: str = "done") -> Reply:
    return reply(tool_use("finish", summary=summary))


# --- each stop_reason through the conversation


def test_a_tool_call_cut_at_max_tokens_is_answered_as_not_run(tmp_path: Path) -> None:
    """The half-formed write_file is never run: its result is an error naming the limit and how to go on."""
    script = [cut_off(text("writing it"), tool_use("write_file", path="model.py", content="x" * 50)), finish()]
    done = talk(tmp_path, script)
    assert (done.outcome.ended, done.outcome.turns) == ("finished", 2)
    results = done.server.received[1].tool_results()
    assert len(results) == 1 and results[0]["is_error"] is True
    assert "cut at the max_tokens limit (100 output tokens)" in results[0]["content"]
    assert "write a long file in parts" in results[0]["content"]
    assert not (tmp_path / "ws" / "model.py").exists()
    assert done.server.pairing_errors == []
    assert any(r["kind"] == "note" and "cut at max_tokens (100)" in r["text"] for r in done.records)


def test_a_text_cut_at_max_tokens_is_asked_to_continue_without_using_a_nudge(tmp_path: Path) -> None:
    """Three cut replies are each asked to continue; the two nudges are still there for the talk that follows."""
    script = [cut_off(text("part 1")), cut_off(text("part 2")), cut_off(text("part 3"))]
    script += [reply(text("a")), reply(text("b")), reply(text("c"))]
    done = talk(tmp_path, script)
    assert (done.outcome.ended, done.outcome.turns) == ("ended", 6)
    asked = [done.request(i)[-1]["content"][0]["text"] for i in (1, 2, 3)]
    assert all(text.startswith(f"{CONTINUE}\n[") and "s left before the deadline" in text for text in asked)
    nudged = done.request(4)[-1]["content"][0]["text"]
    assert nudged.startswith("Continue with the tools.") and "s left before the deadline" in nudged
    assert done.request(1)[-2]["content"][0]["text"] == "part 1"
    assert done.server.pairing_errors == []


def test_a_refusal_ends_the_conversation_and_is_not_kept(tmp_path: Path) -> None:
    """The refused turn's tool calls are not run nor kept in the history; the outcome carries the reply's text."""
    script = [
        reply(tool_use("bash", command="echo hi")),
        refused("I won't do that.", tool_use("bash", command="touch x")),
    ]
    done = talk(tmp_path, script)
    assert (done.outcome.ended, done.outcome.summary, done.outcome.turns) == ("refused", "I won't do that.", 2)
    assert not (tmp_path / "ws" / "x").exists()
    assert done.conversation.messages[-1]["role"] == "user"
    assert "I won't do that." not in json.dumps(done.conversation.messages)
    assert len(done.server.received) == 2 and done.server.pairing_errors == []


def test_a_paused_turn_is_sent_back_as_it_stands(tmp_path: Path) -> None:
    """pause_turn: the assistant content goes back with no new user message, and counts as a turn."""
    done = talk(tmp_path, [paused(text("still thinking")), finish()])
    assert (done.outcome.ended, done.outcome.turns) == ("finished", 2)
    last = done.request(1)[-1]
    assert last["role"] == "assistant" and last["content"][0]["text"] == "still thinking"
    assert len(done.request(1)) == 2 and done.server.pairing_errors == []


def test_a_paused_turn_with_a_tool_call_gets_its_result(tmp_path: Path) -> None:
    """A tool_use kept in the history is answered even in a paused turn, or the API would refuse the next request."""
    done = talk(tmp_path, [paused(tool_use("bash", command="echo paused")), finish()])
    assert done.outcome.ended == "finished"
    assert "paused" in done.server.received[1].tool_results()[0]["content"]
    assert done.server.pairing_errors == []


def test_a_full_context_window_ends_the_conversation_without_running_its_calls(tmp_path: Path) -> None:
    """model_context_window_exceeded: nothing is run, the outcome is context_full for the driver to start afresh."""
    script = [reply(tool_use("bash", command="echo one")), context_full(tool_use("bash", command="touch y"))]
    done = talk(tmp_path, script)
    assert (done.outcome.ended, done.outcome.turns) == ("context_full", 2)
    assert not (tmp_path / "ws" / "y").exists()
    assert len(done.server.received) == 2 and done.server.pairing_errors == []


@pytest.mark.parametrize("reason", ["end_turn", "stop_sequence", "a_reason_from_the_future"])
def test_other_stop_reasons_read_as_talk_and_unknown_ones_are_noted(tmp_path: Path, reason: str) -> None:
    """end_turn, stop_sequence and an unknown reason are nudged as today; only the unknown one is noted."""
    done = talk(tmp_path, [Reply((text("hm"),), reason), finish()])
    assert done.outcome.ended == "finished" and done.request(1)[-1]["content"][0]["text"].startswith("Continue")
    notes = [r["text"] for r in done.records if r["kind"] == "note" and "stop_reason" in r["text"]]
    assert notes == (
        [] if reason != "a_reason_from_the_future" else [f"unknown stop_reason {reason!r}, read as the end of a turn"]
    )


# --- retries in the loop, with the sleep injected


def test_the_loop_waits_the_retry_after_the_api_names(tmp_path: Path) -> None:
    """A 529 asking for 2 s is waited 2 s (asked of the sleep, not measured), then the same request goes again."""
    done = talk(tmp_path, [overloaded(after_s=2), finish()])
    assert done.outcome.ended == "finished" and done.sleeps == [2.0]
    assert done.server.received[0].body == done.server.received[1].body
    errors = [r for r in done.records if r["kind"] == "error"]
    assert [(e["attempt"], e["retry_in"]) for e in errors] == [(1, 2.0)]
    assert any("asking again in 2s (the API asks to wait 2 s)" in line for line in done.said)


def test_the_loop_gives_up_on_a_wait_that_would_end_inside_the_reserve(tmp_path: Path) -> None:
    """30 s asked with 20 s left before the reserve: no sleep, no second request, the reason said and recorded."""
    done = talk(tmp_path, [rate_limited(after_s=30), finish()], remaining=lambda: 50.0, reserve=30.0)
    assert done.outcome.ended == "api_error" and done.sleeps == []
    assert len(done.server.received) == 1
    reason = "the API asks to wait 30 s; 20 s are left before the reserve"
    assert any(reason in line for line in done.said)
    assert [r["gave_up"] for r in done.records if r["kind"] == "error"] == [reason]


def test_the_server_saying_not_to_retry_is_heeded(tmp_path: Path) -> None:
    """x-should-retry: false on a 529 ends the request at once, as the SDK would."""
    done = talk(tmp_path, [Error(529, "Overloaded", (("x-should-retry", "false"),)), finish()])
    assert done.outcome.ended == "api_error" and len(done.server.received) == 1 and done.sleeps == []


# --- the retry policy


def failure(
    status: int | None = 529, *, fatal: bool = False, after: float | None = None, retry: bool | None = None
) -> ApiFailure:
    return ApiFailure("x", "y", fatal=fatal, status=status, retry_after=after, should_retry=retry)


@pytest.mark.parametrize(
    ("failed", "attempt", "remaining", "expected"),
    [
        (failure(400, fatal=True), 1, 500.0, GiveUp("it can never succeed as sent")),
        (failure(400, fatal=True, retry=True), 1, 500.0, Wait(0.5, "backoff 0.5 s (retry 1 of 2)")),
        (failure(529, retry=False), 1, 500.0, GiveUp("the API said not to retry it")),
        (failure(529), 1, 500.0, Wait(0.5, "backoff 0.5 s (retry 1 of 2)")),
        (failure(529), 2, 500.0, Wait(1.0, "backoff 1 s (retry 2 of 2)")),
        (failure(529), 3, 500.0, Wait(30.0, "an API outage: pause 30 s (round 1 of 3)")),
        (failure(529), 5, 500.0, Wait(30.0, "an API outage: pause 30 s (round 3 of 3)")),
        (failure(529), 6, 500.0, GiveUp("6 attempts failed, the most tried is 6")),
        (failure(None), 2, 500.0, Wait(1.0, "backoff 1 s (retry 2 of 2)")),
        (failure(None), 3, 500.0, GiveUp("3 attempts failed, the most tried is 3")),
        (failure(429, after=20.0), 1, 500.0, Wait(20.0, "the API asks to wait 20 s")),
        (failure(429, after=20.0), 1, 135.0, GiveUp("the API asks to wait 20 s; 15 s are left before the reserve")),
        (failure(429, after=20.0), 1, math.inf, Wait(20.0, "the API asks to wait 20 s")),
        (failure(529), 3, 140.0, GiveUp("an API outage: pause 30 s (round 1 of 3); 20 s are left before the reserve")),
        (failure(529), 1, 120.5, GiveUp("backoff 0.5 s (retry 1 of 2); 0.5 s are left before the reserve")),
        (failure(529), 1, 121.0, Wait(0.5, "backoff 0.5 s (retry 1 of 2)")),
    ],
)
def test_the_retry_policy(failed: ApiFailure, attempt: int, remaining: float, expected: Wait | GiveUp) -> None:
    """Fatal never, the server's wait when named, backoff then outage pauses, and never a wait into the reserve."""
    assert retry_wait(failed, attempt, remaining=remaining, reserve=120.0, max_retries=2, pause=30.0) == expected


def test_the_backoff_doubles_up_to_its_cap() -> None:
    """0.5 s doubling, at most 8 s, for as many quick retries as configured."""
    waits = [retry_wait(failure(), n, remaining=math.inf, reserve=0, max_retries=7, pause=30) for n in range(1, 8)]
    assert [w.seconds for w in waits if isinstance(w, Wait)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_the_wait_is_read_from_the_headers_as_the_sdk_reads_it() -> None:
    """retry-after-ms first, then retry-after in seconds or as an HTTP date; nonsense is no wait at all."""
    now = 1_700_000_000.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}, now) == 0.25
    assert parse_retry_after({"Retry-After": "7"}, now) == 7.0
    assert parse_retry_after({"retry-after": email.utils.formatdate(now + 12, usegmt=True)}, now) == 12.0
    assert parse_retry_after({"retry-after": "soon"}, now) is None
    assert parse_retry_after({"retry-after": "-3"}, now) is None
    assert parse_retry_after({}, now) is None
    assert (should_retry({"X-Should-Retry": "false"}), should_retry({"x-should-retry": "true"})) == (False, True)
    assert should_retry({"x-should-retry": "maybe"}) is None


# --- the test server itself: pairing and caching as the API has them


def use(ident: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": ident, "name": "bash", "input": {}}


def result(ident: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": ident, "content": "ok"}


def test_the_server_checks_tool_calls_are_paired_with_results() -> None:
    """Results first in the very next user message, for every call, and none without its call."""
    asked = {"role": "assistant", "content": [use("t1"), use("t2")]}
    assert (
        pairing_error(
            [{"role": "user", "content": "go"}, asked, {"role": "user", "content": [result("t1"), result("t2")]}]
        )
        is None
    )
    missing = pairing_error([{"role": "user", "content": "go"}, asked, {"role": "user", "content": [result("t1")]}])
    assert (
        missing is not None
        and "`tool_use` ids were found without `tool_result` blocks immediately after: t2" in missing
    )
    late = [
        {"role": "user", "content": "go"},
        asked,
        {"role": "user", "content": [text("hi"), result("t1"), result("t2")]},
    ]
    assert "t1, t2" in (pairing_error(late) or "")
    assert "messages.2" in (pairing_error([{"role": "user", "content": "go"}, asked]) or "")
    orphan = pairing_error([{"role": "user", "content": [result("t9")]}])
    assert orphan is not None and "unexpected `tool_use_id` found in `tool_result` blocks: t9" in orphan


def test_the_server_refuses_an_unpaired_request_with_a_400() -> None:
    """Through the real SDK: a bad request (fatal), worded as the API's, and kept in pairing_errors."""
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [use("t1")]},
        {"role": "user", "content": "next"},
    ]
    with AnthropicServer([reply(text("never"))], api_key=KEY) as server:
        client = AnthropicClient(api_key=KEY, model="m", base_url=server.url, timeout=10)
        with pytest.raises(ApiFailure) as caught:
            client.send(system=[], tools=[], messages=messages, max_tokens=10, timeout=10)
        client.close()
    assert (caught.value.status, caught.value.fatal) == (400, True)
    assert "invalid_request_error: messages.2: `tool_use` ids were found" in caught.value.message
    assert len(server.pairing_errors) == 1 and server.steps_played == 0


def body(*messages: dict[str, Any], tools: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"tools": list(tools), "system": [{"type": "text", "text": "s" * 400}], "messages": list(messages)}


CACHED = {"cache_control": {"type": "ephemeral"}}


def test_a_request_without_cache_control_reads_and_writes_nothing() -> None:
    """The same request twice with no breakpoint: all of it is input both times."""
    cache = PromptCache()
    plain = body({"role": "user", "content": "x" * 400})
    first, second = cache.count(plain), cache.count(plain)
    assert first == second and first["cache_read_input_tokens"] == first["cache_creation_input_tokens"] == 0
    assert first["input_tokens"] > 200


def test_a_moved_breakpoint_reads_the_prefix_written_before() -> None:
    """Request 1 writes up to its last message; request 2, its breakpoint moved on, reads that and creates the rest."""
    cache = PromptCache()
    start = {"role": "user", "content": [{"type": "text", "text": "a" * 400}]}
    one = cache.count(body({"role": "user", "content": [{"type": "text", "text": "a" * 400, **CACHED}]}))
    assert one["cache_read_input_tokens"] == 0 and one["cache_creation_input_tokens"] > 100
    said = {"role": "assistant", "content": [{"type": "text", "text": "b" * 800}]}
    two = cache.count(body(start, said, {"role": "user", "content": [{"type": "text", "text": "c" * 40, **CACHED}]}))
    assert two["cache_read_input_tokens"] == one["cache_creation_input_tokens"]
    assert two["cache_creation_input_tokens"] > 200 and two["input_tokens"] == 0
    # A prefix that differs before the old breakpoint reads nothing of it.
    other = {"role": "user", "content": [{"type": "text", "text": "z" * 400}]}
    three = cache.count(body(other, said, {"role": "user", "content": [{"type": "text", "text": "c" * 40, **CACHED}]}))
    assert three["cache_read_input_tokens"] == 0


def test_what_follows_the_last_breakpoint_is_input() -> None:
    """A breakpoint on the system prompt only: the system is cached, the messages are input."""
    cache = PromptCache()
    request = {
        "system": [{"type": "text", "text": "s" * 400, **CACHED}],
        "messages": [{"role": "user", "content": "m" * 400}],
    }
    first, second = cache.count(request), cache.count(request)
    assert first["cache_creation_input_tokens"] == second["cache_read_input_tokens"] > 90
    assert first["input_tokens"] == second["input_tokens"] > 90 and second["cache_creation_input_tokens"] == 0
