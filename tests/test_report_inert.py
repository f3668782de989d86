"""The Markdown reports are inert: rendered as GitHub renders them, no tag or link a child wrote comes alive.

Every value a child, a model or a data file controls (metric and model names, messages, file names, log lines,
competition ids, ...) is fuzzed with the shapes that make Markdown or HTML: tags, entities, backtick runs, pipes,
newlines, ``</details>``, links. The reports are rendered with cmark-gfm, GitHub's own renderer, with raw HTML
let through (GitHub then sanitises, but a tag that survives to that point is already a tag the child wrote).
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import cmarkgfm
from cmarkgfm.cmark import Options
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mle_ci.aggregate.model import LoadedRun, build_leaderboard
from mle_ci.aggregate.render import render_leaderboard
from mle_ci.competitions.model import GradeReport, ValidationReport
from mle_ci.hardware.model import GpuInfo, GpuUsage, HardwareProfile
from mle_ci.report._markdown import cell_code, code, md
from mle_ci.report._text import clean_text
from mle_ci.report.summary import render_summary
from mle_ci.report.transcript import render_transcript
from mle_ci.result import RunResult
from mle_ci.resultparts import AgentUsage, CrashSite, FoldResult, FoldStatus, Gate, Metric, RunStatus

# What the renderers write themselves; anything else in the HTML came from a value.
_OUR_TAGS = {
    "h1": set(),
    "h2": set(),
    "h3": set(),
    "p": set(),
    "table": set(),
    "thead": set(),
    "tbody": set(),
    "tr": set(),
    "th": {"align"},
    "td": {"align"},
    "strong": set(),
    "em": set(),
    "code": set(),
    "pre": {"lang"},
    "ul": set(),
    "li": set(),
    "br": set(),
    "details": set(),
    "summary": set(),
    "blockquote": set(),
}
_OUR_LANGUAGES = {None, "text", "mermaid", "sh"}

_FRAGMENTS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "[x](javascript:alert(1))",
    "![x](https://example.com/x.png)",
    "<https://example.com>",
    "https://example.com/x?a=1",
    "www.example.com",
    "WWW.example.com",
    "user@example.com",
    "mailto:user@example.com",
    "xmpp:user@example.com",
    "ftp://example.com",
    "<details>",
    "</details>",
    "<summary>",
    "</summary>",
    "</code>",
    "</td></tr></table>",
    "<!--",
    "-->",
    "<![CDATA[",
    "<?php",
    "&lt;script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "&amp;",
    "`",
    "``",
    "```",
    "````",
    "~~~",
    "|",
    "\\|",
    "\\",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "    ",
    "*",
    "_",
    "~~",
    "$",
    "#",
    "> ",
    "- ",
    "+ ",
    "1. ",
    "3) ",
    "---",
    "===",
    "[ ] ",
    "<br>",
    "<",
    ">",
    '"',
    "'",
    "\x00",
    "\x1b[31m",
    "\u2028",
    "é",
)
CHILD_TEXT = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=4)), max_size=8).map("".join)


def render_gfm(markdown: str) -> str:
    """HTML as GitHub's renderer makes it, raw HTML let through (no tag filter, no sanitiser)."""
    html_text: str = cmarkgfm.cmark.markdown_to_html_with_extensions(
        markdown,
        options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG,
        extensions=["table", "autolink", "strikethrough", "tasklist"],
    )
    return html_text


class _Elements(HTMLParser):
    """Every element of an HTML text, with its attributes and, for links and cells, the text inside."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.other: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.cells: list[str] = []
        self._link: tuple[str, list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "a":
            self._link = (dict(attrs).get("href") or "", [])
        if tag in ("td", "th"):
            self._cell = []
        if tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.links.append((self._link[0], "".join(self._link[1])))
            self._link = None
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link[1].append(data)
        if self._cell is not None:
            self._cell.append(data)

    def handle_comment(self, data: str) -> None:
        self.other.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.other.append(f"<![{data}]>")


def parse(markdown: str) -> _Elements:
    parser = _Elements()
    parser.feed(render_gfm(markdown))
    parser.close()
    return parser


def assert_inert(markdown: str) -> _Elements:
    """Only the renderers' own tags, with their own attributes; a link only where an address is shown as itself."""
    found = parse(markdown)
    assert not found.other, found.other
    for tag, attrs in found.elements:
        if tag == "a":
            continue
        assert tag in _OUR_TAGS, (tag, attrs)
        assert set(attrs) <= _OUR_TAGS[tag], (tag, attrs)
        if tag == "pre":
            assert attrs.get("lang") in _OUR_LANGUAGES, attrs
    for href, text in found.links:
        # GFM links a bare e-mail address to exactly what it shows, whatever precedes it; nothing else may link.
        assert unquote(href) in (text, f"mailto:{text}"), (href, text)
        assert urlsplit(href).scheme in ("", "mailto", "xmpp"), href
    return found


def shown(value: str, *, in_code: bool = False) -> str:
    """What a value should look like once rendered: cleaned, one line, spaces collapsed."""
    text = clean_text(value)
    if in_code:
        text = text.replace("\n", " ")
    return _collapsed(text)


def _collapsed(text: str) -> str:
    """Spaces collapsed and entities read."""
    return " ".join(html.unescape(text).split())


def _result(values: list[str]) -> RunResult:
    """A run whose every child-controlled text is one of ``values`` (cycled)."""
    pool = iter(values * 40)

    def v() -> str:
        return next(pool)

    created = datetime(2024, 1, 1, tzinfo=UTC)
    return RunResult(
        status=RunStatus.CRASHED,
        command=(v(), v()),
        competition=v(),
        metric=Metric(v()),
        child_signal=v(),
        submission=v(),
        folds=(
            FoldResult(1, FoldStatus.COMPLETED, score=0.5, epochs=1, model=v()),
            FoldResult(2, FoldStatus.INCOMPLETE, model=v()),
        ),
        gates=(Gate(v(), False, v()), Gate(v(), True, v())),
        crash=CrashSite(v() or "x.py", 3, v(), v()),
        errors=(v(), v()),
        warnings=(v(),),
        log_tail=(v(), v(), v()),
        hardware=HardwareProfile(
            gpus=(GpuInfo(0, v(), v(), 1, 1),), driver_version=v(), torch_version=v(), torch_cuda=v()
        ),
        gpu_usage=(GpuUsage(0, v(), 3, 50.0, 50.0, 60.0, 1, 2),),
        gpu_errors=(v(),),
        agent="claude",
        agent_usage=AgentUsage(v(), requests=1),
        submission_producer=v(),
        validation=ValidationReport(False, (v(), v()), 3, v(), warnings=(v(),)),
        grade=GradeReport(
            competition_id=v(),
            score=0.5,
            gold_threshold=0.9,
            silver_threshold=0.8,
            bronze_threshold=0.7,
            median_threshold=0.6,
            any_medal=False,
            gold_medal=False,
            silver_medal=False,
            bronze_medal=False,
            above_median=False,
            submission_exists=True,
            valid_submission=True,
            is_lower_better=False,
            created_at=created,
            submission_path=v(),
        ),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CHILD_TEXT, min_size=1, max_size=6))
def test_no_value_a_child_controls_becomes_a_live_tag_in_the_summary(values: list[str]) -> None:
    """Every child-controlled field of a run, fuzzed: the rendered summary holds only our own tags."""
    assert_inert(render_summary(_result(values)))


@settings(max_examples=150, deadline=None)
@given(CHILD_TEXT, CHILD_TEXT)
def test_a_value_in_a_table_cell_stays_in_its_cell(name: str, message: str) -> None:
    """A gate's name and message, a model name in code: each renders as its own text in its own cell."""
    result = RunResult(
        status=RunStatus.FAILED,
        gates=(Gate(name, False, message),),
        agent="claude",
        agent_usage=AgentUsage(name, requests=1),
    )
    cells = [_collapsed(cell) for cell in assert_inert(render_summary(result)).cells]
    gates = cells.index("Details") + 1
    assert cells[gates : gates + 3] == [shown(name), "❌ failed", shown(message)]
    model = cells.index("Cost") + 1
    assert cells[model] == shown(name, in_code=True)


_TABLE = {"table", "thead", "tbody", "tr", "th", "td"}
_PLACES = (
    ("Text {} after", md, {"p"}, False),
    ("- {}", md, {"ul", "li"}, False),
    ("## {}", md, {"h2"}, False),
    ("Final **{}** here", md, {"p", "strong"}, False),
    ("| a | b |\n| - | - |\n| {} | b |", md, _TABLE, False),
    ("Run {} here", code, {"p", "code"}, True),
    ("| a | b |\n| - | - |\n| {} | b |", cell_code, _TABLE | {"code"}, True),
)


@settings(max_examples=150, deadline=None)
@given(CHILD_TEXT)
def test_each_landing_place_keeps_a_value_as_its_own_text(value: str) -> None:
    """Inline text, a list item, a heading, bold, a cell, code, code in a cell: exactly the value's text shows."""
    for template, escape, tags, in_code in _PLACES:
        markdown = template.format(escape(value))
        found = assert_inert(markdown)
        assert {tag for tag, _ in found.elements} - {"br", "a"} <= tags, markdown
        text = _collapsed(_text_of(render_gfm(markdown)))
        assert shown(value, in_code=in_code) in text, (markdown, text)


def _text_of(html_text: str) -> str:
    parser = _Text()
    parser.feed(html_text)
    parser.close()
    return "".join(parser.parts)


class _Text(HTMLParser):
    """The text of an HTML fragment as a reader sees it, a line break as a space."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


@settings(max_examples=100, deadline=None)
@given(st.lists(CHILD_TEXT, min_size=1, max_size=6))
def test_the_transcript_holds_no_live_tag_whatever_the_model_said(values: list[str]) -> None:
    """The model's words, tool names and inputs, tool results, errors and notes: no tag of theirs survives."""
    pool = iter(values * 20)

    def v() -> str:
        return next(pool)

    records = [
        {"kind": "note", "turn": 1, "system": v(), "tools": [v(), v()]},
        {"kind": "request", "turn": 1, "content": v()},
        {
            "kind": "response",
            "turn": 1,
            "stop_reason": v(),
            "content": [
                {"type": "text", "text": v()},
                {"type": "tool_use", "name": "bash", "input": {"command": v()}},
                {"type": "tool_use", "name": "write_file", "input": {"path": v(), "content": v()}},
                {"type": "tool_use", "name": "finish", "input": {"summary": v()}},
                {"type": "tool_use", "name": v(), "input": {v(): v()}},
            ],
        },
        {"kind": "tool_result", "turn": 1, "tool": v(), "text": v(), "is_error": True},
        {"kind": "error", "turn": 2, "error": v(), "fatal": True},
        {"kind": "note", "turn": 2, "text": v()},
        {"kind": v(), "turn": 2},
    ]
    assert_inert(render_transcript(records))


@settings(max_examples=100, deadline=None)
@given(st.lists(CHILD_TEXT, min_size=1, max_size=6))
def test_the_leaderboard_holds_no_live_tag_whatever_the_runs_recorded(values: list[str]) -> None:
    """Competition ids, metric names, folder names and failure reasons of the runs: no tag of theirs survives."""
    pool = iter(values * 20)

    def v() -> str:
        return next(pool)

    runs = [
        LoadedRun(source=v(), result=RunResult(status=RunStatus.SUCCESS, competition=v(), metric=Metric(v()))),
        LoadedRun(source=v(), result=RunResult(status=RunStatus.CRASHED, competition=v(), errors=(v(),))),
        LoadedRun(source=v(), result=None, raw=json.loads("{}"), problem=v()),
    ]
    assert_inert(render_leaderboard(build_leaderboard(runs, expect=4)))


def test_the_known_attacks_render_as_text() -> None:
    """The classic payloads, one per landing place, show as the text they are."""
    payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "a|<img src=x onerror=alert(1)>|b",
        "`` ` ``<b>x</b>",
        "</details><img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "&lt;script&gt;",
    ]
    for payload in payloads:
        result = RunResult(
            status=RunStatus.FAILED,
            competition=payload,
            gates=(Gate(payload, False, payload),),
            errors=(payload,),
            log_tail=(payload,),
            agent="claude",
            agent_usage=AgentUsage(payload),
        )
        found = assert_inert(render_summary(result))
        assert not found.links
