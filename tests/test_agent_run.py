"""The built-in baseline agent under the harness: a valid, graded submission, and salvage under a short budget."""

from __future__ import annotations

import json
from pathlib import Path

import junitparser
from helpers import mle_ci

FAST = {"MLE_CI_MAX_EPOCHS": "4"}


def _cases(run_out: Path) -> dict[str, junitparser.TestCase]:
    xml = junitparser.JUnitXml.fromfile(str(run_out / "junit.xml"))
    return {case.name: case for suite in xml for case in suite}


def test_baseline_agent_hands_in_a_valid_graded_submission(tmp_path: Path) -> None:
    """On a tabular demo the agent trains its folds, and the harness validates and grades submission.csv."""
    env = FAST | {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    run = mle_ci(
        ["--competition", "breast-cancer", "--folds", "2", "--heartbeat", "0"], tmp_path / "out", env=env, timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:]
    result = run.result
    assert result["agent"] == "baseline"
    assert result["competition"] == "breast-cancer"
    assert [f["status"] for f in result["folds"]] == ["completed", "completed"]
    assert result["submission_check"]["valid"] is True
    grade = result["grade"]
    assert grade["valid_submission"] is True
    assert grade["score"] > 0.9
    assert set(grade) >= {"gold_threshold", "any_medal", "is_lower_better", "submission_path", "created_at"}
    cases = _cases(run.out)
    assert {"fold-1", "fold-2", "submission-valid"} <= set(cases)
    assert "Submission" in run.file("summary.md")
    assert result["plan"]["device"] == "cpu"


def test_a_short_budget_still_leaves_a_valid_submission(tmp_path: Path) -> None:
    """With --timeout shorter than a full run: exit 124, a valid graded submission, unreached folds skipped."""
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "MLE_CI_MARGIN": "2"}
    # Build the demo first so that the budget goes to training.
    warm = mle_ci(
        ["--competition", "digits-png", "--timeout", "1s", "--grace", "1s"], tmp_path / "warm", env=env, timeout=300
    )
    assert warm.returncode in (124, 1), warm.stdout[-2000:]
    run = mle_ci(
        ["--competition", "digits-png", "--folds", "20", "--timeout", "20s", "--grace", "3s", "--heartbeat", "0"],
        tmp_path / "out",
        env=env,
        timeout=300,
    )
    assert run.returncode == 124, run.stdout[-3000:]
    result = run.result
    assert result["status"] == "timeout"
    statuses = [f["status"] for f in result["folds"]]
    assert "completed" in statuses
    assert "not-reached" in statuses
    assert result["submission_check"]["valid"] is True, result["submission_check"]
    assert result["grade"]["valid_submission"] is True
    cases = _cases(run.out)
    skipped = [name for name, case in cases.items() if case.result and case.result[0]._tag == "skipped"]
    assert skipped
    assert json.loads((run.out / "result.json").read_text())["exit_code"] == 124
