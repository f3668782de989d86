"""Grading parity: on every lite competition's layout, each crafted file gets MLE-bench's own verdict and score.

The expected figures are MLE-bench's, recorded by running its ``grade_csv`` and each competition's ``grade_fn`` on
these very files (tests/golden/lite/make_goldens.py; versions in the goldens' ``meta``). ``mle-ci grade`` must
agree on validity, on the rounded score exactly and on the unrounded score to 1e-9; ``mle-ci validate`` must
agree with the grader; a strict problem MLE-bench accepts may only be a warning.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from lite import LAYOUTS
from lite.crafted import crafted_submissions

from mle_ci.competitions.grade import grade_submission
from mle_ci.competitions.registry import discover
from mle_ci.competitions.validate import validate_submission

GOLDENS = json.loads((Path(__file__).parent / "golden" / "lite" / "grades.json").read_text(encoding="utf-8"))
CASES = [
    (competition, kind)
    for competition, entry in sorted(GOLDENS["competitions"].items())
    for kind in sorted(entry["submissions"])
]


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every lite competition built under one data folder, and every crafted file written beside it."""
    data = tmp_path_factory.mktemp("lite")
    paths = {}
    for competition, layout in LAYOUTS.items():
        layout.build(data / competition)
        for kind, content in crafted_submissions(layout, data / competition).items():
            path = data / "submissions" / competition / f"{kind}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            paths[competition, kind] = path
    return paths


def _expected(competition: str, kind: str) -> dict[str, Any]:
    verdict: dict[str, Any] = GOLDENS["competitions"][competition]["submissions"][kind]
    return verdict


def test_every_lite_competition_has_recorded_verdicts() -> None:
    """All 22 competitions, each with a sample, a perfect and a noisy file among its verdicts."""
    assert sorted(GOLDENS["competitions"]) == sorted(LAYOUTS)
    assert len(LAYOUTS) == 22
    for entry in GOLDENS["competitions"].values():
        assert {"sample", "perfect", "noisy"} <= set(entry["submissions"])


@pytest.mark.parametrize(("competition", "kind"), CASES)
def test_grading_agrees_with_mle_bench(submissions: dict[tuple[str, str], Path], competition: str, kind: str) -> None:
    """Same validity, the same rounded score, the same raw score to 1e-9, and validate agrees with grade."""
    expected = _expected(competition, kind)
    path = submissions[competition, kind]
    graded = grade_submission(path, discover(competition, path.parents[2]))
    raw = expected["grade_fn"]["value"]
    assert graded.valid_submission == expected["grade_csv"]["valid_submission"], graded.problems
    if expected["grade_csv"]["valid_submission"]:
        assert graded.score == expected["grade_csv"]["score"]
        assert graded.problems == ()
    else:
        assert graded.score is None
        assert graded.problems, "an invalid file says why"
    check = validate_submission(path, discover(competition, path.parents[2]))
    assert check.valid == graded.valid_submission
    if raw is not None:
        from mle_ci.competitions.validate import inspect_submission

        inspection = inspect_submission(path, discover(competition, path.parents[2]))
        assert inspection.graded is not None
        assert math.isclose(inspection.graded.value, raw, rel_tol=0.0, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("competition", "kind", "warning"),
    [
        ("new-york-city-taxi-fare-prediction", "wrong_ids", "unexpected id"),
        ("nomad2018-predict-transparent-conductors", "missing_id_column", "no id column 'id'"),
        ("aerial-cactus-identification", "index_column", ""),
    ],
)
def test_what_mle_bench_accepts_but_a_strict_reading_doubts_is_a_warning(
    submissions: dict[tuple[str, str], Path], competition: str, kind: str, warning: str
) -> None:
    """Taxi's keys and nomad's ids are never compared by MLE-bench: valid, with the doubt said as a warning."""
    path = submissions[competition, kind]
    graded = grade_submission(path, discover(competition, path.parents[2]))
    assert graded.valid_submission
    assert graded.problems == ()
    doubts = [w for w in graded.warnings if "MLE-bench's grader accepts this" in w]
    if warning:
        assert any(warning in w for w in doubts), graded.warnings
    assert graded.warnings[-1].startswith("medals unknown")
