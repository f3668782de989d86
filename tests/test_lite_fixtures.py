"""The lite fixtures build, byte for byte the same every time, hold the files their layouts name, and still hash as
when MLE-bench's verdicts on them were recorded (tests/golden/lite/grades.json, made by make_goldens.py there)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from lite import LAYOUTS, build_all
from lite.crafted import crafted_submissions

GOLDENS = Path(__file__).parent / "golden" / "lite" / "grades.json"
REGENERATE = "rerun tests/golden/lite/make_goldens.py with MLE-bench installed, and review the verdicts that change"

NON_IMAGE = {
    "detecting-insults-in-social-commentary",
    "jigsaw-toxic-comment-classification-challenge",
    "leaf-classification",
    "mlsp-2013-birds",
    "new-york-city-taxi-fare-prediction",
    "nomad2018-predict-transparent-conductors",
    "random-acts-of-pizza",
    "spooky-author-identification",
    "tabular-playground-series-dec-2021",
    "tabular-playground-series-may-2022",
    "text-normalization-challenge-english-language",
    "text-normalization-challenge-russian-language",
    "the-icml-2013-whale-challenge-right-whale-redux",
}
ALWAYS = {
    "sample",
    "perfect",
    "noisy",
    "shuffled_rows",
    "index_column",
    "extra_column",
    "missing_target_column",
    "missing_id_column",
    "short",
    "extra_row",
    "duplicate_id",
    "wrong_ids",
    "empty_cell",
    "na_word",
    "header_only",
    "bom_crlf",
}


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``, by relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _header_and_ids(path: Path, id_column: str) -> tuple[list[str], list[str]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    at = rows[0].index(id_column)
    return rows[0], [row[at] for row in rows[1:]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lite")
    build_all(root)
    return root


@pytest.fixture(scope="module")
def goldens() -> dict[str, dict[str, object]]:
    return json.loads(GOLDENS.read_text(encoding="utf-8"))["competitions"]  # type: ignore[no-any-return]


def test_layouts_cover_the_lite_competitions() -> None:
    assert set(LAYOUTS) >= NON_IMAGE
    assert len(LAYOUTS) in (len(NON_IMAGE), 22)
    assert all(layout.id == competition_id for competition_id, layout in LAYOUTS.items())


@pytest.mark.parametrize("competition_id", sorted(LAYOUTS))
def test_build_is_deterministic(built: Path, tmp_path: Path, competition_id: str) -> None:
    LAYOUTS[competition_id].build(tmp_path / competition_id)
    first, second = _tree(built / competition_id), _tree(tmp_path / competition_id)
    assert first.keys() == second.keys()
    assert [path for path in first if first[path] != second[path]] == []
    layout = LAYOUTS[competition_id]
    again = crafted_submissions(layout, tmp_path / competition_id)
    assert again == crafted_submissions(layout, built / competition_id)


@pytest.mark.parametrize("competition_id", sorted(LAYOUTS))
def test_layout_has_the_files_it_names(built: Path, competition_id: str) -> None:
    layout = LAYOUTS[competition_id]
    prepared = built / competition_id / "prepared"
    assert sorted(p.name for p in prepared.iterdir()) == ["private", "public"]
    assert any((prepared / "public").iterdir())
    assert any((prepared / "private").iterdir())
    answers, sample = prepared / layout.answers, prepared / layout.sample_submission
    assert answers.is_file()
    assert sample.is_file()
    assert layout.answers.startswith("private/")
    answer_header, answer_ids = _header_and_ids(answers, layout.id_column)
    sample_header, sample_ids = _header_and_ids(sample, layout.id_column)
    assert set(layout.target_columns) <= set(answer_header)
    assert set(layout.target_columns) <= set(sample_header)
    assert 5 <= len(sample_ids) <= 500
    assert len(set(sample_ids)) == len(sample_ids)
    assert sorted(sample_ids) == sorted(answer_ids)


@pytest.mark.parametrize("competition_id", sorted(LAYOUTS))
def test_crafted_kinds(built: Path, competition_id: str) -> None:
    layout = LAYOUTS[competition_id]
    crafted = crafted_submissions(layout, built / competition_id)
    assert set(crafted) >= ALWAYS
    assert crafted["sample"] == (built / competition_id / "prepared" / layout.sample_submission).read_bytes()
    assert ("not_summing" in crafted) == layout.rows_sum_to_one
    assert crafted["bom_crlf"].startswith(b"\xef\xbb\xbf")
    assert crafted["bom_crlf"][3:].replace(b"\r\n", b"\n") == crafted["perfect"]
    assert len(set(crafted.values())) == len(crafted)  # every kind differs from every other


@pytest.mark.parametrize("competition_id", sorted(LAYOUTS))
def test_hashes_match_the_goldens(built: Path, goldens: dict[str, dict[str, object]], competition_id: str) -> None:
    assert competition_id in goldens, f"no recorded verdicts for {competition_id}: {REGENERATE}"
    recorded = goldens[competition_id]
    layout = LAYOUTS[competition_id]
    answers = (built / competition_id / "prepared" / layout.answers).read_bytes()
    assert recorded["answers"] == layout.answers
    assert recorded["answers_sha256"] == _sha256(answers), f"the answers drifted: {REGENERATE}"
    submissions = recorded["submissions"]
    assert isinstance(submissions, dict)
    crafted = crafted_submissions(layout, built / competition_id)
    assert sorted(submissions) == sorted(crafted), f"the crafted kinds changed: {REGENERATE}"
    drifted = [kind for kind, data in crafted.items() if submissions[kind]["sha256"] != _sha256(data)]
    assert drifted == [], f"these crafted submissions drifted: {REGENERATE}"
    assert submissions["perfect"]["grade_csv"]["valid_submission"] is True
