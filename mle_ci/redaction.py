"""Anthropic API keys recognised by their shape (``sk-ant-…``), wherever they turn up, known or not."""

from __future__ import annotations

import re

__all__ = ["KEY_MARK", "REDACTED", "find_key", "redact_key_bytes", "redact_keys"]

KEY_MARK = "sk-ant-"
"""Every Anthropic key starts so; cheap to look for before the regular expression runs."""
REDACTED = "***"

# The prefix and at least eight key characters: short enough to catch a cut key, long enough to spare prose.
_KEY = re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}")
_KEY_BYTES = re.compile(_KEY.pattern.encode("ascii"))
_MARK_BYTES = KEY_MARK.encode("ascii")


def find_key(text: str) -> re.Match[str] | None:
    """The first thing in ``text`` shaped like an Anthropic API key, or None."""
    if KEY_MARK not in text:
        return None
    return _KEY.search(text)


def redact_keys(text: str) -> str:
    """``text`` with every Anthropic-key-shaped run replaced by ``***``."""
    if KEY_MARK not in text:
        return text
    return _KEY.sub(REDACTED, text)


def redact_key_bytes(data: bytes) -> bytes:
    """The bytes form of :func:`redact_keys`, for the child's raw output."""
    if _MARK_BYTES not in data:
        return data
    return _KEY_BYTES.sub(REDACTED.encode("ascii"), data)
