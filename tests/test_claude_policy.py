"""The claude agent's search policy: which node comes next, and whether a new node still fits in the time left."""

from __future__ import annotations

import math

import pytest

from mle_ci.agents.claude.journal import Node
from mle_ci.agents.claude.policy import SearchSettings, Step, drafts_wanted, next_step, node_fits, ranked
from mle_ci.contract import NodeKind, NodeStatus

D, G, IMP = NodeKind.DRAFT, NodeKind.DEBUG, NodeKind.IMPROVE


def ok(node_id: int, score: float | None, kind: NodeKind = D, parent: int | None = None) -> Node:
    return Node(node_id, kind, parent, 0.0, status=NodeStatus.SUCCEEDED, valid=True, score=score, seconds=10.0)


def bad(node_id: int, kind: NodeKind = D, parent: int | None = None, depth: int = 0) -> Node:
    return Node(node_id, kind, parent, 0.0, status=NodeStatus.FAILED, error=f"E{node_id}", depth=depth, seconds=5.0)


def running(node_id: int, kind: NodeKind, parent: int | None = None) -> Node:
    return Node(node_id, kind, parent, 0.0)


def step(
    nodes: list[Node], steps: tuple[Step, ...] = (), *, used: float = 0.0, higher: bool = True
) -> tuple[NodeKind, int | None]:
    chosen = next_step(nodes, steps, higher_is_better=higher, used=used)
    assert chosen.why and "\n" not in chosen.why
    return chosen.kind, chosen.parent


def test_drafts_come_first_counting_the_running_ones() -> None:
    assert step([]) == (D, None)
    assert step([ok(1, 0.5)]) == (D, None)
    assert step([ok(1, 0.5), bad(2)]) == (D, None)  # drafts before debugging
    assert step([ok(1, 0.5)], (Step(D, None, "x"), Step(D, None, "y"))) == (IMP, 1)
    # a running node is counted once, by its step
    assert step([ok(1, 0.5), running(2, D), running(3, D)], (Step(D, None, "x"), Step(D, None, "y"))) == (IMP, 1)


def test_fewer_drafts_as_the_budget_drains_and_none_after_exploring() -> None:
    settings = SearchSettings()
    assert [drafts_wanted(used, settings) for used in (0.0, 0.2, 0.3, 0.49, 0.5, 0.9)] == [3, 2, 2, 1, 0, 0]
    assert step([ok(1, 0.5)], used=0.2) == (D, None)
    assert step([ok(1, 0.5), ok(2, 0.6)], used=0.2) == (IMP, 2)
    assert step([ok(1, 0.5)], used=0.6) == (IMP, 1)
    assert drafts_wanted(0.0, SearchSettings(drafts=0)) == 0


def test_a_failed_leaf_is_debugged_the_latest_first() -> None:
    drafts = [ok(1, 0.5), bad(2), bad(3)]
    assert step(drafts) == (G, 3)
    assert step([*drafts, running(4, G, 3)], (Step(G, 3, "x"),)) == (G, 2)
    assert step([*drafts, bad(4, G, 3, depth=1)]) == (G, 4)
    assert step([*drafts, bad(4, G, 3, depth=1), bad(5, G, 4, depth=2), bad(6, G, 5, depth=3)]) == (G, 2)


def test_a_debug_chain_stops_at_the_max_depth_and_a_fixed_one_is_improved() -> None:
    chain = [ok(1, 0.5), ok(2, 0.4), ok(3, 0.3), bad(4, IMP, 1), bad(5, G, 4, depth=1), bad(6, G, 5, depth=2)]
    assert step(chain) == (G, 6)
    assert step([*chain, bad(7, G, 6, depth=3)]) == (IMP, 1)
    assert step([*chain, ok(7, 0.9, G, 6)]) == (IMP, 7)


def test_the_best_valid_node_is_improved_in_the_metrics_direction() -> None:
    nodes = [ok(1, 0.5), ok(2, 0.7), ok(3, 0.7), ok(4, 0.2)]
    assert step(nodes) == (IMP, 2)  # the tie goes to the earlier node
    assert step(nodes, higher=False) == (IMP, 4)
    invalid = Node(5, D, None, 0.0, status=NodeStatus.SUCCEEDED, valid=False, score=0.99)
    assert step([*nodes, invalid]) == (IMP, 2)
    assert step([ok(1, None), ok(2, None), ok(3, None)]) == (IMP, 3)  # unscored: the latest
    assert step([ok(1, None), ok(2, 0.1), ok(3, None)]) == (IMP, 2)  # scored before unscored


def test_late_in_the_budget_only_improvement() -> None:
    nodes = [ok(1, 0.5), ok(2, 0.7), ok(3, 0.6), bad(4, IMP, 2)]
    assert step(nodes, used=0.7) == (G, 4)
    assert step(nodes, used=0.85) == (IMP, 2)
    assert step(nodes, (Step(IMP, 2, "x"), Step(IMP, 3, "y"), Step(IMP, 1, "z")), used=0.85) == (IMP, 2)


def test_without_a_valid_node_debug_then_draft_whatever_the_budget() -> None:
    assert step([bad(1), bad(2), bad(3)], used=0.95) == (G, 3)
    line = [bad(1), bad(2, G, 1, depth=1), bad(3, G, 2, depth=2), bad(4, G, 3, depth=3)]
    assert step(line, used=0.95) == (D, None)
    assert step([bad(1), bad(2), bad(3)], (Step(G, 1, "a"), Step(G, 2, "b"), Step(G, 3, "c")), used=0.9) == (D, None)


def test_parallel_workers_diversify() -> None:
    nodes = [ok(1, 0.5), ok(2, 0.7), ok(3, 0.6)]
    assert step(nodes, (Step(IMP, 2, "x"),)) == (IMP, 3)  # the runner-up
    assert step(nodes, (Step(IMP, 2, "x"), Step(IMP, 3, "y"))) == (IMP, 1)
    every = (Step(IMP, 1, "a"), Step(IMP, 2, "b"), Step(IMP, 3, "c"))
    assert step(nodes, every, used=0.2) == (D, None)  # every valid node is being improved: a new draft
    assert step(nodes, every, used=0.6) == (IMP, 2)  # late: improve the best again
    # a failure being debugged by one worker is not debugged by another
    assert step([*nodes, bad(4, IMP, 2)], (Step(G, 4, "x"),)) == (IMP, 2)


def test_the_choice_is_deterministic_and_says_why() -> None:
    nodes = [ok(1, 0.5), bad(2), ok(3, 0.9)]
    first = next_step(nodes, (), higher_is_better=True, used=0.3)
    assert first == next_step(nodes, (), higher_is_better=True, used=0.3)
    assert first.kind == G and "node 2" in first.why and "E2" in first.why
    improve = next_step(nodes, (Step(G, 2, "x"),), higher_is_better=True, used=0.3)
    assert improve.kind == IMP and "node 3" in improve.why and "0.9" in improve.why


def test_ranked_puts_scored_first_then_unscored_latest_first() -> None:
    nodes = [ok(1, None), ok(2, 0.3), ok(3, 0.8), ok(4, None), bad(5), running(6, D)]
    assert [n.id for n in ranked(nodes, True)] == [3, 2, 4, 1]
    assert [n.id for n in ranked(nodes, False)] == [2, 3, 4, 1]


@pytest.mark.parametrize(
    ("durations", "remaining", "reserve", "fits", "says"),
    [
        ((), math.inf, 100.0, True, "no deadline"),
        ((), 150.0, 100.0, True, "no node has ended yet, 50 s left before the reserve"),
        ((), 90.0, 100.0, False, "0 s left before the reserve"),
        ((340.0,), 300.0, 100.0, False, "node estimate 340 s, 200 s left before the reserve"),
        ((100.0, 180.0), 300.0, 100.0, True, "node estimate 180 s"),
        ((10.0,) * 9 + (1000.0,), 300.0, 100.0, True, "node estimate 10 s"),  # one slow outlier of ten
        ((10.0, 20.0, 30.0, 40.0, 500.0), 300.0, 100.0, False, "node estimate 500 s"),
        ((float("nan"), 50.0), 300.0, 100.0, True, "node estimate 50 s"),
    ],
)
def test_node_fits(durations: tuple[float, ...], remaining: float, reserve: float, fits: bool, says: str) -> None:
    verdict, reason = node_fits(durations, remaining, reserve)
    assert verdict is fits
    assert says in reason
