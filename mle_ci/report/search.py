"""The job summary's Search section and the console's line about an agent's search: the nodes it tried, the one
handed in, and the best valid score over time.

Plans, errors and devices come from the child: each is cut to one bounded line and escaped as inert Markdown.
"""

from __future__ import annotations

import math

from mle_ci.contract import NodeStatus
from mle_ci.durations import format_duration
from mle_ci.report._curves import plain_number, safe_label, thinned
from mle_ci.report._markdown import md
from mle_ci.report._text import format_cost, format_score
from mle_ci.result import RunResult
from mle_ci.resultparts import SearchNode

BEST_ROWS = 30
"""Nodes with the best valid scores listed in the table."""
LAST_ROWS = 5
"""The most recent nodes listed too, whatever their score, so a run that went wrong late shows why."""
PLAN_CHARS = 200
ERROR_CHARS = 160
DEVICE_CHARS = 40

_STATUS = {
    NodeStatus.RUNNING: "⏳ running",
    NodeStatus.SUCCEEDED: "✅ succeeded",
    NodeStatus.FAILED: "❌ failed",
    NodeStatus.TIMED_OUT: "⏱️ timed out",
}


def node_score(node: SearchNode) -> float | None:
    """The node's score: the one it reported, else the mean of its completed folds; None when neither is finite."""
    if node.score is not None and math.isfinite(node.score):
        return node.score
    scores = [s for s in node.fold_scores if math.isfinite(s)]
    if not scores:
        return None
    mean = math.fsum(scores) / len(scores)
    return mean if math.isfinite(mean) else None


def _scored(nodes: tuple[SearchNode, ...]) -> list[tuple[SearchNode, float]]:
    """The valid nodes that have a score, with it."""
    pairs = [(node, node_score(node)) for node in nodes if node.valid is True]
    return [(node, score) for node, score in pairs if score is not None]


def best_valid(result: RunResult) -> tuple[SearchNode, float] | None:
    """The valid node with the best score in the metric's direction (the earliest on a tie)."""
    best: tuple[SearchNode, float] | None = None
    for node, score in _scored(result.nodes):
        if best is None or result.metric.better(score, best[1]):
            best = (node, score)
    return best


def handed_in(result: RunResult) -> SearchNode | None:
    """The node whose submission is the run's, when one is."""
    return next((node for node in result.nodes if node.id == result.best_node), None)


def _counts(result: RunResult) -> tuple[int, int, int, int]:
    """Nodes, valid ones, failed ones (timed out included) and those that timed out."""
    nodes = result.nodes
    failed = sum(1 for n in nodes if n.status in (NodeStatus.FAILED, NodeStatus.TIMED_OUT))
    timed_out = sum(1 for n in nodes if n.status is NodeStatus.TIMED_OUT)
    return len(nodes), sum(1 for n in nodes if n.valid is True), failed, timed_out


def _cost(result: RunResult) -> float:
    costs = [n.cost_usd for n in result.nodes if n.cost_usd is not None and math.isfinite(n.cost_usd)]
    total = math.fsum(costs)
    return total if math.isfinite(total) else 0.0


def _handed_in_phrase(result: RunResult) -> str:
    node = handed_in(result)
    if node is None:
        return "no node handed in"
    score = node_score(node)
    return f"node {node.id} handed in" + ("" if score is None else f" (score {format_score(score)})")


def search_line(result: RunResult) -> str | None:
    """The console's line about the search, or None for a run without one."""
    if not result.nodes:
        return None
    total, valid, failed, _ = _counts(result)
    nodes = f"{total} node{'s' if total != 1 else ''}"
    return f"search: {nodes}, {valid} valid, {failed} failed; {_handed_in_phrase(result)}"


def render_search(result: RunResult) -> list[str]:
    """The summary's Search section: totals, the nodes' table (bounded) and the best valid score over time."""
    if not result.nodes:
        return []
    total, valid, failed, timed_out = _counts(result)
    failed_text = f"{failed} failed" + (f" ({timed_out} timed out)" if timed_out else "")
    best = handed_in(result)
    best_text = "no node handed in"
    if best is not None:
        score = node_score(best)
        best_text = f"handed in: node **{best.id}**" + ("" if score is None else f" (score {md(format_score(score))})")
    totals = (
        f"{total} node{'s' if total != 1 else ''} · {valid} valid · {failed_text} · "
        f"cost {format_cost(_cost(result))} · {best_text}"
    )
    shown = _shown(result)
    lines = [
        "### Search",
        "",
        totals,
        "",
        "| Node | Kind | Parent | Status | CV score | Folds | Valid | Handed in | Time | Cost | Device | Plan |",
        "| ---: | :--- | ---: | :--- | ---: | ---: | :---: | :---: | ---: | ---: | :--- | :--- |",
    ]
    lines += [_row(node) for node in shown]
    left_out = total - len(shown)
    if left_out:
        lines += [
            "",
            f"{left_out} more node{'s' if left_out != 1 else ''} left out: the table lists the {BEST_ROWS} best "
            f"valid ones and the last {LAST_ROWS}; result.json lists every node.",
        ]
    chart = _progress_chart(result)
    return [*lines, "", *chart] if chart else lines


def _shown(result: RunResult) -> list[SearchNode]:
    """The nodes the table lists, by id: all of them while they fit in the table; past that the best valid ones, the
    most recent ones and the one handed in."""
    if len(result.nodes) <= BEST_ROWS + LAST_ROWS:
        return list(result.nodes)
    metric = result.metric
    scored = _scored(result.nodes)
    ranked = sorted(scored, key=lambda pair: (-pair[1] if metric.higher_is_better else pair[1], pair[0].id))
    ids = {node.id for node, _ in ranked[:BEST_ROWS]}
    ids |= {node.id for node in sorted(result.nodes, key=lambda n: n.id)[-LAST_ROWS:]}
    if result.best_node is not None:
        ids.add(result.best_node)
    return [node for node in result.nodes if node.id in ids]


def _row(node: SearchNode) -> str:
    score = node_score(node)
    valid = {True: "✅", False: "❌", None: "–"}[node.valid]
    plan = _line(node.plan, PLAN_CHARS)
    if node.error:
        error = f"error: {_line(node.error, ERROR_CHARS)}"
        plan = f"{plan} · {error}" if plan else error
    cost = "–" if node.cost_usd is None or not math.isfinite(node.cost_usd) else format_cost(node.cost_usd)
    seconds = node.seconds
    took = "–" if seconds is None or not math.isfinite(seconds) or seconds < 0 else format_duration(seconds)
    return (
        f"| {node.id} | {node.kind.value} | {'–' if node.parent is None else node.parent} | {_STATUS[node.status]} "
        f"| {'–' if score is None else md(format_score(score))} | {node.folds} | {valid} "
        f"| {'🏆' if node.handed_in else ''} | {took} | {cost} | {_line(node.device, DEVICE_CHARS) or '–'} "
        f"| {plan or '–'} |"
    )


def _line(text: str | None, limit: int) -> str:
    """The child's ``text`` as one inert Markdown line of at most ``limit`` characters before escaping."""
    if not text:
        return ""
    flat = " ".join(text.split())
    return md(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _progress_chart(result: RunResult) -> list[str]:
    """A mermaid line of the best valid score so far, at the minute each valid node ended; none under two points."""
    ended = sorted(
        (node.ended_at, score)
        for node, score in _scored(result.nodes)
        if node.ended_at is not None and math.isfinite(node.ended_at)
    )
    if not ended:
        return []
    start = _start(result, ended[0][0])
    points: dict[str, float] = {}
    best: float | None = None
    for ended_at, score in ended:
        best = score if best is None or result.metric.better(score, best) else best
        # one point per label: mermaid's categories are a band scale, where a repeated label would merge two
        points[f"{max(0.0, (ended_at - start) / 60):.1f}"] = best
    labels = thinned(list(points))
    if len(labels) < 2:
        return []
    y_label = safe_label(result.metric.name or "") or "score"
    return [
        "```mermaid",
        "xychart-beta",
        f'    title "Best valid score so far ({result.metric.direction})"',
        f'    x-axis "minutes from the start" [{", ".join(f"{chr(34)}{label}{chr(34)}" for label in labels)}]',
        f'    y-axis "{y_label}"',
        f"    line [{', '.join(plain_number(points[label]) for label in labels)}]",
        "```",
    ]


def _start(result: RunResult, first_end: float) -> float:
    """The run's start, else the earliest node's start, else the first node's end."""
    if result.started_at is not None and math.isfinite(result.started_at):
        return result.started_at
    starts = [n.started_at for n in result.nodes if n.started_at is not None and math.isfinite(n.started_at)]
    return min([*starts, first_end])
