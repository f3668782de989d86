"""The text a node's conversation starts from: its task, its parent's code, and what the search has learned so far.

Pure text, bounded whatever the journal holds: a node's conversation must leave the model room to work, so the
summary carries plans, scores, one-line errors and insights, never code or whole tracebacks, and a parent's code is
capped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mle_ci.agents.claude.journal import Node, best_node, one_line
from mle_ci.agents.claude.policy import Step, ranked
from mle_ci.contract import DEVICE, NodeKind, NodeStatus

TOP = 4
"""Nodes shown by score (the best first) in the summary."""
FAILURES = 4
"""Latest failures shown in the summary."""
INSIGHTS = 8
"""Distinct insights shown in the summary (the latest first)."""
PLAN_TEXT = 160
INSIGHT_TEXT = 200
ERROR_TEXT = 160
CUT = "[... the rest of the journal is left out ...]"


def _score(node: Node) -> str:
    if node.score is None:
        return "no score"
    folds = f" over {len(node.folds)} folds" if node.folds else ""
    return f"score {node.score:.6g}{folds}"


def _origin(node: Node) -> str:
    return f"{node.kind}" if node.parent is None else f"{node.kind} of node {node.parent}"


def _counts(nodes: Sequence[Node]) -> str:
    kinds = ", ".join(f"{sum(n.kind == kind for n in nodes)} {kind}" for kind in NodeKind)
    states = ", ".join(f"{sum(n.status == status for n in nodes)} {status}" for status in NodeStatus)
    return f"Journal: {len(nodes)} nodes ({kinds}); {states}."


def _summary_lines(nodes: Sequence[Node], higher_is_better: bool) -> list[str]:
    direction = "higher" if higher_is_better else "lower"
    lines = [_counts(nodes)]
    best = best_node(nodes, higher_is_better)
    if best is None:
        lines.append("No node has a valid, scored submission yet.")
    else:
        plan = one_line(best.plan, PLAN_TEXT) or "no plan given"
        lines.append(f"Best: node {best.id} ({_origin(best)}), {_score(best)} ({direction} is better): {plan}")
    top = ranked(nodes, higher_is_better)[:TOP]
    if top:
        lines.append("Top by score:")
        for node in top:
            insight = one_line(node.insight, INSIGHT_TEXT)
            learned = f" | learned: {insight}" if insight else ""
            lines.append(
                f"- node {node.id} ({_origin(node)}), {_score(node)}: "
                f"{one_line(node.plan, PLAN_TEXT) or 'no plan given'}{learned}"
            )
    failures = [n for n in nodes if n.status in (NodeStatus.FAILED, NodeStatus.TIMED_OUT)][-FAILURES:]
    if failures:
        lines.append("Recent failures:")
        for node in reversed(failures):
            error = one_line(node.error, ERROR_TEXT) or str(node.status)
            tried_plan = one_line(node.plan, PLAN_TEXT)
            tried = f" (tried: {tried_plan})" if tried_plan else ""
            lines.append(f"- node {node.id} ({_origin(node)}): {error}{tried}")
    insights: list[str] = []
    for node in reversed(nodes):
        text = one_line(node.insight, INSIGHT_TEXT)
        if text and text not in insights:
            insights.append(text)
        if len(insights) == INSIGHTS:
            break
    if insights:
        lines.append("Insights (latest first):")
        lines.extend(f"- {text}" for text in insights)
    return lines


def journal_summary(nodes: Sequence[Node], *, higher_is_better: bool, limit: int = 4000) -> str:
    """A compact account of the search for the model: counts, the best node, the top few by score with plans and
    insights, the latest failures with their one-line errors, distinct insights (latest first). Never code, never
    tracebacks; at most ``limit`` characters however many nodes there are (whole lines, then a note of the cut)."""
    if not nodes:
        return "The journal is empty: this is the first node."
    out: list[str] = []
    size = 0
    for line in _summary_lines(nodes, higher_is_better):
        if size + len(line) + 1 > limit - len(CUT) - 1:
            out.append(CUT)
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)[:limit]


def _code(parent: Node, limit: int) -> str:
    if not parent.code:
        return "(the node recorded no code files)"
    blocks = "\n\n".join(f"### {f.path}\n```\n{f.text}\n```" for f in parent.code)
    if len(blocks) <= limit:
        return blocks
    return f"{blocks[:limit]}\n[... {len(blocks) - limit} characters of code cut; read the files in the workspace ...]"


def _time(remaining: float, reserve: float) -> str:
    if not math.isfinite(remaining):
        return "No deadline is set; still, keep the node short: the search gains from many judged nodes."
    left = max(0.0, remaining - reserve)
    return (
        f"Time left before the reserve: {left:.0f} seconds (about {left / 60:.1f} minutes). Everything this node"
        " runs must end well within it, the judging of its submission included: size the training to fit."
    )


def _what(step: Step, parent: Node | None, code_limit: int, metric: str, direction: str) -> str:
    if step.kind == NodeKind.DRAFT or parent is None:
        return (
            "Write a new solution from scratch: an approach different from those in the journal below (another model"
            " family, other features or another validation scheme). Start simple enough to finish in time."
        )
    code = _code(parent, code_limit)
    if step.kind == NodeKind.DEBUG:
        error = one_line(parent.error, 500) or "no error line was recorded"
        output = parent.traceback or "(no output was recorded)"
        return (
            f"Node {parent.id} failed: {error}\nFix it: find the cause in its code and output below, change what the"
            f" bug needs and nothing else, then run it to a valid submission.\n\nIts code:\n{code}\n\n"
            f"The end of its output:\n```\n{output}\n```"
        )
    score = "no CV score" if parent.score is None else f"CV score {parent.score:.6g}"
    folds = ", ".join(f"{s:.6g}" for s in parent.folds)
    per_fold = f" (folds: {folds})" if folds else ""
    return (
        f"Node {parent.id} has a valid submission with {score}{per_fold} on {metric} ({direction} is better).\n"
        "Improve it with ONE focused change (a feature, a model setting, an ensemble member, the training schedule),"
        " so that its effect on the validation score can be told; keep its validation scheme.\n\n"
        f"Its code:\n{code}"
    )


def node_task(
    step: Step,
    *,
    node_id: int,
    parent: Node | None,
    summary: str,
    remaining: float,
    reserve: float,
    submission_dir: str,
    device: str | None,
    metric: str | None,
    higher_is_better: bool,
    code_limit: int = 20_000,
) -> str:
    """The first user message of a node's conversation: which node it is and of what kind, what to do (a draft: a
    new, different approach; a debug: the parent's code and trimmed output, fix it; an improvement: the parent's code
    and score, one focused change), the journal's summary, the time left before the reserve, the device, where the
    submission goes, how to report folds, and to end with ``end_node``."""
    name = metric or "the competition metric"
    direction = "higher" if higher_is_better else "lower"
    origin = "" if step.parent is None else f" from node {step.parent}"
    where = device or f"the device of the training plan (${DEVICE})"
    submission = f"{submission_dir.rstrip('/')}/submission.csv"
    return f"""\
# Node {node_id}: {step.kind}{origin}
Why this node: {step.why}

{_what(step, parent, code_limit, name, direction)}

# The search so far
{summary}

# Constraints
- {_time(remaining, reserve)}
- Train on {where}; other nodes may run on other devices at the same time.
- Write this node's predictions to {submission} (the sample submission's columns and ids). The driver checks it and
  hands the best node's submission in: do not copy it anywhere else.
- Evaluate with cross-validation on {name} ({direction} is better) and report every fold: in Python
  (`from mle_ci import progress`) `progress.fold(k, score, total=n, metric="{name}")` and
  `progress.metric("{name}", cv_score)`, or plain lines `Fold k/n complete: Score=x`.
- Keep the code in files in the workspace (the journal records them for the nodes after this one).

When the node is done, or cannot be fixed in the time, call the end_node tool with `plan` (one line: what this
node did) and `insight` (what was learned, for the nodes after it).
"""
