"""What the model-driven agent used and who produced the final submission: summary section and console line."""

from __future__ import annotations

from mle_ci.report._markdown import cell_code, md
from mle_ci.report._text import format_cost
from mle_ci.report.search import search_line
from mle_ci.result import RunResult
from mle_ci.resultparts import AgentUsage

MODEL_AGENT = "claude"
"""The built-in agent that calls a model; its runs always get an Agent section, usage or not."""


def _tokens(count: int) -> str:
    return f"{count:,}"


def shows_agent(result: RunResult) -> bool:
    """Whether the run has anything to say about a model agent."""
    return result.agent_usage is not None or result.agent == MODEL_AGENT


def fell_back(result: RunResult) -> bool:
    """Whether the claude agent's run ended with the baseline agent's submission."""
    return result.agent == MODEL_AGENT and result.submission_producer == "baseline"


def _producer_sentence(result: RunResult) -> str:
    producer = result.submission_producer
    if producer is None:
        return "No agent reported a final submission." if result.submission is None else ""
    sentence = f"Final submission by **{md(producer)}**"
    if fell_back(result):
        sentence += " · fallback: baseline (the claude agent left no valid submission)"
    return sentence + "."


def render_agent(result: RunResult) -> list[str]:
    """The summary's Agent section: model, requests, tokens by kind, cost, and the submission's producer."""
    if not shows_agent(result):
        return []
    lines = ["### Agent", ""]
    usage = result.agent_usage
    if usage is None:
        lines.append("The agent made no model requests.")
    else:
        lines += [
            "| Model | Requests | Input tokens | Output tokens | Cache read | Cache write | Cost |",
            "| :--- | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {cell_code(usage.model)} | {usage.requests} | {_tokens(usage.input_tokens)} "
            f"| {_tokens(usage.output_tokens)} | {_tokens(usage.cache_read_input_tokens)} "
            f"| {_tokens(usage.cache_creation_input_tokens)} | {format_cost(usage.cost_usd)} |",
        ]
    producer = _producer_sentence(result)
    if producer:
        lines += ["", producer]
    return lines


def usage_phrase(usage: AgentUsage) -> str:
    """``claude-x: 12 requests, 45,210 in / 3,100 out tokens (cache 30,000 read, 2,000 written), $0.2345``."""
    return (
        f"{usage.model}: {usage.requests} request{'s' if usage.requests != 1 else ''}, "
        f"{_tokens(usage.input_tokens)} in / {_tokens(usage.output_tokens)} out tokens "
        f"(cache {_tokens(usage.cache_read_input_tokens)} read, {_tokens(usage.cache_creation_input_tokens)} "
        f"written), {format_cost(usage.cost_usd)}"
    )


def agent_line(result: RunResult) -> str | None:
    """The console's closing line about the agent and its search, or None when no model agent took part and no
    search was reported."""
    search = search_line(result)
    if not shows_agent(result):
        return search
    parts = [f"agent {usage_phrase(result.agent_usage)}" if result.agent_usage else "agent: no model requests"]
    if result.submission_producer:
        by = f"final submission by {result.submission_producer}"
        parts.append(by + (" (fallback: baseline)" if fell_back(result) else ""))
    if search is not None:
        parts.append(search)
    return "; ".join(parts)
