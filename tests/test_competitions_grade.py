"""Grading: MLE-bench's medal table across its four bands, both directions, ties, and reports of every outcome."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from competitions_toy import make_competition, write_rows

from mle_ci.competitions.grade import grade_submission, medals, read_leaderboard, thresholds
from mle_ci.competitions.model import Competition, CompetitionError, GradeReport, Thresholds
from mle_ci.competitions.registry import discover

MLE_BENCH_FIELDS = [
    "competition_id",
    "score",
    "gold_threshold",
    "silver_threshold",
    "bronze_threshold",
    "median_threshold",
    "any_medal",
    "gold_medal",
    "silver_medal",
    "bronze_medal",
    "above_median",
    "submission_exists",
    "valid_submission",
    "is_lower_better",
    "created_at",
    "submission_path",
]
NOW = datetime(2024, 5, 1, 12, 0, 0)


@pytest.mark.parametrize(
    ("teams", "gold", "silver", "bronze"),
    [
        (1, 1, 1, 1),
        (5, 1, 1, 2),
        (50, 5, 10, 20),
        (99, 9, 19, 39),
        (100, 10, 20, 40),
        (150, 10, 30, 60),
        (249, 10, 49, 99),
        (250, 10, 50, 100),
        (500, 11, 50, 100),
        (999, 11, 50, 100),
        (1000, 12, 50, 100),
        (2000, 14, 100, 200),
    ],
)
def test_medal_positions_follow_the_table(teams: int, gold: int, silver: int, bronze: int) -> None:
    """Scores equal to positions (lower is better) show the position each band picks."""
    limits = thresholds([float(p) for p in range(1, teams + 1)])
    assert (limits.gold, limits.silver, limits.bronze) == (gold, silver, bronze)
    assert limits.teams == teams
    assert limits.median == (teams + 1) / 2


def test_thresholds_higher_is_better() -> None:
    """50 teams scoring 100 down to 51: gold at 5th, silver 10th, bronze 20th, the median between 25th and 26th."""
    limits = thresholds([100.0 - i for i in range(50)])
    assert limits == Thresholds(gold=96.0, silver=91.0, bronze=81.0, median=75.5, is_lower_better=False, teams=50)


def test_thresholds_lower_is_better_in_the_third_band() -> None:
    """500 teams with errors 0.5 up to 499.5: gold 11th, silver 50th, bronze 100th."""
    limits = thresholds([0.5 + i for i in range(500)])
    assert limits == Thresholds(gold=10.5, silver=49.5, bronze=99.5, median=250.0, is_lower_better=True, teams=500)


def test_an_empty_leaderboard_has_no_thresholds() -> None:
    """No teams, no table row: an error."""
    with pytest.raises(ValueError, match="no teams"):
        thresholds([])


def test_a_flat_leaderboard_reads_higher_is_better() -> None:
    """Equal first and last scores are not lower-is-better, as in MLE-bench."""
    assert not thresholds([3.0, 3.0, 3.0]).is_lower_better


def test_empty_scores_are_skipped_by_the_median_only() -> None:
    """An empty score counts as a team but not in the median, as pandas' median skips NaN."""
    limits = thresholds([5.0, 4.0, math.nan, 2.0])
    assert limits.teams == 4
    assert limits.median == 4.0


HIGH = Thresholds(gold=96.0, silver=91.0, bronze=81.0, median=75.5, is_lower_better=False, teams=50)
LOW = Thresholds(gold=10.5, silver=49.5, bronze=99.5, median=250.0, is_lower_better=True, teams=500)


@pytest.mark.parametrize(
    ("limits", "value", "flags"),
    [
        (HIGH, 99.0, (True, False, False, True)),
        (HIGH, 96.0, (True, False, False, True)),
        (HIGH, 95.99, (False, True, False, True)),
        (HIGH, 91.0, (False, True, False, True)),
        (HIGH, 81.0, (False, False, True, True)),
        (HIGH, 80.99, (False, False, False, True)),
        (HIGH, 75.5, (False, False, False, False)),
        (HIGH, 10.0, (False, False, False, False)),
        (LOW, 0.0, (True, False, False, True)),
        (LOW, 10.5, (True, False, False, True)),
        (LOW, 10.51, (False, True, False, True)),
        (LOW, 49.5, (False, True, False, True)),
        (LOW, 99.5, (False, False, True, True)),
        (LOW, 99.51, (False, False, False, True)),
        (LOW, 250.0, (False, False, False, False)),
        (LOW, 400.0, (False, False, False, False)),
        (HIGH, None, (False, False, False, False)),
        (LOW, None, (False, False, False, False)),
    ],
)
def test_medals_are_exclusive_ties_win_and_the_median_is_strict(
    limits: Thresholds, value: float | None, flags: tuple[bool, bool, bool, bool]
) -> None:
    """A score equal to a threshold earns it; only the best medal is given; equal to the median is not above it."""
    got = medals(value, limits)
    assert (got.gold, got.silver, got.bronze, got.above_median) == flags
    assert got.any == any(flags[:3])


def toy(tmp_path: Path, leaderboard: Sequence[object] | None, metric: str = "accuracy") -> Competition:
    """A 4-row accuracy competition with this leaderboard."""
    make_competition(tmp_path / "data", leaderboard=leaderboard, config={"metric": metric})
    return discover("toy", tmp_path / "data")


def submit(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "submission.csv"
    path.write_text(text)
    return path


LEADERBOARD = [1.0, 0.9, 0.8, 0.75, 0.75, 0.5, 0.5, 0.5, 0.4, 0.25]


def test_a_graded_submission_has_mle_bench_fields(tmp_path: Path) -> None:
    """Three of four right (0.75) on a 10-team board: thresholds at 1st, 2nd and 4th, so bronze by a tie."""
    competition = toy(tmp_path, LEADERBOARD)
    path = submit(tmp_path, "id,label\n1,a\n2,b\n3,a\n4,x\n")
    report = grade_submission(path, competition, now=NOW)
    data = report.to_dict()
    assert list(data) == [*MLE_BENCH_FIELDS, "problems", "warnings", "leaderboard"]
    assert data == {
        "competition_id": "toy",
        "score": 0.75,
        "gold_threshold": 1.0,
        "silver_threshold": 0.9,
        "bronze_threshold": 0.75,
        "median_threshold": 0.625,
        "any_medal": True,
        "gold_medal": False,
        "silver_medal": False,
        "bronze_medal": True,
        "above_median": True,
        "submission_exists": True,
        "valid_submission": True,
        "is_lower_better": False,
        "created_at": "2024-05-01T12:00:00",
        "submission_path": str(path),
        "problems": [],
        "warnings": [],
        "leaderboard": str(competition.leaderboard),
    }
    assert GradeReport.from_dict(json.loads(json.dumps(data))) == report


def test_rows_are_matched_by_id_not_by_order(tmp_path: Path) -> None:
    """A perfect submission in another order scores 1 and takes gold."""
    report = grade_submission(submit(tmp_path, "id,label\n4,c\n3,a\n2,b\n1,a\n"), toy(tmp_path, LEADERBOARD), now=NOW)
    assert report.score == 1.0
    assert (report.gold_medal, report.any_medal) == (True, True)


def test_lower_is_better_is_read_from_the_leaderboard(tmp_path: Path) -> None:
    """RMSE against an ascending leaderboard: lower is better, and a small error takes gold."""
    make_competition(
        tmp_path / "data",
        targets=("y",),
        answers=(("1", 1.0), ("2", 2.0), ("3", 3.0), ("4", 4.0)),
        leaderboard=[0.1, 0.2, 0.3, 0.4, 0.5],
        config={"metric": "rmse"},
    )
    competition = discover("toy", tmp_path / "data")
    report = grade_submission(submit(tmp_path, "id,y\n1,1.1\n2,2.1\n3,2.9\n4,3.9\n"), competition, now=NOW)
    assert report.score == pytest.approx(0.1)
    assert report.is_lower_better
    assert (report.gold_medal, report.above_median) == (True, True)


def test_an_invalid_submission_gets_every_flag_false(tmp_path: Path) -> None:
    """A wrong file: no score, no medal, not valid, its problems listed; thresholds still reported."""
    report = grade_submission(submit(tmp_path, "id,label\n1,a\n"), toy(tmp_path, LEADERBOARD), now=NOW)
    assert report.score is None
    assert not any([report.any_medal, report.gold_medal, report.silver_medal, report.bronze_medal, report.above_median])
    assert (report.submission_exists, report.valid_submission) == (True, False)
    assert report.gold_threshold == 1.0
    assert "expected 4 rows (as the answers), found 1" in report.problems


def test_a_missing_submission_does_not_exist(tmp_path: Path) -> None:
    """No file: ``submission_exists`` false, as MLE-bench reports it."""
    report = grade_submission(tmp_path / "none.csv", toy(tmp_path, LEADERBOARD), now=NOW)
    assert (report.submission_exists, report.valid_submission, report.score) == (False, False, None)


def test_a_score_that_cannot_be_computed_is_invalid(tmp_path: Path) -> None:
    """Answers of one class have no AUC: the submission is reported invalid with the reason."""
    make_competition(
        tmp_path / "data",
        targets=("p",),
        answers=(("1", 1), ("2", 1)),
        leaderboard=[0.9, 0.8],
        config={"metric": "auc"},
    )
    report = grade_submission(submit(tmp_path, "id,p\n1,0.5\n2,0.4\n"), discover("toy", tmp_path / "data"), now=NOW)
    assert (report.score, report.valid_submission, report.any_medal) == (None, False, False)
    assert report.problems == (
        "the score could not be computed: auc is not a finite number: Only one class is present in y_true. "
        "ROC AUC score is not defined in that case.",
    )


def test_without_a_leaderboard_the_score_stands_alone(tmp_path: Path) -> None:
    """No leaderboard.csv: a score, no thresholds (null in JSON), no medals, and a warning: medals unknown."""
    report = grade_submission(submit(tmp_path, "id,label\n1,a\n2,b\n3,a\n4,c\n"), toy(tmp_path, None), now=NOW)
    assert (report.score, report.valid_submission, report.gold_threshold, report.any_medal) == (1.0, True, None, False)
    assert report.problems == ()
    assert report.warnings[-1].startswith("medals unknown: no leaderboard")
    assert not report.medals_known
    assert report.to_dict()["median_threshold"] is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["t1", "0.9"], ["t2", "high"]], r"has a score that is not a number: 'high' \(row 2\)"),
        ([], "has no teams"),
    ],
)
def test_an_unparseable_leaderboard_is_a_competition_error(tmp_path: Path, rows: list[list[str]], message: str) -> None:
    """A leaderboard that cannot be read stops grading with a CompetitionError naming it."""
    competition = toy(tmp_path, LEADERBOARD)
    assert competition.leaderboard is not None
    write_rows(competition.leaderboard, ["teamName", "score"], rows)
    with pytest.raises(CompetitionError, match=message):
        grade_submission(submit(tmp_path, "id,label\n1,a\n2,b\n3,a\n4,c\n"), competition)


def test_a_leaderboard_without_a_score_column(tmp_path: Path) -> None:
    """The ``score`` column is required."""
    path = write_rows(tmp_path / "leaderboard.csv", ["teamName", "points"], [["a", "1"]])
    with pytest.raises(CompetitionError, match="has no 'score' column"):
        read_leaderboard(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(CompetitionError, match="cannot be read as CSV: not UTF-8"):
        read_leaderboard(path)


def test_grading_needs_a_metric_and_answers(tmp_path: Path) -> None:
    """An unknown metric or absent answers are competition errors (exit 2), not invalid submissions."""
    make_competition(tmp_path / "data", leaderboard=LEADERBOARD)
    with pytest.raises(CompetitionError, match="no metric is known for competition toy"):
        grade_submission(submit(tmp_path, "id,label\n1,a\n"), discover("toy", tmp_path / "data"))
    make_competition(tmp_path / "data2", with_answers=False, config={"metric": "accuracy"})
    with pytest.raises(CompetitionError, match="has no answers"):
        grade_submission(submit(tmp_path, "id,label\n1,a\n"), discover("toy", tmp_path / "data2"))


def test_scores_are_rounded_as_mle_bench_rounds_them(tmp_path: Path) -> None:
    """Five decimals, as MLE-bench's Grader rounds."""
    make_competition(
        tmp_path / "data", targets=("y",), answers=(("1", 0.0), ("2", 0.0), ("3", 0.0)), config={"metric": "mae"}
    )
    report = grade_submission(submit(tmp_path, "id,y\n1,0.1234567\n2,0\n3,0\n"), discover("toy", tmp_path / "data"))
    assert report.score == round(0.1234567 / 3, 5)


def test_from_dict_reads_mle_bench_reports_without_problems() -> None:
    """A report written by MLE-bench (no ``problems``) reads back."""
    data = dict.fromkeys(MLE_BENCH_FIELDS, False) | {
        "competition_id": "x",
        "score": 0.5,
        "gold_threshold": 1,
        "silver_threshold": 0.9,
        "bronze_threshold": 0.8,
        "median_threshold": 0.6,
        "created_at": "2024-05-01T12:00:00",
        "submission_path": "s.csv",
    }
    report = GradeReport.from_dict(data)
    assert (report.score, report.gold_threshold, report.problems) == (0.5, 1.0, ())
