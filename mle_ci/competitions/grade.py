"""Grading as MLE-bench does it: the score against the private answers, and medals from the leaderboard.

``thresholds`` and ``medals`` follow ``mlebench.grade_helpers.Grader.rank_score`` line by line: Kaggle's
progression table by number of teams, the direction read from the leaderboard's first and last scores, the
median of the scores (empty cells skipped, as pandas does), exclusive medals and a strict ``above_median``.
The score is rounded to 5 decimals, as MLE-bench's ``Grader.__call__`` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mle_ci.competitions.csvtable import NA_VALUES, TableError, canonical_label, read_csv
from mle_ci.competitions.model import Competition, CompetitionError, GradeReport, Medals, Thresholds
from mle_ci.competitions.validate import Inspection, inspect_submission
from mle_ci.metrics import Metric, get_metric, score

SCORE_DECIMALS = 5


def _at(scores: Sequence[float], position: int) -> float:
    """The score at a 1-based leaderboard position."""
    if position < 1 or position > len(scores):
        raise ValueError(f"position {position} is outside a leaderboard of {len(scores)} teams")
    return float(scores[position - 1])


def thresholds(scores: Sequence[float]) -> Thresholds:
    """Medal thresholds of a leaderboard's scores (best first); ``ValueError`` for an empty one."""
    n = len(scores)
    if n == 0:
        raise ValueError("the leaderboard has no teams")
    if n < 100:
        gold, silver, bronze = (max(1, int(n * f)) for f in (0.1, 0.2, 0.4))
    elif n < 250:
        gold, silver, bronze = 10, max(1, int(n * 0.2)), max(1, int(n * 0.4))
    elif n < 1000:
        gold, silver, bronze = 10 + int(n * 0.002), 50, 100
    else:
        gold, silver, bronze = 10 + int(n * 0.002), max(1, int(n * 0.05)), max(1, int(n * 0.1))
    present = [s for s in scores if not math.isnan(s)]
    return Thresholds(
        gold=_at(scores, gold),
        silver=_at(scores, silver),
        bronze=_at(scores, bronze),
        median=float(np.median(present)) if present else math.nan,
        # a NaN at either end compares False, as in MLE-bench
        is_lower_better=bool(scores[0] < scores[-1]),
        teams=n,
    )


def medals(value: float | None, limits: Thresholds) -> Medals:
    """The medal flags of a score (none for a score that could not be computed)."""
    if value is None:
        return Medals()

    def reaches(threshold: float) -> bool:
        return value <= threshold if limits.is_lower_better else value >= threshold

    gold = reaches(limits.gold)
    silver = not gold and reaches(limits.silver)
    bronze = not gold and not silver and reaches(limits.bronze)
    above = value < limits.median if limits.is_lower_better else value > limits.median
    return Medals(gold=gold, silver=silver, bronze=bronze, above_median=above)


def read_leaderboard(path: Path) -> list[float]:
    """The ``score`` column of a leaderboard.csv (empty cells as NaN); ``CompetitionError`` when unreadable."""
    try:
        table = read_csv(path)
    except TableError as exc:
        raise CompetitionError(f"the leaderboard {path} cannot be read as CSV: {exc}") from None
    if "score" not in table.header:
        raise CompetitionError(f"the leaderboard {path} has no 'score' column")
    scores = []
    for row, cell in enumerate(table.column("score"), start=1):
        if cell.strip() in NA_VALUES:
            scores.append(math.nan)
            continue
        try:
            scores.append(float(cell))
        except ValueError:
            raise CompetitionError(
                f"the leaderboard {path} has a score that is not a number: {cell!r} (row {row})"
            ) from None
    if not scores:
        raise CompetitionError(f"the leaderboard {path} has no teams")
    return scores


def aligned_predictions(inspection: Inspection, competition: Competition) -> tuple[list[list[Any]], list[list[Any]]]:
    """A valid submission's answers and predictions, row for row in the answers' order (rows matched by id)."""
    spec = competition.spec
    if spec.metric is None or inspection.submission is None or inspection.reference.source != "answers":
        raise ValueError("a score needs a metric, a read submission and the answers")
    table, answers = inspection.submission, inspection.reference.table
    by_id = {canonical_label(i): n for n, i in enumerate(table.column(spec.id_column))}
    order = [by_id[i] for i in inspection.reference.ids]
    predicted = [table.column(c) for c in spec.target_columns]
    y_pred = [[column[n] for column in predicted] for n in order]
    y_true = [list(cells) for cells in zip(*(answers.column(c) for c in spec.target_columns), strict=True)]
    return y_true, y_pred


def typed_cells(cells: Any, metric: Metric) -> NDArray[Any]:
    """Cells (rows of a CSV, or any array) as the metric reads them: numbers (``True`` as 1), else labels."""
    array = np.asarray(cells, dtype=object)
    labels = np.array([canonical_label(c) for c in array.ravel()], dtype=object).reshape(array.shape)
    if not metric.numeric:
        return labels.astype(str)
    flat = [1.0 if v == "True" else 0.0 if v == "False" else float(v) for v in labels.ravel()]
    return np.array(flat, dtype=np.float64).reshape(labels.shape)


def submission_score(inspection: Inspection, competition: Competition) -> float:
    """The metric of a valid submission against the answers, rows matched by id; ``ValueError`` if undefined."""
    if inspection.graded is not None:
        return inspection.graded.value
    y_true, y_pred = aligned_predictions(inspection, competition)
    assert competition.spec.metric is not None
    metric = get_metric(competition.spec.metric)
    return score(metric.name, typed_cells(y_true, metric), typed_cells(y_pred, metric))


def grade_submission(path: Path, competition: Competition, *, now: datetime | None = None) -> GradeReport:
    """Grade a submission file: its score, the leaderboard's thresholds and the medals, in MLE-bench's fields."""
    spec = competition.spec
    if spec.metric is None:
        raise CompetitionError(f"no metric is known for competition {spec.id}: set `metric:` in its competition.yaml")
    if competition.answers is None:
        raise CompetitionError(f"competition {spec.id} has no answers (private/test.csv) to grade against")
    try:
        get_metric(spec.metric)
    except ValueError as exc:
        raise CompetitionError(f"competition {spec.id}: {exc}") from None
    limits = thresholds(read_leaderboard(competition.leaderboard)) if competition.leaderboard else None
    inspection = inspect_submission(path, competition)
    problems = list(inspection.report.problems)
    warnings = list(inspection.report.warnings)
    value: float | None = None
    if inspection.report.valid:
        try:
            value = round(submission_score(inspection, competition), SCORE_DECIMALS)
        except ValueError as exc:
            problems.append(f"the score could not be computed: {exc}")
    if value is not None and math.isnan(value):
        warnings.append("the score is not a number (NaN); MLE-bench counts such a file as valid")
    if limits is None:
        warnings.append(f"medals unknown: {competition.leaderboard_problem or 'no leaderboard'}")
    flags = medals(value, limits) if limits is not None else Medals()
    return GradeReport(
        competition_id=spec.id,
        score=value,
        gold_threshold=None if limits is None else limits.gold,
        silver_threshold=None if limits is None else limits.silver,
        bronze_threshold=None if limits is None else limits.bronze,
        median_threshold=None if limits is None else limits.median,
        any_medal=flags.any,
        gold_medal=flags.gold,
        silver_medal=flags.silver,
        bronze_medal=flags.bronze,
        above_median=flags.above_median,
        submission_exists=inspection.exists,
        valid_submission=value is not None,
        is_lower_better=(not spec.higher_is_better) if limits is None else limits.is_lower_better,
        created_at=now if now is not None else datetime.now(),
        submission_path=str(path),
        problems=tuple(problems),
        warnings=tuple(warnings),
        leaderboard=None if competition.leaderboard is None else str(competition.leaderboard),
    )
