"""The claude agent's transcript as readable Markdown: turns, the model's words and tool calls, results, usage.

Pure: records in (the decoded lines of ``transcript.jsonl``), text out. A record of an unknown kind or with
fields of the wrong type is shown as far as it can be, never raised on: the file may end in a torn write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from mle_ci.report._markdown import code, fence_for, md

RESULT_CHARS = 1500
INPUT_LINES = 30
SYSTEM_CHARS = 6000


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


def _block(text: str, lang: str = "") -> list[str]:
    lines = text.splitlines() or [""]
    fence = fence_for(lines)
    return [f"{fence}{lang}", *lines, fence]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _tool_input(name: str, arguments: Any) -> list[str]:
    if not isinstance(arguments, Mapping):
        return _block(_clip(json.dumps(arguments, default=str), RESULT_CHARS))
    if name == "bash" and isinstance(arguments.get("command"), str):
        timeout = f" (timeout {arguments['timeout_s']}s)" if "timeout_s" in arguments else ""
        return [f"command{timeout}:", *_block(_clip(arguments["command"], RESULT_CHARS), "sh")]
    if name == "write_file" and isinstance(arguments.get("content"), str):
        lines = arguments["content"].splitlines()
        shown = "\n".join(lines[:INPUT_LINES]) + (
            f"\n[... {len(lines) - INPUT_LINES} more lines]" if len(lines) > INPUT_LINES else ""
        )
        return [f"{code(str(arguments.get('path', '?')))}, {len(lines)} lines:", *_block(shown)]
    if name == "finish" and isinstance(arguments.get("summary"), str):
        return [f"> {md(arguments['summary'])}"]
    pairs = ", ".join(f"{key}={json.dumps(value, default=str)}" for key, value in arguments.items())
    return [code(_clip(pairs, 400)) if pairs else "(no arguments)"]


def _response(record: Mapping[str, Any]) -> list[str]:
    raw = record.get("usage")
    usage: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    cost = _number(usage.get("cost_usd"))
    tokens = (
        f"{_int(usage.get('input_tokens'))} in, {_int(usage.get('cache_read_input_tokens'))} cached, "
        f"{_int(usage.get('output_tokens'))} out"
    )
    spent = f", ${cost:.4f} so far" if cost is not None else ""
    lines = [f"**Model** (stop: {md(str(record.get('stop_reason') or '?'))}; {tokens} tokens{spent})", ""]
    content = record.get("content")
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "text" and str(block.get("text", "")).strip():
            lines += [f"> {md(str(block['text']))}", ""]
        elif block.get("type") == "tool_use":
            name = str(block.get("name", "?"))
            lines += [f"- tool call {code(name)}:", *_tool_input(name, block.get("input")), ""]
    return lines


def _tool_result(record: Mapping[str, Any]) -> list[str]:
    failed = " (error)" if record.get("is_error") else ""
    text = record.get("text")
    return [
        f"**Result** of {code(str(record.get('tool', '?')))}{failed}:",
        *_block(_clip(str(text) if text is not None else "", RESULT_CHARS)),
        "",
    ]


def _request(record: Mapping[str, Any]) -> list[str]:
    content = record.get("content")
    # Tool results are shown from their own records; a plain text request (the task, a reminder) is shown here.
    if isinstance(content, str) and content.strip():
        return [f"**To the model:** {md(content)}", ""]
    return []


def _total_cost(responses: Sequence[Mapping[str, Any]]) -> float:
    """The run's cost: each conversation's usage is cumulative, so the last of each (a node's, or the run's)."""
    last: dict[object, float] = {}
    for record in responses:
        usage = record.get("usage")
        cost = _number(usage.get("cost_usd")) if isinstance(usage, Mapping) else None
        if cost is not None:
            last[record.get("node")] = cost
    return sum(last.values())


def _totals(records: Sequence[Mapping[str, Any]]) -> str:
    responses = [r for r in records if r.get("kind") == "response"]
    usages = [r["usage"] for r in responses if isinstance(r.get("usage"), Mapping)]
    tokens_in = sum(_int(u.get("input_tokens")) for u in usages)
    cached = sum(_int(u.get("cache_read_input_tokens")) for u in usages)
    written = sum(_int(u.get("cache_creation_input_tokens")) for u in usages)
    tokens_out = sum(_int(u.get("output_tokens")) for u in usages)
    costs = [c for u in usages if (c := _number(u.get("cost_usd"))) is not None]
    nodes = {r["node"] for r in records if isinstance(r.get("node"), int)}
    turns = max((_int(r.get("turn")) for r in records), default=0)
    # A search's usage records are cumulative per node: its cost is the sum of each node's last.
    cost = f", ${_total_cost(responses):.4f}" if costs else ""
    steps = f"{len(nodes)} node(s)" if nodes else f"{turns} turn(s)"
    return (
        f"{steps}, {len(responses)} model response(s): {tokens_in} input tokens, {written} written to and "
        f"{cached} read from the cache, {tokens_out} output tokens{cost}"
    )


def render_transcript(records: Sequence[Mapping[str, Any]]) -> str:
    """The transcript as Markdown: a usage line, the system prompt folded away, then each turn in order."""
    records = [r for r in records if isinstance(r, Mapping)]
    lines = ["# Agent transcript", "", _totals(records), ""]
    turn: int | None = None
    node: object = None
    for record in records:
        kind = record.get("kind")
        number = _int(record.get("turn"))
        if isinstance(record.get("node"), int) and record["node"] != node:
            node, turn = record["node"], None
            lines += [f"## Node {node}", ""]
        if number and number != turn:
            turn = number
            lines += [f"{'###' if node is not None else '##'} Turn {number}", ""]
        if kind == "note" and isinstance(record.get("system"), str):
            tools = record.get("tools")
            names = ", ".join(code(str(t)) for t in tools) if isinstance(tools, list) else "?"
            lines += ["<details><summary>System prompt</summary>", ""]
            lines += [*_block(_clip(record["system"], SYSTEM_CHARS)), "", f"Tools: {names}", "", "</details>", ""]
        elif kind == "request":
            lines += _request(record)
        elif kind == "response":
            lines += _response(record)
        elif kind == "tool_result":
            lines += _tool_result(record)
        elif kind == "error":
            fatal = " (fatal)" if record.get("fatal") else ""
            lines += [f"**API error{fatal}:** {md(str(record.get('error', '?')))}", ""]
        elif kind == "note":
            lines += [f"*Note:* {md(str(record.get('text', '')))}", ""]
        else:
            lines += [f"*Unknown record {md(str(kind))}.*", ""]
    return "\n".join(lines).rstrip() + "\n"
