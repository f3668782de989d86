"""The conversation: ask the model, carry out its tool calls, hand back the results, until a budget or ``finish``.

Deciding is kept apart from acting: :func:`next_stop` says whether another request may be sent,
:func:`~mle_ci.agents.claude.stops.read_reply` what a reply's ``stop_reason`` asks for and
:func:`~mle_ci.agents.claude.retries.retry_wait` whether a failed request is sent again; the :class:`Conversation`
sends it, runs the tools, sleeps and records everything.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mle_ci.agents.claude.api import ApiFailure, ModelClient, ModelReply
from mle_ci.agents.claude.history import CACHE, compact, for_transcript, with_breakpoint
from mle_ci.agents.claude.prices import Price, UsageTotals
from mle_ci.agents.claude.retries import GiveUp, retry_wait
from mle_ci.agents.claude.stops import CONTINUE, CUT, RESEND, STOP_FULL, STOP_REFUSED, TALKED, cut_result, read_reply
from mle_ci.agents.claude.tools import TOOLS, ToolBox
from mle_ci.agents.claude.transcript import Transcript

TRANSCRIPT_RESULT_CHARS = 4000
MAX_NUDGES = 2
"""Replies without a tool call answered with a reminder before the run is taken as ended."""
DEFAULT_API_PAUSE = 30.0
DEFAULT_MAX_RETRIES = 4
"""Quick retries of a failed request when neither the caller nor the client names a count."""
NUDGE = (
    "Continue with the tools. Call end_node (with a one-line plan) when this node's run is done; finish ends the "
    "whole search."
)
EMPTY_REPLY = {"type": "text", "text": "(no reply)"}

FINISHED = "finished"
NODE_DONE = "node_done"
"""The model ended its node (``end_node``); the search goes on."""
ENDED = "ended"
MAX_TURNS = "max_turns"
MAX_COST = "max_cost"
TIME = "time"
API_ERROR = "api_error"
API_FATAL = "api_fatal"
CRASHED = "crashed"
REFUSED = "refused"
"""The model refused (``stop_reason: refusal``); the driver decides what follows."""
CONTEXT_FULL = "context_full"
"""The conversation filled the model's context window; the driver starts a fresh one from its summary."""


@dataclass(frozen=True)
class Budget:
    """Limits of one run: model requests, spend in USD, and the seconds kept back from the deadline."""

    max_turns: int
    max_cost_usd: float
    reserve_secs: float


def next_stop(*, turns: int, cost: float, remaining: float, budget: Budget) -> tuple[str, str] | None:
    """Why no further request may be sent, as ``(kind, reason)``, or None to go on."""
    if remaining <= budget.reserve_secs:
        return TIME, f"{remaining:.0f}s left, no more than the {budget.reserve_secs:.0f}s reserve"
    if turns >= budget.max_turns:
        return MAX_TURNS, f"the maximum of {budget.max_turns} turns was reached"
    if cost >= budget.max_cost_usd:
        return MAX_COST, f"${cost:.4f} spent, the maximum is ${budget.max_cost_usd:.2f}"
    return None


def request_timeout(remaining: float, reserve: float, configured: float) -> float:
    """Seconds one request may take: the configured timeout, cut so that it ends within half the reserve."""
    if not math.isfinite(remaining):
        return configured
    return max(1.0, min(configured, remaining - reserve / 2))


@dataclass(frozen=True)
class LoopOutcome:
    """How the conversation ended, why, and what it used."""

    ended: str
    reason: str
    turns: int
    usage: UsageTotals
    cost_usd: float
    summary: str | None = None


def cached_system(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "cache_control": CACHE}]


def cached_tools(tools: Sequence[Mapping[str, Any]] = TOOLS) -> list[dict[str, Any]]:
    """The tool declarations with a cache breakpoint on the last one (caching every tool before it)."""
    out = [dict(tool) for tool in tools]
    out[-1] = {**out[-1], "cache_control": CACHE}
    return out


def _trimmed(text: str, limit: int = TRANSCRIPT_RESULT_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


class Conversation:
    """One run's tool-use loop on a :class:`ModelClient`."""

    def __init__(
        self,
        *,
        client: ModelClient,
        model: str,
        price: Price,
        toolbox: ToolBox,
        transcript: Transcript,
        system: str,
        budget: Budget,
        max_tokens: int,
        api_timeout: float,
        remaining: Callable[[], float],
        on_usage: Callable[[UsageTotals, float], None],
        say: Callable[[str], None],
        api_pause: float = DEFAULT_API_PAUSE,
        sleep: Callable[[float], None] = time.sleep,
        cost_elsewhere: Callable[[], float] = lambda: 0.0,
        max_retries: int = DEFAULT_MAX_RETRIES,
        record_system: bool = True,
    ) -> None:
        self._client = client
        self._model = model
        self._price = price
        self._tools = toolbox
        self._transcript = transcript
        self._system = cached_system(system)
        self._declared = cached_tools()
        self._budget = budget
        self._max_tokens = max_tokens
        self._api_timeout = api_timeout
        self._remaining = remaining
        self._on_usage = on_usage
        self._say = say
        self._api_pause = api_pause
        self._sleep = sleep
        self._cost_elsewhere = cost_elsewhere
        """What the run's other conversations (the search's other nodes) have spent: the budget is the run's."""
        self._max_retries = max_retries
        self._record_system = record_system
        """Whether the transcript gets the system prompt (once a run: the search's nodes share it)."""
        """Quick retries of a failed request (the SDK makes none: each wait is checked against the time left)."""
        self.usage = UsageTotals()
        self.messages: list[dict[str, Any]] = []

    @property
    def cost(self) -> float:
        return self.usage.cost(self._price)

    def _outcome(self, ended: str, reason: str, turns: int, summary: str | None = None) -> LoopOutcome:
        return LoopOutcome(ended, reason, turns, self.usage, self.cost, summary)

    def run(self, first_message: str) -> LoopOutcome:
        self.messages = [{"role": "user", "content": first_message}]
        if self._record_system:
            tools = [t["name"] for t in self._declared]
            self._transcript.write("note", 0, text="system prompt", system=self._system[0]["text"], tools=tools)
        turns = nudges = 0
        while True:
            spent = self.cost + self._cost_elsewhere()
            stop = next_stop(turns=turns, cost=spent, remaining=self._remaining(), budget=self._budget)
            if stop is not None:
                return self._outcome(stop[0], stop[1], turns)
            turns += 1
            try:
                reply = self._ask_with_retries(turns)
            except ApiFailure as failure:
                return self._outcome(API_FATAL if failure.fatal else API_ERROR, str(failure), turns)
            nudges, outcome = self._answer(turns, reply, nudges)
            if outcome is not None:
                return outcome

    def _answer(self, turn: int, reply: ModelReply, nudges: int) -> tuple[int, LoopOutcome | None]:
        """Keep the reply and the next user message as its ``stop_reason`` reads; the outcome when it ends here.

        Every ``tool_use`` kept in the history gets its ``tool_result`` in the next user message, run or not.
        """
        uses = reply.tool_uses()
        reading = read_reply(reply.stop_reason, bool(uses))
        if reading.note is not None:
            self._transcript.write("note", turn, text=reading.note)
        if reading.action == STOP_REFUSED:
            # The refused turn is not kept (the API asks for a reset): its tool calls are never run.
            return nudges, self._outcome(REFUSED, "the model refused to go on", turn, reply.text() or None)
        if reading.action == STOP_FULL:
            return nudges, self._outcome(CONTEXT_FULL, "the conversation filled the model's context window", turn)
        # An empty assistant turn is refused by the API: it is kept as a placeholder text.
        self.messages.append({"role": "assistant", "content": list(reply.content) or [EMPTY_REPLY]})
        if reading.action == RESEND:
            return nudges, None
        if reading.action == CUT:
            self._transcript.write("note", turn, text=f"the reply was cut at max_tokens ({self._max_tokens})")
            go_on = f"{CONTINUE}\n{self._status_line(turn)}"
            self.messages.append({"role": "user", "content": self._not_run(turn, uses) if uses else go_on})
            return nudges, None
        if reading.action == TALKED:
            if nudges >= MAX_NUDGES:
                return nudges, self._outcome(ENDED, "the model stopped calling tools", turn, reply.text() or None)
            # Every message the model gets says the time left: a reminder too.
            self.messages.append({"role": "user", "content": f"{NUDGE}\n{self._status_line(turn)}"})
            return nudges + 1, None
        results, summary, ends_run = self._run_tools(turn, uses)
        self.messages.append({"role": "user", "content": results})
        if summary is not None and ends_run:
            return nudges, self._outcome(FINISHED, "the model called finish", turn, summary)
        if summary is not None:
            return nudges, self._outcome(NODE_DONE, "the model ended its node", turn, summary)
        return nudges, None

    def _ask_with_retries(self, turn: int) -> ModelReply:
        """One request, sent again after a failure while :func:`retry_wait` finds a wait ending before the reserve."""
        attempt = 0
        while True:
            try:
                return self._ask(turn)
            except ApiFailure as failure:
                attempt += 1
                decision = retry_wait(
                    failure,
                    attempt,
                    remaining=self._remaining(),
                    reserve=self._budget.reserve_secs,
                    max_retries=self._max_retries,
                    pause=self._api_pause,
                )
                failed = {"error": str(failure), "fatal": failure.fatal, "status": failure.status, "attempt": attempt}
                if isinstance(decision, GiveUp):
                    self._transcript.write("error", turn, **failed, gave_up=decision.reason)
                    if not failure.fatal:
                        self._say(f"{failure}; not asking again: {decision.reason}")
                    raise
                self._transcript.write("error", turn, **failed, retry_in=decision.seconds, why=decision.reason)
                self._say(f"{failure}; asking again in {decision.seconds:.3g}s ({decision.reason})")
                self._sleep(decision.seconds)

    def _ask(self, turn: int) -> ModelReply:
        self._transcript.write("request", turn, model=self._model, content=for_transcript(self.messages[-1]["content"]))
        self.messages = compact(self.messages)
        remaining = self._remaining()
        reply = self._client.send(
            system=self._system,
            tools=self._declared,
            messages=with_breakpoint(self.messages),
            max_tokens=self._max_tokens,
            timeout=request_timeout(remaining, self._budget.reserve_secs, self._api_timeout),
        )
        self.usage = self.usage.add(
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            cache_creation=reply.cache_creation_input_tokens,
            cache_read=reply.cache_read_input_tokens,
        )
        usage = {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": reply.cache_creation_input_tokens,
            "cache_read_input_tokens": reply.cache_read_input_tokens,
            "cost_usd": round(self.cost, 6),
        }
        self._transcript.write(
            "response", turn, id=reply.id, stop_reason=reply.stop_reason, content=list(reply.content), usage=usage
        )
        self._on_usage(self.usage, self.cost)
        return reply

    def _status_line(self, turn: int) -> str:
        left = self._remaining()
        time_left = "no time limit" if not math.isfinite(left) else f"{left:.0f}s left before the deadline"
        return (
            f"[{time_left}; turn {turn}/{self._budget.max_turns}; "
            f"${self.cost:.3f} of ${self._budget.max_cost_usd:.2f} spent]"
        )

    def _run_tools(self, turn: int, uses: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], str | None, bool]:
        """The tool results, and the summary of a call that ends the node or the run (and whether the run)."""
        results: list[dict[str, Any]] = []
        summary, ends_run = None, False
        for use in uses:
            name, args = str(use.get("name")), use.get("input") or {}
            self._say(f"turn {turn}: {name} {_brief(args)}")
            outcome = self._tools.call(name, args if isinstance(args, Mapping) else {})
            if outcome.finished is not None:
                summary, ends_run = outcome.finished, ends_run or outcome.ends_run
            text = f"{outcome.text}\n{self._status_line(turn)}"
            result = {"type": "tool_result", "tool_use_id": use.get("id"), "content": text}
            if outcome.is_error:
                result["is_error"] = True
            results.append(result)
            self._transcript.write(
                "tool_result",
                turn,
                tool=name,
                tool_use_id=use.get("id"),
                is_error=outcome.is_error,
                text=_trimmed(text),
            )
        return results, summary, ends_run

    def _not_run(self, turn: int, uses: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Error results for the tool calls of a reply cut at max_tokens: a half-formed call is never run."""
        text = f"{cut_result(self._max_tokens)}\n{self._status_line(turn)}"
        results: list[dict[str, Any]] = []
        for use in uses:
            results.append({"type": "tool_result", "tool_use_id": use.get("id"), "content": text, "is_error": True})
            self._transcript.write(
                "tool_result", turn, tool=str(use.get("name")), tool_use_id=use.get("id"), is_error=True, text=text
            )
        return results


def _brief(args: Any, limit: int = 100) -> str:
    if not isinstance(args, Mapping):
        return ""
    parts = [f"{k}={str(v).splitlines()[0] if str(v) else ''!s}"[:60] for k, v in args.items() if k != "content"]
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
