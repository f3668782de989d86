"""Submission validation: every invalid case named with its message, all problems at once, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from competitions_toy import make_competition, write_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from mle_ci.competitions.csvtable import parse_csv
from mle_ci.competitions.model import Competition, CompetitionError
from mle_ci.competitions.registry import discover
from mle_ci.competitions.validate import check_row_sums, validate_submission

LABELS = (("1", "a"), ("2", "b"), ("3", "a"), ("4", "c"))
PROBS = (("1", 0.5), ("2", 0.1), ("3", 0.9), ("4", 0.3))


def toy(tmp_path: Path, metric: str = "accuracy", **kwargs: object) -> Competition:
    """A toy competition in a temporary data directory."""
    make_competition(tmp_path / "data", config={"metric": metric}, **kwargs)  # type: ignore[arg-type]
    return discover("toy", tmp_path / "data")


def submit(tmp_path: Path, text: str | bytes, name: str = "submission.csv") -> Path:
    """A submission file with these contents."""
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def problems_of(
    tmp_path: Path, text: str | bytes, competition: Competition, name: str = "submission.csv"
) -> tuple[str, ...]:
    """The problems found in a submission with these contents."""
    report = validate_submission(submit(tmp_path, text, name), competition)
    assert report.valid == (not report.problems)
    return report.problems


def test_a_correct_submission_is_valid(tmp_path: Path) -> None:
    """The answers' ids in any order, every target filled: valid, with its row count."""
    competition = toy(tmp_path)
    report = validate_submission(submit(tmp_path, "id,label\n4,c\n1,a\n3,x\n2,b\n"), competition)
    assert report.valid
    assert report.rows == 4
    assert report.to_dict() == {
        "valid": True,
        "problems": [],
        "warnings": [],
        "rows": 4,
        "path": str(tmp_path / "submission.csv"),
    }


def test_the_sample_submission_is_valid(tmp_path: Path) -> None:
    """The sample submission is the template of a valid file."""
    competition = toy(tmp_path)
    assert validate_submission(competition.sample_submission, competition).valid


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"", "submission.csv cannot be read as CSV: the file is empty (no header)"),
        (b"id,label\n1,\xff\xfe\n", "submission.csv cannot be read as CSV: not UTF-8 text (byte 11 cannot be decoded)"),
        ('id,label\n1,"a\n', "submission.csv cannot be read as CSV: not valid CSV (unexpected end of data)"),
        ("label\na\nb\na\nc\n", "no id column 'id' in the header (columns: 'label')"),
        ("id\n1\n2\n3\n4\n", "missing target column: label"),
        ("id,label,label\n1,a,a\n2,b,b\n3,a,a\n4,c,c\n", "duplicate column names in the header: 'label'"),
        ("id,label\n1,a\n2,b,x\n3,a\n4\n", "2 rows without 2 fields like the header (rows 2, 4)"),
        ("id,label\n1,a\n2,b\n3,a\n", "expected 4 rows (as the answers), found 3"),
        ("id,label\n1,a\n2,b\n3,a\n", "1 id of the answers missing, e.g. '4'"),
        ("id,label\n1,a\n2,b\n3,a\n4,c\n99,a\n", "1 unexpected id, e.g. '99'"),
        ("id,label\n1,a\n2,b\n3,a\n3,a\n", "1 duplicate id, e.g. '3'"),
        ("id,label\n1,a\n2,\n3,NaN\n4,c\n", "column 'label': 2 empty or NaN values (rows 2, 3)"),
    ],
)
def test_each_format_problem_is_named(tmp_path: Path, text: str | bytes, message: str) -> None:
    """Each way a file can be wrong has its own message."""
    assert message in problems_of(tmp_path, text, toy(tmp_path))


def test_a_missing_file_and_a_folder(tmp_path: Path) -> None:
    """No file at all, or a folder where the file should be."""
    competition = toy(tmp_path)
    missing = validate_submission(tmp_path / "nope.csv", competition)
    assert missing.problems == (f"{tmp_path / 'nope.csv'} does not exist",)
    assert missing.rows is None
    (tmp_path / "dir.csv").mkdir()
    assert validate_submission(tmp_path / "dir.csv", competition).problems == (f"{tmp_path / 'dir.csv'} is not a file",)


def test_the_file_must_be_a_csv(tmp_path: Path) -> None:
    """A right table under another suffix is still refused, as MLE-bench refuses it."""
    problems = problems_of(tmp_path, "id,label\n1,a\n2,b\n3,a\n4,c\n", toy(tmp_path), name="submission.txt")
    assert problems == ("the file name must end in .csv (got 'submission.txt')",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id,target\n1,0.5\n2,high\n3,0.1\n4,0.2\n",
            "column 'target': 1 value not a finite number, e.g. 'high' (row 2)",
        ),
        ("id,target\n1,0.5\n2,inf\n3,0.1\n4,0.2\n", "column 'target': 1 value not a finite number, e.g. 'inf' (row 2)"),
        (
            "id,target\n1,1.5\n2,-0.1\n3,0.1\n4,0.2\n",
            "column 'target': 2 values outside [0, 1] (auc needs probabilities), e.g. 1.5 (row 1), -0.1 (row 2)",
        ),
    ],
)
def test_auc_needs_probabilities(tmp_path: Path, text: str, message: str) -> None:
    """AUC targets are numbers within [0, 1]."""
    competition = toy(tmp_path, "auc", targets=("target",), answers=(("1", 1), ("2", 0), ("3", 1), ("4", 0)))
    assert message in problems_of(tmp_path, text, competition)


def test_log_loss_rows_must_sum_to_one(tmp_path: Path) -> None:
    """Every row of class probabilities sums to 1 within numpy.isclose's tolerance."""
    answers = (("1", 1, 0), ("2", 0, 1), ("3", 1, 0))
    competition = toy(tmp_path, "log_loss", targets=("a", "b"), answers=answers, neutral=(0.5, 0.5))
    ok = "id,a,b\n1,0.3333333,0.6666667\n2,0.5,0.5\n3,0.1,0.90001\n"
    assert problems_of(tmp_path, ok, competition) == ()
    bad = "id,a,b\n1,0.3,0.6\n2,0.5,0.5\n3,0.9,0.2\n"
    assert problems_of(tmp_path, bad, competition) == (
        "2 rows of probabilities not summing to 1, e.g. row 1 sums to 0.9; row 3 sums to 1.1",
    )


def test_row_sums_skip_rows_with_a_non_number() -> None:
    """A row with a non-number is reported once, by the value check, not again as a bad sum."""
    assert check_row_sums([["0.5", "x"], ["0.5", "0.5"]]) == []


def test_rmsle_values_above_minus_one(tmp_path: Path) -> None:
    """RMSLE is undefined at -1 and below."""
    competition = toy(tmp_path, "rmsle", targets=("y",), answers=(("1", 1.0), ("2", 2.0)))
    problems = problems_of(tmp_path, "id,y\n1,-1\n2,0.5\n", competition)
    assert problems == ("column 'y': 1 value not above -1 (undefined for rmsle), e.g. -1 (row 1)",)


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    """A file wrong in many ways reports each way."""
    competition = toy(tmp_path, "auc", targets=("target",), answers=(("1", 1), ("2", 0), ("3", 1), ("4", 0)))
    problems = problems_of(tmp_path, "id,target\n1,2\n1,x\n5,\n", competition, name="sub.txt")
    assert problems == (
        "the file name must end in .csv (got 'sub.txt')",
        "expected 4 rows (as the answers), found 3",
        "3 ids of the answers missing, e.g. '2', '3', '4'",
        "1 unexpected id, e.g. '5'",
        "1 duplicate id, e.g. '1'",
        "column 'target': 1 empty or NaN value (rows 3)",
        "column 'target': 1 value not a finite number, e.g. 'x' (row 2)",
        "column 'target': 1 value outside [0, 1] (auc needs probabilities), e.g. 2 (row 1)",
    )


def test_ids_compare_as_pandas_reads_them(tmp_path: Path) -> None:
    """``1.0`` is the id ``1`` and ``007`` the id ``7``, as pandas would read both files."""
    competition = toy(tmp_path, answers=(("1", "a"), ("7", "b")))
    assert problems_of(tmp_path, "id,label\n1.0,a\n007,b\n", competition) == ()


def test_without_answers_the_sample_submission_is_the_reference(tmp_path: Path) -> None:
    """With no private answers, rows and ids are held against the sample submission."""
    competition = toy(tmp_path, with_answers=False)
    assert competition.answers is None
    assert "expected 4 rows (as the sample submission), found 1" in problems_of(
        tmp_path, "id,label\n1,a\n", competition
    )


def test_unreadable_answers_are_the_competitions_fault(tmp_path: Path) -> None:
    """Broken answers raise a CompetitionError (exit 2), not an invalid submission."""
    competition = toy(tmp_path)
    write_rows(competition.root / "private" / "test.csv", ["id"], [["1"]])
    with pytest.raises(CompetitionError, match=r"the answers of toy \(.*test.csv\) have no column label") as caught:
        validate_submission(submit(tmp_path, "id,label\n1,a\n"), competition)
    assert caught.value.exit_code == 2


FUZZ_METRICS = ("accuracy", "auc", "log_loss", "rmsle", "qwk")


@pytest.fixture(scope="module")
def fuzz_competitions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Competition]:
    """One toy competition per metric, shared by the generated examples."""
    found = {}
    for metric in FUZZ_METRICS:
        targets = ("a", "b") if metric == "log_loss" else ("a",)
        answers = (("1", *([1] * len(targets))), ("2", *([0] * len(targets))))
        found[metric] = toy(tmp_path_factory.mktemp(metric), metric, targets=targets, answers=answers)
    return found


@given(data=st.binary(max_size=300), metric=st.sampled_from(FUZZ_METRICS))
@settings(max_examples=100, deadline=None)
def test_random_bytes_never_crash(fuzz_competitions: dict[str, Competition], data: bytes, metric: str) -> None:
    """Whatever bytes a file holds, the answer is a report."""
    competition = fuzz_competitions[metric]
    report = validate_submission(submit(competition.root.parent, data), competition)
    assert report.valid == (not report.problems)


CELLS = st.one_of(
    st.sampled_from(["1", "2", "0.5", "-1", "nan", "", "1e309", "id", "a", "b", " 1", "0.25"]),
    st.text(max_size=6),
)


@given(rows=st.lists(st.lists(CELLS, max_size=5), max_size=8), metric=st.sampled_from(FUZZ_METRICS))
@settings(max_examples=100, deadline=None)
def test_random_tables_never_crash(
    fuzz_competitions: dict[str, Competition], rows: list[list[str]], metric: str
) -> None:
    """Random CSV tables of odd cells and shapes give a report under every metric."""
    competition = fuzz_competitions[metric]
    header = ["id", *competition.spec.target_columns]
    report = validate_submission(write_rows(competition.root.parent / "random.csv", header, rows), competition)
    assert report.valid == (not report.problems)


def test_parse_csv_skips_blank_lines_and_a_bom() -> None:
    """A byte-order mark and blank lines are not part of the table."""
    table = parse_csv(b"\xef\xbb\xbfid,label\r\n1,a\r\n\r\n2,b\r\n")
    assert table.header == ("id", "label")
    assert table.rows == (("1", "a"), ("2", "b"))
