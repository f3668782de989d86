"""The one secret policy (``mle_ci.redaction``): names, shapes, every form of a value, and every sink of a real run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mle_ci.childenv import child_environment
from mle_ci.cli import main
from mle_ci.redaction import (
    MIN_SECRET,
    REDACTED,
    Redactor,
    find_key,
    harness_only,
    is_secret_name,
    secret_forms,
    secret_values,
)


@pytest.mark.parametrize(
    "name",
    [
        "ANTHROPIC_API_KEY",
        "INPUT_ANTHROPIC-API-KEY",
        "hf_token",
        "AWS_SECRET_ACCESS_KEY",
        "DB_PASSWORD_FILE",
        "SMTP_PASSWD",
        "GCP_CREDENTIALS",
        "GH_PAT",
        "PAT_FOR_RELEASES",
        "ACTIONS_RUNTIME_URL",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_STEP_SUMMARY",
    ],
)
def test_names_that_hold_secrets(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["HOME", "PATH", "PATHEXT", "MLE_CI_FOLDS", "GITHUB_WORKSPACE", "PATIENCE", "SPATIAL"])
def test_names_that_do_not(name: str) -> None:
    assert not is_secret_name(name)


def test_secret_values_are_every_long_form_of_secret_named_variables_longest_first() -> None:
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-zzzzzzzz",
        "INPUT_ANTHROPIC-API-KEY": "sk-ant-zzzzzzzz",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "cccccccc",
        "SHORT_TOKEN": "1234567",
        "HOME": "/github/home",
        "DEBUG_KEY": "1",
    }
    assert secret_values(env) == ("sk-ant-zzzzzzzz", "cccccccc")
    values = secret_values({}, extra=("first-line-of-it\nsecond-line-of-it",))
    assert values[0] == "first-line-of-it\\nsecond-line-of-it"  # the JSON-escaped form is the longest
    assert {"first-line-of-it\nsecond-line-of-it", "first-line-of-it", "second-line-of-it"} <= set(values)
    assert list(values) == sorted(values, key=len, reverse=True)


def test_a_value_is_looked_for_as_written_by_line_json_escaped_csv_quoted_and_by_its_runs() -> None:
    value = 'pa"ss\\word,with-comma-piece\nand-a-second-line'
    forms = set(secret_forms(value))
    assert value in forms
    assert json.dumps(value)[1:-1] in forms
    assert 'pa""ss\\word,with-comma-piece' in forms  # CSV doubles the quote
    assert {"with-comma-piece", "and-a-second-line"} <= forms
    assert not {"pa", "ss", "word"} & forms  # runs between quotes and backslashes shorter than 8 stay visible
    runs = set(secret_forms("Tk5nkl6rLPpf'AWzBEStc1a\\8pRzlfWkBF:k3,hunter2-long"))
    assert {"Tk5nkl6rLPpf", "AWzBEStc1a", "8pRzlfWkBF", "hunter2-long"} <= runs  # verbatim in a repr or a shell quote
    assert all(len(form.strip()) >= MIN_SECRET for form in forms)


@pytest.mark.parametrize(
    "token",
    [
        "sk-ant-api03-abcdefghijklmnop",
        "ghp_" + "a1" * 18,
        "gho_" + "B2" * 18,
        "ghs_" + "c3" * 18,
        "github_pat_" + "11AB" * 6,
        "AKIA" + "ABCDEFGHIJ234567",
        "hf_" + "x" * 34,
        "xoxb-1234567890-abcdef",
    ],
)
def test_credential_shapes_are_hidden_known_or_not(token: str) -> None:
    redactor = Redactor()
    assert redactor.text(f"the token {token} leaked") == f"the token {REDACTED} leaked"
    assert redactor.bytes(f"[{token}]".encode()) == f"[{REDACTED}]".encode()
    assert find_key(f"x {token}") is not None


@pytest.mark.parametrize(
    "text",
    ["ghp_short", "AKIA in prose", "hf_transfer is a package", "https://example.com/a:b", "the path/to:a@b", "xox"],
)
def test_near_misses_are_left_alone(text: str) -> None:
    assert Redactor().text(text) == text
    assert find_key(text) is None


def test_a_password_in_a_url_is_hidden_and_the_host_kept() -> None:
    text = "pip install --index-url https://build:hunter2-long@pypi.example.com/simple pkg"
    assert Redactor().text(text) == f"pip install --index-url https://{REDACTED}@pypi.example.com/simple pkg"
    assert Redactor().bytes(text.encode()).count(b"hunter2") == 0


def test_keys_of_data_are_redacted_too() -> None:
    redactor = Redactor(["a-secret-value"])
    assert redactor.data({"a-secret-value": ["a-secret-value", 3, {"k": "x a-secret-value"}]}) == {
        REDACTED: [REDACTED, 3, {"k": f"x {REDACTED}"}]
    }


def test_the_child_never_inherits_what_only_the_harness_may_hold() -> None:
    base = {
        "GITHUB_TOKEN": "ghs_x",
        "GITHUB_OUTPUT": "/runner/out",
        "GITHUB_ENV": "/runner/env",
        "INPUT_TIMEOUT-MINUTES": "5",
        "MLE_CI_ANTHROPIC_API_KEY": "sk-ant-y",
        "WANDB_API_KEY": "user-secret-for-the-script",
        "HOME": "/home/u",
    }
    env = child_environment(base, events="e", deadline_unix=None, time_limit=None, extra={})
    assert {name for name in base if harness_only(name)} == set(base) - {"WANDB_API_KEY", "HOME"}
    assert "WANDB_API_KEY" in env and "HOME" in env
    assert not {"GITHUB_TOKEN", "GITHUB_OUTPUT", "GITHUB_ENV", "INPUT_TIMEOUT-MINUTES"} & set(env)
    assert "MLE_CI_ANTHROPIC_API_KEY" not in child_environment(
        base, events="e", deadline_unix=None, time_limit=None, extra={}, keep=("MLE_CI_ANTHROPIC_API_KEY",)
    )


_LINE = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    ),
    min_size=MIN_SECRET,
    max_size=30,
).filter(lambda line: len(line.strip()) >= MIN_SECRET)


@settings(max_examples=300)
@given(lines=st.lists(_LINE, min_size=1, max_size=3), before=st.text(max_size=20), after=st.text(max_size=20))
def test_no_form_of_a_secret_survives_in_text_json_or_lines(lines: list[str], before: str, after: str) -> None:
    """Whatever the secret holds (quotes, backslashes, unicode, several lines), it is hidden as written, in JSON
    with or without ASCII escapes, and line by line in a log."""
    secret = "\n".join(lines)
    redactor = Redactor.from_env({"MY_SERVICE_TOKEN": secret})
    text = before + secret + after
    for sink in (text, json.dumps({"m": text}), json.dumps({"m": text}, ensure_ascii=False)):
        clean = redactor.text(sink)
        assert secret not in clean
        assert json.dumps(secret)[1:-1] not in clean
    for line in text.splitlines():
        for part in lines:
            assert part not in redactor.text(line) or part in before + after


# --- every sink of a real run ---------------------------------------------------------------------------------

_MULTI = "first-line-of-the-secret\nsecond-line-of-the-secret"
_QUOTED = 'quote"and\\backslash-secret'
_CHILD = r"""
import os, sys, json
from mle_ci import progress
multi, quoted = os.environ["MULTI_TOKEN"], os.environ["QUOTED_SECRET"]
print(multi, flush=True)
print("quoted:", quoted, flush=True)
print("json:", json.dumps({"q": quoted}), flush=True)
progress.message("event " + quoted + " " + multi)
progress.fold(1, 0.5, total=1, metric="auc " + quoted)
print("ghp_" + "a" * 36, "https://user:pw-" + "x" * 9 + "@host/x", flush=True)
sys.stderr.write("Traceback (most recent call last):\n  File \"" + quoted + "\", line 1\nValueError: " + multi + "\n")
raise SystemExit(3)
"""


def test_no_sink_of_a_run_holds_any_form_of_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A child that prints, logs as events, scores under and crashes with a multi-line secret, a secret with a
    quote and a backslash, a GitHub token and a password in a URL: no report file and no console line holds any
    of them in any form."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MULTI_TOKEN", _MULTI)
    monkeypatch.setenv("QUOTED_SECRET", _QUOTED)
    assert main(["run", "--heartbeat", "0", "--", sys.executable, "-c", _CHILD]) == 1
    printed = capsys.readouterr()
    sinks = {"stdout": printed.out, "stderr": printed.err}
    for path in (tmp_path / "mle-ci-results").rglob("*"):
        if path.is_file():
            sinks[path.name] = path.read_text(encoding="utf-8", errors="replace")
    assert {"log.txt", "events.jsonl", "result.json", "summary.md", "junit.xml"} <= set(sinks)
    forbidden = {*secret_forms(_MULTI), *secret_forms(_QUOTED), "a" * 36, "pw-" + "x" * 9}
    for name, text in sinks.items():
        for form in forbidden:
            assert form not in text, f"{form!r} in {name}"
    assert REDACTED in sinks["log.txt"] and REDACTED in sinks["events.jsonl"]


def test_a_batch_is_searched_once_and_found_when_any_line_may_hold_a_secret() -> None:
    redactor = Redactor(["a-secret-value"])
    assert not redactor.finds(b"epoch 1 loss=0.5\nepoch 2 loss=0.4")
    assert redactor.finds(b"epoch 1\nleaked a-secret-value")
    assert redactor.finds(b"see https://example.com")  # a mark: the lines are then looked at one by one


def test_the_started_line_hides_a_secret_before_it_cuts_the_command() -> None:
    """A secret argument, shell-quoted and then cut at the line's limit, would no longer be recognised."""
    from mle_ci.report.runlog import command_text as _command_text

    secret = "abcdefghij'klmnopqrstuvwxyz0123456789"
    shown = _command_text(("python", "train.py", "--token", secret), Redactor([secret]).text, limit=40)
    assert "abcdefghij" not in shown and "klmnopqrst" not in shown and "--token" in shown
