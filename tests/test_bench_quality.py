"""The quality benchmark's pure parts: the split-seed ranges it accepts and the robustness table it prints."""

from __future__ import annotations

import sys

import pytest
from helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
pytest.importorskip("sklearn")

import baseline_quality as bq


def _row(name: str, score: float | None, best: float, *, higher: bool = True) -> bq.Row:
    worse = 0.5 if higher else 1000.0
    return bq.Row(name, "auc" if higher else "rmse", higher, score, 5.0, {"HGB": (best, 0.1), "lin": (worse, 0.1)}, 0)


def test_seed_ranges_and_lists_mix() -> None:
    assert bq.seed_range("1-4") == [1, 2, 3, 4]
    assert bq.seed_range("1-3,9,12-13") == [1, 2, 3, 9, 12, 13]
    assert bq.seed_range("7") == [7]


@pytest.mark.parametrize("text", ["", ",", "a-b", "1-x"])
def test_bad_seed_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        bq.seed_range(text)


def test_robustness_table_counts_verdicts_and_names_the_missed_seeds() -> None:
    rows = {
        1: [_row("auc-demo", 0.99, 0.98), _row("rmse-demo", 50.0, 52.0, higher=False)],
        2: [_row("auc-demo", 0.97, 0.98), _row("rmse-demo", 53.0, 52.0, higher=False)],
        3: [_row("auc-demo", None, 0.98), _row("rmse-demo", 52.0, 52.0, higher=False)],
    }
    lines = bq.robustness_table(rows).splitlines()
    auc = next(line for line in lines if line.startswith("auc-demo")).split()
    rmse = next(line for line in lines if line.startswith("rmse-demo")).split()
    # met, median gap (positive = the agent is better), worst gap, the seeds missed
    assert auc[1:] == ["1/3", "+0.01000", "-0.01000", "2", "3"]
    assert rmse[1:] == ["2/3", "+0.00000", "-1.00000", "2"]


def test_the_command_line_refuses_a_bad_seed_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        bq.main(["--split-seeds", "one-two"])
    assert exited.value.code == 2
    assert "--split-seeds wants a range" in capsys.readouterr().err
