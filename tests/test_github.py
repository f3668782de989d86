"""Tests for mle_ci.github against small ports of the runner's own parsers."""

from __future__ import annotations

import io
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mle_ci.errors import MleCiError
from mle_ci.github import (
    MESSAGE_LIMIT,
    GitHub,
    GitHubFileError,
    escape_data,
    escape_property,
    format_command,
    parse_outputs,
)

# ---------------------------------------------------------------------------------------------------------
# Ports of actions/runner: ActionCommand.TryParseV2, ActionCommandManager.TryProcessCommand (stop-commands),
# FileCommandManager.EnvFileKeyValuePairs (Linux line endings), and .NET's String.Split/Trim quirks.
# ---------------------------------------------------------------------------------------------------------

RUNNER_COMMANDS = frozenset(
    {"add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error", "group", "notice"}
    | {"remove-matcher", "save-state", "set-env", "set-output", "warning", "stop-commands"}
)


@dataclass(frozen=True)
class Command:
    name: str
    data: str
    properties: dict[str, str] = field(default_factory=dict)


def runner_lines(text: str) -> list[str]:
    """Split process output into lines the way .NET StreamReader.ReadLine does (CR, LF or CRLF)."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines[-1] == "":
        lines.pop()
    return lines


def dotnet_is_space(c: str) -> bool:
    return c in "\t\n\x0b\x0c\r\x85" or unicodedata.category(c) in ("Zs", "Zl", "Zp")


def dotnet_trim(s: str, *, end_only: bool = False) -> str:
    start, stop = 0, len(s)
    while not end_only and start < stop and dotnet_is_space(s[start]):
        start += 1
    while stop > start and dotnet_is_space(s[stop - 1]):
        stop -= 1
    return s[start:stop]


def dotnet_split_two(s: str, sep: str) -> list[str]:
    """Port of String.Split(sep, count: 2, RemoveEmptyEntries), which skips separators after the first."""
    seps = [i for i, c in enumerate(s) if c == sep]
    out: list[str] = []
    cur = i = 0
    while i < len(seps) and cur < len(s):
        if seps[i] > cur:
            out.append(s[cur : seps[i]])
        cur = seps[i] + 1
        if len(out) == 1:
            while i < len(seps) - 1 and cur == seps[i + 1]:
                i += 1
                cur += 1
            break
        i += 1
    if cur < len(s):
        out.append(s[cur:])
    return out


def unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_command(line: str, registered: frozenset[str] | set[str] = RUNNER_COMMANDS) -> Command | None:
    """Port of ActionCommand.TryParseV2."""
    message = dotnet_trim(line[::-1], end_only=True)[::-1]  # TrimStart
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.lower() not in {r.lower() for r in registered}:
        return None
    properties: dict[str, str] = {}
    if space > 0:
        for entry in (e for e in dotnet_trim(info[space + 1 :]).split(",") if e):
            pair = dotnet_split_two(entry, "=")
            if len(pair) == 2:
                properties[pair[0]] = unescape_property(pair[1])
    return Command(name, unescape_data(message[end + 2 :]), properties)


def obeyed_commands(text: str) -> list[Command]:
    """Port of ActionCommandManager: the commands the runner acts on, honouring stop-commands."""
    registered = set(RUNNER_COMMANDS)
    stop_token: str | None = None
    obeyed = []
    for line in runner_lines(text):
        command = parse_command(line, registered)
        if command is None:
            continue
        if stop_token is not None:
            if command.name.lower() == stop_token.lower():
                registered.discard(stop_token)
                stop_token = None
                obeyed.append(command)
        elif command.name == "stop-commands":
            stop_token = command.data
            registered.add(stop_token)
            obeyed.append(command)
        else:
            obeyed.append(command)
    return obeyed


def parse_output_file(text: str) -> list[tuple[str, str]]:
    """Port of EnvFileKeyValuePairs (Linux: only LF ends a line)."""
    pairs = []
    index = 0

    def read_line() -> tuple[str | None, str | None]:
        nonlocal index
        if index >= len(text):
            return None, None
        start, lf = index, text.find("\n", index)
        if lf < 0:
            index = len(text)
            return text[start:], None
        index = lf + 1
        return text[start:lf], "\n"

    line, _ = read_line()
    while line is not None:
        if line:
            equals, heredoc = line.find("="), line.find("<<")
            if equals >= 0 and (heredoc < 0 or equals < heredoc):
                key, value = line.split("=", 1)
            elif heredoc >= 0 and (equals < 0 or heredoc < equals):
                key, delimiter = line.split("<<", 1)
                if not key or not delimiter:
                    raise ValueError(f"invalid format {line!r}")
                start = end = index
                temp, newline = read_line()
                while temp != delimiter:
                    if temp is None:
                        raise ValueError(f"matching delimiter not found {delimiter!r}")
                    if newline is None:
                        raise ValueError("EOF marker missing new line")
                    end = index - len(newline)
                    temp, newline = read_line()
                value = text[start:end] if end > start else ""
            else:
                raise ValueError(f"invalid format {line!r}")
            pairs.append((key, value))
        line, _ = read_line()
    return pairs


# ---------------------------------------------------------------------------------------------------------
# Strategies: arbitrary text, and text built from the fragments an attacker would use.
# ---------------------------------------------------------------------------------------------------------

FRAGMENTS = [
    "::", "::error::x", "::add-mask::", "::stop-commands::t", "##[error]", "%", "%0A", "%25", "%3A", "%2C",
    "\n", "\r", "\r\n", ",", ":", "=", "==", "<<", "EOF", "ghadelimiter_", "title=x", " ", "\t", "\x85",
    "\u2028", "a", "é", "😀",
]  # fmt: skip
crafted = st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join)
texts = st.one_of(st.text(), crafted)
output_names = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)


def read(path: Path) -> str:
    """Read a runner file as the runner does, without Python's newline translation."""
    return path.read_bytes().decode("utf-8")


def make(tmp: Path | None = None, **kwargs: object) -> tuple[GitHub, io.StringIO]:
    stream = io.StringIO()
    if tmp is not None:
        kwargs.setdefault("output_file", tmp / "output")
        kwargs.setdefault("summary_file", tmp / "summary")
    return GitHub(stream, **kwargs), stream  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# Escaping and format_command
# ---------------------------------------------------------------------------------------------------------


def test_escape_data_encodes_percent_first() -> None:
    assert escape_data("100%\r\n%0A") == "100%25%0D%0A%250A"


def test_escape_property_also_encodes_colon_and_comma() -> None:
    assert escape_property("C:\\a,b%\n") == "C%3A\\a%2Cb%25%0A"


def test_format_command_writes_properties_in_order_and_leaves_out_none_and_empty() -> None:
    line = format_command("error", "msg", {"file": "a.py", "line": 3, "col": None, "endLine": "", "title": "T"})
    assert line == "::error file=a.py,line=3,title=T::msg"
    assert format_command("endgroup") == "::endgroup::"


@pytest.mark.parametrize("name", ["", "bad name", "a::b", "-x", "x\n"])
def test_format_command_rejects_bad_command_names(name: str) -> None:
    with pytest.raises(ValueError):
        format_command(name, "m")


@pytest.mark.parametrize("key", ["", "a b", "a=b", "a,b", "a:b", "1x"])
def test_format_command_rejects_bad_property_names(key: str) -> None:
    with pytest.raises(ValueError):
        format_command("error", "m", {key: "v"})


def test_format_command_cuts_before_an_escape_sequence_it_would_split() -> None:
    for pad in range(MESSAGE_LIMIT - 3, MESSAGE_LIMIT + 1):
        data = format_command("error", "a" * pad + "\n" + "b" * 10).removeprefix("::error::")
        assert len(data) <= MESSAGE_LIMIT
        assert data in ("a" * pad + "%0A" + "b" * 10)[:MESSAGE_LIMIT]
        assert not re.search(r"%.?$", data)


@given(texts)
def test_message_survives_escape_parse_unescape(message: str) -> None:
    command = parse_command(format_command("notice", message, limit=None))
    assert command == Command("notice", message)


@given(st.text(max_size=3000) | crafted)
def test_cut_message_is_a_prefix_of_the_original(message: str) -> None:
    command = parse_command(format_command("error", message))
    assert command is not None
    assert message.startswith(command.data)
    assert len(escape_data(command.data)) <= MESSAGE_LIMIT


@given(texts, texts)
def test_property_values_survive_escape_parse_unescape(file: str, title: str) -> None:
    command = parse_command(format_command("warning", "m", {"file": file, "line": 7, "title": title}))
    assert command is not None
    # The runner's String.Split drops '=' right after the key and there is no escape for it.
    expected = {"file": file.lstrip("="), "line": "7", "title": title.lstrip("=")}
    assert command.properties == {k: v for k, v in expected.items() if v}


def test_runner_drops_leading_equals_of_a_property_value_which_no_escape_can_keep() -> None:
    command = parse_command(format_command("error", "m", {"title": "==x=y"}))
    assert command == Command("error", "m", {"title": "x=y"})


def test_trailing_spaces_of_the_last_property_survive_the_runners_trim() -> None:
    line = format_command("error", "m", {"title": "T \u2003"})
    assert line.endswith(",::m")
    assert parse_command(line) == Command("error", "m", {"title": "T \u2003"})


# ---------------------------------------------------------------------------------------------------------
# Annotations, groups, masks, stop-commands
# ---------------------------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    st.sampled_from(["error", "warning", "notice"]),
    texts,
    st.none() | texts,
    st.none() | texts,
    st.none() | st.integers(1, 10**6),
)
def test_annotate_prints_exactly_one_line_and_one_command(
    level: str, message: str, title: str | None, file: str | None, line: int | None
) -> None:
    github, stream = make()
    github.annotate(level, message, title=title, file=file, line=line)  # type: ignore[arg-type]
    out = stream.getvalue()
    assert out.endswith("\n")
    assert len(runner_lines(out)) == 1
    commands = obeyed_commands(out)
    assert len(commands) == 1
    assert commands[0].name == level
    assert message.startswith(commands[0].data)
    assert set(commands[0].properties) <= {"file", "line", "title"}


def test_annotate_writes_the_documented_line() -> None:
    github, stream = make()
    github.annotate("error", "fold 1: 0.5\nbelow 0.7", title="Score: low", file="src/a,b.py", line=3)
    assert stream.getvalue() == "::error file=src/a%2Cb.py,line=3,title=Score%3A low::fold 1: 0.5%0Abelow 0.7\n"


def test_annotate_rejects_an_unknown_level() -> None:
    github, _ = make()
    with pytest.raises(ValueError):
        github.annotate("fatal", "m")  # type: ignore[arg-type]


def test_group_and_end_group_fold_lines() -> None:
    github, stream = make()
    github.group("Fold 1\n::error::x")
    github.end_group()
    assert obeyed_commands(stream.getvalue()) == [Command("group", "Fold 1\n::error::x"), Command("endgroup", "")]


def test_mask_emits_each_distinct_line_once_and_skips_short_or_blank_ones() -> None:
    github, stream = make()
    github.mask("sk-ant-secret")
    github.mask("sk-ant-secret")
    github.mask("line-one\r\nline-two\nabc\n   \n\nline-one")
    github.mask("")
    github.mask("100%0Asecret")
    assert obeyed_commands(stream.getvalue()) == [
        Command("add-mask", "sk-ant-secret"),
        Command("add-mask", "line-one"),
        Command("add-mask", "line-two"),
        Command("add-mask", "100%0Asecret"),
    ]


def test_mask_never_cuts_a_long_value() -> None:
    github, stream = make()
    github.mask("k" * (MESSAGE_LIMIT * 2))
    assert obeyed_commands(stream.getvalue()) == [Command("add-mask", "k" * (MESSAGE_LIMIT * 2))]


@given(st.lists(texts, max_size=6))
def test_mask_is_issued_at_most_once_per_value(values: list[str]) -> None:
    github, stream = make()
    for value in values + values:
        github.mask(value)
    masked = [c.data for c in obeyed_commands(stream.getvalue())]
    assert all(c == "add-mask" for c in (c.name for c in obeyed_commands(stream.getvalue())))
    assert len(masked) == len(set(masked))
    assert all(len(m.strip()) >= 4 and "\n" not in m and "\r" not in m for m in masked)


def test_stop_commands_tokens_are_fresh_and_the_closing_line_matches() -> None:
    github, stream = make()
    with github.stop_commands() as first:
        stream.write("::error::not obeyed\n::add-mask::nope\n")
    with github.stop_commands() as second:
        stream.write("progress 50%\r")  # a progress bar that never ends its line
    assert first != second
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    lines = [line for line in runner_lines(stream.getvalue()) if line.startswith("::")]
    assert lines[0] == f"::stop-commands::{first}"
    assert lines[3] == f"::{first}::"
    assert lines[4] == f"::stop-commands::{second}"
    assert lines[-1] == f"::{second}::"
    names = [c.name for c in obeyed_commands(stream.getvalue())]
    assert names == ["stop-commands", first, "stop-commands", second]


def test_commands_paused_stay_paused_until_resumed_once() -> None:
    """``pause_commands`` opens the block and ``resume_commands`` closes it, once; commands meanwhile are refused."""
    github, stream = make()
    token = github.pause_commands()
    with pytest.raises(RuntimeError, match="ignored inside"):
        github.annotate("error", "x")
    github.resume_commands()
    github.resume_commands()
    github.annotate("error", "after")
    assert [c.name for c in obeyed_commands(stream.getvalue())] == ["stop-commands", token, "error"]


def test_settle_waits_until_the_runner_has_read_the_pipe() -> None:
    """On a pipe, ``settle`` is True once the reader has taken every byte and False while bytes wait unread; on
    anything that is not a pipe there is nothing to wait for."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stream, os.fdopen(read_end, "rb", buffering=0) as reader:
        github = GitHub(stream)
        github.pause_commands()
        assert not github.settle(0.05)
        drained = threading.Thread(target=lambda: reader.read(4096))
        drained.start()
        assert github.settle(5.0)
        drained.join()
    assert GitHub(io.StringIO()).settle(0.0)
    with tempfile.TemporaryFile("w") as regular:
        regular.write("::stop-commands::x\n")
        regular.flush()
        assert GitHub(regular).settle(0.0)


def test_stop_commands_closes_even_when_the_block_raises() -> None:
    github, stream = make()
    with pytest.raises(KeyError), github.stop_commands() as token:
        raise KeyError(token)
    assert stream.getvalue().endswith(f"\n::{token}::\n")
    github.annotate("notice", "after")  # allowed again


def test_commands_inside_stop_commands_are_refused_because_the_runner_would_ignore_them() -> None:
    github, _ = make()
    with github.stop_commands(), pytest.raises(RuntimeError):
        github.mask("secret-value")


@pytest.mark.parametrize("token", ["", "has space", "line\nbreak", "error", "Stop-Commands"])
def test_stop_commands_rejects_unusable_tokens(token: str) -> None:
    github, stream = make(token_factory=lambda: token)
    with pytest.raises(ValueError), github.stop_commands():
        pass
    assert stream.getvalue() == ""


# ---------------------------------------------------------------------------------------------------------
# GITHUB_OUTPUT
# ---------------------------------------------------------------------------------------------------------

output_values = st.one_of(st.text(), crafted, st.just(""), st.just("\n"), st.just("a\n"), st.just("\r"))


@settings(max_examples=300)
@given(st.dictionaries(output_names, output_values, max_size=6))
def test_outputs_read_back_exactly_and_no_value_injects_a_key(outputs: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        github, _ = make(Path(tmp))
        github.set_outputs(outputs)
        text = read(Path(tmp) / "output") if outputs else ""
    pairs = parse_output_file(text)
    assert [name for name, _ in pairs] == list(outputs)
    assert dict(pairs) == outputs


def test_output_delimiter_is_renewed_when_the_value_contains_it(tmp_path: Path) -> None:
    tokens = iter(["aaaa", "bbbb"])
    github, _ = make(tmp_path, token_factory=lambda: next(tokens))
    value = "x\nghadelimiter_aaaa\ny"
    github.set_outputs({"report": value})
    text = read(tmp_path / "output")
    assert text.startswith("report<<ghadelimiter_bbbb\n")
    assert parse_output_file(text) == [("report", value)]


def test_output_gives_up_when_every_delimiter_occurs_in_the_value(tmp_path: Path) -> None:
    github, _ = make(tmp_path, token_factory=lambda: "same")
    with pytest.raises(ValueError):
        github.set_outputs({"report": "ghadelimiter_same\n"})
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize("name", ["", "a=b", "a<<b", "a\nb", "a b", "é", "a.b"])
def test_output_names_that_could_inject_are_rejected_before_writing(tmp_path: Path, name: str) -> None:
    github, _ = make(tmp_path)
    with pytest.raises(ValueError):
        github.set_outputs({"ok": "1", name: "2"})
    assert not (tmp_path / "output").exists()


def test_outputs_append_and_close_a_line_left_open_by_another_writer(tmp_path: Path) -> None:
    (tmp_path / "output").write_text("other=1", encoding="utf-8")
    github, _ = make(tmp_path)
    github.set_outputs({"score": "0.9"})
    github.set_outputs({"log": "a\nb"})
    pairs = parse_output_file(read(tmp_path / "output"))
    assert pairs == [("other", "1"), ("score", "0.9"), ("log", "a\nb")]


def test_outputs_without_a_file_are_validated_then_dropped() -> None:
    github, _ = make()
    github.set_outputs({"score": "1"})
    with pytest.raises(ValueError):
        github.set_outputs({"bad name": "1"})


@settings(max_examples=300)
@given(st.dictionaries(output_names, output_values, max_size=6))
def test_parse_outputs_reads_back_what_set_outputs_wrote(outputs: dict[str, str]) -> None:
    """The relay's reader and the writer agree exactly, delimiter-like values included, with nothing left out."""
    with tempfile.TemporaryDirectory() as tmp:
        github, _ = make(Path(tmp))
        github.set_outputs(outputs)
        text = read(Path(tmp) / "output") if outputs else ""
    parsed = parse_outputs(text)
    assert parsed.problems == ()
    assert parsed.outputs == outputs


@settings(max_examples=500)
@given(st.lists(st.one_of(texts, st.sampled_from(["a=1\n", "b<<EOF\n", "EOF\n", "\n"])), max_size=8).map("".join))
def test_parse_outputs_agrees_with_the_runner_on_every_file_the_runner_accepts(text: str) -> None:
    """Where the runner's own reading succeeds with valid names, parse_outputs finds the same, and no problem."""
    try:
        pairs = parse_output_file(text)
    except ValueError:
        return
    if not all(re.fullmatch(r"[A-Za-z0-9_-]+", name) for name, _ in pairs):
        return
    parsed = parse_outputs(text)
    assert parsed.problems == ()
    assert parsed.outputs == dict(pairs)


def test_parse_outputs_leaves_out_a_broken_entry_without_losing_the_next() -> None:
    """An unclosed heredoc, a bad name and a stray line are said and dropped; the entries after them are kept."""
    text = "injected<<NEVER\nstatus=success\nbad name=1\n/injected/bin\nreport<<X\na\nEOF\nX\n"
    parsed = parse_outputs(text)
    assert parsed.outputs == {"status": "success", "report": "a\nEOF"}
    assert len(parsed.problems) == 3
    assert "heredoc 'injected' is never closed" in parsed.problems[0]


# ---------------------------------------------------------------------------------------------------------
# GITHUB_STEP_SUMMARY
# ---------------------------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(
    st.integers(0, 600),
    st.lists(st.text(alphabet=st.sampled_from(["a", "é", "😀", "\n", "`", " ", "|"]), max_size=300), max_size=8),
)
def test_summary_never_exceeds_the_limit_however_often_it_is_appended(limit: int, parts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        github, _ = make(Path(tmp))
        summary = Path(tmp) / "summary"
        written = ""
        for part in parts:
            complete = github.append_summary(part, limit_bytes=limit)
            size = summary.stat().st_size if summary.exists() else 0
            assert size <= limit
            content = read(summary) if summary.exists() else ""
            assert content.startswith(written)
            if complete:
                assert content.endswith(part)
            written = content


def test_summary_cut_keeps_whole_lines_and_says_so(tmp_path: Path) -> None:
    github, _ = make(tmp_path)
    table = "| fold | score |\n|---|---|\n" + "".join(f"| {i} | 0.{i} |\n" for i in range(1000))
    assert github.append_summary(table, limit_bytes=2000) is False
    content = read(tmp_path / "summary")
    assert len(content.encode("utf-8")) <= 2000
    body, note = content.split("\n\n> Summary cut: ")
    assert table.startswith(body + "\n")
    assert note.endswith("bytes left out to stay within 2,000 bytes.\n")


def test_summary_cut_inside_a_code_fence_closes_it_before_the_note(tmp_path: Path) -> None:
    github, _ = make(tmp_path)
    github.append_summary("```text\n" + "log line\n" * 500 + "```\n", limit_bytes=1000)
    content = read(tmp_path / "summary")
    assert "log line\n```\n\n> Summary cut: " in content


def test_summary_counts_what_the_file_already_holds(tmp_path: Path) -> None:
    (tmp_path / "summary").write_text("x" * 90, encoding="utf-8")
    github, _ = make(tmp_path)
    assert github.append_summary("## a longer title\n", limit_bytes=100) is False
    assert read(tmp_path / "summary") == "x" * 90
    assert github.append_summary("ok\n", limit_bytes=100) is True
    assert read(tmp_path / "summary") == "x" * 90 + "\nok\n"


def test_summary_without_a_file_reports_nothing_written() -> None:
    github, _ = make()
    assert github.append_summary("# Title\n") is False


def test_file_errors_are_raised_as_github_file_errors(tmp_path: Path) -> None:
    github, _ = make(output_file=tmp_path, summary_file=tmp_path / "missing-dir" / "summary")
    with pytest.raises(GitHubFileError, match="cannot"):
        github.set_outputs({"score": "1"})
    with pytest.raises(GitHubFileError) as caught:
        github.append_summary("# Title\n")
    assert isinstance(caught.value, MleCiError)


def test_lone_surrogates_from_undecodable_output_do_not_break_writes(tmp_path: Path) -> None:
    github, stream = make(tmp_path)
    github.annotate("warning", "bad byte \udcff")
    github.set_outputs({"log": "bad \udcff\nbyte"})
    assert github.append_summary("bad \udcff\n") is True
    assert stream.getvalue() == "::warning::bad byte ?\n"
    assert parse_output_file(read(tmp_path / "output")) == [("log", "bad ?\nbyte")]


# ---------------------------------------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------------------------------------


def test_from_env_needs_github_actions_true() -> None:
    assert GitHub.from_env({}, io.StringIO()) is None
    assert GitHub.from_env({"GITHUB_ACTIONS": "false", "GITHUB_OUTPUT": "o"}, io.StringIO()) is None


def test_from_env_reads_file_paths_and_treats_empty_as_unset(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": ""}
    github = GitHub.from_env(env, io.StringIO())
    assert github is not None
    github.set_outputs({"score": "1"})
    assert read(tmp_path / "out") == "score=1\n"
    assert github.append_summary("# x\n") is False


def test_a_fifo_in_place_of_the_outputs_file_is_refused_without_waiting(tmp_path: Path) -> None:
    """A child may put a FIFO where GITHUB_OUTPUT was: writing the outputs fails at once, it never blocks."""
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    github = GitHub(io.StringIO(), fifo, None)
    with pytest.raises(GitHubFileError, match=r"not a regular file|No such device"):
        github.set_outputs({"score": "1"})
