"""docs/mle-bench.md's two tables of the lite split: the layouts (one row per competition, with its data, metric,
files and row matching) and the benchmark (one row per measured competition), each row in its own table's shape."""

from __future__ import annotations

import sys

from helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from lite_baseline import HEADER  # the benchmark writes the table this page holds

from mle_ci.competitions.lite import LITE_SPLIT

DOC = ROOT / "docs" / "mle-bench.md"


def _table(header: str) -> list[list[str]]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_the_layout_table_has_each_lite_competition_once_in_its_own_shape() -> None:
    rows = _table("| competition | data | metric (direction) | sample submission | answers | how rows are matched |")
    assert [row[0] for row in rows] == sorted(LITE_SPLIT)
    assert all(len(row) == 6 for row in rows)
    assert all(row[3].startswith("`") and row[4].startswith("`private/") for row in rows)


def test_the_benchmark_table_rows_have_the_benchmarks_columns() -> None:
    rows = _table("| " + " | ".join(HEADER) + " |")
    assert {row[0] for row in rows} >= set(LITE_SPLIT)
    assert all(len(row) == len(HEADER) == 12 for row in rows)
