"""Record MLE-bench's verdicts on the lite fixtures' crafted submissions in grades.json (development only).

Run from the project root with a Python that has MLE-bench (and its graders' pandas, scikit-learn, scipy)
installed; the project's own environment does not need it:

    <python with mlebench> tests/golden/lite/make_goldens.py

It builds every lite layout into a temporary MLE-bench data folder, writes every crafted submission, and records for
each (competition, submission): the sha256 of the submission and of the answers file; ``grade_csv``'s score (rounded
as MLE-bench rounds it) and ``valid_submission``; the raw value of the competition's ``grade_fn`` on
``read_csv(submission)`` and ``load_answers(answers)``, or the class and first message line of what it raised, and
the warnings it gave; and ``validate_submission``'s verdict. MLE-bench's registry resolves every path, so the answers
and sample submission are where its config.yaml names them. The leaderboards in MLE-bench's checkout are Git LFS
pointers, so ``grade_csv`` gets a stand-in leaderboard: medals and thresholds are not recorded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import platform
import sys
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

if os.environ.get("PYTHONHASHSEED") != "0":  # error messages that print sets must read the same on every run
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))  # by name, as the suite imports them: a dependency installs a "tests" package

from lite import LAYOUTS, build_all  # noqa: E402
from lite.crafted import crafted_submissions  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "grades.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def number(value: Any) -> float | str | None:
    """A score as JSON can hold it: NaN and infinities as strings."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else str(value)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else ""


def raw_grade(competition: Any, submission: Path) -> dict[str, Any]:
    from mlebench.utils import load_answers, read_csv

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame, answers = read_csv(submission), load_answers(competition.answers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = competition.grader.grade_fn(frame, answers)
        except Exception as error:  # any failure is the verdict to record
            result = {"value": None, "error_type": type(error).__name__, "error_message": first_line(error)}
        else:
            result = {"value": number(value), "error_type": None, "error_message": None}
    result["warnings"] = sorted({w.category.__name__ for w in caught})
    return result


def judge(competition: Any, submission: Path) -> dict[str, Any]:
    from mlebench.grade import grade_csv, validate_submission

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = grade_csv(submission, competition)
        valid, _ = validate_submission(submission, competition)
    return {
        "sha256": sha256(submission.read_bytes()),
        "grade_csv": {"score": number(report.score), "valid_submission": bool(report.valid_submission)},
        "grade_fn": raw_grade(competition, submission),
        "validate_submission": bool(valid),
    }


def main() -> None:
    logging.disable(logging.CRITICAL)  # MLE-bench logs every invalid submission; the verdicts are recorded instead
    competitions: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # importing mlebench.data makes a ./cache folder (diskcache) wherever it runs
        from mlebench.registry import registry

        data_dir, submissions_dir = Path(tmp) / "data", Path(tmp) / "submissions"
        build_all(data_dir)
        leaderboard = Path(tmp) / "leaderboard.csv"
        leaderboard.write_text("teamName,score\nfirst,1.0\nsecond,0.5\nthird,0.0\n")
        mle_registry = registry.set_data_dir(data_dir)
        for competition_id, layout in LAYOUTS.items():
            competition = mle_registry.get_competition(competition_id)
            prepared = data_dir / competition_id / "prepared"
            assert competition.answers == prepared / layout.answers, (competition.answers, layout.answers)
            assert competition.sample_submission == prepared / layout.sample_submission, competition.sample_submission
            competition = dataclasses.replace(competition, leaderboard=leaderboard)
            verdicts = {}
            for kind, data in crafted_submissions(layout, data_dir / competition_id).items():
                path = submissions_dir / competition_id / f"{kind}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                verdicts[kind] = judge(competition, path)
            competitions[competition_id] = {
                "answers": layout.answers,
                "answers_sha256": sha256(competition.answers.read_bytes()),
                "submissions": verdicts,
            }
        os.chdir(ROOT)
    meta = {
        "python": platform.python_version(),
        **{name: version(name) for name in ("mlebench", "numpy", "pandas", "scikit-learn", "scipy")},
    }
    OUTPUT.write_text(json.dumps({"meta": meta, "competitions": competitions}, sort_keys=True, indent=1) + "\n")
    summary(competitions)


def summary(competitions: dict[str, Any]) -> None:
    for competition_id, entry in competitions.items():
        print(competition_id)
        for kind, verdict in entry["submissions"].items():
            raw = verdict["grade_fn"]
            shown = (
                f"score {verdict['grade_csv']['score']}"
                if verdict["grade_csv"]["valid_submission"]
                else f"INVALID ({raw['error_type']}: {raw['error_message']})"
            )
            check = (
                ""
                if verdict["validate_submission"] == verdict["grade_csv"]["valid_submission"]
                else " [validate differs]"
            )
            print(f"  {kind:22} {shown}{check}")
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {sum(len(e['submissions']) for e in competitions.values())} verdicts")


if __name__ == "__main__":
    main()
