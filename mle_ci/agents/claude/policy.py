"""The search policy: which node to run next, and whether a new node can still finish (pure: no clock, no I/O).

The search is AIDE's tree: a few drafts (different approaches), then debugging of failed nodes and focused
improvements of the best valid one, each judged by its validation score. Later agents move from exploring to
exploiting as the budget drains, and so does this policy: fewer drafts, then none, then no more debugging, only
improvement of what works. The driver calls :func:`next_step` each time a worker is free, with the journal's nodes
and the steps other workers are running, and :func:`node_fits` before it starts one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mle_ci.agents.claude.journal import Node
from mle_ci.contract import NodeKind, NodeStatus

ENDED_FAILED = (NodeStatus.FAILED, NodeStatus.TIMED_OUT)
PERCENTILE = 0.9
"""The share of earlier nodes' durations a new node's estimate covers, once there are :data:`SEVERAL` of them."""
SEVERAL = 5
"""Fewer earlier nodes than this, and the estimate is the longest of them (a percentile of few is their maximum)."""


@dataclass(frozen=True)
class SearchSettings:
    """How the search spends its budget (shares of it for ``explore_until`` and ``debug_until``)."""

    drafts: int = 3
    """Drafts made before improving (fewer when time is short)."""
    max_debug_depth: int = 3
    """Debug nodes in a row on one failure line."""
    explore_until: float = 0.5
    """Share of the budget after which no new draft is made (unless no valid node exists)."""
    debug_until: float = 0.8
    """Share of the budget after which failures are no longer debugged (unless no valid node exists)."""


@dataclass(frozen=True)
class Step:
    """What a worker does next: a node of ``kind`` from ``parent``, and why, in one line for the logs."""

    kind: NodeKind
    parent: int | None
    why: str


def drafts_wanted(used: float, settings: SearchSettings) -> int:
    """Drafts the search wants by now: all of ``settings.drafts`` at the start, fewer as ``used`` nears
    ``explore_until`` (at least one before it), none after."""
    if used >= settings.explore_until or settings.drafts <= 0:
        return 0
    share = 1.0 - max(0.0, used) / settings.explore_until
    return max(1, math.ceil(settings.drafts * share - 1e-9))


def ranked(nodes: Sequence[Node], higher_is_better: bool) -> list[Node]:
    """The valid nodes, best first: scored ones by score in the metric's direction (ties: the earlier), then the
    unscored ones, the latest first."""
    valid = [node for node in nodes if node.valid and node.status != NodeStatus.RUNNING]
    scored = [node for node in valid if node.score is not None and math.isfinite(node.score)]
    sign = -1.0 if higher_is_better else 1.0
    scored.sort(key=lambda node: (sign * (node.score or 0.0), node.id))
    unscored = sorted((node for node in valid if node not in scored), key=lambda node: -node.id)
    return scored + unscored


def _debuggable(nodes: Sequence[Node], running: Sequence[Step], settings: SearchSettings) -> list[Node]:
    """Failed leaves whose line may go on, the latest first: no valid submission, no child yet, none being made, and
    a depth under the max."""
    parents = {node.parent for node in nodes} | {step.parent for step in running}
    return sorted(
        (
            node
            for node in nodes
            if node.status in ENDED_FAILED
            and not node.valid
            and node.id not in parents
            and node.depth < settings.max_debug_depth
        ),
        key=lambda node: -node.id,
    )


def _score(node: Node) -> str:
    return "unscored" if node.score is None else f"score {node.score:.6g}"


def _debug(node: Node, settings: SearchSettings, context: str) -> Step:
    error = f": {node.error}" if node.error else ""
    return Step(
        NodeKind.DEBUG,
        node.id,
        f"{context}debug node {node.id} (depth {node.depth + 1} of {settings.max_debug_depth}){error}",
    )


def next_step(
    nodes: Sequence[Node],
    running: Sequence[Step],
    *,
    higher_is_better: bool,
    used: float,
    settings: SearchSettings = SearchSettings(),
) -> Step:
    """The next step of the search, deterministic for the same arguments.

    ``nodes`` are the journal's; those still running are ignored, since ``running`` holds the steps other workers
    are on (a running node's step is counted there, once). ``used`` is the share of the budget spent, 0 to 1.
    The rules, in order:

    1. Drafts first: while fewer drafts were made (running ones included) than :func:`drafts_wanted` - all of
       ``settings.drafts`` at the start, fewer as ``used`` nears ``explore_until``, none after - make a draft.
    2. No valid node at all: debug the latest failed leaf (no child, none being made, depth under
       ``max_debug_depth``) whatever ``used``; when there is none, draft (whatever ``used``: a run without a valid
       node has nothing to improve).
    3. Before ``debug_until``: debug the latest failed leaf, when there is one.
    4. Improve the best valid node (scored ones by score, then unscored ones). In parallel, diversify: when the best
       is being improved by a running step, improve the best one that is not; when every valid node is, draft
       before ``explore_until``, else improve the best again (late in the budget only improvement pays).
    """
    ended = [node for node in nodes if node.status != NodeStatus.RUNNING]
    drafts = sum(node.kind == NodeKind.DRAFT for node in ended) + sum(step.kind == NodeKind.DRAFT for step in running)
    wanted = drafts_wanted(used, settings)
    if drafts < wanted:
        return Step(NodeKind.DRAFT, None, f"draft {drafts + 1} of {wanted}")
    best = ranked(ended, higher_is_better)
    failed = _debuggable(ended, running, settings)
    if not best:
        if failed:
            return _debug(failed[0], settings, "no valid node yet: ")
        return Step(NodeKind.DRAFT, None, "no valid node yet and no failure left to debug: a new draft")
    if failed and used < settings.debug_until:
        return _debug(failed[0], settings, "")
    improving = {step.parent for step in running if step.kind == NodeKind.IMPROVE}
    free = [node for node in best if node.id not in improving]
    if free:
        top = free[0]
        which = "the best" if top is best[0] else f"runner-up, node {best[0].id} is being improved"
        return Step(NodeKind.IMPROVE, top.id, f"improve node {top.id} ({which}, {_score(top)})")
    if used < settings.explore_until:
        return Step(NodeKind.DRAFT, None, "every valid node is being improved: a new draft for diversity")
    top = best[0]
    return Step(NodeKind.IMPROVE, top.id, f"improve node {top.id} (the best, {_score(top)}; late: improving only)")


def _estimate(durations: Sequence[float]) -> float:
    ordered = sorted(durations)
    if len(ordered) < SEVERAL:
        return ordered[-1]
    return ordered[min(len(ordered) - 1, math.ceil(PERCENTILE * len(ordered)) - 1)]


def node_fits(durations: Sequence[float], remaining: float, reserve: float) -> tuple[bool, str]:
    """Whether a new node can end before the reserve, and why in one line.

    The estimate is the longest earlier node, or the 90th percentile once there are :data:`SEVERAL` (one slow
    outlier should not end a search that has time for typical nodes). With no earlier node, it fits when anything
    is left beyond the reserve; with no deadline (``remaining`` infinite) it always fits.
    """
    if math.isinf(remaining) and remaining > 0:
        return True, "no deadline"
    left = remaining - reserve
    shown = f"{max(0.0, left):.0f} s left before the reserve"
    known = [seconds for seconds in durations if math.isfinite(seconds) and seconds >= 0]
    if not known:
        return left > 0, f"no node has ended yet, {shown}"
    estimate = _estimate(known)
    return estimate <= left, f"node estimate {estimate:.0f} s, {shown}"


def budget_used(
    *, remaining: float, budget: float, requests: int, max_requests: int, spent: float, max_spend: float
) -> float:
    """The share of the run's budget spent, 0 to 1: of the time when there is a deadline (``budget`` seconds in
    all), else of the model requests or the spend, whichever is further along."""
    if math.isfinite(budget) and budget > 0:
        return min(1.0, max(0.0, 1 - remaining / budget))
    return min(1.0, max(requests / max(max_requests, 1), spent / max(max_spend, 1e-9)))
