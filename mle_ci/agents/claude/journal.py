"""The journal of the search's solution nodes: what each tried, how it ended, and its record in ``journal.jsonl``.

A node is one short conversation in which the model writes code, runs it and ends with ``end_node``. The driver
starts a node here, updates it as it is judged, and reads the journal back to choose the next step
(:mod:`mle_ci.agents.claude.policy`) and to tell the model what came before
(:mod:`mle_ci.agents.claude.nodeprompt`). Every change appends the node's whole record as one line, so a kill at any
moment leaves a journal whose latest line per id is a complete node, as with the events file.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mle_ci.contract import NodeKind, NodeStatus
from mle_ci.events import NodeEvent

CODE_LIMIT = 100_000
"""Characters of one code file kept in the journal: a script longer than this is a data dump, not a solution."""
EVENT_TEXT = 200
"""Characters of a node's plan, error or insight in its progress event (one line of a report's table)."""
COMMAND_TEXT = 500
TRACEBACK_LIMIT = 3000
TAIL_LINES = 40
"""Lines of a failed run's output shown when it printed no Python traceback."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TRACEBACK = "Traceback (most recent call last)"
_CUT_MARK = re.compile(r"^\[\.\.\. \d+ characters cut")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Fault)\b(?::.*)?$")


@dataclass(frozen=True)
class CodeFile:
    """One file of a node's code, relative to the workspace; text longer than :data:`CODE_LIMIT` is cut, saying so."""

    path: str
    text: str

    def __post_init__(self) -> None:
        if len(self.text) > CODE_LIMIT:
            cut = len(self.text) - CODE_LIMIT
            object.__setattr__(self, "text", f"{self.text[:CODE_LIMIT]}\n# [... {cut} characters cut ...]\n")


@dataclass(frozen=True)
class Node:
    """One solution node of the search, as it stands now (nodes are replaced whole, never changed in place)."""

    id: int
    kind: NodeKind
    parent: int | None
    started_at: float
    status: NodeStatus = NodeStatus.RUNNING
    plan: str | None = None
    command: str | None = None
    code: tuple[CodeFile, ...] = ()
    folds: tuple[float, ...] = ()
    score: float | None = None
    valid: bool | None = None
    handed_in: bool = False
    seconds: float | None = None
    cost_usd: float = 0.0
    device: str | None = None
    error: str | None = None
    traceback: str | None = None
    insight: str | None = None
    depth: int = 0
    """How many debug nodes in a row lead to it, itself included (0 for a draft or an improvement)."""

    def event(self, ts: float) -> NodeEvent:
        """The node's progress event: its texts each one capped line, without code or traceback (reports show it)."""
        return NodeEvent(
            ts=ts,
            node=self.id,
            id=self.id,
            kind=str(self.kind),
            status=str(self.status),
            parent=self.parent,
            plan=one_line(self.plan, EVENT_TEXT),
            command=one_line(self.command, COMMAND_TEXT),
            score=_finite(self.score),
            valid=self.valid,
            handed_in=self.handed_in,
            started_at=_finite(self.started_at),
            seconds=_finite(self.seconds),
            cost_usd=_finite(self.cost_usd),
            device=self.device,
            error=one_line(self.error, EVENT_TEXT),
            insight=one_line(self.insight, EVENT_TEXT),
        )

    def record(self) -> dict[str, Any]:
        """Its journal line: every field, JSON-ready (a number that is not finite is written as null)."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "parent": self.parent,
            "started_at": _finite(self.started_at),
            "status": str(self.status),
            "plan": self.plan,
            "command": self.command,
            "code": [{"path": f.path, "text": f.text} for f in self.code],
            "folds": [score for score in self.folds if math.isfinite(score)],
            "score": _finite(self.score),
            "valid": self.valid,
            "handed_in": self.handed_in,
            "seconds": _finite(self.seconds),
            "cost_usd": _finite(self.cost_usd),
            "device": self.device,
            "error": self.error,
            "traceback": self.traceback,
            "insight": self.insight,
            "depth": self.depth,
        }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def one_line(text: str | None, limit: int = 200) -> str | None:
    """The first non-empty line of ``text``, control characters removed, at most ``limit`` characters (``…`` ends
    a cut one); None when there is no such line."""
    if text is None:
        return None
    for line in text.splitlines():
        clean = _CONTROL.sub("", line).strip()
        if clean:
            return clean if len(clean) <= limit else clean[: max(0, limit - 1)] + "…"
    return None


def cv_score(folds: Sequence[float], reported: float | None) -> float | None:
    """The node's CV score: the one the run reported, else the mean of its fold scores (finite ones), else None."""
    if reported is not None and math.isfinite(reported):
        return reported
    finite = [score for score in folds if math.isfinite(score)]
    return sum(finite) / len(finite) if finite else None


def _cut_middle(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = f"\n[... {len(text) - limit} characters cut ...]\n"
    room = limit - len(marker)
    if room <= 0:
        return text[len(text) - limit :]
    head, tail = room // 2, room - room // 2
    return f"{text[:head]}{marker}{text[len(text) - tail :]}"


def _last_traceback(lines: list[str]) -> list[str] | None:
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith(_TRACEBACK)]
    if not starts:
        return None
    start = starts[-1]
    for end in range(start + 1, len(lines)):
        line = lines[end]
        if line.strip() and not line[0].isspace() and not _CUT_MARK.match(line):
            return lines[start : end + 1]
    return lines[start:]


def trimmed_traceback(output: str, limit: int = TRACEBACK_LIMIT) -> str | None:
    """What is worth showing of a failed run's output: its last Python traceback (from ``Traceback (most recent
    call last)`` to the exception line) when it printed one, else its last lines; at most ``limit`` characters, cut
    in the middle (the top says where, the bottom says what). None when the output is empty."""
    lines = output.rstrip().splitlines()
    if not lines:
        return None
    shown = _last_traceback(lines) or lines[-TAIL_LINES:]
    return _cut_middle("\n".join(shown), limit)


def error_line(output: str, exit_code: int | None) -> str:
    """Why a run failed, in one line: its exception (``ValueError: could not convert ...``) when the output shows
    one, else how it exited (``exit 2``, ``killed by signal 9``, ``stopped before it exited``)."""
    lines = output.rstrip().splitlines()
    block = _last_traceback(lines)
    if block and len(block) > 1 and (found := one_line(block[-1])):
        return found
    for line in reversed(lines):
        if _EXCEPTION.match(line.strip()) and (found := one_line(line)):
            return found
    if exit_code is None:
        return "stopped before it exited"
    if exit_code < 0:
        return f"killed by signal {-exit_code}"
    return f"exit {exit_code}"


class Journal:
    """Thread-safe record of the nodes; each change appends the node's whole record to ``journal.jsonl`` (the latest
    line per id holds, as with the events) - so a kill never leaves a half-written journal.

    A journal starts empty (give it a fresh path); ``path`` None keeps it in memory only. At most one node is handed
    in: marking one unmarks the one before, and both records are appended.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._nodes: dict[int, Node] = {}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def start(self, kind: NodeKind, parent: int | None, *, device: str | None, now: float) -> Node:
        """A new running node with the next id (from 1); a debug node's depth is its parent's plus one (``KeyError``
        for a parent never started)."""
        with self._lock:
            above = self._nodes[parent] if parent is not None else None
            depth = (above.depth if above is not None else 0) + 1 if kind == NodeKind.DEBUG else 0
            node = Node(id=len(self._nodes) + 1, kind=kind, parent=parent, started_at=now, device=device, depth=depth)
            self._nodes[node.id] = node
            self._append([node])
            return node

    def update(self, node: Node) -> None:
        """Replace a started node with its new state (``KeyError`` for an id never started)."""
        with self._lock:
            if node.id not in self._nodes:
                raise KeyError(f"node {node.id} was never started")
            changed = [node]
            if node.handed_in:
                changed += [
                    replace(other, handed_in=False)
                    for other in self._nodes.values()
                    if other.handed_in and other.id != node.id
                ]
            for each in changed:
                self._nodes[each.id] = each
            self._append(changed)

    def get(self, node_id: int) -> Node:
        with self._lock:
            return self._nodes[node_id]

    def nodes(self) -> tuple[Node, ...]:
        """Every node in id order, in its latest state."""
        with self._lock:
            return tuple(self._nodes[key] for key in sorted(self._nodes))

    def best(self, higher_is_better: bool) -> Node | None:
        """The valid node with the best score (ties: the earliest); None when no valid node has one."""
        return best_node(self.nodes(), higher_is_better)

    def handed_in(self) -> Node | None:
        return next((node for node in self.nodes() if node.handed_in), None)

    def durations(self) -> tuple[float, ...]:
        """Seconds of the nodes that ended, in id order (what a new node's estimate is drawn from)."""
        return tuple(
            node.seconds for node in self.nodes() if node.status != NodeStatus.RUNNING and node.seconds is not None
        )

    def _append(self, nodes: Iterable[Node]) -> None:
        if self._path is None:
            return
        data = "".join(
            json.dumps(node.record(), separators=(",", ":"), allow_nan=False, ensure_ascii=False) + "\n"
            for node in nodes
        ).encode("utf-8")
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


def best_node(nodes: Iterable[Node], higher_is_better: bool) -> Node | None:
    """The valid, scored node with the best score in the direction given; ties go to the earliest id."""
    scored = sorted(
        (node for node in nodes if node.valid and node.score is not None and math.isfinite(node.score)),
        key=lambda node: node.id,
    )
    if not scored:
        return None
    sign = -1.0 if higher_is_better else 1.0
    return min(scored, key=lambda node: (sign * (node.score or 0.0), node.id))


# --- reading a journal back -------------------------------------------------------------------------------------


def _opt(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """``data[key]`` when it is of ``kind`` (a bool is no number), None when absent; ``ValueError`` otherwise."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"{key!r} has the wrong type")
    return value


def _float(data: Mapping[str, Any], key: str) -> float | None:
    value = _opt(data, key, (int, float))
    return None if value is None else float(value)


def node_from_record(data: Any) -> Node:
    """The node a journal line holds; ``ValueError`` or ``TypeError`` when the line is not one."""
    if not isinstance(data, dict):
        raise TypeError("a journal line must be a JSON object")
    node_id, started = _opt(data, "id", int), _float(data, "started_at")
    if node_id is None or node_id < 1 or started is None:
        raise ValueError("a node needs an id from 1 and started_at")
    code = data.get("code") or []
    folds = data.get("folds") or []
    if not isinstance(code, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("text"), str) for f in code
    ):
        raise ValueError("'code' must be a list of files")
    if not isinstance(folds, list) or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in folds):
        raise ValueError("'folds' must be a list of numbers")
    return Node(
        id=node_id,
        kind=NodeKind(str(data.get("kind"))),
        parent=_opt(data, "parent", int),
        started_at=started,
        status=NodeStatus(str(data.get("status"))),
        plan=_opt(data, "plan", str),
        command=_opt(data, "command", str),
        code=tuple(CodeFile(f["path"], f["text"]) for f in code),
        folds=tuple(float(s) for s in folds),
        score=_float(data, "score"),
        valid=_opt(data, "valid", bool),
        handed_in=bool(_opt(data, "handed_in", bool)),
        seconds=_float(data, "seconds"),
        cost_usd=_float(data, "cost_usd") or 0.0,
        device=_opt(data, "device", str),
        error=_opt(data, "error", str),
        traceback=_opt(data, "traceback", str),
        insight=_opt(data, "insight", str),
        depth=_opt(data, "depth", int) or 0,
    )


def read_journal(path: Path) -> tuple[Node, ...]:
    """The nodes of a journal file in id order, the latest line per id; lines that are not a node (a line cut by a
    kill) are skipped, and a missing file has none. Only the node marked handed in last stays so marked."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ()
    latest: dict[int, Node] = {}
    handed: int | None = None
    for line in raw.splitlines():
        try:
            node = node_from_record(json.loads(line))
        except (ValueError, TypeError):
            continue
        latest[node.id] = node
        if node.handed_in:
            handed = node.id
    return tuple(
        replace(node, handed_in=False) if node.handed_in and node.id != handed else node
        for node in (latest[key] for key in sorted(latest))
    )
