"""An agent's search as the harness records and reports it: folds routed by node, the handed-in node's folds as the
run's, the nodes in result.json, the summary's Search section (inert whatever the child wrote), the outputs, JUnit
and the journal's path in the child's environment."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from test_report_inert import assert_inert, parse

from mle_ci import contract
from mle_ci.childenv import child_environment
from mle_ci.contract import NodeKind, NodeStatus
from mle_ci.errors import ResultError
from mle_ci.events import EpochEvent, FoldEvent, FoldStartEvent, MetricEvent, NodeEvent, event_from_json
from mle_ci.report.agent import agent_line
from mle_ci.report.junit import render_junit
from mle_ci.report.outputs import decide_outputs
from mle_ci.report.search import BEST_ROWS, LAST_ROWS, PLAN_CHARS, render_search, search_line
from mle_ci.report.summary import render_summary
from mle_ci.result import RunResult
from mle_ci.resultparts import FoldStatus, Metric, RunStatus, SearchNode
from mle_ci.stages.record import minimal_result, result_json
from mle_ci.tracker import MAX_NODES, RunTracker

BASE = RunResult(status=RunStatus.RUNNING, started_at=0.0)


def node(ts: float, node_id: int, status: str = "running", **fields: object) -> NodeEvent:
    return NodeEvent(ts=ts, id=node_id, kind=str(fields.pop("kind", "draft")), status=status, **fields)  # type: ignore[arg-type]


def folds(tracker: RunTracker, ts: float, node_id: int | None, scores: list[float]) -> None:
    """The events of a node's cross-validation: a start and an end per fold, tagged with the node."""
    for index, score in enumerate(scores, start=1):
        tracker.apply(FoldStartEvent(ts=ts, fold=index, total_folds=len(scores), node=node_id))
        tracker.apply(EpochEvent(ts=ts, epoch=1, fold=index, val_score=score, node=node_id))
        tracker.apply(FoldEvent(ts=ts, fold=index, score=score, total_folds=len(scores), node=node_id))


def two_nodes() -> RunTracker:
    """Node 1 scores 0.8 over three folds and is handed in; node 2 scores worse over two folds after it."""
    t = RunTracker(started_at=0.0, metric_name="auc", higher_is_better=True)
    t.apply(node(10, 1))
    folds(t, 20, 1, [0.8, 0.8, 0.8])
    t.apply(node(60, 1, "succeeded", score=0.8, valid=True, handed_in=True, seconds=50.0))
    t.apply(node(70, 2, kind="improve", parent=1))
    folds(t, 80, 2, [0.5, 0.6])
    t.apply(node(120, 2, "succeeded", kind="improve", parent=1, score=0.55, valid=True, seconds=50.0))
    return t


# --- the tracker -------------------------------------------------------------------------------------------------


def test_the_handed_in_node_s_folds_are_the_run_s_even_when_a_worse_node_came_later() -> None:
    """Node 2's folds came last, but node 1 is handed in: the result's folds, CV and total are node 1's."""
    result = two_nodes().snapshot(BASE, final=True)
    assert [(f.index, f.score) for f in result.folds] == [(1, 0.8), (2, 0.8), (3, 0.8)]
    assert result.total_folds == 3
    assert result.cv_mean == pytest.approx(0.8)
    assert {e.val_score for e in result.epochs} == {0.8}
    assert result.best_node == 1
    assert [(n.id, n.folds, n.fold_scores) for n in result.nodes] == [(1, 3, (0.8, 0.8, 0.8)), (2, 2, (0.5, 0.6))]
    assert [n.handed_in for n in result.nodes] == [True, False]


def test_an_agent_s_default_fold_count_binds_the_run_not_its_nodes() -> None:
    """An agent asked for 5 folds by default whose node reports 2: no fold is 'not reached'; a user's --folds binds
    the nodes too."""
    for user, expected in (
        (None, ["completed", "completed"]),
        (4, ["completed", "completed", "not-reached", "not-reached"]),
    ):
        t = RunTracker(started_at=0.0, total_folds=user, default_folds=5, metric_name="auc")
        folds(t, 1, 1, [0.5, 0.6])
        t.apply(node(2, 1, "succeeded", score=0.55, valid=True, handed_in=True))
        assert [f.status.value for f in t.snapshot(BASE, final=True).folds] == expected
    untagged = RunTracker(started_at=0.0, default_folds=5, metric_name="auc")
    folds(untagged, 1, None, [0.5, 0.6])
    assert len(untagged.snapshot(BASE, final=True).folds) == 5


def test_a_line_relayed_after_the_last_fold_ended_is_that_fold_s() -> None:
    """An epoch line with no fold, arriving after the last of two folds ended, opens no third fold."""
    t = RunTracker(started_at=0.0, metric_name="auc")
    folds(t, 1, 1, [0.5, 0.6])
    t.apply(EpochEvent(ts=2, epoch=1, val_score=0.6, node=1))
    t.apply(node(3, 1, "succeeded", score=0.55, valid=True, handed_in=True))
    assert [f.index for f in t.snapshot(BASE, final=True).folds] == [1, 2]


def test_handing_in_another_node_moves_the_folds_and_the_mark() -> None:
    """Node 3 handed in after node 1: its folds become the run's, and node 1 loses the mark."""
    t = two_nodes()
    t.apply(node(130, 3, kind="improve", parent=1))
    folds(t, 140, 3, [0.9, 0.95, 0.85, 0.9])
    t.apply(node(200, 3, "succeeded", kind="improve", parent=1, score=0.9, valid=True, handed_in=True))
    result = t.snapshot(BASE, final=True)
    assert [f.score for f in result.folds] == [0.9, 0.95, 0.85, 0.9]
    assert result.total_folds == 4
    assert result.best_node == 3
    assert [n.id for n in result.nodes if n.handed_in] == [3]


def test_a_node_s_later_event_replaces_its_earlier_one() -> None:
    """The running event is replaced by the end event: status, score, validity and end time are the latest."""
    t = RunTracker(started_at=0.0)
    t.apply(node(5, 4, plan="first idea", started_at=5.0))
    assert t.snapshot(BASE, final=False).nodes[0].status is NodeStatus.RUNNING
    t.apply(node(65, 4, "failed", plan="first idea", error="CUDA out of memory", valid=False, seconds=60.0))
    (only,) = t.snapshot(BASE, final=True).nodes
    assert (only.status, only.error, only.valid, only.ended_at, only.seconds) == (
        NodeStatus.FAILED,
        "CUDA out of memory",
        False,
        65,
        60.0,
    )
    assert only.started_at is None  # the latest event holds whole, not merged with the earlier one


def test_a_node_that_withdraws_its_hand_in_leaves_none_handed_in() -> None:
    """The latest event of the handed-in node says it is not: no node is, and the folds fall back to the latest
    node's with folds."""
    t = two_nodes()
    t.apply(node(130, 1, "succeeded", score=0.8, valid=True, handed_in=False))
    result = t.snapshot(BASE, final=True)
    assert result.best_node is None
    assert [f.score for f in result.folds] == [0.5, 0.6]


def test_untagged_runs_are_unchanged_and_untagged_folds_win_over_nodes_when_none_is_handed_in() -> None:
    """A run without nodes: its folds, total and reported score as before, no nodes. With nodes but none handed in,
    the run's own book shows when it holds anything."""
    t = RunTracker(started_at=0.0)
    folds(t, 1, None, [0.6, 0.7])
    t.apply(MetricEvent(ts=2, name="auc", value=0.65))
    plain = t.snapshot(BASE, final=True)
    assert [f.score for f in plain.folds] == [0.6, 0.7]
    assert (plain.total_folds, plain.reported_score, plain.nodes, plain.best_node) == (2, 0.65, (), None)
    t.apply(node(3, 1))
    folds(t, 4, 1, [0.1])
    t.apply(node(5, 1, "succeeded", score=0.1, valid=True))
    mixed = t.snapshot(BASE, final=True)
    assert [f.score for f in mixed.folds] == [0.6, 0.7]
    assert mixed.reported_score == 0.65


def test_without_a_hand_in_or_untagged_folds_the_latest_node_with_folds_shows() -> None:
    t = RunTracker(started_at=0.0)
    folds(t, 1, 1, [0.3])
    folds(t, 2, 2, [0.4, 0.5])
    t.apply(node(3, 3))  # no folds: not the one shown
    assert [f.score for f in t.snapshot(BASE, final=True).folds] == [0.4, 0.5]


def test_the_heartbeat_follows_the_latest_event_whatever_its_node() -> None:
    """Node 2 is training fold 2 while node 1 is handed in: the heartbeat says fold 2, epoch 3, node 2's score."""
    t = two_nodes()
    t.apply(FoldStartEvent(ts=130, fold=2, total_folds=5, node=7))
    t.apply(EpochEvent(ts=131, epoch=3, fold=2, total_epochs=9, val_score=0.42, node=7))
    assert (t.current_fold, t.total_folds, t.current_epoch, t.total_epochs, t.last_score) == (2, 5, 3, 9, 0.42)
    assert t.snapshot(BASE, final=False).total_folds == 3


def test_nodes_past_the_limit_are_skipped_as_invalid() -> None:
    """A child naming a million nodes keeps MAX_NODES; the rest are counted as invalid events."""
    t = RunTracker(started_at=0.0)
    for node_id in range(MAX_NODES + 3):
        t.apply(FoldEvent(ts=1, fold=1, score=0.5, node=node_id))
    t.apply(FoldEvent(ts=2, fold=2, score=0.5, node=0))  # a known node still counts
    assert t.invalid_events == 3
    assert t.events == MAX_NODES + 1


def test_the_handed_in_node_s_own_score_is_the_run_s_when_it_reported_no_folds() -> None:
    t = RunTracker(started_at=0.0)
    t.apply(node(9, 2, "succeeded", score=0.77, valid=True, handed_in=True))
    result = t.snapshot(BASE, final=True)
    assert (result.folds, result.score) == ((), 0.77)


# --- result.json -------------------------------------------------------------------------------------------------


def test_result_json_round_trips_the_nodes_and_best_node() -> None:
    result = two_nodes().snapshot(replace(BASE, status=RunStatus.SUCCESS), final=True)
    data = json.loads(result_json(result))
    assert data["best_node"] == 1
    assert [n["id"] for n in data["nodes"]] == [1, 2]
    assert data["nodes"][1]["kind"] == "improve" and data["nodes"][1]["parent"] == 1
    back = RunResult.from_dict(data)
    assert back.nodes == result.nodes
    assert back.best_node == 1
    assert back.folds == result.folds


def test_a_run_without_nodes_writes_no_search_keys_and_reads_back_without_them() -> None:
    data = json.loads(result_json(RunResult(status=RunStatus.SUCCESS)))
    assert "nodes" not in data and "best_node" not in data
    assert RunResult.from_dict(data).nodes == ()


def test_the_minimal_record_keeps_the_handed_in_node_only() -> None:
    result = two_nodes().snapshot(replace(BASE, status=RunStatus.SUCCESS), final=True)
    data = json.loads(result_json(minimal_result(result)))
    assert data["best_node"] == 1 and "nodes" not in data
    assert RunResult.from_dict(data).best_node == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "sideways"), ("status", "maybe"), ("id", "1"), ("folds", True), ("fold_scores", [None])],
)
def test_a_result_json_with_a_broken_node_is_refused(field: str, value: object) -> None:
    data = json.loads(result_json(two_nodes().snapshot(BASE, final=True)))
    data["nodes"][0][field] = value
    with pytest.raises(ResultError):
        RunResult.from_dict(data)


# --- the summary -------------------------------------------------------------------------------------------------


def search_result(*nodes: SearchNode, best: int | None = None, higher: bool = True) -> RunResult:
    return RunResult(
        status=RunStatus.SUCCESS,
        started_at=1000.0,
        metric=Metric("auc" if higher else "rmse", higher),
        nodes=nodes,
        best_node=best,
    )


def done(node_id: int, score: float | None, ended_min: float, **fields: object) -> SearchNode:
    """A finished valid node ending ``ended_min`` minutes after the run's start (1000 s)."""
    values: dict[str, object] = {"valid": True, "status": NodeStatus.SUCCEEDED, "kind": NodeKind.DRAFT}
    values.update(fields)
    return SearchNode(id=node_id, score=score, ended_at=1000.0 + 60 * ended_min, **values)  # type: ignore[arg-type]


def test_the_search_section_has_totals_a_table_and_the_best_score_over_time() -> None:
    result = search_result(
        done(1, 0.7, 2.0, cost_usd=0.5, seconds=100.0, device="cuda:0", plan="gradient boosting"),
        done(2, 0.6, 4.0, kind=NodeKind.IMPROVE, parent=1, cost_usd=0.25),
        done(3, None, 5.0, valid=False, status=NodeStatus.FAILED, error="KeyError: 'id'"),
        done(4, 0.9, 7.5, kind=NodeKind.IMPROVE, parent=1, handed_in=True, folds=5),
        done(5, None, 9.0, valid=None, status=NodeStatus.TIMED_OUT),
        best=4,
    )
    lines = render_search(result)
    text = "\n".join(lines)
    assert lines[0] == "### Search"
    assert lines[2] == ("5 nodes · 3 valid · 2 failed (1 timed out) · cost $0.7500 · handed in: node **4** (score 0.9)")
    rows = [line for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert [row.split(" | ")[0] for row in rows] == ["| 1", "| 2", "| 3", "| 4", "| 5"]
    assert rows[3] == "| 4 | improve | 1 | ✅ succeeded | 0.9 | 5 | ✅ | 🏆 | – | – | – | – |"
    assert "| 1 | draft | – | ✅ succeeded | 0.7 | 0 | ✅ |  | 1m40s | $0.5000 | cuda:0 | gradient boosting |" in text
    assert "❌ failed" in rows[2] and "error: KeyError: 'id'" in rows[2]
    assert "⏱️ timed out" in rows[4]
    # best so far: 0.7 at 2 min, still 0.7 at 4 min (0.6 is worse), 0.9 at 7.5; invalid nodes draw no point
    assert '    x-axis "minutes from the start" ["2.0", "4.0", "7.5"]' in lines
    assert "    line [0.7, 0.7, 0.9]" in lines
    assert '    y-axis "auc"' in lines


def test_the_chart_follows_the_metric_s_direction_and_merges_a_repeated_minute() -> None:
    """Lower is better: the best so far falls; two nodes ending in the same tenth of a minute make one point."""
    result = search_result(done(1, 3.0, 1.0), done(2, 2.0, 2.0), done(3, 2.5, 2.01), done(4, 1.0, 3.0), higher=False)
    lines = render_search(result)
    assert '    x-axis "minutes from the start" ["1.0", "2.0", "3.0"]' in lines
    assert "    line [3, 2, 1]" in lines


def test_no_chart_under_two_points() -> None:
    lines = render_search(search_result(done(1, 0.5, 1.0), done(2, None, 2.0, valid=False)))
    assert "```mermaid" not in lines
    assert render_search(RunResult(status=RunStatus.SUCCESS)) == []


def test_the_table_is_capped_to_the_best_and_the_last_nodes() -> None:
    """100 nodes: the 30 best valid, the last 5 and the handed-in one are listed, the others counted."""
    nodes = [done(i, i / 1000, i / 10) for i in range(100)]
    nodes[2] = replace(nodes[2], handed_in=True)
    lines = render_search(search_result(*nodes, best=2))
    listed = [int(line.split(" | ")[0][2:]) for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert listed == [2, *range(70, 100)]
    assert len(set(range(100 - BEST_ROWS, 100)) | set(range(100 - LAST_ROWS, 100)) | {2}) == len(listed)
    assert f"69 more nodes left out: the table lists the {BEST_ROWS} best valid ones" in "\n".join(lines)


HOSTILE = "a | b `c` <script>alert(1)</script> ::error::boom\nsecond line [x](javascript:alert(1)) " + "z" * 10_000


def test_hostile_plans_errors_and_devices_stay_inert_and_bounded() -> None:
    """A child's plan, error and device with pipes, backticks, tags, workflow commands, newlines and 10 kB render as
    their own text in one cell each: the table keeps its 12 columns, no tag comes alive, no line starts a command."""
    bad = done(1, 0.5, 1.0, plan=HOSTILE, error=HOSTILE, device=HOSTILE, handed_in=True)
    result = search_result(bad, done(2, 0.6, 2.0), best=1)
    section = "\n".join(render_search(result))
    assert_inert(section)
    found = parse(section)
    assert len(found.cells) == 12 * 3  # header and two rows, twelve cells each
    plan = found.cells[12 + 11]  # the first row's plan, as the reader sees it: the child's text, on one line
    assert plan.startswith("a | b `c` <script>alert(1)</script> ::error::boom second line [x](javascript:alert(1)) z")
    assert all(not line.startswith("::") for line in section.splitlines())
    assert len(section) < 3 * PLAN_CHARS + 2000
    summary = render_summary(result)
    assert_inert(summary)
    assert "### Search" in summary


def test_the_console_line_and_the_agent_line_tell_the_search() -> None:
    result = search_result(done(1, 0.7, 1.0), done(2, None, 2.0, valid=False, status=NodeStatus.FAILED), best=1)
    result = replace(result, nodes=(replace(result.nodes[0], handed_in=True), result.nodes[1]))
    assert search_line(result) == "search: 2 nodes, 1 valid, 1 failed; node 1 handed in (score 0.7)"
    assert agent_line(result) == search_line(result)
    claude = replace(result, agent="claude", submission_producer="claude")
    assert agent_line(claude) == (
        "agent: no model requests; final submission by claude; "
        "search: 2 nodes, 1 valid, 1 failed; node 1 handed in (score 0.7)"
    )
    assert search_line(RunResult(status=RunStatus.SUCCESS)) is None


# --- outputs, JUnit, the child's environment --------------------------------------------------------------------


def test_outputs_count_the_nodes_and_name_the_handed_in_one() -> None:
    result = two_nodes().snapshot(replace(BASE, status=RunStatus.SUCCESS), final=True)
    outputs = decide_outputs(result, files={})
    assert (outputs["nodes"], outputs["best-node"]) == ("2", "1")
    plain = decide_outputs(RunResult(status=RunStatus.SUCCESS), files={})
    assert (plain["nodes"], plain["best-node"]) == ("0", "")


def test_junit_names_the_node_whose_folds_it_lists() -> None:
    result = two_nodes().snapshot(replace(BASE, status=RunStatus.SUCCESS), final=True)
    suite = ET.fromstring(render_junit(result)).find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (properties["best_node"], properties["nodes"]) == ("1", "2")
    assert [case.get("name") for case in suite.iter("testcase")][:3] == ["fold-1", "fold-2", "fold-3"]
    plain = ET.fromstring(render_junit(RunResult(status=RunStatus.SUCCESS))).find("testsuite")
    assert plain is not None
    assert "best_node" not in {p.get("name") for p in plain.iter("property")}


def test_the_child_is_given_the_journal_beside_its_events(tmp_path: Path) -> None:
    """MLE_CI_JOURNAL is journal.jsonl in the events' folder; an outer run's journal and node tag do not leak."""
    events = tmp_path / "out" / "events.jsonl"
    base = {"PATH": "/bin", contract.JOURNAL: "elsewhere", contract.NODE: "9"}
    env = child_environment(base, events=str(events), deadline_unix=None, time_limit=None, extra={})
    assert env[contract.JOURNAL] == str(tmp_path / "out" / "journal.jsonl")
    assert contract.NODE not in env


def test_node_events_from_the_file_reach_the_result() -> None:
    """The events as the agent writes them (JSON lines with a node tag) make the same record."""
    t = RunTracker(started_at=0.0)
    for line in (
        '{"v":1,"type":"node","ts":1,"id":0,"kind":"draft","status":"running"}',
        '{"v":1,"type":"fold","ts":2,"fold":1,"score":0.61,"total_folds":1,"node":0}',
        '{"v":1,"type":"node","ts":3,"id":0,"kind":"draft","status":"succeeded","score":0.61,"valid":true,'
        '"handed_in":true}',
    ):
        t.apply(event_from_json(line))
    result = t.snapshot(BASE, final=True)
    assert (result.best_node, [f.score for f in result.folds], result.folds[0].status) == (
        0,
        [0.61],
        FoldStatus.COMPLETED,
    )


def test_a_search_that_fits_the_table_lists_every_node_failed_ones_too() -> None:
    """Seven nodes, an early one failed: all seven are listed (the cap is for long searches only)."""
    nodes = [done(i, None if i == 2 else i / 10, float(i), valid=i != 2) for i in range(1, 8)]
    lines = render_search(search_result(*nodes, best=7))
    listed = [int(line.split(" | ")[0][2:]) for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert listed == list(range(1, 8)) and not any("left out" in line for line in lines)
