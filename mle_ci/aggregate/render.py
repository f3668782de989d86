"""Pure renderers of a :class:`~mle_ci.aggregate.model.Leaderboard`: Markdown, JUnit, JSON, outputs, annotations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mle_ci.aggregate.model import CompetitionRow, Leaderboard, RunRow, Spread
from mle_ci.durations import format_duration
from mle_ci.report import Annotation
from mle_ci.report._markdown import cut, md, size
from mle_ci.report._text import clean_text, exact_number, format_score, format_spread
from mle_ci.report.junit import junit_suite
from mle_ci.report.junitxml import Case, Outcome, Suite, document, suite_element, suites_element

AGGREGATE_SCHEMA_VERSION = 1
SUMMARY_LIMIT = 1_000_000
"""GitHub refuses a step summary over 1 MiB; stay a little under it."""
MAX_ANNOTATIONS = 10
"""The runner keeps at most 10 annotations of each level per step."""

_MEDAL = {"gold": "🥇", "silver": "🥈", "bronze": "🥉", "none": "–", "unknown": "unknown (no leaderboard)"}


def run_name(row: RunRow) -> str:
    """A stable name for a run: ``<competition>-seed-<n>``, or its folder when the competition is unknown."""
    if row.competition is not None and row.seed is not None:
        return f"{row.competition}-seed-{row.seed}"
    return row.source


def _pm(stats: Spread, *, percent: bool = False) -> str:
    if stats.mean is None:
        return "–"
    unit = " %" if percent else ""
    mean = f"{stats.mean:.1f}" if percent else format_score(stats.mean)
    if stats.spread is None:
        return mean + unit
    spread = f"{stats.spread:.1f}" if percent else format_spread(stats.spread)
    return f"{mean} ± {spread}{unit}"


def _cost(value: float | None) -> str:
    return "–" if value is None else f"${value:.2f}"


def _competition_cell(row: RunRow) -> str:
    return md(row.competition) if row.competition is not None else "_unknown_"


def render_leaderboard(board: Leaderboard, *, limit_bytes: int = SUMMARY_LIMIT) -> str:
    """The leaderboard as GitHub-flavoured Markdown for the step summary, at most ``limit_bytes`` bytes."""
    blocks = [_headline(board), _overall(board), _competitions(board), _seeds(board), _runs(board), _failures(board)]
    if board.notes:
        blocks.append(["### Notes", "", *(f"- {md(note)}" for note in board.notes)])
    text = "\n\n".join("\n".join(block) for block in blocks if block) + "\n"
    if size(text) <= limit_bytes:
        return text
    return cut(text, limit_bytes, "_✂️ The leaderboard was cut to fit GitHub's size limit; aggregate.json has it all._")


def _headline(board: Leaderboard) -> list[str]:
    o = board.overall
    emoji = "✅" if board.passed else "❌"
    failed = f"{o.failed_runs} failed" if o.failed_runs else "none failed"
    seeds = len(o.per_seed)
    medal = f"any medal {_pm(o.any_medal, percent=True)} over {seeds} seed{'s' if seeds != 1 else ''}"
    return [f"## {emoji} Leaderboard: {o.total_runs} runs, {failed} · {medal}"]


def _overall(board: Leaderboard) -> list[str]:
    o = board.overall
    rate = "–" if o.valid_rate is None else f"{o.valid_rate:.1f} % ({o.valid_submissions}/{o.total_runs})"
    expected = "" if o.expected_runs is None else f" of {o.expected_runs} expected"
    return [
        "| Runs | Failed | Valid submissions | Any medal (mean ± SEM) | 🥇 | 🥈 | 🥉 | Above median "
        "| GPU-hours | API cost |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {o.found_runs} found{expected} | {o.failed_runs} | {rate} | {_pm(o.any_medal, percent=True)} "
        f"| {o.gold} | {o.silver} | {o.bronze} | {o.above_median} | {o.gpu_hours:.2f} | {_cost(o.cost_usd)} |",
    ]


def _competitions(board: Leaderboard) -> list[str]:
    if not board.competitions:
        return []
    lines = [
        "### Competitions",
        "",
        "| Competition | Metric | Seeds | Failed | CV score (mean ± std) | Graded score (mean) "
        "| 🥇 | 🥈 | 🥉 | Valid |",
        "| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [_competition_line(c) for c in board.competitions]
    return lines


def _competition_line(c: CompetitionRow) -> str:
    metric = md(f"{c.metric or 'score'} ({'higher' if c.higher_is_better else 'lower'} is better)")
    graded = format_score(c.graded.mean) if c.graded.mean is not None else "–"
    return (
        f"| {md(c.competition)} | {metric} | {len(c.seeds)} | {c.failed} | {_pm(c.cv)} | {graded} "
        f"| {c.gold} | {c.silver} | {c.bronze} | {c.valid_submissions}/{c.runs} |"
    )


def _seeds(board: Leaderboard) -> list[str]:
    if not board.overall.per_seed:
        return []
    lines = ["### Any medal by seed", "", "| Seed | Any medal |", "| ---: | ---: |"]
    lines += [f"| {seed} | {pct:.1f} % |" for seed, pct in board.overall.per_seed]
    return lines


def _runs(board: Leaderboard) -> list[str]:
    lines = [
        "### Runs",
        "",
        "| Competition | Seed | Status | CV score | Graded | Medal | Time | GPU-hours | API cost | Folder |",
        "| :--- | ---: | :--- | ---: | ---: | :---: | ---: | ---: | ---: | :--- |",
    ]
    for r in board.runs:
        mark = "❌ " if r.failed else "✅ "
        cv = "–" if r.cv_score is None else format_score(r.cv_score)
        if r.cv_std is not None and r.folds > 1:
            cv += f" ± {format_spread(r.cv_std)}"
        graded = "–" if r.graded_score is None else format_score(r.graded_score)
        time = "–" if r.result is None else format_duration(r.duration_s)
        lines.append(
            f"| {_competition_cell(r)} | {r.seed if r.seed is not None else '–'} | {mark}{md(r.status)} | {cv} "
            f"| {graded} | {_MEDAL[r.medal]} | {time} | {r.gpu_hours:.2f} | {_cost(r.cost_usd)} | {md(r.source)} |"
        )
    return lines


def _failures(board: Leaderboard) -> list[str]:
    failed = [r for r in board.runs if r.failed]
    if not failed:
        return []
    lines = ["### ❌ Failed runs", "", "| Run | Folder | Reason |", "| :--- | :--- | :--- |"]
    lines += [f"| {md(run_name(r))} | {md(r.source)} | {md(r.reason or r.status)} |" for r in failed]
    return lines


def _report(row: RunRow) -> dict[str, Any]:
    """MLE-bench's competition-report fields for one run, then this tool's own."""
    return {
        "competition_id": row.competition,
        "score": row.graded_score,
        "gold_threshold": row.gold_threshold,
        "silver_threshold": row.silver_threshold,
        "bronze_threshold": row.bronze_threshold,
        "median_threshold": row.median_threshold,
        "any_medal": row.any_medal,
        "gold_medal": row.gold,
        "silver_medal": row.silver,
        "bronze_medal": row.bronze,
        "above_median": row.above_median,
        "submission_exists": row.submission_exists,
        "valid_submission": row.valid_submission,
        "is_lower_better": not row.higher_is_better,
        "created_at": row.created_at,
        "submission_path": row.submission_path,
        "seed": row.seed,
        "status": row.status,
        "failed": row.failed,
        "reason": row.reason,
        "source": row.source,
        "metric": row.metric,
        "cv_score": row.cv_score,
        "cv_std": row.cv_std,
        "duration_s": row.duration_s,
        "gpu_count": row.gpu_count,
        "gpu_hours": row.gpu_hours,
        "cost_usd": row.cost_usd,
    }


def _spread(stats: Spread, name: str) -> dict[str, Any]:
    return {"mean": stats.mean, name: stats.spread, "n": stats.n}


def leaderboard_dict(board: Leaderboard) -> dict[str, Any]:
    """The aggregate report: MLE-bench's field names first, then the leaderboard's own figures."""
    o = board.overall
    return {
        "total_runs": o.total_runs,
        "total_runs_with_submissions": o.runs_with_submissions,
        "total_valid_submissions": o.valid_submissions,
        "total_medals": o.medals,
        "total_gold_medals": o.gold,
        "total_silver_medals": o.silver,
        "total_bronze_medals": o.bronze,
        "total_above_median": o.above_median,
        "competition_reports": [_report(r) for r in board.runs],
        "schema_version": AGGREGATE_SCHEMA_VERSION,
        "passed": board.passed,
        "expected_runs": o.expected_runs,
        "found_runs": o.found_runs,
        "missing_runs": o.missing_runs,
        "failed_runs": o.failed_runs,
        "valid_submission_rate": o.valid_rate,
        "any_medal_percentage": {**_spread(o.any_medal, "sem"), "per_seed": {str(s): p for s, p in o.per_seed}},
        "gpu_hours": o.gpu_hours,
        "cost_usd": o.cost_usd,
        "competitions": [
            {
                "competition_id": c.competition,
                "metric": c.metric,
                "is_lower_better": not c.higher_is_better,
                "runs": c.runs,
                "seeds": list(c.seeds),
                "failed_runs": c.failed,
                "valid_submissions": c.valid_submissions,
                "cv_score": _spread(c.cv, "std"),
                "graded_score": _spread(c.graded, "std"),
                "gold_medals": c.gold,
                "silver_medals": c.silver,
                "bronze_medals": c.bronze,
                "above_median": c.above_median,
            }
            for c in board.competitions
        ],
        "notes": list(board.notes),
    }


def render_json(board: Leaderboard) -> str:
    return json.dumps(leaderboard_dict(board), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def render_combined_junit(board: Leaderboard) -> str:
    """One JUnit document with a testsuite per run: its folds and checks, or one ``run`` error."""
    suites = [suite_element(_suite(row)) for row in board.runs]
    return document(suites_element(suites, name="mle-ci aggregate"))


def _suite(row: RunRow) -> Suite:
    name = clean_text(run_name(row))
    if row.result is None:
        return Suite(name, (_failed_case(row),))
    suite = junit_suite(row.result, suite_name=name)
    if row.failed and not any(case.outcome is not None and case.outcome.kind != "skipped" for case in suite.cases):
        # failed for a reason no case of its own shows (an invalid grade)
        return replace(suite, cases=(*suite.cases, _failed_case(row)))
    return suite


def _failed_case(row: RunRow) -> Case:
    folder = clean_text(row.source)
    outcome = Outcome("error", clean_text(row.reason or row.status), type=row.status, output=f"folder: {folder}")
    return Case("run", f"mle-ci.{row.competition or 'run'}", 0.0, f"status={row.status} source={folder}", outcome)


def decide_outputs(board: Leaderboard, *, files: Mapping[str, str]) -> dict[str, str]:
    """Step outputs of the aggregation; numbers exact, empty when unknown."""
    o = board.overall
    outputs = {
        "status": "passed" if board.passed else "failed",
        "exit-code": "0" if board.passed else "1",
        "runs": str(o.total_runs),
        "failed-runs": str(o.failed_runs),
        "missing-runs": str(o.missing_runs),
        "valid-submission-rate": exact_number(o.valid_rate),
        "any-medal-mean": exact_number(o.any_medal.mean),
        "any-medal-sem": exact_number(o.any_medal.spread),
        "seeds": str(len(o.per_seed)),
        "gold-medals": str(o.gold),
        "silver-medals": str(o.silver),
        "bronze-medals": str(o.bronze),
        "gpu-hours": exact_number(o.gpu_hours),
        "cost-usd": exact_number(o.cost_usd),
    }
    outputs.update({key: files.get(key, "") for key in ("summary", "junit", "aggregate")})
    return outputs


def decide_annotations(board: Leaderboard) -> tuple[Annotation, ...]:
    """An error per failed run (at most :data:`MAX_ANNOTATIONS`), and a notice with the headline."""
    failed = [r for r in board.runs if r.failed]
    errors = [
        Annotation(
            "error", clean_text(f"{r.reason or r.status} (folder {r.source})"), title=f"Run failed: {run_name(r)}"
        )
        for r in failed
    ]
    if len(errors) > MAX_ANNOTATIONS:
        more = len(errors) - (MAX_ANNOTATIONS - 1)
        errors = [
            *errors[: MAX_ANNOTATIONS - 1],
            Annotation("error", f"{more} more runs failed; see the leaderboard.", title=f"{more} more failed runs"),
        ]
    o = board.overall
    rate = "n/a" if o.valid_rate is None else f"{o.valid_rate:.1f} %"
    notice = Annotation(
        "notice",
        f"{o.total_runs} runs, {o.failed_runs} failed; valid submissions {rate}; any medal "
        f"{_pm(o.any_medal, percent=True)} over {len(o.per_seed)} seeds; {o.gold} gold, {o.silver} silver, "
        f"{o.bronze} bronze.",
        title="Leaderboard",
    )
    return (*errors, notice)
