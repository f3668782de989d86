"""The agent's settings, read once from its environment into a frozen record (an empty variable is unset)."""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mle_ci import contract
from mle_ci.agents.claude.prices import Price, PriceError, parse_prices
from mle_ci.errors import ConfigError

DEFAULT_MAX_TURNS = 200
"""Model requests of the whole run, over all the search's nodes (the spend limit is usually reached first)."""
DEFAULT_NODE_MAX_TURNS = 20
"""Model requests one node may take to write, run and end its solution."""
DEFAULT_DRAFTS = 3
DEFAULT_MAX_COST_USD = 5.0
DEFAULT_API_RESERVE_SECS = 120.0
DEFAULT_FALLBACK_MIN_SECS = 60.0
DEFAULT_MAX_TOKENS = 8192
DEFAULT_API_MAX_RETRIES = 4
DEFAULT_API_TIMEOUT_SECS = 300.0
DEFAULT_API_PAUSE_SECS = 30.0
SUBMISSION_NAME = "submission.csv"
"""The run's submission, in the submission folder."""
PREFERRED_FAMILY = "sonnet"
"""The default model's family: capable at engineering work and priced between haiku and opus."""


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent reads from its environment, validated."""

    api_key: str
    model: str
    data_dir: Path
    submission_dir: Path
    logs_dir: Path
    workspace: Path
    events: Path | None
    deadline: float | None
    competition: str | None = None
    metric: str | None = None
    higher_is_better: bool | None = None
    folds: int | None = None
    plan: Mapping[str, str] = field(default_factory=dict)
    max_turns: int = DEFAULT_MAX_TURNS
    node_max_turns: int = DEFAULT_NODE_MAX_TURNS
    drafts: int = DEFAULT_DRAFTS
    journal: Path | None = None
    max_cost_usd: float = DEFAULT_MAX_COST_USD
    api_reserve_secs: float = DEFAULT_API_RESERVE_SECS
    fallback_min_secs: float = DEFAULT_FALLBACK_MIN_SECS
    max_tokens: int = DEFAULT_MAX_TOKENS
    api_max_retries: int = DEFAULT_API_MAX_RETRIES
    api_timeout_secs: float = DEFAULT_API_TIMEOUT_SECS
    api_pause_secs: float = DEFAULT_API_PAUSE_SECS
    prices: Mapping[str, Price] = field(default_factory=dict)
    base_url: str | None = None

    @property
    def submission_path(self) -> Path:
        return self.submission_dir / SUBMISSION_NAME

    @property
    def transcript_path(self) -> Path:
        return self.logs_dir / "transcript.jsonl"

    def remaining(self, now: float | None = None) -> float:
        """Seconds left before the harness's SIGTERM; infinity without a deadline."""
        if self.deadline is None:
            return math.inf
        return max(0.0, self.deadline - (time.time() if now is None else now))


PLAN_VARIABLES = (contract.DEVICE, contract.GPU_COUNT, contract.BATCH_SIZE, contract.AMP, contract.NUM_WORKERS)


def _snapshot(model: str) -> bool:
    tail = model.rsplit("-", 1)[-1]
    return tail.isdigit() and len(tail) == 8


def choose_model(models: Sequence[str], deprecated: Collection[str], family: str = PREFERRED_FAMILY) -> str:
    """The SDK's newest listed model of ``family`` that it does not flag deprecated (else its newest such model).

    The SDK lists models newest first; dated snapshots (``...-20251001``) are skipped in favour of aliases.
    """
    current = [m for m in models if m not in deprecated and not _snapshot(m)]
    if not current:
        raise ConfigError(f"the installed anthropic SDK lists no current model: set {contract.MODEL}")
    return next((m for m in current if f"-{family}-" in m), current[0])


def _get(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _number(environ: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = _get(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None
    if not math.isfinite(value) or value < minimum:
        raise ConfigError(f"{name}: must be a finite number of at least {minimum:g}, not {raw}")
    return value


def _integer(environ: Mapping[str, str], name: str, default: int | None, *, minimum: int) -> int | None:
    raw = _get(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, not {value}")
    return value


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def reserve_for(budget: float | None, wanted: float) -> float:
    """The API reserve, scaled down for short budgets: at most a quarter of the whole budget."""
    if budget is None or not math.isfinite(budget):
        return wanted
    return min(wanted, max(0.0, budget) / 4)


def load_config(environ: Mapping[str, str], *, default_model: str, now: float | None = None) -> AgentConfig:
    """Read and validate the agent's variables; :class:`ConfigError` names the first one at fault."""
    api_key = _get(environ, "ANTHROPIC_API_KEY")
    if api_key is None:
        raise ConfigError("ANTHROPIC_API_KEY is not set: the claude agent needs an Anthropic API key")
    data = _get(environ, contract.DATA_DIR)
    if data is None:
        raise ConfigError(
            f"{contract.DATA_DIR} is not set: the claude agent needs the competition's public data folder"
        )
    data_dir = Path(data)
    if not data_dir.is_dir():
        raise ConfigError(f"{contract.DATA_DIR}: {data_dir} is not a folder")
    logs_dir = Path(_get(environ, contract.LOGS_DIR) or "logs")
    submission_dir = Path(_get(environ, contract.SUBMISSION_DIR) or logs_dir)
    code = _get(environ, "CODE_DIR")
    deadline_raw = _get(environ, contract.DEADLINE)
    deadline = None
    if deadline_raw is not None:
        try:
            deadline = float(deadline_raw)
        except ValueError:
            raise ConfigError(f"{contract.DEADLINE}: {deadline_raw!r} is not a Unix time") from None
    higher = _get(environ, contract.HIGHER_IS_BETTER)
    if higher is not None and higher.lower() not in _BOOLEANS:
        raise ConfigError(f"{contract.HIGHER_IS_BETTER}: {higher!r} is neither true nor false")
    try:
        prices = parse_prices(_get(environ, contract.PRICES))
    except PriceError as exc:
        raise ConfigError(f"{contract.PRICES}: {exc}") from None
    budget = None if deadline is None else deadline - (time.time() if now is None else now)
    events = _get(environ, contract.EVENTS)
    return AgentConfig(
        api_key=api_key,
        model=_get(environ, contract.MODEL) or default_model,
        data_dir=data_dir,
        submission_dir=submission_dir,
        logs_dir=logs_dir,
        workspace=Path(code) if code else logs_dir / "workspace",
        events=Path(events) if events else None,
        deadline=deadline,
        competition=_get(environ, contract.COMPETITION_ID),
        metric=_get(environ, contract.METRIC),
        higher_is_better=None if higher is None else _BOOLEANS[higher.lower()],
        folds=_integer(environ, contract.FOLDS, None, minimum=2),
        plan={name: value for name in PLAN_VARIABLES if (value := _get(environ, name)) is not None},
        max_turns=_integer(environ, contract.MAX_TURNS, DEFAULT_MAX_TURNS, minimum=1) or DEFAULT_MAX_TURNS,
        node_max_turns=_integer(environ, "MLE_CI_NODE_MAX_TURNS", DEFAULT_NODE_MAX_TURNS, minimum=2)
        or DEFAULT_NODE_MAX_TURNS,
        drafts=_integer(environ, "MLE_CI_DRAFTS", DEFAULT_DRAFTS, minimum=1) or DEFAULT_DRAFTS,
        journal=Path(journal) if (journal := _get(environ, contract.JOURNAL)) else logs_dir / "journal.jsonl",
        max_cost_usd=_number(environ, contract.MAX_COST_USD, DEFAULT_MAX_COST_USD),
        api_reserve_secs=reserve_for(budget, _number(environ, contract.API_RESERVE_SECS, DEFAULT_API_RESERVE_SECS)),
        fallback_min_secs=_number(environ, contract.FALLBACK_MIN_SECS, DEFAULT_FALLBACK_MIN_SECS),
        max_tokens=_integer(environ, "MLE_CI_MAX_TOKENS", DEFAULT_MAX_TOKENS, minimum=1) or DEFAULT_MAX_TOKENS,
        api_max_retries=_integer(environ, "MLE_CI_API_MAX_RETRIES", DEFAULT_API_MAX_RETRIES, minimum=0) or 0,
        api_timeout_secs=_number(environ, "MLE_CI_API_TIMEOUT_SECS", DEFAULT_API_TIMEOUT_SECS, minimum=1.0),
        api_pause_secs=_number(environ, "MLE_CI_API_PAUSE_SECS", DEFAULT_API_PAUSE_SECS),
        prices=prices,
        base_url=_get(environ, "ANTHROPIC_BASE_URL"),
    )
