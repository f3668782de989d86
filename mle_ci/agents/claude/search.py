"""The search: nodes chosen by the policy (drafts, then debugging and improvement), each one short conversation whose
run is judged, the best valid submission handed in; one node per GPU at once where there are several.

Deciding is the policy's (:mod:`.policy`) and the hand-in rule is :mod:`.handin`'s; this module carries them out:
it gives each node its folder and device, holds its conversation, waits for its jobs, judges it and records it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from mle_ci import contract, progress
from mle_ci.agents.claude.api import ModelClient
from mle_ci.agents.claude.config import AgentConfig
from mle_ci.agents.claude.handin import hand_in, is_better
from mle_ci.agents.claude.jobs import Jobs
from mle_ci.agents.claude.journal import CodeFile, Journal, Node, cv_score, error_line, trimmed_traceback
from mle_ci.agents.claude.loop import (
    API_ERROR,
    API_FATAL,
    CRASHED,
    FINISHED,
    MAX_COST,
    REFUSED,
    TIME,
    Budget,
    Conversation,
    LoopOutcome,
)
from mle_ci.agents.claude.nodeprompt import journal_summary, node_task
from mle_ci.agents.claude.noderun import copy_code, first_line, main_command
from mle_ci.agents.claude.nodework import NodePlace, NodeScores, Relay, code_snapshot, device_label
from mle_ci.agents.claude.policy import SearchSettings, Step, budget_used, next_step, node_fits
from mle_ci.agents.claude.prices import Price, SpendByNode, UsageTotals
from mle_ci.agents.claude.tools import ToolBox
from mle_ci.agents.claude.transcript import Transcript
from mle_ci.agents.claude.validation import Verdict
from mle_ci.agents.claude.workspace import Workspace
from mle_ci.contract import NodeStatus
from mle_ci.eventlog import append_event

PLANNED_END = "planned_end"
"""No further node fits before the reserve (or the model called finish): the run ends before its deadline."""
REFUSALS_IN_A_ROW = 2
"""Refused nodes one after the other that end the search: the task itself is being refused."""
STOPPING_OUTCOMES = (FINISHED, API_FATAL, API_ERROR, MAX_COST, TIME, CRASHED)
"""A node's conversation that ended so ends the search: no new node starts (running ones finish)."""
JOB_POLL = 0.2


@dataclass(frozen=True)
class Meter:
    """The run's spend as the search reports it: the usage of all nodes, and the callback that publishes it."""

    price: Price
    publish: Callable[[UsageTotals, float], None]


class Search:
    """Runs the search until the policy, the time, the budget or the model ends it."""

    def __init__(
        self,
        *,
        config: AgentConfig,
        client: ModelClient,
        meter: Meter,
        transcript: Transcript,
        jobs: Jobs,
        env: Mapping[str, str],
        redact: Callable[[str], str],
        say: Callable[[str], None],
        check: Callable[[Workspace, str | None], Verdict],
        system: str,
        devices: tuple[str | None, ...],
        higher_is_better: bool,
    ) -> None:
        self._config = config
        self._client = client
        self._meter = meter
        self._transcript = transcript
        self._jobs = jobs
        self._env = dict(env)
        self._redact = redact
        self._say = say
        self._check = check
        self._system = system
        self._devices = devices
        self._higher = higher_is_better
        self.journal = Journal(config.journal)
        self._scores = NodeScores(config.events)
        self._settings = SearchSettings(drafts=config.drafts)
        self._lock = threading.Lock()
        self._spend = SpendByNode()
        self._running: dict[int, Step] = {}
        self._tools: dict[int, ToolBox] = {}
        """The tools of the nodes running now (their folders), for :meth:`salvage`."""
        self._refusals = 0
        self._system_recorded = False
        self._stop: tuple[str, str, str | None] | None = None
        self._budget = config.remaining()

    # --- the whole search

    def run(self) -> LoopOutcome:
        """Nodes until the search ends; with several devices one worker per device, else in this thread (so that
        the harness's SIGTERM, raised in the main thread, stops the run wherever it is)."""
        if len(self._devices) == 1:
            self._work(self._devices[0])
        else:
            workers = [
                threading.Thread(target=self._work, args=(device,), name=f"node-worker-{device}", daemon=True)
                for device in self._devices
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                while worker.is_alive():
                    worker.join(timeout=0.5)
        ended, reason, summary = self._stop or (PLANNED_END, "the search ended", None)
        total = self._total()
        return LoopOutcome(ended, reason, total.requests, total, total.cost(self._meter.price), summary)

    def _work(self, device: str | None) -> None:
        while True:
            with self._lock:
                step = self._next()
                if step is None:
                    return
                label = device_label(device, self._config.plan.get(contract.DEVICE))
                node = self.journal.start(step.kind, step.parent, device=label, now=time.time())
                self._running[node.id] = step
            try:
                self._run_node(node, step, device)
            except Exception as exc:
                # A bug of the agent in one node: recorded, and no further node starts.
                self._halt(CRASHED, f"the agent crashed in node {node.id}: {type(exc).__name__}: {exc}")
                self._record(replace(node, status=NodeStatus.FAILED, error=f"{type(exc).__name__}: {exc}"))
                self._forget(node.id)
                raise
            # Not in a `finally`: after the deadline's SIGTERM the node stays known to salvage().
            self._forget(node.id)

    def _forget(self, node: int) -> None:
        with self._lock:
            self._running.pop(node, None)
            self._tools.pop(node, None)

    def _next(self) -> Step | None:
        """The next node's step, or None when the search is over (called under the lock)."""
        if self._stop is not None:
            return None
        c = self._config
        remaining = c.remaining()
        total = self._total()
        ending = self._ending(remaining, total)
        if ending is not None:
            self._end(*ending)
            return None
        step = next_step(
            self.journal.nodes(),
            tuple(self._running.values()),
            higher_is_better=self._higher,
            used=budget_used(
                remaining=remaining,
                budget=self._budget,
                requests=total.requests,
                max_requests=self._config.max_turns,
                spent=total.cost(self._meter.price),
                max_spend=self._config.max_cost_usd,
            ),
            settings=self._settings,
        )
        self._say(f"node {len(self.journal.nodes()) + 1}: {step.kind} ({step.why})")
        return step

    def _ending(self, remaining: float, total: UsageTotals) -> tuple[str, str] | None:
        """Why no further node may start, as ``(outcome, reason)``, or None."""
        c = self._config
        spent = total.cost(self._meter.price)
        if total.requests >= c.max_turns:
            return PLANNED_END, f"the maximum of {c.max_turns} model requests was reached"
        if spent >= c.max_cost_usd:
            return MAX_COST, f"${spent:.4f} spent, the maximum is ${c.max_cost_usd:.2f}"
        if remaining <= c.api_reserve_secs:
            return TIME, f"{remaining:.0f}s left, no more than the {c.api_reserve_secs:.0f}s reserve"
        fits, why = node_fits(self.journal.durations(), remaining, c.api_reserve_secs)
        if not fits:
            return PLANNED_END, f"no further node fits: {why}"
        return None

    def _end(self, ended: str, reason: str, summary: str | None = None) -> None:
        if self._stop is None:
            self._stop = (ended, reason, summary)
            self._say(f"search ends ({ended}): {reason}")
            self._transcript.write("note", 0, text=f"search ends ({ended}): {reason}")

    def _halt(self, ended: str, reason: str, summary: str | None = None) -> None:
        with self._lock:
            self._end(ended, reason, summary)

    def _total(self) -> UsageTotals:
        return self._spend.total()

    def _on_usage(self, node: int, usage: UsageTotals) -> None:
        total = self._spend.record(node, usage)
        self._meter.publish(total, total.cost(self._meter.price))

    # --- one node

    def node_tools(self, node: int, device: str | None, parent: Node | None) -> tuple[NodePlace, ToolBox]:
        """A node's folder (with its parent's code in it) and the tools that work there for it."""
        c = self._config
        place = NodePlace(node, c.workspace / f"node-{node}", device)
        place.submission_dir.mkdir(parents=True, exist_ok=True)
        if parent is not None:
            copy_code(parent.code, place.folder)
        workspace = Workspace(place.folder.resolve(), c.data_dir.resolve(), place.submission_dir.resolve())
        toolbox = ToolBox(
            workspace=workspace,
            jobs=self._jobs,
            env=place.env(self._env),
            validate=lambda path: self._check(workspace, path),
            remaining=c.remaining,
            redact=self._redact,
            node=node,
            relay=Relay(node, c.events),
        )
        return place, toolbox

    def _run_node(self, node: Node, step: Step, device: str | None) -> None:
        c = self._config
        parent = self.journal.get(step.parent) if step.parent is not None else None
        place, toolbox = self.node_tools(node.id, device, parent)
        with self._lock:
            self._tools[node.id] = toolbox
        self._publish(node)
        parent_text = "" if step.parent is None else f" of node {step.parent}"
        self._transcript.tagged(node.id).write(
            "note", 0, text=f"node {node.id}: {step.kind}{parent_text} on {node.device} ({step.why})"
        )
        with self._lock:
            done = self._total().requests
            first, self._system_recorded = not self._system_recorded, True
        conversation = Conversation(
            client=self._client,
            model=c.model,
            price=self._meter.price,
            toolbox=toolbox,
            transcript=self._transcript.tagged(node.id),
            system=self._system,
            budget=Budget(max(1, min(c.node_max_turns, c.max_turns - done)), c.max_cost_usd, c.api_reserve_secs),
            max_tokens=c.max_tokens,
            api_timeout=c.api_timeout_secs,
            remaining=c.remaining,
            on_usage=lambda usage, _cost: self._on_usage(node.id, usage),
            say=lambda text: self._say(f"node {node.id} {text}"),
            api_pause=c.api_pause_secs,
            max_retries=c.api_max_retries,
            cost_elsewhere=lambda: self._spend.total(without=node.id).cost(self._meter.price),
            record_system=first,
        )
        with self._lock:
            summary = journal_summary(self.journal.nodes(), higher_is_better=self._higher)
        task = node_task(
            step,
            node_id=node.id,
            parent=parent,
            summary=summary,
            remaining=c.remaining(),
            reserve=c.api_reserve_secs,
            submission_dir=str(place.submission_dir),
            device=node.device,
            metric=c.metric,
            higher_is_better=self._higher,
        )
        outcome = conversation.run(task)
        self._say(f"node {node.id}: its conversation ended ({outcome.ended}): {outcome.reason}")
        timed_out = self._wait_for_jobs(node.id)
        cost = conversation.usage.cost(self._meter.price)
        self._judge(node, place, tools=toolbox, cost=cost, timed_out=timed_out, ended=outcome.reason)
        self._after(node.id, outcome)

    def _wait_for_jobs(self, node: int) -> bool:
        """Wait for the node's jobs to end; True when they had to be stopped because the reserve was reached."""
        while self._jobs.running(node):
            if self._config.remaining() <= self._config.api_reserve_secs:
                stopped = self._jobs.stop_node(node)
                self._say(f"node {node}: time is up: stopped job(s) still running: {', '.join(stopped)}")
                return True
            time.sleep(JOB_POLL)
        return False

    def _after(self, node: int, outcome: LoopOutcome) -> None:
        """What the node's end means for the search."""
        with self._lock:
            self._refusals = self._refusals + 1 if outcome.ended == REFUSED else 0
            if outcome.ended in STOPPING_OUTCOMES:
                ended = PLANNED_END if outcome.ended == FINISHED else outcome.ended
                self._end(ended, outcome.reason, outcome.summary)
            elif self._refusals >= REFUSALS_IN_A_ROW:
                self._end(REFUSED, f"the model refused {self._refusals} nodes in a row", outcome.summary)

    def _judge(self, node: Node, place: NodePlace, *, tools: ToolBox, cost: float, timed_out: bool, ended: str) -> None:
        """The node's score, validity and status from what it did (``ended``: why its conversation ended); its
        submission handed in when it is the best."""
        folds, reported = self._scores.of(node.id)
        verdict = self._check(tools.workspace, None)
        command, output, exit_code = main_command(tools.runs, self._jobs.of_node(node.id), self._scores, node.id)
        if timed_out:
            status, error = NodeStatus.TIMED_OUT, "stopped: its time was up before it ended"
        elif verdict.valid:
            status, error = NodeStatus.SUCCEEDED, None
        elif command is None:
            status, error = NodeStatus.FAILED, f"it ran no command ({ended})"
        elif exit_code not in (0, None):
            status, error = NodeStatus.FAILED, error_line(output, exit_code)
        else:
            status, error = NodeStatus.FAILED, f"no valid submission: {first_line(verdict.text)}"
        plan, insight = tools.ended or (None, None)
        judged = replace(
            node,
            status=status,
            plan=plan,
            insight=insight,
            # What goes to the journal and the events passes the run's secret policy, as tool results do.
            command=None if command is None else self._redact(command),
            code=tuple(CodeFile(path, self._redact(text)) for path, text in code_snapshot(place.folder)),
            folds=folds,
            score=cv_score(folds, reported),
            valid=verdict.valid,
            seconds=round(time.time() - node.started_at, 3),
            cost_usd=round(cost, 6),
            error=error,
            traceback=None if status == NodeStatus.SUCCEEDED else trimmed_traceback(self._redact(output)),
        )
        with self._lock:
            judged = self._hand_in_if_best(judged, verdict, finished=not timed_out)
        score = "no score" if judged.score is None else f"score {judged.score:.6g}"
        hand = ", handed in" if judged.handed_in else ""
        self._say(f"node {node.id} {status}: {score}, valid {verdict.valid}{hand}" + (f" ({error})" if error else ""))

    def _hand_in_if_best(self, node: Node, verdict: Verdict, *, finished: bool) -> Node:
        """Record the judged node, its submission handed in when it is valid and better than the one handed in.

        An unfinished node (stopped at the reserve or by the deadline) never replaces a handed-in submission; with
        none handed in yet, its valid file is better than none. Called under the lock.
        """
        current = self.journal.handed_in()
        if verdict.valid and (finished or current is None) and is_better(node.score, current, self._higher):
            hand_in(self._tools_folder(node.id) / "submission.csv", self._config.submission_path)
            node = replace(node, handed_in=True)
            if current is not None:
                self._record(replace(current, handed_in=False))
            progress.submission(self._config.submission_path, rows=verdict.rows, producer="claude")
        self._record(node)
        return node

    def _tools_folder(self, node: int) -> Path:
        return self._tools[node].workspace.submission_dir

    def salvage(self) -> None:
        """The deadline's SIGTERM: each node still running is recorded as timed out (its jobs are being stopped),
        and its valid file is handed in when none was yet. Nothing is asked of the model."""
        with self._lock:
            for node_id, tools in list(self._tools.items()):
                node = self.journal.get(node_id)
                folds, reported = self._scores.of(node_id)
                verdict = self._check(tools.workspace, None)
                stopped = replace(
                    node,
                    status=NodeStatus.TIMED_OUT,
                    folds=folds,
                    score=cv_score(folds, reported),
                    valid=verdict.valid,
                    seconds=round(time.time() - node.started_at, 3),
                    error="stopped: the deadline came before it ended",
                )
                self._hand_in_if_best(stopped, verdict, finished=False)

    def _record(self, node: Node) -> None:
        self.journal.update(node)
        self._publish(node)

    def _publish(self, node: Node) -> None:
        if self._config.events is not None:
            try:
                append_event(self._config.events, node.event(time.time()))
            except OSError as exc:
                self._say(f"cannot report node {node.id}: {exc.strerror or exc}")
