"""The conversation's messages as sent: a moving cache breakpoint, and old tool results shortened when it grows long."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

CACHE = {"type": "ephemeral"}
MAX_CONTEXT_CHARS = 400_000
"""About 100,000 tokens: past this, old tool results are shortened so the conversation stays in the context window."""
KEEP_RECENT = 8
"""Messages at the end that are never shortened."""
OLD_RESULT_CHARS = 800


def with_breakpoint(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A copy with one cache breakpoint on the newest message's last block, so each request reads the one before."""
    out = [dict(m) for m in messages]
    if not out:
        return out
    last = out[-1]
    content = last["content"]
    blocks: list[dict[str, Any]] = (
        [{"type": "text", "text": content}] if isinstance(content, str) else [dict(b) for b in content]
    )
    if blocks:
        blocks[-1] = {**blocks[-1], "cache_control": CACHE}
    out[-1] = {**last, "content": blocks}
    return out


def _size(messages: Sequence[Mapping[str, Any]]) -> int:
    return len(json.dumps(list(messages), default=str))


def _shorten(block: Mapping[str, Any]) -> dict[str, Any]:
    content = block.get("content")
    if block.get("type") != "tool_result" or not isinstance(content, str) or len(content) <= OLD_RESULT_CHARS:
        return dict(block)
    half = OLD_RESULT_CHARS // 2
    cut = len(content) - OLD_RESULT_CHARS
    return {
        **block,
        "content": f"{content[:half]}\n[... {cut} characters cut from this old result ...]\n{content[-half:]}",
    }


def compact(
    messages: Sequence[Mapping[str, Any]], *, limit: int = MAX_CONTEXT_CHARS, keep: int = KEEP_RECENT
) -> list[dict[str, Any]]:
    """The messages, with the tool results of all but the last ``keep`` shortened once the whole exceeds ``limit``."""
    if _size(messages) <= limit:
        return [dict(m) for m in messages]
    head, tail = messages[: max(0, len(messages) - keep)], messages[max(0, len(messages) - keep) :]
    shortened = [
        {**m, "content": [_shorten(b) for b in m["content"]]} if isinstance(m.get("content"), list) else dict(m)
        for m in head
    ]
    return shortened + [dict(m) for m in tail]


def for_transcript(content: Any) -> Any:
    """A request's new content for the transcript: tool results by id only (their text has its own records)."""
    if not isinstance(content, list):
        return content
    return [
        {"type": "tool_result", "tool_use_id": b.get("tool_use_id")} if b.get("type") == "tool_result" else b
        for b in content
        if isinstance(b, Mapping)
    ]
