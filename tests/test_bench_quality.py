"""The quality benchmark's pure parts: the split-seed ranges it accepts and the robustness table it prints."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
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


def test_averages_compare_the_means_with_each_reference_and_count_head_to_head_wins() -> None:
    def row(score: float | None, hgb: float, lin: float, *, higher: bool = True) -> bq.Row:
        return bq.Row("d", "auc", higher, score, 5.0, {"HGB": (hgb, 0.1), "lin": (lin, 0.1)}, 0)

    # the better reference differs per split: the agent misses the per-split goal twice, yet beats both on average
    rows = {1: [row(0.95, 0.96, 0.90)], 2: [row(0.95, 0.90, 0.96)], 3: [row(0.99, 0.91, 0.92)]}
    (summary,) = bq.averages(rows)
    assert summary.mean == pytest.approx(0.96333, abs=1e-5)
    assert summary.ref_means == pytest.approx({"HGB": 0.92333, "lin": 0.92667}, abs=1e-5)
    assert summary.wins == {"HGB": 2, "lin": 2}
    assert summary.best_name == "lin"
    assert summary.met
    assert sum(r.met for rs in rows.values() for r in rs) == 1
    line = bq.averages_table([summary]).splitlines()[2]
    assert "0.96333" in line and "HGB 0.92333 · lin 0.92667" in line and "HGB 2/3 · lin 2/3" in line
    assert line.endswith("at least as good as each")

    # lower is better; a split without a graded submission loses its head-to-heads and voids the mean
    rows = {1: [row(50.0, 55.0, 49.0, higher=False)], 2: [row(None, 55.0, 52.0, higher=False)]}
    (summary,) = bq.averages(rows)
    assert summary.mean is None
    assert summary.wins == {"HGB": 1, "lin": 0}
    assert summary.best_name == "lin"
    assert not summary.met
    assert bq.averages_table([summary]).splitlines()[2].endswith("WORSE than lin")


def test_the_paired_bootstrap_is_signed_for_the_agent_in_either_direction() -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 120)
    noisy = np.clip(truth + rng.normal(0, 0.6, 120), 0, 1)
    sharp = np.clip(truth + rng.normal(0, 0.2, 120), 0, 1)
    same = bq.paired_bootstrap("auc", True, truth, noisy, noisy, resamples=200)
    assert (same.low, same.high, same.at_least, same.resamples) == (0.0, 0.0, 1.0, 200)
    better = bq.paired_bootstrap("auc", True, truth, sharp, noisy, resamples=200)
    worse = bq.paired_bootstrap("auc", True, truth, noisy, sharp, resamples=200)
    assert 0 < better.low < better.high and better.at_least == 1.0
    assert worse.low < worse.high < 0 and worse.at_least == 0.0
    assert (worse.low, worse.high) == pytest.approx((-better.high, -better.low))
    # lower is better: closer values are the agent's gain, and the difference is still positive for it
    values = rng.normal(50, 10, 80)
    close = bq.paired_bootstrap("rmse", False, values, values + rng.normal(0, 1, 80), values + 5, resamples=200)
    assert close.low > 3 and close.at_least == 1.0


def test_a_resample_where_the_metric_is_undefined_is_drawn_again() -> None:
    truth = np.array([0] * 29 + [1])  # many resamples hold no positive row: AUC is undefined there
    scores = np.linspace(0, 1, 30)
    paired = bq.paired_bootstrap("auc", True, truth, scores, scores[::-1], resamples=50)
    assert paired.resamples == 50
    with pytest.raises(ValueError, match="every resample"):
        bq.paired_bootstrap("auc", True, [0, 0], [0.1, 0.2], [0.2, 0.1], resamples=5)


def test_the_quality_table_shows_the_interval_only_where_it_was_measured() -> None:
    plain = _row("demo", 0.99, 0.98)
    resampled = dataclasses.replace(plain, paired=bq.Paired(-0.0021, 0.0015, 0.41, 2000))
    lines = bq.quality_table([resampled, plain]).splitlines()
    assert lines[0].endswith("vs best ref: 95% interval, share >= 0")
    assert lines[2].endswith("-0.00210 .. +0.00150, 41%")
    assert lines[3].endswith("-")
    assert "interval" not in bq.quality_table([plain])


def test_the_command_line_refuses_a_bad_seed_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        bq.main(["--split-seeds", "one-two"])
    assert exited.value.code == 2
    assert "--split-seeds wants a range" in capsys.readouterr().err
