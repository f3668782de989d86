"""One console writer: every line the harness prints outside the stop-commands block is inert.

Three views: the rule itself under fuzzing (``inert_line``/``inert_lines``); every place in the harness's source
that prints, found by reading the source, each going through the rule or listed with the reason it need not; and
a real run under simulated GitHub Actions whose child puts forged workflow commands in every value the harness
echoes after the block (the agent line's model and producer, the crash site, the gate's metric name).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest
from helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from mle_ci.cli import main
from mle_ci.console import inert_line, inert_lines

_BREAKS = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


@settings(max_examples=500)
@given(st.text())
def test_an_inert_line_is_one_line_without_controls_or_a_leading_command(text: str) -> None:
    line = inert_line(text)
    assert _BREAKS.search(line) is None
    assert not line.lstrip().startswith("::")
    assert "##[" not in line  # the runner's older syntax is a command anywhere in a line


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85")))
def test_ordinary_text_is_left_as_it_is(text: str) -> None:
    if not text.lstrip().startswith("::") and "##[" not in text:
        assert inert_line(text) == text


@settings(max_examples=300)
@given(st.lists(st.text(), max_size=6))
def test_a_block_keeps_its_own_lines_and_each_is_inert(lines: list[str]) -> None:
    block = inert_lines("\n".join(lines))
    assert block.split("\n") == [inert_line(line) for line in "\n".join(lines).split("\n")]


def test_what_the_rule_shows() -> None:
    assert inert_line("a\r::error::x") == "a\\r::error::x"
    assert inert_line("  ::add-mask::x") == "  : :add-mask::x"
    assert inert_line("ok :: fine\tstill") == "ok :: fine\tstill"
    assert inert_line("\x1b[2J\x00\u2028") == "\\e[2J\\x00\\u2028"
    assert inert_line("fold ##[error]forged ###[x") == "fold ## [error]forged ### [x"


# --- every place the harness prints -------------------------------------------------------------------------

_CHILD_SIDE = {"mle_ci/progress.py", "mle_ci/hardware/probe.py"}
"""Modules that run in the child (the progress API, the GPU probe): what they print is child output, echoed
inside the stop-commands block or parsed, never printed by the harness as its own."""

_WRITERS = {
    ("mle_ci/console.py", "_write"): "the plain console's one write: notes made inert, the child's own lines",
    ("mle_ci/console.py", "child_lines"): "the child's own lines, which the session prints inside the stop-commands "
    "block in Actions",
    ("mle_ci/github.py", "_write"): "workflow commands (format_command escapes their values) and the stop token",
    ("mle_ci/files.py", "write_atomic"): "a file, not the console",
    ("mle_ci/files.py", "write"): "log.txt, not the console",
    ("mle_ci/github.py", "_append"): "the runner's files, written as the runner reads them",
    ("mle_ci/action/launch.py", "_copy"): "the container's output relayed as it was written: the harness inside "
    "made its own lines inert and put the child's in the stop-commands block",
}
"""The functions that write to a stream without the rule, and why they may."""

_INERT = {"inert_line", "inert_lines"}


def _made_inert(node: ast.expr) -> bool:
    """Whether an argument is the rule's output (or that plus a newline, or a generator of such)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and inert_lines(node.value) == node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Text":
        return bool(node.args) and _made_inert(node.args[0])  # rich's Text around the rule's output
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in _INERT
    if isinstance(node, ast.BinOp):
        return _made_inert(node.left) and isinstance(node.right, ast.Constant)
    if isinstance(node, ast.GeneratorExp):
        return _made_inert(node.elt)
    if isinstance(node, ast.IfExp):
        return _made_inert(node.body) and _made_inert(node.orelse)
    return False


def _printing_calls() -> list[tuple[str, str, int, bool]]:
    """Every print, echo or stream write in the harness: (module, enclosing function, line, goes through the rule)."""
    found = []
    for path in sorted((ROOT / "mle_ci").rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        if module.startswith("mle_ci/agents/") or module in _CHILD_SIDE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                is_echo = isinstance(func, ast.Attribute) and name == "echo"
                is_write = isinstance(func, ast.Attribute) and name in ("write", "writelines")
                if name != "print" and not is_echo and not is_write:
                    continue
                if is_write and not _is_stream(func):
                    continue
                inert = bool(node.args) and _made_inert(node.args[0])
                found.append((module, function.name, node.lineno, inert))
    return found


def _is_stream(func: ast.Attribute) -> bool:
    """Whether ``x.write`` writes to a console stream (stdout, stderr, a ``stream``/``out``), not a file."""
    target = ast.unparse(func.value)
    return bool(re.search(r"(?:^|\.|_)(?:stream|stdout|stderr|out)$", target))


def test_every_line_the_harness_prints_goes_through_the_rule_or_is_listed_with_its_reason() -> None:
    calls = _printing_calls()
    assert len(calls) >= 15  # the enumeration finds the harness's printing, not nothing
    unexplained = [
        f"{module}:{line} in {function}()"
        for module, function, line, inert in calls
        if not inert and (module, function) not in _WRITERS
    ]
    assert unexplained == []
    listed = {(module, function) for module, function, _, _ in calls}
    assert {key for key in _WRITERS if key not in listed} <= {
        ("mle_ci/files.py", "write_atomic"),
        ("mle_ci/files.py", "write"),
        ("mle_ci/github.py", "_append"),
    }  # every other listed writer is still there: the list does not outlive the code


# --- a real run whose child forges commands in every echoed value --------------------------------------------

_FORGED = "FORGED"
_CHILD = r"""
import json, os, sys, time
from mle_ci import progress
forge = "\r::error::FORGED-{}\n::add-mask::FORGED-{}\u2028::warning::FORGED ##[error]FORGED-legacy"
progress.usage(forge.format(1, 1), requests=1, input_tokens=1, output_tokens=1)
progress.submission(os.path.join(os.environ["SUBMISSION_DIR"], "s.csv"), rows=0, producer=forge.format(2, 2))
progress.fold(1, 0.1, total=1, metric="auc" + forge.format(3, 3), higher_is_better=True)
sys.stderr.write('Traceback (most recent call last):\n  File "x' + forge.format(4, 4) + '.py", line 1, in <module>\n'
                 'ValueError: boom' + forge.format(5, 5) + '\n')
raise SystemExit(1)
"""


def test_no_value_a_child_controls_forges_a_workflow_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The agent line (model, producer), the crash site and the gate's message (metric name) all carry forged
    commands after line breaks of every kind: no line of the console starts a command the harness did not issue."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        (tmp_path / name).touch()
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code = main(["run", "--heartbeat", "0", "--min-score", "0.9", "--", sys.executable, "-c", _CHILD])
    assert code == 1
    printed = capsys.readouterr()
    result = json.loads((tmp_path / "mle-ci-results" / "result.json").read_text())
    assert result["status"] == "crashed"
    for stream in (printed.out, printed.err):
        block = False
        token = None
        for line in re.split(r"\r\n|\r|\n", stream):
            stripped = line.lstrip()
            if stripped.startswith("::stop-commands::"):
                block, token = True, stripped.removeprefix("::stop-commands::")
                continue
            if block:
                block = stripped != f"::{token}::"
                continue
            assert not stripped.startswith(f"::error::{_FORGED}"), line
            assert not stripped.startswith(f"::add-mask::{_FORGED}"), line
            assert not stripped.startswith(f"::warning::{_FORGED}"), line
            if not stripped.startswith("::"):
                assert "##[" not in line, line  # the older syntax, obeyed anywhere in a line
            if stripped.startswith("::"):
                assert re.match(r"::(add-mask|group|endgroup|error|warning|notice)\b", stripped), line
    assert _FORGED in printed.out  # the values were echoed, made inert, not dropped
