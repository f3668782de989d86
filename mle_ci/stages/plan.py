"""The planning stage: what a run is before it starts: its competition, its result folder, its child's argv,
environment and budget."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mle_ci import contract
from mle_ci.childenv import child_environment
from mle_ci.errors import ConfigError
from mle_ci.extras import extra_needed
from mle_ci.supervisor import ChildSpec

if TYPE_CHECKING:
    from mle_ci.competitions.model import Competition
    from mle_ci.settings import Settings

INTERRUPT_GRACE = 2.0
"""Grace after a cancel: the runner sends SIGTERM 7.5 s after SIGINT, so everything is written well before."""


@dataclass(frozen=True)
class ResultFiles:
    """The paths of one result folder."""

    root: Path

    @property
    def events(self) -> Path:
        return self.root / "events.jsonl"

    @property
    def log(self) -> Path:
        return self.root / "log.txt"

    @property
    def result(self) -> Path:
        return self.root / "result.json"

    @property
    def summary(self) -> Path:
        return self.root / "summary.md"

    @property
    def junit(self) -> Path:
        return self.root / "junit.xml"

    @property
    def submission(self) -> Path:
        return self.root / "submission.csv"

    @property
    def gpu_csv(self) -> Path:
        return self.root / "gpu.csv"

    @property
    def transcript(self) -> Path:
        """The claude agent's conversation, one JSON record a line (written by the agent)."""
        return self.root / "transcript.jsonl"

    @property
    def transcript_md(self) -> Path:
        return self.root / "transcript.md"

    def names(self) -> list[str]:
        """The report files that exist, for the closing line."""
        files = (
            self.summary,
            self.junit,
            self.result,
            self.events,
            self.log,
            self.gpu_csv,
            self.submission,
            self.transcript,
            self.transcript_md,
        )
        return [path.name for path in files if path.exists()]

    def as_outputs(self) -> dict[str, str]:
        return {"result": str(self.result), "summary": str(self.summary), "junit": str(self.junit)}


@dataclass(frozen=True)
class Launch:
    """When the run started, its budget, and exactly what was started."""

    wall_start: float
    mono_start: float
    timeout: float | None
    spec: ChildSpec

    @property
    def deadline_unix(self) -> float | None:
        return self.wall_start + self.timeout if self.timeout else None


@dataclass(frozen=True)
class CompetitionFacts:
    """What the child is told about the competition (MLE-bench's names where they exist)."""

    id: str
    public: Path
    metric: str | None
    higher_is_better: bool

    def env(self) -> dict[str, str]:
        env = {
            contract.COMPETITION_ID: self.id,
            contract.DATA_DIR: str(self.public),
            contract.HIGHER_IS_BETTER: "true" if self.higher_is_better else "false",
        }
        if self.metric:
            env[contract.METRIC] = self.metric
        return env


def prepare_folder(path: Path) -> ResultFiles:
    """Create the result folder and clear this run's files from an earlier run; nothing runs if it can't."""
    files = ResultFiles(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        stale_files = (files.events, files.result, files.summary, files.junit, files.gpu_csv, files.submission)
        for stale in (*stale_files, files.transcript, files.transcript_md):
            stale.unlink(missing_ok=True)
        files.events.touch()
    except OSError as exc:
        raise ConfigError(f"output-dir: cannot use {path}: {exc.strerror or exc}") from None
    return files


AGENT_MODULES = {"baseline": "mle_ci.agents.baseline", "claude": "mle_ci.agents.claude"}
"""The built-in agents, each run as ``python -m MODULE`` like any other command."""

MODEL_CREDENTIALS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
"""What only the claude agent may be given: the baseline agent never talks to a model."""


def agent_command(agent: str) -> tuple[str, ...]:
    """The argv of a built-in agent: the same interpreter as the harness."""
    module = AGENT_MODULES.get(agent)
    if module is None or importlib.util.find_spec(module) is None:
        available = ", ".join(name for name, mod in AGENT_MODULES.items() if importlib.util.find_spec(mod))
        raise ConfigError(f"agent: the built-in {agent!r} agent is not part of this version (available: {available})")
    return (sys.executable, "-m", module)


def agent_environment(settings: Settings) -> tuple[dict[str, str], tuple[str, ...]]:
    """What the child gets beyond the contract, and what it must not inherit, by who the child is.

    The claude agent gets the key (from whichever layer gave it) and its budgets; the baseline agent gets no
    model credential at all; a user's command keeps its own environment as it was (``ANTHROPIC_API_KEY``
    included when the user had it there), but never the action input's key or ``MLE_CI_ANTHROPIC_API_KEY``.
    """
    if settings.command:
        return {}, ()
    if (settings.agent or "baseline") != "claude":
        return {}, MODEL_CREDENTIALS
    extra = {"ANTHROPIC_API_KEY": settings.anthropic_api_key or ""}
    if settings.model:
        extra[contract.MODEL] = settings.model
    if settings.max_turns is not None:
        extra[contract.MAX_TURNS] = str(settings.max_turns)
    if settings.max_cost is not None:
        extra[contract.MAX_COST_USD] = repr(settings.max_cost)
    if settings.api_reserve is not None:
        extra[contract.API_RESERVE_SECS] = repr(settings.api_reserve)
    if settings.fallback_min is not None:
        extra[contract.FALLBACK_MIN_SECS] = repr(settings.fallback_min)
    if settings.prices:
        table = {price.model: price.to_dict() for price in settings.prices}
        extra[contract.PRICES] = json.dumps(table, sort_keys=True, separators=(",", ":"))
    return extra, ()


def plan_launch(
    settings: Settings,
    files: ResultFiles,
    *,
    plan: Mapping[str, str] | None = None,
    competition: CompetitionFacts | None = None,
) -> Launch:
    """The child's argv, environment and budget, fixed at the moment the run starts."""
    wall_start, mono_start = time.time(), time.monotonic()
    timeout = settings.timeout or None
    # The plan's variables, unless the user set one of them: an explicit choice beats the plan.
    extra = {name: value for name, value in (plan or {}).items() if name not in settings.env}
    extra[contract.LOGS_DIR] = str(files.root)
    extra[contract.SUBMISSION_DIR] = str(files.root)
    if settings.folds:
        extra[contract.FOLDS] = str(settings.folds)
    if competition is not None:
        extra.update(competition.env())
    elif settings.competition:
        extra[contract.COMPETITION_ID] = settings.competition
    agent_extra, drop = agent_environment(settings)
    extra.update(agent_extra)
    env = child_environment(
        settings.env,
        events=str(files.events.resolve()),
        deadline_unix=wall_start + timeout if timeout else None,
        time_limit=timeout,
        extra=extra,
        drop=drop,
    )
    spec = ChildSpec(
        argv=settings.command or agent_command(settings.agent or "baseline"),
        env=env,
        cwd=settings.cwd,
        grace=settings.grace,
        interrupt_grace=INTERRUPT_GRACE,
    )
    return Launch(wall_start=wall_start, mono_start=mono_start, timeout=timeout, spec=spec)


def resolve_competition(settings: Settings) -> Competition | None:
    """The competition of the run: the one named, or the default demo for a built-in agent; built on first use."""
    competition_id = settings.competition
    if competition_id is None and settings.command:
        return None
    with extra_needed("mle-ci run on a competition"):  # the registry, the demos' data: the 'grading' extra
        # Only a run with a competition pays for the registry (pandas): 0.5 s to import once the command line is
        # read (best of 5, on the development machine).
        from mle_ci.competitions.registry import DEFAULT_COMPETITION, find_competition  # noqa: PLC0415

        return find_competition(
            competition_id or DEFAULT_COMPETITION,
            data_dir=settings.data_dir,
            cache_dir=settings.cache_dir,
            leaderboard=settings.leaderboard,
        )


def competition_facts(competition: Competition | None) -> CompetitionFacts | None:
    """What the child is told of its competition."""
    if competition is None:
        return None
    spec = competition.spec
    return CompetitionFacts(spec.id, competition.public, spec.metric, spec.higher_is_better)
