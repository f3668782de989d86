"""Golden files: the summary and JUnit of representative runs, kept in ``tests/golden`` for review."""

# Regenerate with `UPDATE_GOLDEN=1 pytest tests/test_report_golden.py`, then read the diff before committing.

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from junitparser import JUnitXml

from mle_ci.report.junit import render_junit
from mle_ci.report.summary import render_summary
from mle_ci.result import RunResult
from mle_ci.resultparts import CrashSite, EpochRecord, FoldResult, FoldStatus, Gate, Metric, RunStatus

GOLDEN = Path(__file__).parent / "golden"
STARTED = 1714564800.0  # 2024-05-01 12:00:00 UTC
WS = "/github/workspace"


def _curve(fold: int, epochs: int, start: float, step: float) -> tuple[EpochRecord, ...]:
    return tuple(
        EpochRecord(
            epoch=e,
            fold=fold,
            total_epochs=epochs,
            loss=round(0.9 - 0.1 * e + 0.01 * fold, 4),
            val_score=round(start + step * e, 4),
            seconds=12.0,
        )
        for e in range(1, epochs + 1)
    )


def success_five_folds() -> RunResult:
    scores = (0.6871, 0.7012, 0.6954, 0.6723, 0.6902)
    return RunResult(
        status=RunStatus.SUCCESS,
        command=("python", "train.py", "--folds", "5"),
        started_at=STARTED,
        finished_at=STARTED + 512.3,
        duration_s=512.3,
        timeout_s=3600.0,
        child_exit_code=0,
        competition="spaceship-titanic",
        metric=Metric("auc", higher_is_better=True),
        folds=tuple(
            FoldResult(i, FoldStatus.COMPLETED, score=s, best_epoch=4, epochs=5, seconds=100.0 + i)
            for i, s in enumerate(scores, start=1)
        ),
        total_folds=5,
        epochs=tuple(r for i in range(1, 6) for r in _curve(i, 5, 0.60 + 0.002 * i, 0.018)),
        min_score=0.65,
        submission="mle-ci-results/submission.csv",
        gates=(Gate("min-score", True, "CV score 0.68924 meets min-score 0.65 (higher is better)"),),
        log_tail=(
            "Fold 4/5 complete: Score=0.6723",
            "Epoch 5/5: Loss=0.46, Val_Score=0.6902 (12s)",
            "Fold 5/5 complete: Score=0.6902",
            "Wrote submission.csv (4277 rows)",
        ),
    )


def crash_mid_fold() -> RunResult:
    tail = (
        "Epoch 2/5: Loss=0.72, Val_Score=0.6410 (12s)",
        "Traceback (most recent call last):",
        f'  File "{WS}/train.py", line 88, in <module>',
        "    main()",
        f'  File "{WS}/src/model.py", line 42, in forward',
        "    return self.head(x)",
        "RuntimeError: mat1 and mat2 shapes cannot be multiplied (64x128 and 256x1)",
    )
    return RunResult(
        status=RunStatus.CRASHED,
        command=("python", "train.py"),
        started_at=STARTED,
        finished_at=STARTED + 241.0,
        duration_s=241.0,
        timeout_s=3600.0,
        child_exit_code=1,
        competition="spaceship-titanic",
        metric=Metric("auc"),
        folds=(
            FoldResult(1, FoldStatus.COMPLETED, score=0.6871, best_epoch=4, epochs=5, seconds=101.0),
            FoldResult(2, FoldStatus.COMPLETED, score=0.7012, best_epoch=5, epochs=5, seconds=99.5, early_stopped=True),
            FoldResult(3, FoldStatus.INCOMPLETE, epochs=2, seconds=None),
            FoldResult(4, FoldStatus.NOT_REACHED),
            FoldResult(5, FoldStatus.NOT_REACHED),
        ),
        total_folds=5,
        epochs=(*_curve(1, 5, 0.60, 0.018), *_curve(2, 5, 0.61, 0.018), *_curve(3, 2, 0.62, 0.01)),
        last_score=0.641,
        crash=CrashSite(
            "src/model.py", 42, "forward", "RuntimeError: mat1 and mat2 shapes cannot be multiplied (64x128 and 256x1)"
        ),
        errors=("the command exited with code 1",),
        log_tail=tail,
    )


def timeout() -> RunResult:
    return RunResult(
        status=RunStatus.TIMEOUT,
        command=("python", "train.py", "--epochs", "10"),
        started_at=STARTED,
        finished_at=STARTED + 1835.0,
        duration_s=1835.0,
        timeout_s=1800.0,
        child_signal="SIGTERM",
        competition="denoising-dirty-documents",
        metric=Metric("rmse", higher_is_better=False),
        folds=(
            FoldResult(1, FoldStatus.COMPLETED, score=0.0412, best_epoch=9, epochs=10, seconds=1210.0),
            FoldResult(2, FoldStatus.INCOMPLETE, epochs=7),
            FoldResult(3, FoldStatus.NOT_REACHED),
        ),
        total_folds=3,
        epochs=(
            *(EpochRecord(epoch=e, fold=1, total_epochs=10, loss=round(0.1 - 0.006 * e, 4)) for e in range(1, 11)),
            *(EpochRecord(epoch=e, fold=2, total_epochs=10, loss=round(0.1 - 0.005 * e, 4)) for e in range(1, 8)),
        ),
        last_score=0.0455,
        warnings=("GPU utilisation averaged 7% (idle most of the run)",),
        log_tail=("Epoch 7/10: Loss=0.065 (88s)", "mle-ci: time budget of 30m reached, sending SIGTERM"),
    )


def no_folds() -> RunResult:
    return RunResult(
        status=RunStatus.FAILED,
        command=("python", "fit.py"),
        started_at=STARTED,
        finished_at=STARTED + 42.5,
        duration_s=42.5,
        child_exit_code=0,
        metric=Metric("accuracy"),
        epochs=tuple(EpochRecord(epoch=e, total_epochs=4, loss=round(1.2 / e, 4)) for e in range(1, 5)),
        reported_score=0.61,
        min_score=0.65,
        gates=(Gate("min-score", False, "score 0.61 is below min-score 0.65 (higher is better)"),),
        log_tail=("Epoch 4/4: Loss=0.3", "accuracy | 0.61 <- not good enough"),
    )


SAMPLES: dict[str, Callable[[], RunResult]] = {
    "success_five_folds": success_five_folds,
    "crash_mid_fold": crash_mid_fold,
    "timeout": timeout,
    "no_folds": no_folds,
}
RENDERERS: dict[str, Callable[[RunResult], str]] = {"md": render_summary, "junit.xml": render_junit}


@pytest.mark.parametrize("suffix", sorted(RENDERERS))
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_rendering_matches_the_golden_file(name: str, suffix: str) -> None:
    """Each sample run renders exactly as its reviewed golden file (``UPDATE_GOLDEN=1`` rewrites them)."""
    rendered = RENDERERS[suffix](SAMPLES[name]())
    path = GOLDEN / f"{name}.{suffix}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == rendered


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_golden_junit_parses_with_time_everywhere(name: str) -> None:
    """The golden JUnit files are valid for junitparser and carry ``time`` on every case."""
    xml = (GOLDEN / f"{name}.junit.xml").read_text(encoding="utf-8")
    assert len(list(JUnitXml.fromstring(xml))) == 1
    root = ET.fromstring(xml)
    elements = [root, *root.iter("testsuite"), *root.iter("testcase")]
    assert all(e.get("time") is not None for e in elements)


def test_golden_counts() -> None:
    """The samples give the expected tests/failures/errors/skipped counts."""
    expected = {
        "success_five_folds": (5, 0, 0, 0),
        "crash_mid_fold": (6, 0, 2, 2),
        "timeout": (4, 0, 2, 1),
        "no_folds": (1, 1, 0, 0),
    }
    for name, counts in expected.items():
        (suite,) = list(JUnitXml.fromstring(render_junit(SAMPLES[name]())))
        assert (suite.tests, suite.failures, suite.errors, suite.skipped) == counts, name
