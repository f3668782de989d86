"""Small competitions in MLE-bench's prepared layout, written by tests into a temporary data directory."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import yaml


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """A CSV file with this header and rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_competition(
    data_dir: Path,
    competition_id: str = "toy",
    *,
    targets: Sequence[str] = ("label",),
    answers: Sequence[Sequence[object]] = (("1", "a"), ("2", "b"), ("3", "a"), ("4", "c")),
    neutral: Sequence[object] | None = None,
    leaderboard: Sequence[object] | None = None,
    config: dict[str, object] | None = None,
    with_answers: bool = True,
) -> Path:
    """Write ``<data_dir>/<id>/prepared`` (sample submission, answers, leaderboard, competition.yaml)."""
    folder = data_dir / competition_id
    prepared = folder / "prepared"
    header = ["id", *targets]
    fill = list(neutral) if neutral is not None else ["0"] * len(targets)
    write_rows(prepared / "public" / "sample_submission.csv", header, [[row[0], *fill] for row in answers])
    (prepared / "public" / "description.md").write_text(f"# The {competition_id} competition\n\nText.\n")
    if with_answers:
        write_rows(prepared / "private" / "test.csv", header, answers)
    if leaderboard is not None:
        write_rows(
            prepared / "private" / "leaderboard.csv",
            ["teamName", "score"],
            [[f"t{i}", s] for i, s in enumerate(leaderboard)],
        )
    if config is not None:
        (folder / "competition.yaml").write_text(yaml.safe_dump(config))
    return folder
