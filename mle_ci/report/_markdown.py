"""Markdown building blocks that keep untrusted text inert, one function per place a value lands.

``md``        inline text: a paragraph, a list item, a heading, bold, a table cell, link text
``code``      a code span in running text
``cell_code`` a code span in a table cell (GFM splits cells on ``|`` before it sees code spans)
``fence_for`` a fenced block (output lines, a transcript's tool results), also inside ``<details>``
``prose``     the harness's own sentence, which may hold code spans: only HTML and line breaks are neutralised

Whatever a value holds, it renders as its own text: no tag, entity, link, emphasis, list, table cell or block
of its own (``tests/test_report_inert.py`` renders the reports with GitHub's cmark-gfm to hold this).
"""

from __future__ import annotations

import html
import re

from mle_ci.report._text import clean_text

# Backslash-escaped so that text cannot make emphasis, links, images, code, math, tables or headings.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~$#])")
# At the start of a list item's text these would open a list or a rule of their own.
_BLOCK_MARKER = re.compile(r"^(?:[-+](?=[\s-]|$)|\d{1,9}[.)](?=\s|$))")
# GFM links a bare ``scheme://`` or ``www.`` address from its raw source, escapes and all: an escape stops it.
_BARE_LINK = re.compile(r"(?i)(:(?=//)|(?<=www)\.)")
_BACKTICKS = re.compile(r"`+")
_FENCE = re.compile(r"^(`{3,})")


def md(text: str) -> str:
    """``text`` as inert inline Markdown, safe in a table cell: no HTML, no formatting, no line breaks."""
    escaped = html.escape(clean_text(text), quote=False)
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", escaped)
    escaped = _BARE_LINK.sub(r"\\\1", escaped).strip()
    marker = _BLOCK_MARKER.match(escaped)
    if marker is not None:
        escaped = f"{escaped[: marker.end() - 1]}\\{escaped[marker.end() - 1 :]}"
    return escaped.replace("\n", "<br>")


def code(text: str) -> str:
    """``text`` as one code span, whatever backticks it holds (not for table cells: ``|`` splits them)."""
    content = clean_text(text).replace("\n", " ").strip()
    if not content:
        return ""
    fence = "`" * (_longest_run(content) + 1)
    # a space keeps a backtick at either end from joining the fence; Markdown strips one on each side
    pad = " " if content[0] == "`" or content[-1] == "`" else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def cell_code(text: str) -> str:
    """``text`` as one code span in a table cell: its pipes escaped, which GFM undoes inside the cell."""
    return code(text).replace("|", "\\|")


def prose(text: str) -> str:
    """The harness's own sentence (it may hold `code`) on one line, with no HTML of any value it quotes."""
    return html.escape(clean_text(text), quote=False).replace("\n", " ")


def fence_for(lines: list[str]) -> str:
    """A backtick fence longer than any backtick run in ``lines``, so that no line can close the block."""
    return "`" * max(3, max((_longest_run(line) for line in lines), default=0) + 1)


def _longest_run(text: str) -> int:
    return max((len(m) for m in _BACKTICKS.findall(text)), default=0)


def size(text: str) -> int:
    """Bytes of ``text`` in UTF-8."""
    return len(text.encode("utf-8"))


def cut(text: str, limit: int, note: str) -> str:
    """``text`` cut at a line boundary, open blocks closed, and ``note`` appended, in ``limit`` bytes."""
    closing_note = f"\n{note}\n"
    kept: list[str] = []
    used = 0
    fence: str | None = None
    details = 0
    for line in text.splitlines(keepends=True):
        after_fence, after_details = _state_after(line, fence, details)
        needed = used + size(line) + size(_closers(after_fence, after_details)) + size(closing_note)
        if needed > limit:
            break
        kept.append(line)
        used += size(line)
        fence, details = after_fence, after_details
    if not kept:
        return _cut_bytes(closing_note.lstrip("\n"), limit)
    body = "".join(kept)
    if not body.endswith("\n"):
        body += "\n"
    return body + _closers(fence, details) + closing_note


def _state_after(line: str, fence: str | None, details: int) -> tuple[str | None, int]:
    """Open fence and ``<details>`` depth after ``line`` (the renderers start both at column 0)."""
    stripped = line.rstrip("\r\n")
    if fence is not None:
        candidate = stripped.strip(" ")
        closes = bool(candidate) and set(candidate) == {"`"} and len(candidate) >= len(fence)
        return (None, details) if closes else (fence, details)
    opened = _FENCE.match(stripped)
    # as in CommonMark, a backtick in the info string makes the line a code span, not a fence
    if opened and "`" not in stripped[len(opened.group(1)) :]:
        return opened.group(1), details
    if stripped.startswith("<details"):
        return None, details + 1
    if stripped.startswith("</details>"):
        return None, max(0, details - 1)
    return None, details


def _closers(fence: str | None, details: int) -> str:
    text = f"{fence}\n" if fence is not None else ""
    return text + "\n</details>\n" * details


def _cut_bytes(text: str, limit: int) -> str:
    return text.encode("utf-8")[: max(0, limit)].decode("utf-8", "ignore")
