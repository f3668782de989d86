"""The claude agent's search, end to end: scripted conversations on the local Messages API server, the real SDK, the
agent as a subprocess (and under ``mle-ci run`` where the reports are the point)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from anthropic_server import (
    AnthropicServer,
    Reply,
    Step,
    cut_off,
    overloaded,
    refused,
    reply,
    text,
    tool_use,
)
from helpers import Run, github_files, mle_ci, read_outputs
from test_claude_agent import KEY, TRAIN, public, run_agent  # noqa: F401 - `public` is a fixture

pytest.importorskip("anthropic")

SAMPLE = 'cp "$MLE_CI_DATA_DIR/sample_submission.csv" "$SUBMISSION_DIR/submission.csv"'
WEAK = f"""\
echo "Fold 1/2 complete: Score=0.5"
echo "Fold 2/2 complete: Score=0.6"
{SAMPLE}
"""
"""A solution that reports two weak folds and hands in the sample submission: valid, and worse than TRAIN."""
CRASH = "import sys\nprint('loading', flush=True)\nraise ValueError('could not convert string to float: \"abc\"')\n"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _latest_nodes(path: Path) -> dict[int, dict[str, Any]]:
    """The journal as its readers take it: the latest record per node."""
    return {record["id"]: record for record in _jsonl(path)}


def _task(body: dict[str, Any]) -> str:
    """The node's task: the first user message of a request's conversation."""
    first = body["messages"][0]["content"]
    return first if isinstance(first, str) else "".join(b.get("text", "") for b in first)


def good_node(plan: str = "logistic regression, 2 folds") -> list[Step]:
    return [
        reply(tool_use("write_file", path="train.py", content=TRAIN)),
        reply(tool_use("bash", command="python train.py", timeout_s=60)),
        reply(tool_use("end_node", plan=plan, insight="standardised features suffice")),
    ]


def weak_node(*, finish: bool) -> list[Step]:
    calls = [tool_use("end_node", plan="the sample submission", insight="a floor")]
    if finish:
        calls.append(tool_use("finish", summary="done"))
    return [
        reply(tool_use("write_file", path="weak.sh", content=WEAK)),
        reply(tool_use("bash", command="bash weak.sh")),
        reply(*calls),
    ]


# --- the journal and the hand-in


def test_a_worse_second_node_never_replaces_the_first(tmp_path: Path, public: Path) -> None:  # noqa: F811
    """Node 1 scores ~0.99, node 2 0.55: node 1's file stays the submission, and the journal says why."""
    with AnthropicServer([*good_node(), *weak_node(finish=True)], api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, extra={"MLE_CI_DRAFTS": "2"})
    assert run.returncode == 0, run.stderr + run.stdout[-3000:]
    assert server.pairing_errors == []
    nodes = _latest_nodes(run.out / "journal.jsonl")
    assert [n["kind"] for n in nodes.values()] == ["draft", "draft"]
    first, second = nodes[1], nodes[2]
    assert first["valid"] and second["valid"]
    assert first["score"] > 0.9 and second["score"] == pytest.approx(0.55)
    assert (first["handed_in"], second["handed_in"]) == (True, False)
    assert first["plan"] == "logistic regression, 2 folds"
    assert [c["path"] for c in first["code"]] == ["train.py"]
    node_file = run.out / "workspace" / "node-1" / "submission" / "submission.csv"
    assert run.submission.read_bytes() == node_file.read_bytes()
    node_events = [e for e in run.of_type("node") if e["status"] != "running"]
    assert [(e["id"], e["handed_in"]) for e in node_events] == [(1, True), (2, False)]


def test_a_crashed_node_is_debugged_with_its_traceback(tmp_path: Path, public: Path) -> None:  # noqa: F811
    """Node 1 crashes; node 2 debugs it, is told the traceback and the code, fixes it and is handed in."""
    script = [
        reply(tool_use("write_file", path="train.py", content=CRASH)),
        reply(tool_use("bash", command="python train.py")),
        reply(tool_use("end_node", plan="a first try", insight="the data has text")),
        reply(tool_use("write_file", path="train.py", content=TRAIN)),
        reply(tool_use("bash", command="python train.py", timeout_s=60)),
        reply(tool_use("end_node", plan="fixed the parsing"), tool_use("finish", summary="fixed")),
    ]
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, extra={"MLE_CI_DRAFTS": "1"})
    assert run.returncode == 0, run.stderr + run.stdout[-3000:]
    nodes = _latest_nodes(run.out / "journal.jsonl")
    assert nodes[1]["status"] == "failed" and nodes[1]["error"].startswith("ValueError: could not convert")
    assert "Traceback (most recent call last)" in nodes[1]["traceback"]
    assert (nodes[2]["kind"], nodes[2]["parent"], nodes[2]["status"]) == ("debug", 1, "succeeded")
    assert nodes[2]["handed_in"]
    debug_task = _task(server.received[3].body)
    assert "# Node 2: debug from node 1" in debug_task
    assert "ValueError: could not convert string to float" in debug_task and "print('loading'" in debug_task
    # the debug node starts from its parent's code
    assert (run.out / "workspace" / "node-2" / "train.py").exists()


# --- what reaches the reports


def _github(tmp_path: Path) -> dict[str, str]:
    return {**github_files(tmp_path / "gh"), "ANTHROPIC_API_KEY": KEY, "XDG_CACHE_HOME": str(tmp_path / "cache")}


def _harness(
    tmp_path: Path, script: list[Step], *more: str, timeout: str = "2m", extra: dict[str, str] | None = None
) -> Run:
    """``mle-ci run --agent claude`` on the breast-cancer demo with the scripted model; no unpaired tool call."""
    env = {**_github(tmp_path), "MLE_CI_API_MAX_RETRIES": "0", **(extra or {})}
    options = ["--agent", "claude", "--competition", "breast-cancer", "--timeout", timeout, "--heartbeat", "0"]
    options += ["--model", "claude-sonnet-test", "--max-cost", "1", "--api-reserve", "5s", *more]
    with AnthropicServer(script, api_key=KEY) as server:
        env["ANTHROPIC_BASE_URL"] = server.url
        run = mle_ci(options, tmp_path / "out", env=env, timeout=240)
    assert server.pairing_errors == []
    return run


def test_folds_a_bash_script_reports_reach_the_reports_under_its_node(tmp_path: Path) -> None:
    """The issue's case: a script run with bash reports folds 0.5 and 0.6; they are the run's, with no fold left
    'not reached' from the competition's default count."""
    run = _harness(tmp_path, weak_node(finish=True))
    assert run.returncode == 0, run.stdout[-3000:]
    result = run.result
    assert [(f["index"], f["score"], f["status"]) for f in result["folds"]] == [
        (1, 0.5, "completed"),
        (2, 0.6, "completed"),
    ]
    assert result["cv_mean"] == pytest.approx(0.55)
    assert result["best_node"] == 1 and [n["id"] for n in result["nodes"]] == [1]
    summary = run.file("summary.md")
    assert "not reached" not in summary and "no score" not in summary
    outputs = read_outputs(tmp_path / "gh" / "output")
    assert (outputs["nodes"], outputs["best-node"]) == ("1", "1")
    assert (tmp_path / "out" / "journal.jsonl").is_file()


def test_the_reports_describe_the_handed_in_node(tmp_path: Path) -> None:
    """A worse second node: the folds, the CV score, the JUnit cases and the summary are node 1's."""
    run = _harness(tmp_path, [*good_node(), *weak_node(finish=True)], extra={"MLE_CI_DRAFTS": "2"})
    assert run.returncode == 0, run.stdout[-3000:]
    result = run.result
    assert result["best_node"] == 1 and len(result["nodes"]) == 2
    assert all(f["score"] > 0.9 for f in result["folds"]) and len(result["folds"]) == 2
    junit = run.file("junit.xml")
    assert 'name="best_node" value="1"' in junit
    summary = run.file("summary.md")
    assert "Search" in summary and "logistic regression, 2 folds" in summary


def test_the_deadline_during_a_node_keeps_the_best_earlier_submission(tmp_path: Path) -> None:
    """Node 2's job runs into the reserve: it is stopped, node 1's file stands, the run says timeout (124) and is
    graded."""
    script = [
        *good_node(),
        reply(tool_use("start_job", command="sleep 300", name="long")),
        reply(tool_use("end_node", plan="a long training")),
    ]
    run = _harness(tmp_path, script, timeout="25s", extra={"MLE_CI_DRAFTS": "2"})
    assert run.returncode == 124, run.stdout[-3000:]
    result = run.result
    assert result["status"] == "timeout"
    assert result["submission_check"]["valid"] is True and result["grade"]["score"] > 0.9
    nodes = {n["id"]: n for n in result["nodes"]}
    assert nodes[2]["status"] == "timed_out" and nodes[1]["handed_in"]


# --- parallel on the GPUs


NODE = re.compile(r"# Node (\d+):")
PARALLEL_RUN = (
    'echo "$CUDA_VISIBLE_DEVICES" > device.txt; python -c "import time; print(time.time())" > start.txt; sleep 2; '
    'python -c "import time; print(time.time())" > end.txt; echo "Fold 1/2 complete: Score=0.7"; '
    'echo "Fold 2/2 complete: Score=0.8"; ' + SAMPLE
)


def _by_node(body: dict[str, Any]) -> Reply:
    """Each node's conversation, whatever the order the two workers' requests arrive in: one run, then the end."""
    node = int(NODE.search(_task(body)).group(1))  # type: ignore[union-attr]
    if len(body["messages"]) == 1:
        return reply(tool_use("bash", command=PARALLEL_RUN, timeout_s=30))
    return reply(tool_use("end_node", plan=f"node {node}"), tool_use("finish", summary="two nodes"))


def test_two_gpus_run_two_nodes_at_once_each_on_its_own_device(tmp_path: Path, public: Path) -> None:  # noqa: F811
    """With two visible GPUs, nodes 1 and 2 run at the same time, pinned to devices 0 and 1."""
    with AnthropicServer([_by_node] * 4, api_key=KEY) as server:
        run = run_agent(
            tmp_path / "out",
            public,
            server,
            extra={"MLE_CI_DEVICE": "cuda", "MLE_CI_GPU_COUNT": "2", "CUDA_VISIBLE_DEVICES": "0,1"},
        )
    assert run.returncode == 0, run.stderr + run.stdout[-3000:]
    folders = [run.out / "workspace" / f"node-{k}" for k in (1, 2)]
    assert sorted((f / "device.txt").read_text().strip() for f in folders) == ["0", "1"]
    (start1, end1), (start2, end2) = [
        (float((f / "start.txt").read_text()), float((f / "end.txt").read_text())) for f in folders
    ]
    assert start1 < end2 and start2 < end1, "the two nodes did not overlap"
    nodes = _latest_nodes(run.out / "journal.jsonl")
    assert sorted(n["device"] for n in nodes.values()) == ["cuda:0", "cuda:1"]


# --- a long search stays bounded


def test_a_long_search_sends_requests_of_bounded_size(tmp_path: Path, public: Path) -> None:  # noqa: F811
    """Ten nodes with long plans and insights: the first request of the last node is hardly bigger than the third's,
    because each node carries the journal's summary, not the history."""
    long = "a plan that goes on and on " * 100
    nodes = 10
    script: list[Step] = []
    for k in range(1, nodes + 1):
        score = 0.5 + k / 100
        command = f'echo "Fold 1/1 complete: Score={score}"; {SAMPLE}'
        calls = [tool_use("end_node", plan=f"try {k}: {long}", insight=f"insight {k}: {long}")]
        if k == nodes:
            calls.append(tool_use("finish", summary="enough"))
        script += [reply(tool_use("bash", command=command)), reply(*calls)]
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, extra={"MLE_CI_MAX_COST_USD": "50"})
    assert run.returncode == 0, run.stderr + run.stdout[-3000:]
    firsts = [len(json.dumps(r.body)) for r in server.received if len(r.body["messages"]) == 1]
    assert len(firsts) == nodes
    assert max(firsts) - firsts[2] < 6000, firsts
    assert _latest_nodes(run.out / "journal.jsonl")[nodes]["handed_in"]


# --- every answer the API can give


def test_a_tool_call_cut_by_max_tokens_is_never_run(tmp_path: Path, public: Path) -> None:  # noqa: F811
    """The reply stops mid write_file (no content): nothing is written, the model is told, and it goes on."""
    script = [
        cut_off(text("Writing the script."), tool_use("write_file", path="train.py", content=TRAIN)),
        *good_node(),
    ]
    script[-1] = reply(tool_use("end_node", plan="lr"), tool_use("finish", summary="done"))
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server)
    assert run.returncode == 0, run.stderr + run.stdout[-3000:]
    answer = server.received[1].tool_results()
    assert len(answer) == 1 and answer[0]["is_error"] and "max_tokens" in answer[0]["content"]
    assert server.pairing_errors == []
    assert _latest_nodes(run.out / "journal.jsonl")[1]["handed_in"]


def test_a_refused_node_gives_way_to_a_fresh_one(tmp_path: Path, public: Path) -> None:  # noqa: F811
    """A refusal ends its node with the reason recorded; the next node starts a fresh conversation."""
    script: list[Step] = [refused("I can't help with that."), *good_node()]
    script[-1] = reply(tool_use("end_node", plan="lr"), tool_use("finish", summary="done"))
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server)
    assert run.returncode == 0, run.stderr + run.stdout[-3000:]
    nodes = _latest_nodes(run.out / "journal.jsonl")
    assert nodes[1]["status"] == "failed" and "refused" in nodes[1]["error"]
    assert nodes[2]["handed_in"]
    assert len(server.received[1].body["messages"]) == 1  # a fresh conversation, not the refused one


def test_an_overload_asking_to_wait_past_the_reserve_is_not_waited_for(tmp_path: Path, public: Path) -> None:  # noqa: F811
    """Near the deadline a 529 asks for 60 s: the agent does not wait, keeps node 1's submission and ends in time."""
    with AnthropicServer(good_node(), after=overloaded(after_s=60), api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, budget=40, extra={"MLE_CI_DRAFTS": "2"})
    assert run.seconds < 40, run.stdout[-3000:]
    assert run.returncode == 0, run.stderr + run.stdout[-3000:]
    assert _latest_nodes(run.out / "journal.jsonl")[1]["handed_in"]
    assert run.submission.is_file()
    said = "\n".join(json.dumps(r) for r in run.transcript())
    assert "60" in said and "reserve" in said
