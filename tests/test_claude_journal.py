"""The claude agent's journal of nodes, the atomic hand-in and the node prompt: records, helpers, bounds."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from mle_ci.agents.claude.handin import hand_in, is_better
from mle_ci.agents.claude.journal import (
    CODE_LIMIT,
    CodeFile,
    Journal,
    Node,
    cv_score,
    error_line,
    node_from_record,
    one_line,
    read_journal,
    trimmed_traceback,
)
from mle_ci.agents.claude.nodeprompt import journal_summary, node_task
from mle_ci.agents.claude.policy import Step
from mle_ci.contract import DEVICE, NodeKind, NodeStatus
from mle_ci.events import NodeEvent, event_from_json

TRACEBACK = """\
loading data
Epoch 1/3: Loss=0.5
Traceback (most recent call last):
  File "/ws/old.py", line 3, in <module>
    raise KeyError("first")
KeyError: 'first'
retrying
Traceback (most recent call last):
  File "/ws/train.py", line 12, in <module>
    x = float("abc")
        ^^^^^^^^^^^^
ValueError: could not convert string to float: 'abc'
some cleanup printed after
"""


def _ended(node: Node, **changes: object) -> Node:
    return replace(node, **changes)  # type: ignore[arg-type]


# --- helpers -----------------------------------------------------------------------------------------------------


def test_one_line_takes_the_first_non_empty_line_cleaned_and_capped() -> None:
    assert one_line(None) is None
    assert one_line("\n  \n") is None
    assert one_line("\n\n  first\x1b[31m line \nsecond") == "first[31m line"
    cut = one_line("x" * 500, 20)
    assert cut is not None and len(cut) == 20 and cut.endswith("…")


def test_cv_score_prefers_the_reported_one_else_the_fold_mean() -> None:
    assert cv_score([0.5, 0.7], 0.9) == 0.9
    assert cv_score([0.5, 0.7], None) == pytest.approx(0.6)
    assert cv_score([0.5, float("nan"), 0.7], float("nan")) == pytest.approx(0.6)
    assert cv_score([], None) is None


def test_trimmed_traceback_is_the_last_traceback_up_to_its_exception() -> None:
    shown = trimmed_traceback(TRACEBACK)
    assert shown is not None
    assert shown.startswith("Traceback (most recent call last)")
    assert shown.endswith("ValueError: could not convert string to float: 'abc'")
    assert "KeyError" not in shown and "cleanup" not in shown


def test_trimmed_traceback_without_one_is_the_last_lines_and_cut_in_the_middle() -> None:
    output = "\n".join(f"line {i}" for i in range(1000))
    shown = trimmed_traceback(output)
    assert shown is not None and shown.endswith("line 999") and "line 959" not in shown
    long = "Traceback (most recent call last):\n" + "".join(f'  File "f{i}.py", line 1\n' for i in range(500))
    cut = trimmed_traceback(long + "RuntimeError: deep", limit=600)
    assert cut is not None and len(cut) <= 600
    assert cut.startswith("Traceback") and cut.endswith("RuntimeError: deep") and "characters cut" in cut
    assert trimmed_traceback("  \n") is None


def test_error_line_names_the_exception_else_the_exit() -> None:
    assert error_line(TRACEBACK, 1) == "ValueError: could not convert string to float: 'abc'"
    assert error_line("warming up\ntorch.OutOfMemoryError: CUDA out of memory\n", 1).startswith("torch.OutOfMemory")
    assert error_line("nothing useful\n", 2) == "exit 2"
    assert error_line("", -9) == "killed by signal 9"
    assert error_line("", None) == "stopped before it exited"


def test_code_files_are_capped_with_a_note() -> None:
    big = CodeFile("train.py", "a" * (CODE_LIMIT + 10))
    assert len(big.text) < CODE_LIMIT + 100 and "10 characters cut" in big.text
    assert CodeFile("x.py", "print(1)").text == "print(1)"


# --- the journal ---------------------------------------------------------------------------------------------------


def test_the_journal_round_trips_through_its_file_the_latest_line_per_id(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    draft = journal.start(NodeKind.DRAFT, None, device="cuda:0", now=100.0)
    failed = journal.start(NodeKind.DRAFT, None, device="cpu", now=101.0)
    journal.update(
        _ended(
            draft,
            status=NodeStatus.SUCCEEDED,
            plan="lightgbm on raw features",
            command="python train.py",
            code=(CodeFile("train.py", "print('hi')"),),
            folds=(0.8, 0.9),
            score=0.85,
            valid=True,
            seconds=30.0,
            cost_usd=0.12,
            insight="trees work",
        )
    )
    journal.update(
        _ended(failed, status=NodeStatus.FAILED, error="ValueError: x", traceback="Traceback ...", seconds=5)
    )
    debug = journal.start(NodeKind.DEBUG, failed.id, device="cpu", now=110.0)
    deeper = journal.start(NodeKind.DEBUG, debug.id, device="cpu", now=111.0)
    assert (draft.id, failed.id, debug.id, deeper.id) == (1, 2, 3, 4)
    assert (debug.depth, deeper.depth, journal.start(NodeKind.IMPROVE, 1, device=None, now=112.0).depth) == (1, 2, 0)
    with path.open("ab") as handle:
        handle.write(b'{"id": 1, "kind": "draft", "status": "fail')  # a line cut by a kill
    back = read_journal(path)
    assert back == journal.nodes()
    assert back[0].score == 0.85 and back[0].code[0].text == "print('hi')" and back[0].folds == (0.8, 0.9)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 8


def test_read_journal_skips_lines_that_are_not_nodes(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    good = Node(id=1, kind=NodeKind.DRAFT, parent=None, started_at=1.0)
    lines = [
        json.dumps(good.record()),
        "not json",
        "[1, 2]",
        json.dumps({**good.record(), "id": 0}),
        json.dumps({**good.record(), "id": 2, "kind": "guess"}),
        json.dumps({**good.record(), "id": 3, "score": "high"}),
        json.dumps({**good.record(), "id": 4, "valid": 1}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_journal(path) == (good,)
    assert read_journal(tmp_path / "absent.jsonl") == ()
    with pytest.raises(ValueError, match="started_at"):
        node_from_record({"id": 1, "kind": "draft", "status": "running"})


def test_node_ids_are_unique_and_consecutive_across_threads(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    ids: list[int] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(25):
            node = journal.start(NodeKind.DRAFT, None, device=None, now=0.0)
            journal.update(replace(node, status=NodeStatus.FAILED, seconds=1.0))
            ids.append(node.id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(1, 201))
    assert [node.id for node in read_journal(tmp_path / "journal.jsonl")] == list(range(1, 201))
    assert all(node.status == NodeStatus.FAILED for node in journal.nodes())


def test_best_handed_in_and_durations() -> None:
    journal = Journal(None)
    nodes = [journal.start(NodeKind.DRAFT, None, device=None, now=float(i)) for i in range(5)]
    assert journal.best(True) is None and journal.handed_in() is None and journal.durations() == ()
    journal.update(replace(nodes[0], status=NodeStatus.SUCCEEDED, valid=True, score=0.7, seconds=10.0))
    journal.update(replace(nodes[1], status=NodeStatus.SUCCEEDED, valid=True, score=0.9, seconds=20.0))
    journal.update(replace(nodes[2], status=NodeStatus.SUCCEEDED, valid=True, score=0.9, seconds=30.0))
    journal.update(replace(nodes[3], status=NodeStatus.FAILED, valid=False, score=0.99, seconds=40.0))
    assert journal.best(True) == journal.get(2)  # the tie goes to the earlier node; an invalid one never counts
    assert journal.best(False) == journal.get(1)
    assert journal.durations() == (10.0, 20.0, 30.0, 40.0)
    journal.update(replace(journal.get(1), handed_in=True))
    journal.update(replace(journal.get(2), handed_in=True))
    assert journal.handed_in() == journal.get(2) and not journal.get(1).handed_in
    with pytest.raises(KeyError):
        journal.update(replace(nodes[0], id=99))


def test_only_the_node_marked_last_stays_handed_in_when_read_back(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    first = Node(id=1, kind=NodeKind.DRAFT, parent=None, started_at=1.0, handed_in=True)
    second = Node(id=2, kind=NodeKind.DRAFT, parent=None, started_at=2.0, handed_in=True)
    path.write_text(f"{json.dumps(first.record())}\n{json.dumps(second.record())}\n", encoding="utf-8")
    assert [node.handed_in for node in read_journal(path)] == [False, True]


def test_a_node_event_is_one_line_texts_and_parses_back() -> None:
    node = Node(
        id=3,
        kind=NodeKind.IMPROVE,
        parent=1,
        started_at=5.0,
        status=NodeStatus.SUCCEEDED,
        plan="\nadd target encoding\nand more lines",
        error=None,
        insight="x" * 1000,
        score=0.5,
        valid=True,
        handed_in=True,
        code=(CodeFile("a.py", "secret code"),),
        traceback="long",
        cost_usd=0.3,
    )
    event = node.event(ts=9.0)
    assert event.plan == "add target encoding" and event.insight is not None and len(event.insight) == 200
    assert event.node == 3 and event.cost_usd == 0.3
    assert "secret code" not in event.to_json()
    parsed = event_from_json(event.to_json())
    assert isinstance(parsed, NodeEvent) and parsed == event


def test_records_are_json_ready_even_with_non_finite_numbers() -> None:
    node = Node(id=1, kind=NodeKind.DRAFT, parent=None, started_at=1.0, score=float("nan"), folds=(0.5, float("inf")))
    record = json.loads(json.dumps(node.record(), allow_nan=False))
    assert record["score"] is None and record["folds"] == [0.5]


# --- handing in ----------------------------------------------------------------------------------------------------


def _handed(score: float | None) -> Node:
    return Node(id=1, kind=NodeKind.DRAFT, parent=None, started_at=0.0, valid=True, score=score, handed_in=True)


NOTHING = "nothing handed in"


@pytest.mark.parametrize(
    ("score", "than", "higher", "expected"),
    [
        (None, NOTHING, True, True),
        (0.1, NOTHING, False, True),
        (0.8, 0.7, True, True),
        (0.6, 0.7, True, False),
        (0.6, 0.7, False, True),
        (0.8, 0.7, False, False),
        (0.7, 0.7, True, False),
        (0.7, 0.7, False, False),
        (0.1, None, True, True),
        (0.1, None, False, True),
        (None, 0.7, True, False),
        (None, None, False, False),
        (float("nan"), 0.7, True, False),
    ],
)
def test_is_better(score: float | None, than: float | str | None, higher: bool, expected: bool) -> None:
    handed = None if than == NOTHING else _handed(than if isinstance(than, float) else None)
    assert is_better(score, handed, higher) is expected


def test_hand_in_replaces_the_file_whole_while_another_thread_reads(tmp_path: Path) -> None:
    final = tmp_path / "submission" / "submission.csv"
    versions = [("id,target\n" + f"{i},{i}\n" * 20_000).encode() for i in range(1, 4)]
    sources = []
    for i, data in enumerate(versions):
        source = tmp_path / f"node{i}.csv"
        source.write_bytes(data)
        sources.append(source)
    hand_in(sources[0], final)
    seen: set[bytes] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(final.read_bytes())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(10):
            for source in sources:
                hand_in(source, final)
    finally:
        stop.set()
        thread.join()
    assert seen <= set(versions)
    assert final.read_bytes() == versions[-1]
    assert sorted(p.name for p in final.parent.iterdir()) == ["submission.csv"]
    assert oct(os.stat(final).st_mode & 0o777) == oct(0o644)


def test_hand_in_leaves_no_temporary_file_when_it_fails(tmp_path: Path) -> None:
    final = tmp_path / "submission.csv"
    final.write_text("old\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        hand_in(tmp_path / "missing.csv", final)
    assert final.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["submission.csv"]


# --- the node prompt -----------------------------------------------------------------------------------------------


def _many(count: int, text: str) -> list[Node]:
    nodes = []
    for i in range(1, count + 1):
        failed = i % 3 == 0
        nodes.append(
            Node(
                id=i,
                kind=NodeKind.DRAFT if i < 4 else NodeKind.IMPROVE,
                parent=None if i < 4 else 1,
                started_at=float(i),
                status=NodeStatus.FAILED if failed else NodeStatus.SUCCEEDED,
                plan=f"plan {i} {text}",
                valid=not failed,
                score=None if failed else i / 1000,
                error=f"ValueError: bad {i} {text}" if failed else None,
                traceback=f"TRACEBACK-{i}" if failed else None,
                code=(CodeFile("train.py", f"CODE-{i}"),),
                insight=f"insight {i % 7} {text}",
            )
        )
    return nodes


def test_the_summary_stays_bounded_and_shows_the_best_failures_and_insights() -> None:
    nodes = _many(500, "y" * 10_000)
    summary = journal_summary(nodes, higher_is_better=True)
    assert len(summary) <= 4000
    assert "Journal: 500 nodes" in summary and "Best: node 500" in summary
    assert "CODE-" not in summary and "TRACEBACK-" not in summary
    small = journal_summary(_many(9, "short"), higher_is_better=False)
    assert (
        "Best: node 1 " in small and "Recent failures:" in small and "node 9 (improve of node 1): ValueError" in small
    )
    assert "Insights (latest first):" in small and small.index("insight 1 short") < small.index("insight 0 short")
    assert len(journal_summary(nodes, higher_is_better=True, limit=500)) <= 500
    assert "first node" in journal_summary([], higher_is_better=True)


def test_a_debug_task_has_the_parents_code_and_traceback_and_the_time_left() -> None:
    parent = Node(
        id=4,
        kind=NodeKind.DRAFT,
        parent=None,
        started_at=0.0,
        status=NodeStatus.FAILED,
        error="ValueError: could not convert",
        traceback=trimmed_traceback(TRACEBACK),
        code=(CodeFile("train.py", "x = float('abc')"),),
    )
    task = node_task(
        Step(NodeKind.DEBUG, 4, "debug node 4"),
        node_id=7,
        parent=parent,
        summary="SUMMARY",
        remaining=1000.0,
        reserve=100.0,
        submission_dir="/out/submission",
        device="cuda:1",
        metric="auc",
        higher_is_better=True,
    )
    assert "Node 7: debug from node 4" in task and "x = float('abc')" in task
    assert "ValueError: could not convert string to float" in task and "SUMMARY" in task
    assert "900 seconds" in task and "15.0 minutes" in task and "cuda:1" in task
    assert "/out/submission/submission.csv" in task and "end_node" in task and "Fold k/n complete" in task


def test_an_improve_task_has_the_score_and_capped_code_and_a_draft_none() -> None:
    parent = Node(
        id=2,
        kind=NodeKind.DRAFT,
        parent=None,
        started_at=0.0,
        status=NodeStatus.SUCCEEDED,
        valid=True,
        score=0.8123,
        folds=(0.8, 0.82),
        code=(CodeFile("train.py", "z" * 50_000),),
    )
    common = {
        "summary": "S",
        "remaining": float("inf"),
        "reserve": 60.0,
        "submission_dir": "sub",
        "device": None,
        "metric": None,
        "higher_is_better": False,
    }
    task = node_task(Step(NodeKind.IMPROVE, 2, "improve"), node_id=3, parent=parent, code_limit=1000, **common)  # type: ignore[arg-type]
    assert "CV score 0.8123" in task and "ONE focused change" in task and "characters of code cut" in task
    assert task.count("z") < 1100 and "No deadline" in task and "lower is better" in task
    assert f"${DEVICE}" in task
    draft = node_task(Step(NodeKind.DRAFT, None, "draft 1 of 3"), node_id=1, parent=None, **common)  # type: ignore[arg-type]
    assert "new solution" in draft and "Its code" not in draft and "sub/submission.csv" in draft
