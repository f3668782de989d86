"""Matrix runs merged into one leaderboard: per-run rows, per-competition rows and the overall figures (pure).

A run's *seed* is the ``seed`` its result.json records when there is one; otherwise runs of one competition are
numbered 1, 2, … in the order they started (the seeds already taken by recorded ones are skipped). The any-medal
percentage of a seed is the share of all competitions on the leaderboard that won a medal with that seed; its
mean ± SEM is taken over the seeds (SEM = sample standard deviation / √n, n = number of seeds), as MLE-bench
reports it. A run that crashed, timed out, failed the GPU check or a gate, left an invalid submission, cannot be
read, or never uploaded (fewer found than expected) is a failed row: counted, shown, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus

MISSING = "missing"
"""Status of a run that was expected but left no result.json."""
UNREADABLE = "unreadable"
"""Status of a run whose result.json cannot be read."""


@dataclass(frozen=True)
class LoadedRun:
    """One result.json as found on disk: the typed result, or the problem that kept it from being read."""

    source: str
    result: RunResult | None
    raw: Mapping[str, Any] = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True)
class RunRow:
    """One run of the matrix as the leaderboard shows it."""

    source: str
    competition: str | None
    seed: int | None
    status: str
    failed: bool
    reason: str | None
    metric: str | None = None
    higher_is_better: bool = True
    cv_score: float | None = None
    cv_std: float | None = None
    folds: int = 0
    graded_score: float | None = None
    gold: bool = False
    silver: bool = False
    bronze: bool = False
    above_median: bool = False
    gold_threshold: float | None = None
    silver_threshold: float | None = None
    bronze_threshold: float | None = None
    median_threshold: float | None = None
    submission_exists: bool = False
    valid_submission: bool = False
    submission_path: str = ""
    created_at: str | None = None
    duration_s: float = 0.0
    gpu_count: int = 0
    cost_usd: float | None = None
    started_at: float | None = None
    result: RunResult | None = field(default=None, compare=False, repr=False)

    @property
    def any_medal(self) -> bool:
        return self.gold or self.silver or self.bronze

    @property
    def medal(self) -> str:
        """``gold``, ``silver``, ``bronze``, ``none``, or ``unknown`` for a graded run without a leaderboard."""
        if self.graded_score is not None and self.gold_threshold is None:
            return "unknown"
        return "gold" if self.gold else "silver" if self.silver else "bronze" if self.bronze else "none"

    @property
    def gpu_hours(self) -> float:
        return self.duration_s * self.gpu_count / 3600.0


@dataclass(frozen=True)
class Spread:
    """Mean and spread of a few numbers; ``spread`` is None for fewer than two."""

    mean: float | None
    spread: float | None
    n: int


@dataclass(frozen=True)
class CompetitionRow:
    """One competition over its seeds."""

    competition: str
    metric: str | None
    higher_is_better: bool
    runs: int
    seeds: tuple[int, ...]
    failed: int
    valid_submissions: int
    cv: Spread
    """Mean ± sample standard deviation of the runs' CV scores."""
    graded: Spread
    gold: int
    silver: int
    bronze: int
    above_median: int

    @property
    def medals(self) -> int:
        return self.gold + self.silver + self.bronze


@dataclass(frozen=True)
class Overall:
    """The headline figures of the whole matrix."""

    total_runs: int
    expected_runs: int | None
    found_runs: int
    missing_runs: int
    failed_runs: int
    runs_with_submissions: int
    valid_submissions: int
    gold: int
    silver: int
    bronze: int
    above_median: int
    any_medal: Spread
    """Any-medal percentage: mean ± SEM over seeds."""
    per_seed: tuple[tuple[int, float], ...]
    gpu_hours: float
    cost_usd: float | None

    @property
    def medals(self) -> int:
        return self.gold + self.silver + self.bronze

    @property
    def valid_rate(self) -> float | None:
        """Valid submissions as a percentage of all runs (missing ones included)."""
        return 100.0 * self.valid_submissions / self.total_runs if self.total_runs else None


@dataclass(frozen=True)
class Leaderboard:
    """Everything ``mle-ci aggregate`` reports."""

    runs: tuple[RunRow, ...]
    competitions: tuple[CompetitionRow, ...]
    overall: Overall
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.overall.failed_runs == 0


def mean_sd(values: Sequence[float]) -> Spread:
    """Mean and sample standard deviation (n - 1)."""
    n = len(values)
    if not n:
        return Spread(None, None, 0)
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return Spread(mean, sd, n)


def mean_sem(values: Sequence[float]) -> Spread:
    """Mean and standard error of the mean: sample standard deviation / √n."""
    stats = mean_sd(values)
    sem = stats.spread / math.sqrt(stats.n) if stats.spread is not None else None
    return Spread(stats.mean, sem, stats.n)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _recorded_seed(raw: Mapping[str, Any]) -> int | None:
    seed = raw.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def _cost(raw: Mapping[str, Any]) -> float | None:
    """The API cost a result.json records (``agent_usage.cost_usd``, or ``usage.cost_usd``), if any."""
    for key in ("agent_usage", "usage"):
        usage = raw.get(key)
        cost = _number(usage.get("cost_usd")) if isinstance(usage, Mapping) else None
        if cost is not None:
            return cost
    return None


def _gpu_count(result: RunResult) -> int:
    if result.plan is not None and result.plan.device == "cuda":
        return max(0, result.plan.gpu_count)
    return len(result.gpu_usage)


def failure_reason(result: RunResult) -> str | None:
    """Why a run counts as failed, or None when it passed with a valid submission."""
    invalid = (result.validation is not None and not result.validation.valid) or (
        result.grade is not None and not result.grade.valid_submission
    )
    if result.status is RunStatus.SUCCESS and not invalid:
        return None
    if result.status is RunStatus.RUNNING:
        return "never finished: result.json is a snapshot taken while it ran"
    failed_gates = [g for g in result.gates if not g.passed]
    detail = failed_gates[0].message if failed_gates else (result.errors[0] if result.errors else "")
    if invalid and not failed_gates:
        problems = result.validation.problems if result.validation is not None else ()
        detail = "invalid submission" + (f": {problems[0]}" if problems else "")
    if result.status is RunStatus.GPU_UNAVAILABLE and result.diagnosis is not None:
        errors = [f for f in result.diagnosis.findings if f.severity.value == "error"]
        detail = errors[0].cause if errors else detail
    if result.status is RunStatus.TIMEOUT and not detail:
        detail = "the time budget ran out"
    return f"{result.status.value}: {detail}" if detail else result.status.value


def run_row(run: LoadedRun) -> RunRow:
    """The leaderboard row of one loaded run (seed still unassigned when result.json records none)."""
    result = run.result
    if result is None:
        return RunRow(
            source=run.source, competition=None, seed=None, status=UNREADABLE, failed=True, reason=run.problem
        )
    grade = result.grade
    reason = failure_reason(result)
    competition = result.competition or (grade.competition_id if grade is not None else None)
    return RunRow(
        source=run.source,
        competition=competition,
        seed=_recorded_seed(run.raw),
        status=result.status.value,
        failed=reason is not None,
        reason=reason,
        metric=result.metric.name,
        higher_is_better=result.metric.higher_is_better,
        cv_score=result.cv_mean if result.cv_mean is not None else result.score,
        cv_std=result.cv_std,
        folds=len(result.fold_scores),
        graded_score=grade.score if grade is not None else None,
        gold=grade is not None and grade.gold_medal,
        silver=grade is not None and grade.silver_medal,
        bronze=grade is not None and grade.bronze_medal,
        above_median=grade is not None and grade.above_median,
        gold_threshold=grade.gold_threshold if grade is not None else None,
        silver_threshold=grade.silver_threshold if grade is not None else None,
        bronze_threshold=grade.bronze_threshold if grade is not None else None,
        median_threshold=grade.median_threshold if grade is not None else None,
        submission_exists=grade.submission_exists if grade is not None else result.submission is not None,
        valid_submission=_valid(result),
        submission_path=(grade.submission_path if grade is not None else result.submission) or "",
        created_at=grade.created_at.isoformat() if grade is not None else None,
        duration_s=result.duration_s if math.isfinite(result.duration_s) else 0.0,
        gpu_count=_gpu_count(result),
        cost_usd=_cost(run.raw),
        started_at=result.started_at,
        result=result,
    )


def _valid(result: RunResult) -> bool:
    if result.grade is not None:
        return result.grade.valid_submission
    return result.validation is not None and result.validation.valid


def assign_seeds(rows: Sequence[RunRow]) -> tuple[RunRow, ...]:
    """Rows with a seed each: recorded ones kept, the others numbered per competition in order of start."""
    taken: dict[str, set[int]] = {}
    for row in rows:
        if row.competition is not None and row.seed is not None:
            taken.setdefault(row.competition, set()).add(row.seed)
    unseeded = sorted(
        (i for i, row in enumerate(rows) if row.competition is not None and row.seed is None),
        key=lambda i: (rows[i].started_at if rows[i].started_at is not None else math.inf, rows[i].source),
    )
    out = list(rows)
    for index in unseeded:
        row = rows[index]
        assert row.competition is not None
        used = taken.setdefault(row.competition, set())
        seed = next(n for n in range(1, len(used) + 2) if n not in used)
        used.add(seed)
        out[index] = replace(row, seed=seed)
    return tuple(out)


def competition_row(name: str, rows: Sequence[RunRow]) -> CompetitionRow:
    """One competition's figures over its runs."""
    first = next((r for r in rows if r.metric is not None), rows[0])
    return CompetitionRow(
        competition=name,
        metric=first.metric,
        higher_is_better=first.higher_is_better,
        runs=len(rows),
        seeds=tuple(sorted({r.seed for r in rows if r.seed is not None})),
        failed=sum(r.failed for r in rows),
        valid_submissions=sum(r.valid_submission for r in rows),
        cv=mean_sd([r.cv_score for r in rows if r.cv_score is not None]),
        graded=mean_sd([r.graded_score for r in rows if r.graded_score is not None]),
        gold=sum(r.gold for r in rows),
        silver=sum(r.silver for r in rows),
        bronze=sum(r.bronze for r in rows),
        above_median=sum(r.above_median for r in rows),
    )


def any_medal_by_seed(rows: Sequence[RunRow]) -> tuple[tuple[int, float], ...]:
    """Per seed, the percentage of all competitions that won a medal with it (no run means no medal)."""
    competitions = {r.competition for r in rows if r.competition is not None}
    seeds = sorted({r.seed for r in rows if r.competition is not None and r.seed is not None})
    if not competitions:
        return ()
    out = []
    for seed in seeds:
        medalled = {r.competition for r in rows if r.seed == seed and r.competition is not None and r.any_medal}
        out.append((seed, 100.0 * len(medalled) / len(competitions)))
    return tuple(out)


def build_leaderboard(runs: Sequence[LoadedRun], *, expect: int | None = None) -> Leaderboard:
    """The leaderboard of the runs found; with ``expect``, runs that never uploaded become failed rows."""
    rows = list(assign_seeds([run_row(run) for run in runs]))
    notes: list[str] = []
    missing = max(0, (expect or 0) - len(rows))
    for k in range(1, missing + 1):
        reason = f"never uploaded: {expect} runs were expected, {len(runs)} result.json found"
        rows.append(
            RunRow(source=f"missing-{k}", competition=None, seed=None, status=MISSING, failed=True, reason=reason)
        )
    if expect is not None and len(runs) > expect:
        notes.append(f"{len(runs)} result.json found but only {expect} runs were expected")
    rows.sort(key=lambda r: (r.competition is None, r.competition or "", r.seed or 0, r.source))
    seen: dict[tuple[str, int], int] = {}
    for r in rows:
        if r.competition is not None and r.seed is not None:
            seen[(r.competition, r.seed)] = seen.get((r.competition, r.seed), 0) + 1
    notes += [
        f"{c}: {n} runs record seed {s}; a medal in any of them counts for that seed"
        for (c, s), n in seen.items()
        if n > 1
    ]
    names = sorted({r.competition for r in rows if r.competition is not None})
    competitions = tuple(competition_row(name, [r for r in rows if r.competition == name]) for name in names)
    per_seed = any_medal_by_seed(rows)
    costs = [r.cost_usd for r in rows if r.cost_usd is not None]
    overall = Overall(
        total_runs=len(rows),
        expected_runs=expect,
        found_runs=len(runs),
        missing_runs=missing,
        failed_runs=sum(r.failed for r in rows),
        runs_with_submissions=sum(r.submission_exists for r in rows),
        valid_submissions=sum(r.valid_submission for r in rows),
        gold=sum(r.gold for r in rows),
        silver=sum(r.silver for r in rows),
        bronze=sum(r.bronze for r in rows),
        above_median=sum(r.above_median for r in rows),
        any_medal=mean_sem([pct for _, pct in per_seed]),
        per_seed=per_seed,
        gpu_hours=math.fsum(r.gpu_hours for r in rows),
        cost_usd=math.fsum(costs) if costs else None,
    )
    return Leaderboard(tuple(rows), competitions, overall, tuple(notes))
