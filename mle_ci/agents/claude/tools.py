"""The tools the model may call: their declarations (JSON schemas) and one dispatcher that carries them out."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mle_ci.agents.claude.jobs import Jobs
from mle_ci.agents.claude.nodework import Relay
from mle_ci.agents.claude.paging import read_page
from mle_ci.agents.claude.processes import run_command, trim
from mle_ci.agents.claude.validation import Verdict
from mle_ci.agents.claude.workspace import ToolError, Workspace

DEFAULT_BASH_TIMEOUT = 120.0
MAX_BASH_TIMEOUT = 1800.0
READ_LIMIT = 400
"""Lines read_file returns at most by default."""
MAX_WRITE = 2_000_000


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"name": name, "description": description, "input_schema": schema}


_STR = {"type": "string"}

TOOLS: tuple[dict[str, Any], ...] = (
    _tool(
        "bash",
        "Run a short shell command (bash) in the workspace and get its exit code and output (head and tail when "
        "long). It is stopped at timeout_s; processes it leaves in the background are stopped when it ends: "
        "use start_job for training.",
        {"command": _STR, "timeout_s": {"type": "number", "description": "seconds, default 120"}},
        ["command"],
    ),
    _tool(
        "write_file",
        "Write a text file (created or replaced) in the workspace or the submission folder.",
        {"path": _STR, "content": _STR},
        ["path", "content"],
    ),
    _tool(
        "read_file",
        "Read a text file of the workspace or the competition data: lines from offset (0-based), limit lines.",
        {"path": _STR, "offset": {"type": "integer"}, "limit": {"type": "integer"}},
        ["path"],
    ),
    _tool(
        "start_job",
        "Start a long command (e.g. training) in the background in the workspace; its output goes to a log file "
        "and its progress events to the run's record. Returns a job id for job_status and stop_job.",
        {"command": _STR, "name": {"type": "string", "description": "a short label, e.g. train-lgbm"}},
        ["command", "name"],
    ),
    _tool(
        "job_status",
        "A job's state, elapsed time, latest epoch and fold events, GPU use now and last log lines.",
        {"job_id": _STR},
        ["job_id"],
    ),
    _tool("stop_job", "Stop a background job (its whole process group).", {"job_id": _STR}, ["job_id"]),
    _tool(
        "validate_submission",
        "Check a submission file's format as the grader does (default: the run's submission path).",
        {"path": _STR},
        [],
    ),
    _tool(
        "end_node",
        "End this node of the search once its training run is done or started with start_job (its jobs are waited "
        "for, then its submission is validated and scored; the best valid one is handed in).",
        {
            "plan": {"type": "string", "description": "one line: what this node tried"},
            "insight": {"type": "string", "description": "what was learned, for the next nodes"},
        },
        ["plan"],
    ),
    _tool(
        "finish",
        "End the whole run now (no further nodes): call it only when more work cannot improve the score, with a "
        "short summary of what you did and the CV score.",
        {"summary": _STR},
        ["summary"],
    ),
)
TOOL_NAMES = tuple(tool["name"] for tool in TOOLS)


OUTPUT_KEPT = 20_000
"""Characters of a command's output kept for judging its node (the traceback of a failure is at the end)."""


@dataclass(frozen=True)
class CommandRun:
    """One command a node ran with ``bash`` (a job's are read from the job itself)."""

    command: str
    started: float
    ended: float
    exit_code: int | None
    output_tail: str


@dataclass(frozen=True)
class ToolOutcome:
    """A tool's result for the model; ``finished`` holds the summary when the tool ends the run (``finish``) or,
    with ``ends_run`` false, the model's node (``end_node``)."""

    text: str
    is_error: bool = False
    finished: str | None = None
    ends_run: bool = True


def _text(args: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = args.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ToolError(f"{key!r} must be a string")
    return value


def _whole(args: Mapping[str, Any], key: str, default: int) -> int:
    value = args.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ToolError(f"{key!r} must be a non-negative integer")
    return int(value)


class ToolBox:
    """Carries out tool calls in the workspace; a bad call is an error result for the model, never a crash.

    ``validate`` checks a submission (None: the run's own); ``redact`` is the run's secret policy, which every
    result passes before it goes back to the model.
    """

    def __init__(
        self,
        *,
        workspace: Workspace,
        jobs: Jobs,
        env: Mapping[str, str],
        validate: Callable[[str | None], Verdict],
        remaining: Callable[[], float],
        redact: Callable[[str], str],
        node: int | None = None,
        relay: Relay | None = None,
    ) -> None:
        self.workspace = workspace
        self.jobs = jobs
        self._env = dict(env)
        self._validate = validate
        self._remaining = remaining
        self._redact = redact
        self.node = node
        """The search node these tools work for: its commands' lines go through ``relay``, its jobs are its."""
        self._relay = relay
        self.runs: list[CommandRun] = []
        self.ended: tuple[str, str | None] | None = None
        """The model's one-line plan and insight, once it called ``end_node``."""

    def call(self, name: str, args: Mapping[str, Any]) -> ToolOutcome:
        """Carry out one tool call; its result, secrets redacted."""
        outcome = self._carry_out(name, args)
        summary = None if outcome.finished is None else self._redact(outcome.finished)
        return replace(outcome, text=self._redact(outcome.text), finished=summary)

    def _carry_out(self, name: str, args: Mapping[str, Any]) -> ToolOutcome:
        handler = getattr(self, f"_tool_{name}", None) if name in TOOL_NAMES else None
        if handler is None:
            return ToolOutcome(f"unknown tool {name!r} (tools: {', '.join(TOOL_NAMES)})", is_error=True)
        try:
            outcome: ToolOutcome = handler(args)
        except ToolError as exc:
            return ToolOutcome(str(exc), is_error=True)
        except OSError as exc:
            return ToolOutcome(f"{name}: {exc.strerror or exc}", is_error=True)
        # A tool's own bug is reported to the model as an error result, not fatal to the run.
        except Exception as exc:
            return ToolOutcome(f"{name}: internal error {type(exc).__name__}: {exc}", is_error=True)
        return outcome

    def _tool_bash(self, args: Mapping[str, Any]) -> ToolOutcome:
        command = _text(args, "command")
        wanted = args.get("timeout_s", DEFAULT_BASH_TIMEOUT)
        if isinstance(wanted, bool) or not isinstance(wanted, int | float) or not wanted > 0:
            raise ToolError("'timeout_s' must be a positive number of seconds")
        left = self._remaining()
        timeout = min(float(wanted), MAX_BASH_TIMEOUT, left if math.isfinite(left) else MAX_BASH_TIMEOUT)
        started, whole = time.time(), [""]

        def relay(output: str) -> None:
            whole[0] = output[-OUTPUT_KEPT:]
            if self._relay is not None:
                self._relay.lines("bash", self._redact(output))

        result = run_command(command, cwd=self.workspace.root, env=self._env, timeout=timeout, on_output=relay)
        self.runs.append(CommandRun(command, started, time.time(), result.exit_code, self._redact(whole[0])))
        return ToolOutcome(result.render(), is_error=result.timed_out or result.exit_code != 0)

    def _tool_write_file(self, args: Mapping[str, Any]) -> ToolOutcome:
        given, content = _text(args, "path"), _text(args, "content")
        if len(content) > MAX_WRITE:
            raise ToolError(f"content of {len(content)} characters is over the {MAX_WRITE} limit")
        data = content.encode("utf-8", errors="replace")
        return ToolOutcome(f"wrote {len(data)} bytes to {self.workspace.write(given, data)}")

    def _tool_read_file(self, args: Mapping[str, Any]) -> ToolOutcome:
        given = _text(args, "path")
        offset, limit = _whole(args, "offset", 0), _whole(args, "limit", READ_LIMIT) or READ_LIMIT
        with self.workspace.open(given) as handle:
            page = read_page(handle, offset, limit)
        return ToolOutcome(trim(page.text) + page.note())

    def _tool_start_job(self, args: Mapping[str, Any]) -> ToolOutcome:
        command, name = _text(args, "command"), _text(args, "name", required=False) or "job"
        if self.node is None:
            job = self.jobs.start(command, name)
        else:
            job = self.jobs.start(
                command, name, env=self._env, cwd=self.workspace.root, relay=self._relay, node=self.node
            )
        return ToolOutcome(f"started {job.id} ({job.name}), log {job.log}")

    def _tool_job_status(self, args: Mapping[str, Any]) -> ToolOutcome:
        return ToolOutcome(self.jobs.status(_text(args, "job_id")))

    def _tool_stop_job(self, args: Mapping[str, Any]) -> ToolOutcome:
        return ToolOutcome(self.jobs.stop(_text(args, "job_id")))

    def _tool_validate_submission(self, args: Mapping[str, Any]) -> ToolOutcome:
        verdict = self._validate(_text(args, "path", required=False) or None)
        return ToolOutcome(verdict.text, is_error=not verdict.valid)

    def _tool_end_node(self, args: Mapping[str, Any]) -> ToolOutcome:
        plan = _text(args, "plan").strip() or "(no plan given)"
        insight = _text(args, "insight", required=False).strip() or None
        self.ended = (self._redact(plan), None if insight is None else self._redact(insight))
        return ToolOutcome("node ended: it is judged once its jobs have finished", finished=plan, ends_run=False)

    def _tool_finish(self, args: Mapping[str, Any]) -> ToolOutcome:
        summary = _text(args, "summary", required=False) or "(no summary)"
        return ToolOutcome("finishing the run", finished=summary)
