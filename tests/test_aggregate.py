"""``mle-ci aggregate`` over result folders built here: every way a run can fail, figures checked by hand."""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml

from mle_ci.aggregate.model import LoadedRun, build_leaderboard, mean_sd, mean_sem
from mle_ci.cli import main
from mle_ci.competitions.model import GradeReport, ValidationReport
from mle_ci.hardware.model import Diagnosis, FaultKind, Finding, Severity, TrainingPlan
from mle_ci.result import RunResult
from mle_ci.resultparts import FoldResult, FoldStatus, Gate, Metric, RunStatus

AUC = Metric("auc", higher_is_better=True)
RMSE = Metric("rmse", higher_is_better=False)


def _grade(competition: str, score: float | None, medal: str = "none", *, valid: bool = True) -> GradeReport:
    return GradeReport(
        competition_id=competition,
        score=score,
        gold_threshold=0.95,
        silver_threshold=0.9,
        bronze_threshold=0.85,
        median_threshold=0.7,
        any_medal=medal != "none",
        gold_medal=medal == "gold",
        silver_medal=medal == "silver",
        bronze_medal=medal == "bronze",
        above_median=medal != "none",
        submission_exists=True,
        valid_submission=valid,
        is_lower_better=False,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        submission_path="submission/submission.csv",
    )


def _folds(*scores: float) -> tuple[FoldResult, ...]:
    return tuple(FoldResult(i, FoldStatus.COMPLETED, s) for i, s in enumerate(scores, start=1))


def _valid() -> ValidationReport:
    return ValidationReport(True, (), 10, "submission.csv")


def _write(root: Path, name: str, result: RunResult, **extra: Any) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps({**result.to_dict(), **extra}))
    return folder


GPU_FAULT = Diagnosis(
    (Finding("no-gpu-devices", Severity.ERROR, FaultKind.CONFIGURATION, "the container has no GPU", "add --gpus"),),
    cuda_usable=False,
)


def build_matrix(root: Path) -> None:
    """Three competitions × three seeds as downloaded artifacts, one corrupt file; one run never uploaded."""
    ok = RunStatus.SUCCESS
    cuda2 = TrainingPlan("cuda", 2, 256, "bf16", 4)
    cuda1 = TrainingPlan("cuda", 1, 256, "bf16", 4)
    a = "alpha"
    _write(
        root,
        "alpha-1",
        RunResult(ok, competition=a, metric=AUC, folds=_folds(0.8, 0.9), duration_s=1800, plan=cuda2,
                  validation=_valid(), grade=_grade(a, 0.95, "gold")),
        seed=1,
        agent_usage={"model": "claude-sonnet-4-5", "cost_usd": 0.5},
    )  # fmt: skip
    _write(
        root,
        "alpha-2",
        RunResult(ok, competition=a, metric=AUC, folds=_folds(0.7, 0.9), validation=_valid(),
                  grade=_grade(a, 0.9, "silver")),
        seed=2,
    )  # fmt: skip
    _write(
        root,
        "alpha-3",
        RunResult(RunStatus.TIMEOUT, competition=a, metric=AUC, folds=_folds(0.6), timeout_s=60, duration_s=61,
                  validation=_valid(), grade=_grade(a, 0.7)),
        seed=3,
    )  # fmt: skip
    b = "beta"
    # No recorded seeds: numbered by start time (folders named in the opposite order on purpose).
    _write(
        root,
        "beta-z",
        RunResult(ok, competition=b, metric=RMSE, folds=_folds(1.0, 2.0), started_at=100.0, duration_s=3600,
                  plan=cuda1, validation=_valid(), grade=_grade(b, 2.0)),
    )  # fmt: skip
    _write(
        root,
        "beta-y",
        RunResult(ok, competition=b, metric=RMSE, folds=_folds(1.0, 1.0), started_at=200.0, validation=_valid(),
                  grade=_grade(b, 1.2, "bronze")),
        usage={"cost_usd": 1.25},
    )  # fmt: skip
    _write(
        root,
        "beta-x",
        RunResult(RunStatus.CRASHED, competition=b, metric=RMSE, started_at=300.0, child_exit_code=1,
                  errors=("the command exited with code 1",)),
    )  # fmt: skip
    g = "gamma"
    _write(root, "gamma-1", RunResult(RunStatus.GPU_UNAVAILABLE, competition=g, diagnosis=GPU_FAULT), seed=1)
    invalid = ValidationReport(False, ("submission.csv has 3 rows, the answers 10",), 3, "submission.csv")
    gate = Gate("submission-valid", False, "submission.csv is not a valid submission: it has 3 rows")
    _write(
        root,
        "gamma-2",
        RunResult(RunStatus.FAILED, competition=g, metric=AUC, folds=_folds(0.5, 0.7), validation=invalid,
                  submission="submission.csv", gates=(gate,)),
        seed=2,
    )  # fmt: skip
    corrupt = root / "gamma-3"
    corrupt.mkdir()
    (corrupt / "result.json").write_text('{"schema_version": 1, "status": ')


@pytest.fixture
def matrix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    build_matrix(tmp_path / "artifacts")
    return tmp_path


def _aggregate(matrix: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["aggregate", "artifacts", "--expect", "10", "--output-dir", "out", *args])
    return code, json.loads((matrix / "out" / "aggregate.json").read_text())


def test_mean_sd_and_sem_are_the_sample_statistics() -> None:
    """SEM is the sample standard deviation (n - 1) over √n; one value has no spread."""
    stats = mean_sem([0.0, 50.0, 100.0])
    assert stats.mean == 50.0
    assert stats.spread == pytest.approx(50.0 / math.sqrt(3))
    assert mean_sd([1.0, 3.0]).spread == pytest.approx(math.sqrt(2))
    assert mean_sem([42.0]).spread is None
    assert mean_sd([]).mean is None


def test_matrix_totals_use_mle_bench_field_names_and_count_every_failure(matrix: Path) -> None:
    """9 result.json found, 10 expected: the missing run and the corrupt file are failed rows; exit 1."""
    code, report = _aggregate(matrix)
    assert code == 1
    assert report["total_runs"] == 10
    assert report["found_runs"] == 9
    assert report["missing_runs"] == 1
    assert report["failed_runs"] == 6  # timeout, crash, GPU check, invalid submission, corrupt, missing
    assert report["total_valid_submissions"] == 5
    assert report["valid_submission_rate"] == pytest.approx(50.0)
    assert report["total_runs_with_submissions"] == 6  # the five valid ones and the invalid one
    assert (report["total_gold_medals"], report["total_silver_medals"], report["total_bronze_medals"]) == (1, 1, 1)
    assert report["total_medals"] == 3
    assert report["total_above_median"] == 3
    assert len(report["competition_reports"]) == 10


def test_any_medal_percentage_is_mean_and_sem_over_seeds(matrix: Path) -> None:
    """Seed 1: 1 of 3 competitions medalled, seed 2: 2 of 3, seed 3: none → 33.3 % ± 19.2 %."""
    _, report = _aggregate(matrix)
    medal = report["any_medal_percentage"]
    assert medal["per_seed"] == pytest.approx({"1": 100 / 3, "2": 200 / 3, "3": 0.0})
    assert medal["n"] == 3
    assert medal["mean"] == pytest.approx(100 / 3)
    # sample sd of (33.3, 66.7, 0) is 33.3; over √3
    assert medal["sem"] == pytest.approx((100 / 3) / math.sqrt(3))


def test_per_competition_rows_hold_cv_mean_std_graded_mean_and_medals(matrix: Path) -> None:
    """alpha: CV scores 0.85, 0.8, 0.6 → 0.75 ± 0.1323; graded 0.95, 0.9, 0.7 → 0.85; one gold, one silver."""
    _, report = _aggregate(matrix)
    rows = {c["competition_id"]: c for c in report["competitions"]}
    assert set(rows) == {"alpha", "beta", "gamma"}
    alpha = rows["alpha"]
    assert alpha["cv_score"]["mean"] == pytest.approx(0.75)
    assert alpha["cv_score"]["std"] == pytest.approx(math.sqrt(0.0175))
    assert alpha["graded_score"]["mean"] == pytest.approx(0.85)
    assert (alpha["gold_medals"], alpha["silver_medals"], alpha["bronze_medals"]) == (1, 1, 0)
    assert alpha["seeds"] == [1, 2, 3]
    assert alpha["failed_runs"] == 1
    beta = rows["beta"]
    assert beta["is_lower_better"] is True
    assert beta["cv_score"]["mean"] == pytest.approx(1.25)  # crashed run has no CV score
    assert beta["bronze_medals"] == 1


def test_gpu_hours_and_api_cost(matrix: Path) -> None:
    """30 min on 2 GPUs plus 1 h on 1 GPU is 2 GPU-hours; costs 0.5 + 1.25 dollars."""
    _, report = _aggregate(matrix)
    assert report["gpu_hours"] == pytest.approx(2.0)
    assert report["cost_usd"] == pytest.approx(1.75)


def test_seeds_come_from_result_json_else_from_start_order(matrix: Path) -> None:
    """beta has no recorded seeds: its runs are numbered by start time, not by folder name."""
    _, report = _aggregate(matrix)
    beta = {
        r["source"].split("/")[-1]: r["seed"] for r in report["competition_reports"] if r["competition_id"] == "beta"
    }
    assert beta == {"beta-z": 1, "beta-y": 2, "beta-x": 3}


def test_every_failure_is_a_row_with_its_reason(matrix: Path) -> None:
    """Timeout, crash, GPU check, invalid submission, corrupt file and the missing run each say why."""
    _, report = _aggregate(matrix)
    failed = {r["source"].split("/")[-1]: r for r in report["competition_reports"] if r["failed"]}
    assert set(failed) == {"alpha-3", "beta-x", "gamma-1", "gamma-2", "gamma-3", "missing-1"}
    assert failed["alpha-3"]["reason"].startswith("timeout")
    assert failed["beta-x"]["reason"] == "crashed: the command exited with code 1"
    assert failed["gamma-1"]["reason"] == "gpu-unavailable: the container has no GPU"
    assert "not a valid submission" in failed["gamma-2"]["reason"]
    assert failed["gamma-3"]["status"] == "unreadable"
    assert "not valid JSON" in failed["gamma-3"]["reason"]
    assert failed["missing-1"]["status"] == "missing"
    assert "10 runs were expected, 9 result.json found" in failed["missing-1"]["reason"]


def test_combined_junit_has_a_suite_per_run(matrix: Path) -> None:
    """junitparser reads one suite per run (missing ones too); failed runs carry a failure or an error."""
    _aggregate(matrix)
    xml = JUnitXml.fromfile(str(matrix / "out" / "junit.xml"))
    suites = {suite.name: suite for suite in xml}
    assert len(suites) == 10
    assert {"alpha-seed-1", "beta-seed-3", "gamma-seed-2", "missing-1"} <= set(suites)
    assert suites["alpha-seed-1"].failures == 0
    assert suites["alpha-seed-1"].errors == 0
    assert [case.name for case in suites["alpha-seed-1"]] == ["fold-1", "fold-2", "submission-valid"]

    def bad(name: str) -> list[object]:
        return [r for case in suites[name] for r in case.result if isinstance(r, Error | Failure)]

    for name in ("alpha-seed-3", "beta-seed-3", "gamma-seed-1", "gamma-seed-2", "missing-1"):
        assert bad(name), name
    corrupt = next(name for name in suites if name.endswith("gamma-3"))
    assert bad(corrupt)
    assert xml.errors + xml.failures >= 6


def test_leaderboard_markdown_lists_every_run_and_the_failures(matrix: Path) -> None:
    """The summary has the headline, a row per competition and per run, and the failed runs with reasons."""
    _aggregate(matrix)
    text = (matrix / "out" / "leaderboard.md").read_text()
    assert text.startswith("## ❌ Leaderboard: 10 runs, 6 failed · any medal 33.3 ± 19.2 % over 3 seeds")
    assert "| alpha | auc (higher is better) | 3 | 1 | 0.75 ± 0.13 | 0.85 | 1 | 1 | 0 | 3/3 |" in text
    runs = text.split("### Runs", 1)[1].split("###", 1)[0]
    assert len([line for line in runs.splitlines() if line.startswith("| ") and "---" not in line]) == 11
    assert "### ❌ Failed runs" in text
    assert "never uploaded" in text


def test_all_passing_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every run succeeded with a valid submission and all were found: exit 0, status passed."""
    monkeypatch.chdir(tmp_path)
    for seed in (1, 2):
        result = RunResult(RunStatus.SUCCESS, competition="alpha", metric=AUC, folds=_folds(0.9), validation=_valid())
        _write(tmp_path / "a", f"run-{seed}", result, seed=seed)
    assert main(["aggregate", "a", "--expect", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## ✅ Leaderboard: 2 runs, none failed")
    assert (tmp_path / "mle-ci-aggregate" / "aggregate.json").exists()


def test_json_flag_prints_the_report(matrix: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints aggregate.json itself."""
    code, _ = _aggregate(matrix, "--json")
    assert code == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed["total_runs"] == 10
    assert printed["competition_reports"][0]["competition_id"] == "alpha"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["aggregate"], "name at least one folder"),
        (["aggregate", "empty"], "no result.json found under empty"),
        (["aggregate", "nowhere"], "'nowhere' does not exist"),
        (["aggregate", "empty", "--expect", "0"], "--expect: must be at least 1"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """No folders, nothing found without --expect, a folder that does not exist: exit 2, nothing written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "mle-ci-aggregate").exists()


def test_nothing_found_with_expect_is_all_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No job uploaded anything but 3 were expected: three failed rows, exit 1."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["aggregate", "empty", "--expect", "3"]) == 1
    report = json.loads((tmp_path / "mle-ci-aggregate" / "aggregate.json").read_text())
    assert report["total_runs"] == 3
    assert report["missing_runs"] == 3
    assert report["valid_submission_rate"] == 0.0


def test_in_github_actions_summary_outputs_and_annotations(
    matrix: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The leaderboard goes to the step summary, the figures to GITHUB_OUTPUT, each failed run to an error."""
    summary, outputs = matrix / "summary.md", matrix / "outputs.txt"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code, _ = _aggregate(matrix)
    assert code == 1
    assert summary.read_text().startswith("## ❌ Leaderboard")
    written = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert written["status"] == "failed"
    assert written["runs"] == "10"
    assert written["failed-runs"] == "6"
    assert written["missing-runs"] == "1"
    assert float(written["any-medal-mean"]) == pytest.approx(100 / 3)
    assert float(written["gpu-hours"]) == pytest.approx(2.0)
    assert written["aggregate"].endswith("aggregate.json")
    stdout = capsys.readouterr().out
    errors = [line for line in stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 6
    assert any("title=Run failed%3A beta-seed-3::crashed" in line for line in errors)
    assert any(line.startswith("::notice title=Leaderboard::10 runs, 6 failed") for line in stdout.splitlines())


def test_more_found_than_expected_is_noted() -> None:
    """Three runs found but two expected: a note, and nothing counted as missing."""
    runs = [
        LoadedRun(f"r{i}", RunResult(RunStatus.SUCCESS, competition="alpha", validation=_valid())) for i in range(3)
    ]
    board = build_leaderboard(runs, expect=2)
    assert board.overall.missing_runs == 0
    assert board.notes == ("3 result.json found but only 2 runs were expected",)
    assert board.passed


GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", ["aggregate_leaderboard.md", "aggregate_junit.xml"])
def test_matrix_renders_as_its_golden_file(matrix: Path, name: str) -> None:
    """The leaderboard and the combined JUnit of the matrix, as reviewed (``UPDATE_GOLDEN=1`` rewrites them)."""
    _aggregate(matrix)
    produced = (matrix / "out" / ("leaderboard.md" if name.endswith(".md") else "junit.xml")).read_text()
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(produced)
    assert produced == golden.read_text()


def test_runs_of_the_real_harness_aggregate_with_their_recorded_seeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `mle-ci run`s on a demo (seeds 7 and 3 via MLE_CI_SEED), one valid submission and one none: 1 failed."""
    monkeypatch.chdir(tmp_path)
    copy_sample = (
        "import os, shutil; shutil.copy(os.path.join(os.environ['MLE_CI_DATA_DIR'], 'sample_submission.csv'), "
        "os.path.join(os.environ['SUBMISSION_DIR'], 'submission.csv')); print('Fold 1/1 complete: Score=0.9')"
    )
    for seed, code in (("7", copy_sample), ("3", "print('Fold 1/1 complete: Score=0.8')")):
        monkeypatch.setenv("MLE_CI_SEED", seed)
        args = ["run", "--competition", "breast-cancer", "--cache-dir", "cache", "--output-dir", f"artifacts/s{seed}"]
        main([*args, "--", sys.executable, "-c", code])
    monkeypatch.delenv("MLE_CI_SEED")
    assert main(["aggregate", "artifacts", "--expect", "2"]) == 1
    report = json.loads((tmp_path / "mle-ci-aggregate" / "aggregate.json").read_text())
    runs = {r["seed"]: r for r in report["competition_reports"]}
    assert set(runs) == {3, 7}
    assert runs[7]["competition_id"] == "breast-cancer"
    assert runs[7]["failed"] is False
    assert runs[7]["valid_submission"] is True
    assert runs[7]["score"] is not None  # graded against the demo's answers
    assert runs[3]["failed"] is True
    assert runs[3]["submission_exists"] is False
    assert report["total_valid_submissions"] == 1


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=2, max_size=20))
def test_sem_is_statistics_stdev_over_root_n(values: list[float]) -> None:
    """For any percentages: SEM = statistics.stdev / √n and the mean is statistics.fmean."""
    stats = mean_sem(values)
    assert stats.mean == pytest.approx(statistics.fmean(values), abs=1e-9)
    assert stats.spread == pytest.approx(statistics.stdev(values) / math.sqrt(len(values)), abs=1e-9)


def test_two_runs_recording_one_seed_are_noted() -> None:
    """A re-run that records the same seed is kept as a row and named in the notes."""
    raw = {"seed": 1}
    runs = [
        LoadedRun(f"r{i}", RunResult(RunStatus.SUCCESS, competition="alpha", validation=_valid()), raw) for i in (1, 2)
    ]
    board = build_leaderboard(runs)
    assert [r.seed for r in board.runs] == [1, 1]
    assert board.notes == ("alpha: 2 runs record seed 1; a medal in any of them counts for that seed",)
