"""The submission parts of the reports: validity, the grade with MLE-bench's medal thresholds."""

from __future__ import annotations

from mle_ci.competitions.model import GradeReport
from mle_ci.report._markdown import code, md
from mle_ci.report._text import format_score
from mle_ci.result import RunResult


def medal_of(grade: GradeReport) -> str:
    """``gold``, ``silver``, ``bronze``, ``none`` or ``unknown`` (no leaderboard)."""
    return grade.medal


_MEDAL_MARK = {"gold": "🥇 gold", "silver": "🥈 silver", "bronze": "🥉 bronze", "none": "no medal", "unknown": ""}


MEDALS_UNKNOWN = "medals unknown: no leaderboard"


def grade_phrase(grade: GradeReport) -> str:
    """``score 0.981 (higher is better): 🥈 silver, above the median`` (or ``medals unknown: no leaderboard``)."""
    if grade.score is None:
        return "not graded: the submission could not be scored"
    direction = "lower is better" if grade.is_lower_better else "higher is better"
    if not grade.medals_known:
        return f"score {format_score(grade.score)} ({direction}): {MEDALS_UNKNOWN}"
    medal = _MEDAL_MARK[medal_of(grade)]
    median = "above the median" if grade.above_median else "not above the median"
    return f"score {format_score(grade.score)} ({direction}): {medal}, {median}"


def render_submission(result: RunResult) -> list[str]:
    """Section: whether the submission is valid (every problem listed) and how it grades."""
    check, grade = result.validation, result.grade
    if check is None and grade is None:
        return []
    lines = ["### Submission", ""]
    if check is not None:
        where = code(check.path) if check.path else "submission.csv"
        if check.valid:
            lines.append(f"✅ {where} is valid ({check.rows} rows).")
            lines += [f"- ⚠️ {md(warning)}" for warning in check.warnings[:20]]
        else:
            lines.append(f"❌ {where} is not a valid submission:")
            lines.append("")
            lines += [f"- {md(problem)}" for problem in check.problems[:20]]
            if len(check.problems) > 20:
                lines.append(f"- … and {len(check.problems) - 20} more")
    if grade is not None:
        lines += ["", f"**Graded** on the held-out answers: {md(grade_phrase(grade))}", ""]
        if not grade.medals_known:
            return lines
        lines += [
            "| | Gold | Silver | Bronze | Median | This run |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            f"| threshold | {format_score(grade.gold_threshold)} | {format_score(grade.silver_threshold)} | "
            f"{format_score(grade.bronze_threshold)} | {format_score(grade.median_threshold)} | "
            f"**{format_score(grade.score)}** |",
        ]
    return lines
