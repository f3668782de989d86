"""The claude agent's parts: settings, prices, decisions, confinement, commands, jobs, tools, the API edge."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from anthropic_server import AnthropicServer, Drop, Error, rate_limited, reply, text, tool_use

from mle_ci.agents.claude.agent import child_env, run
from mle_ci.agents.claude.api import AnthropicClient, ApiFailure, ModelReply, sdk_models
from mle_ci.agents.claude.config import choose_model, load_config, reserve_for
from mle_ci.agents.claude.fallback import fallback_decision
from mle_ci.agents.claude.history import compact, for_transcript, with_breakpoint
from mle_ci.agents.claude.jobs import Jobs, gpu_now, job_events
from mle_ci.agents.claude.loop import (
    MAX_COST,
    MAX_TURNS,
    TIME,
    Budget,
    Conversation,
    cached_tools,
    next_stop,
    request_timeout,
)
from mle_ci.agents.claude.prices import FAMILY_PRICES, UNKNOWN, Price, PriceError, UsageTotals, parse_prices, price_for
from mle_ci.agents.claude.processes import run_command, trim
from mle_ci.agents.claude.prompt import read_data
from mle_ci.agents.claude.tools import TOOL_NAMES, ToolBox
from mle_ci.agents.claude.transcript import Transcript
from mle_ci.agents.claude.validation import Verdict, check_against_sample, validate_argv
from mle_ci.agents.claude.workspace import ToolError, Workspace
from mle_ci.errors import ConfigError
from mle_ci.redaction import Redactor

KEY = "sk-ant-api03-unit-test-key-abcdefghijklmnopqrstuvwxyz012345"


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return {"ANTHROPIC_API_KEY": KEY, "MLE_CI_DATA_DIR": str(data), "LOGS_DIR": str(tmp_path / "logs"), **extra}


# --- the model and the settings


def test_the_default_model_is_a_current_alias_of_the_preferred_family() -> None:
    """Deprecated models and dated snapshots are skipped; sonnet is preferred; else the newest listed."""
    models = ["claude-opus-9", "claude-sonnet-9-20990101", "claude-sonnet-8", "claude-sonnet-7"]
    assert choose_model(models, {"claude-sonnet-8"}) == "claude-sonnet-7"
    assert choose_model(["claude-opus-9", "claude-haiku-9"], set()) == "claude-opus-9"
    with pytest.raises(ConfigError, match="MLE_CI_MODEL"):
        choose_model(["claude-x-1"], {"claude-x-1"})


def test_the_installed_sdk_yields_a_listed_model_it_does_not_deprecate() -> None:
    """With the real SDK's list the choice is one of its models and not one it warns about."""
    models, deprecated = sdk_models()
    chosen = choose_model(models, deprecated)
    assert chosen in models and chosen not in deprecated


def test_settings_defaults_and_overrides(tmp_path: Path) -> None:
    """Defaults where unset; MLE_CI_MODEL, CODE_DIR, the plan and the budgets read when set."""
    config = load_config(base_env(tmp_path), default_model="claude-default")
    assert config.model == "claude-default" and config.max_turns == 200 and config.max_cost_usd == 5
    assert config.workspace == tmp_path / "logs" / "workspace" and config.submission_dir == tmp_path / "logs"
    assert config.deadline is None and config.remaining() == math.inf
    env = base_env(
        tmp_path,
        MLE_CI_MODEL="claude-chosen",
        CODE_DIR=str(tmp_path / "code"),
        MLE_CI_DEVICE="cuda",
        MLE_CI_BATCH_SIZE="256",
        MLE_CI_MAX_TURNS="7",
        MLE_CI_MAX_COST_USD="0.5",
        MLE_CI_HIGHER_IS_BETTER="false",
    )
    config = load_config(env, default_model="claude-default")
    assert config.model == "claude-chosen" and config.workspace == tmp_path / "code"
    assert config.plan == {"MLE_CI_DEVICE": "cuda", "MLE_CI_BATCH_SIZE": "256"}
    assert (config.max_turns, config.max_cost_usd, config.higher_is_better) == (7, 0.5, False)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"ANTHROPIC_API_KEY": " "}, "ANTHROPIC_API_KEY is not set"),
        ({"MLE_CI_DATA_DIR": "/nonexistent/folder"}, "is not a folder"),
        ({"MLE_CI_MAX_TURNS": "0"}, "MLE_CI_MAX_TURNS: must be at least 1"),
        ({"MLE_CI_MAX_COST_USD": "lots"}, "MLE_CI_MAX_COST_USD: 'lots' is not a number"),
        ({"MLE_CI_DEADLINE": "soon"}, "MLE_CI_DEADLINE"),
        ({"MLE_CI_PRICES": "{"}, "MLE_CI_PRICES: not JSON"),
        ({"MLE_CI_HIGHER_IS_BETTER": "maybe"}, "MLE_CI_HIGHER_IS_BETTER"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path: Path, extra: dict[str, str], fragment: str) -> None:
    """Every bad variable is a ConfigError (exit 2) that names it."""
    with pytest.raises(ConfigError, match=fragment):
        load_config({**base_env(tmp_path), **extra}, default_model="m")


def test_the_api_reserve_shrinks_for_short_budgets(tmp_path: Path) -> None:
    """The reserve is at most a quarter of the budget: a 2-minute run keeps 30 s, not 120 s."""
    assert reserve_for(None, 120) == 120 and reserve_for(3600, 120) == 120 and reserve_for(120, 120) == 30
    env = base_env(tmp_path, MLE_CI_DEADLINE=str(time.time() + 100))
    assert 24 < load_config(env, default_model="m").api_reserve_secs <= 25


# --- prices


def test_prices_by_family_override_and_unknown() -> None:
    """A model is priced by its family, a configured price wins, an unknown model costs as the dearest family."""
    assert price_for("claude-sonnet-5-5", {}) == (FAMILY_PRICES["sonnet"], "family sonnet")
    custom = Price(1, 2, 3, 4)
    assert price_for("claude-sonnet-5-5", {"claude-sonnet-5-5": custom})[0] == custom
    assert price_for("claude-mythos-5", {})[0] == UNKNOWN == FAMILY_PRICES["opus"]


def test_cost_counts_each_kind_of_token_at_its_price() -> None:
    """One million tokens of each kind cost the sum of the four per-million prices."""
    totals = UsageTotals().add(input_tokens=10**6, output_tokens=10**6, cache_creation=10**6, cache_read=10**6)
    price = Price(input=3, output=15, cache_write=3.75, cache_read=0.3)
    assert totals.requests == 1 and totals.cost(price) == pytest.approx(3 + 15 + 3.75 + 0.3)


def test_price_table_parsing() -> None:
    """Cache prices default from the input price; missing or negative prices and unknown fields are refused."""
    table = parse_prices(json.dumps({"m": {"input": 2, "output": 10}, "n": {"input": 1, "output": 1, "cache_read": 0}}))
    assert table["m"] == Price(2, 10, 2.5, pytest.approx(0.2))
    assert table["n"].cache_read == 0
    for bad, fragment in [
        ({"m": {"input": 1}}, "required"),
        ({"m": {"input": -1, "output": 1}}, "non-negative"),
        ({"m": {"input": 1, "output": 1, "cahce_read": 1}}, "unknown price field"),
        ([1], "object"),
    ]:
        with pytest.raises(PriceError, match=fragment):
            parse_prices(json.dumps(bad))


# --- decisions


def test_next_stop_checks_time_then_turns_then_spend() -> None:
    """No request within the reserve, past the turn limit or the spending cap; otherwise go on."""
    budget = Budget(max_turns=10, max_cost_usd=1.0, reserve_secs=60)
    assert next_stop(turns=0, cost=0, remaining=math.inf, budget=budget) is None
    assert next_stop(turns=3, cost=0.5, remaining=61, budget=budget) is None
    assert next_stop(turns=3, cost=0.5, remaining=60, budget=budget)[0] == TIME  # type: ignore[index]
    assert next_stop(turns=10, cost=0.5, remaining=600, budget=budget)[0] == MAX_TURNS  # type: ignore[index]
    assert next_stop(turns=3, cost=1.0, remaining=600, budget=budget)[0] == MAX_COST  # type: ignore[index]


def test_a_request_may_not_run_into_the_reserve() -> None:
    """The request timeout is cut so that it ends within half the reserve (at least 1 s)."""
    assert request_timeout(math.inf, 120, 300) == 300
    assert request_timeout(200, 120, 300) == 140
    assert request_timeout(30, 120, 300) == 1


def test_fallback_needs_enough_time() -> None:
    """The baseline runs only with its minimum left (after the deadline margin)."""
    assert fallback_decision(remaining=100, minimum=60)[0]
    assert not fallback_decision(remaining=62, minimum=60)[0]
    assert fallback_decision(remaining=math.inf, minimum=60)[0]


def test_only_the_last_tool_carries_the_cache_breakpoint() -> None:
    """One breakpoint after the tools caches them all."""
    tools = cached_tools()
    assert [t["name"] for t in tools] == list(TOOL_NAMES)
    assert [("cache_control" in t) for t in tools] == [False] * (len(tools) - 1) + [True]


# --- confinement


def test_paths_outside_the_workspace_are_refused(tmp_path: Path) -> None:
    """`..`, absolute paths and symlinks leading out are refused; the data is readable but never writable."""
    root, data, outside = tmp_path / "ws", tmp_path / "data", tmp_path / "secret.txt"
    for folder in (root, data):
        folder.mkdir()
    (data / "train.csv").write_text("a\n")
    outside.write_text("x")
    (root / "link").symlink_to(outside)
    (root / "data-link").symlink_to(data)
    space = Workspace(root, data, root)
    assert space.write("sub/model.py", b"m") == root.resolve() / "sub" / "model.py"
    for readable in (str(data / "train.csv"), "data-link/train.csv"):
        with space.open(readable) as handle:
            assert handle.read() == b"a\n"
    for path in ("../secret.txt", str(outside), "link", "sub/../../secret.txt", "/etc/passwd"):
        with pytest.raises(ToolError, match="outside the workspace"):
            space.open(path)
        with pytest.raises(ToolError, match="outside the workspace"):
            space.write(path, b"y")
    for path in (str(data / "train.csv"), "data-link/new.csv", "data-link/new/x.csv"):
        with pytest.raises(ToolError, match="read-only"):
            space.write(path, b"y")
    with pytest.raises(ToolError, match="empty path"):
        space.open(" ")
    assert outside.read_text() == "x" and sorted(p.name for p in data.iterdir()) == ["train.csv"]


# --- commands and jobs


def test_trim_keeps_head_and_tail_and_marks_the_cut() -> None:
    """A long output keeps its first and last characters, with the number cut in between."""
    out = trim("a" * 100 + "b" * 100 + "c" * 100, head=100, tail=100)
    assert out.startswith("a" * 100) and out.endswith("c" * 100) and "[... 100 characters cut ...]" in out
    assert trim("short") == "short"


def test_a_command_reports_its_exit_code_and_output(tmp_path: Path) -> None:
    """Exit code and combined output come back."""
    result = run_command("echo out; echo err >&2; exit 3", cwd=tmp_path, env=dict(os.environ), timeout=10)
    assert result.exit_code == 3 and "out" in result.output and "err" in result.output and not result.timed_out
    assert result.render().startswith("exit code 3")


def test_a_command_past_its_timeout_is_stopped_with_its_whole_group(tmp_path: Path) -> None:
    """A timed-out command's group goes, a grandchild that ignores SIGTERM included."""
    pidfile = tmp_path / "pid"
    command = f"(trap '' TERM; sleep 60) & echo $! > {pidfile}; wait"
    result = run_command(command, cwd=tmp_path, env=dict(os.environ), timeout=0.5)
    assert result.timed_out and result.exit_code is None and "timed out" in result.render()
    wait_for(lambda: not alive(int(pidfile.read_text())))


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_for(predicate: object, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_jobs_log_echo_report_and_stop(tmp_path: Path) -> None:
    """A job's lines go to its log and the echo (tagged, progress lines as they are); stop ends its group."""
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"v": 1, "type": "fold", "ts": time.time() + 1, "fold": 1, "score": 0.9}) + "\n")
    echo = io.StringIO()
    env = child_env({**os.environ, "ANTHROPIC_API_KEY": KEY})
    jobs = Jobs(folder=tmp_path / "jobs", cwd=tmp_path, env=env, events=events, redact=str, echo=echo)
    script = (
        'echo "Epoch 1/2: Loss=0.5"; echo "[progress] fold 1 complete"; echo "key=${ANTHROPIC_API_KEY:-none}"; sleep 60'
    )
    job = jobs.start(script, "train model")
    wait_for(lambda: len(job.tail) == 3)
    status = jobs.status(job.id, gpu=lambda: "no GPU")
    assert status.startswith("job-1 (train-model): running")
    assert "fold=1 score=0.9" in status and "GPU now: no GPU" in status and "key=none" in status
    assert "[job-1 train-model] Epoch 1/2: Loss=0.5" in echo.getvalue()
    assert "\n[progress] fold 1 complete" in "\n" + echo.getvalue()
    assert jobs.stop(job.id).startswith("job-1 (train-model): stopped")
    assert job.log.read_text().splitlines()[0] == "Epoch 1/2: Loss=0.5"
    assert jobs.running() == [] and jobs.stop_all() == []
    with pytest.raises(ToolError, match="no job 'job-9'"):
        jobs.status("job-9")


def test_job_events_are_those_since_the_job_started(tmp_path: Path) -> None:
    """Older events, other types and torn lines are left out."""
    events = tmp_path / "e.jsonl"
    lines = [
        {"v": 1, "type": "fold", "ts": 1.0, "fold": 1, "score": 0.1},
        {"v": 1, "type": "usage", "ts": 5.0, "model": "m"},
        {"v": 1, "type": "epoch", "ts": 6.0, "epoch": 2},
    ]
    events.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"torn')
    assert job_events(events, since=2.0) == ["type=epoch epoch=2"]
    assert job_events(None, since=0) == []


def test_child_environment_has_no_secrets() -> None:
    """Commands, jobs and the fallback never see a *_KEY, *_TOKEN or *_SECRET variable."""
    env = child_env({"ANTHROPIC_API_KEY": KEY, "GITHUB_TOKEN": "t", "AWS_SECRET": "s", "PATH": "/bin"})
    assert env == {"PATH": os.pathsep.join((os.path.dirname(sys.executable), "/bin")), "PYTHONUNBUFFERED": "1"}


# --- tools


def toolbox(tmp_path: Path) -> ToolBox:
    root, data = tmp_path / "ws", tmp_path / "data"
    root.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    jobs = Jobs(folder=tmp_path / "jobs", cwd=root, env=dict(os.environ), events=None, redact=str, echo=io.StringIO())
    return ToolBox(
        workspace=Workspace(root, data, root),
        jobs=jobs,
        env=dict(os.environ),
        validate=lambda path: Verdict(True, f"checked {path or 'submission.csv'}"),
        remaining=lambda: 100.0,
        redact=Redactor((KEY,)).text,
    )


def test_tool_calls_with_bad_arguments_are_error_results(tmp_path: Path) -> None:
    """Unknown tools, missing or wrong-typed arguments come back as errors for the model, not exceptions."""
    tools = toolbox(tmp_path)
    assert tools.call("rm_rf", {}).is_error
    assert "'command' must be a string" in tools.call("bash", {}).text
    assert tools.call("bash", {"command": "true", "timeout_s": -1}).is_error
    assert tools.call("read_file", {"path": "missing.txt"}).is_error
    assert tools.call("job_status", {"job_id": "job-1"}).is_error
    outcome = tools.call("finish", {"summary": "done"})
    assert outcome.finished == "done" and not outcome.is_error


def test_read_file_pages_by_lines(tmp_path: Path) -> None:
    """offset and limit pick lines; the rest is announced with the next offset."""
    tools = toolbox(tmp_path)
    assert not tools.call("write_file", {"path": "f.txt", "content": "".join(f"{i}\n" for i in range(10))}).is_error
    outcome = tools.call("read_file", {"path": "f.txt", "offset": 2, "limit": 3})
    assert outcome.text == "2\n3\n4\n\n[5 more lines: read with offset=5]"
    assert tools.call("validate_submission", {}).text == "checked submission.csv"


# --- validation


def test_validate_argv_follows_the_mle_bench_layout(tmp_path: Path) -> None:
    """The CLI is used for <root>/<id>/prepared/public; anything else is checked against the sample submission."""
    public = tmp_path / "competitions" / "demo" / "prepared" / "public"
    public.mkdir(parents=True)
    argv = validate_argv(Path("s.csv"), "demo", public)
    assert argv is not None and argv[argv.index("--data-dir") + 1] == str((tmp_path / "competitions").resolve())
    assert validate_argv(Path("s.csv"), "other", public) is None
    assert validate_argv(Path("s.csv"), None, public) is None


def test_check_against_the_sample_submission(tmp_path: Path) -> None:
    """Columns, rows, ids and empty cells are compared with the sample submission."""
    sample = io.BytesIO(b"id,y\n1,0\n2,0\n")
    assert check_against_sample(io.BytesIO(b"id,y\n2,0.5\n1,0.1\n"), sample).valid
    verdict = check_against_sample(io.BytesIO(b"id,target\n1,\n"), sample)
    assert not verdict.valid and "columns" in verdict.text and "1 rows" in verdict.text and "empty" in verdict.text


# --- the API edge against the local server


def client(server: AnthropicServer) -> AnthropicClient:
    return AnthropicClient(api_key=KEY, model="claude-test", base_url=server.url, timeout=10)


def send(c: AnthropicClient) -> object:
    try:
        return c.send(
            system=[{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}],
            tools=[],
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=100,
            timeout=10,
        )
    finally:
        c.close()


def test_a_reply_comes_back_as_plain_blocks_with_usage() -> None:
    """Text and tool_use blocks and all four usage counts are read from the response."""
    with AnthropicServer([reply(text("hello"), tool_use("bash", command="ls"))], api_key=KEY) as server:
        answer = send(client(server))
    assert answer.text() == "hello" and answer.tool_uses()[0]["input"] == {"command": "ls"}  # type: ignore[attr-defined]
    assert answer.stop_reason == "tool_use" and answer.cache_creation_input_tokens > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("step", "kind", "fatal"),
    [
        (Error(401, "bad key"), "authentication failed", True),
        (Error(400, "messages: field required"), "bad request", True),
        (Error(403, "no access"), "permission denied", True),
        (rate_limited(), "rate limited", False),
        (Error(529, "Overloaded"), "overloaded", False),
        (Error(500, "boom"), "server error", False),
        (Drop(), "connection failed", False),
    ],
)
def test_api_errors_are_sorted_into_fatal_and_transient(step: object, kind: str, fatal: bool) -> None:
    """Auth and bad requests can never succeed; rate limits, overload, 5xx and dropped connections might."""
    with AnthropicServer([step], api_key=KEY) as server, pytest.raises(ApiFailure) as caught:  # type: ignore[list-item]
        send(client(server))
    assert (caught.value.kind, caught.value.fatal) == (kind, fatal)


def test_the_sdk_retries_nothing_and_the_failure_carries_the_wait() -> None:
    """The SDK sends once (the loop retries); the server's wait comes back with the failure."""
    script = [rate_limited(after_s=3), reply(text("ok"))]
    with AnthropicServer(script, api_key=KEY) as server, pytest.raises(ApiFailure) as caught:
        send(client(server))
    assert len(server.received) == 1 and server.received[0].headers.get("x-stainless-retry-count") == "0"
    assert (caught.value.kind, caught.value.retry_after, caught.value.should_retry) == ("rate limited", 3.0, None)


# --- the conversation as sent


def test_one_cache_breakpoint_moves_to_the_newest_message() -> None:
    """Only the newest message's last block is marked; the stored messages are left unmarked."""
    messages = [
        {"role": "user", "content": "start"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok"}]},
    ]
    sent = with_breakpoint(messages)
    assert sent[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in json.dumps(sent[:-1]) and "cache_control" not in json.dumps(messages)
    assert with_breakpoint(messages[:1])[0]["content"] == [
        {"type": "text", "text": "start", "cache_control": {"type": "ephemeral"}}
    ]


def test_a_long_conversation_shortens_only_old_tool_results() -> None:
    """Past the limit, tool results before the last few messages are cut; the recent ones and all else stay."""
    big = "x" * 5000
    messages = [{"role": "user", "content": "start"}] + [
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": str(i), "content": big}]} for i in range(6)
    ]
    assert compact(messages, limit=10**6, keep=2) == messages
    short = compact(messages, limit=10_000, keep=2)
    assert [len(m["content"][0]["content"]) < 1000 for m in short[1:]] == [True] * 4 + [False] * 2
    assert "characters cut from this old result" in short[1]["content"][0]["content"]
    assert short[0] == messages[0]


def test_the_transcript_request_names_tool_results_by_id_only() -> None:
    """Tool results have records of their own: the request lists their ids, not their text twice."""
    content = [{"type": "tool_result", "tool_use_id": "t1", "content": "long output"}]
    assert for_transcript(content) == [{"type": "tool_result", "tool_use_id": "t1"}]
    assert for_transcript("plain text") == "plain text"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_agent_process_is_closed_to_its_commands() -> None:
    """After hide_environment the process is not dumpable: a same-user command cannot read its environ."""
    code = (
        "from mle_ci.agents.claude.processes import hide_environment, is_dumpable\n"
        "before = is_dumpable(); hide_environment(); print(before, is_dumpable())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]


# --- the loop on a scripted client (the SDK edge is tested against the server above)


class ScriptedClient:
    """Hands out replies in order and keeps a copy of each request's messages."""

    def __init__(self, replies: list[ModelReply]) -> None:
        self.replies = replies
        self.requests: list[list[dict[str, object]]] = []

    def send(self, *, system: object, tools: object, messages: object, max_tokens: int, timeout: float) -> ModelReply:
        self.requests.append(json.loads(json.dumps(messages)))
        return self.replies.pop(0)

    def close(self) -> None:
        return None


def conversation(tmp_path: Path, replies: list[ModelReply], **budget: float) -> tuple[Conversation, ScriptedClient]:
    client = ScriptedClient(replies)
    seen: list[int] = []
    convo = Conversation(
        client=client,
        model="m",
        price=Price(3, 15, 3.75, 0.3),
        toolbox=toolbox(tmp_path),
        transcript=Transcript(tmp_path / "t.jsonl", Redactor()),
        system="system",
        budget=Budget(int(budget.get("turns", 10)), budget.get("cost", 5.0), 0),
        max_tokens=100,
        api_timeout=10,
        remaining=lambda: 500.0,
        on_usage=lambda totals, cost: seen.append(totals.requests),
        say=lambda line: None,
    )
    return convo, client


def test_a_model_that_only_talks_is_reminded_then_the_run_ends(tmp_path: Path) -> None:
    """Replies without a tool call get the reminder twice; the third ends the conversation; an empty one is padded."""
    replies = [
        ModelReply("1", (), "end_turn", 10, 5),
        ModelReply("2", ({"type": "text", "text": "I think..."},), "end_turn", 10, 5),
        ModelReply("3", ({"type": "text", "text": "done"},), "end_turn", 10, 5),
    ]
    convo, client = conversation(tmp_path, replies)
    outcome = convo.run("go")
    assert (outcome.ended, outcome.turns, outcome.summary) == ("ended", 3, "done")
    assert client.requests[1][1]["content"] == [{"type": "text", "text": "(no reply)"}]
    assert client.requests[1][2]["content"][0]["text"].startswith("Continue with the tools")
    assert outcome.usage.requests == 3 and outcome.cost_usd == pytest.approx(3 * (10 * 3 + 5 * 15) / 1e6)


def test_tool_results_carry_errors_and_the_time_left(tmp_path: Path) -> None:
    """Each tool_use gets its tool_result (error flagged) with the time, turn and spend; finish ends the run."""
    calls = (
        {"type": "tool_use", "id": "a", "name": "bash", "input": {"command": "exit 4"}},
        {"type": "tool_use", "id": "b", "name": "read_file", "input": {"path": "/etc/passwd"}},
    )
    replies = [
        ModelReply("1", calls, "tool_use", 10, 5),
        ModelReply("2", ({"type": "tool_use", "id": "c", "name": "finish", "input": {"summary": "s"}},), "tool_use"),
    ]
    convo, client = conversation(tmp_path, replies)
    outcome = convo.run("go")
    assert (outcome.ended, outcome.summary) == ("finished", "s")
    results = client.requests[1][-1]["content"]
    assert [(r["tool_use_id"], r.get("is_error")) for r in results] == [("a", True), ("b", True)]
    assert all("[500s left before the deadline; turn 1/10;" in r["content"] for r in results)
    assert "exit code 4" in results[0]["content"] and "outside the workspace" in results[1]["content"]


def test_the_data_view_lists_files_folders_and_csv_heads(tmp_path: Path) -> None:
    """Top-level files with sizes, folders summarised (count, size, examples), the first lines of each CSV."""
    (tmp_path / "description.md").write_text("# Task\n" + "word " * 5000)
    (tmp_path / "train.csv").write_text("id,y\n" + "".join(f"{i},{i % 2}\n" for i in range(100)))
    images = tmp_path / "images"
    images.mkdir()
    for i in range(5):
        (images / f"{i}.png").write_bytes(b"x" * 100)
    view = read_data(tmp_path)
    assert view.description.startswith("# Task") and len(view.description) < 8100
    assert "images/  (5 files, 500 B: 0.png, 1.png, 2.png, ...)" in view.listing
    assert f"train.csv  ({(tmp_path / 'train.csv').stat().st_size} B)" in view.listing
    assert view.heads == (("train.csv", "id,y\n0,0\n1,1\n2,0\n3,1"),)


def test_trim_with_no_tail_keeps_only_the_head() -> None:
    """A zero tail means the head alone, with the cut marked."""
    assert trim("abcdef", head=2, tail=0) == "ab\n[... 4 characters cut ...]\n"


def test_gpu_use_is_read_from_nvidia_smi() -> None:
    """Each GPU's line becomes busy percent and memory; no nvidia-smi reads as no GPU; a failure says so."""
    out = "0, 87, 40000, 143771\n1, 0, 5, 143771\n"
    smi = lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=out, stderr="")  # noqa: E731
    assert gpu_now(run=smi, which=lambda name: "/usr/bin/nvidia-smi") == (
        "GPU 0: 87% busy, 40000/143771 MiB; GPU 1: 0% busy, 5/143771 MiB"
    )
    assert gpu_now(which=lambda name: None) == "no GPU (nvidia-smi not found)"
    broken = lambda *a, **k: subprocess.CompletedProcess(a, 9, stdout="", stderr="")  # noqa: E731
    assert gpu_now(run=broken, which=lambda name: "x") == "GPU use unknown: nvidia-smi exit 9"


class BrokenClient(ScriptedClient):
    def send(self, **kwargs: object) -> ModelReply:  # type: ignore[override]
        raise RuntimeError("a bug in the agent")


def test_a_crash_of_the_agent_still_secures_a_submission(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unexpected exception is shown with its traceback; the model's file on disk is kept; exit 1."""
    env = base_env(tmp_path, MLE_CI_FALLBACK_MIN_SECS="1000")
    (tmp_path / "data" / "sample_submission.csv").write_text("id,y\n1,0\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "submission.csv").write_text("id,y\n1,0.5\n")
    code = run(load_config(env, default_model="m"), env, BrokenClient([]))
    captured = capsys.readouterr()
    assert code == 1
    assert "RuntimeError: a bug in the agent" in captured.err
    assert "submission written" in captured.out and "(by claude)" in captured.out


def test_a_tool_that_breaks_is_an_error_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside a tool comes back to the model as an error result."""
    tools = toolbox(tmp_path)
    monkeypatch.setattr(tools.jobs, "status", lambda job_id: 1 / 0)
    outcome = tools.call("job_status", {"job_id": "job-1"})
    assert outcome.is_error and "internal error ZeroDivisionError" in outcome.text


class FailingClient(ScriptedClient):
    def __init__(self, failure: ApiFailure) -> None:
        super().__init__([])
        self.failure = failure

    def send(self, **kwargs: object) -> ModelReply:  # type: ignore[override]
        self.requests.append([])
        raise self.failure


@pytest.mark.parametrize(
    ("failure", "attempts"),
    [
        (ApiFailure("authentication failed", "no", fatal=True, status=401), 1),
        (ApiFailure("connection failed", "reset", fatal=False), 1),
        (ApiFailure("overloaded", "busy", fatal=False, status=529), 4),
    ],
)
def test_an_outage_is_asked_again_a_few_times_a_refusal_never(
    tmp_path: Path, failure: ApiFailure, attempts: int
) -> None:
    """An API outage gets three more rounds after a pause; a refusal or a network failure ends the run at once."""
    convo, _ = conversation(tmp_path, [])
    client = FailingClient(failure)
    fatal = failure.fatal
    pauses: list[float] = []
    convo._client, convo._sleep, convo._api_pause, convo._max_retries = client, pauses.append, 7.0, 0
    outcome = convo.run("go")
    assert outcome.ended == ("api_fatal" if fatal else "api_error")
    assert len(client.requests) == attempts and pauses == [7.0] * (attempts - 1)
