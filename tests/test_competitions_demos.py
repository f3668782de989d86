"""Embedded demos: deterministic builds, readable PNGs, valid samples, reachable medals, safe concurrent builds."""

from __future__ import annotations

import csv
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mle_ci.competitions.cache import MARKER, ensure_built, is_built
from mle_ci.competitions.demos import (
    DEMO_FORMAT_VERSION,
    DEMO_SPECS,
    build_demo,
    demo_competition,
    demo_folder,
    demo_split,
    is_demo_built,
)
from mle_ci.competitions.grade import grade_submission, read_leaderboard, thresholds
from mle_ci.competitions.model import Competition, CompetitionError
from mle_ci.competitions.png import grayscale_png
from mle_ci.competitions.validate import validate_submission

DEMOS = sorted(DEMO_SPECS)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache with every demo built once."""
    cache = tmp_path_factory.mktemp("cache")
    for competition_id in DEMOS:
        assert not is_demo_built(competition_id, cache)
        demo_competition(competition_id, cache)
    return cache


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_digits_png_is_the_default_and_every_demo_is_listed() -> None:
    """Four demos, each with a metric and direction; digits-png is an image competition."""
    assert DEMOS == ["breast-cancer", "diabetes", "digits-png", "wine-classes"]
    assert DEMO_SPECS["digits-png"].kind == "image"
    assert [DEMO_SPECS[d].metric for d in DEMOS] == ["auc", "rmse", "accuracy", "log_loss"]


@pytest.mark.parametrize("competition_id", DEMOS)
def test_the_layout_is_mle_bench_prepared(cache_dir: Path, competition_id: str) -> None:
    """public/{train,test,sample_submission}.csv and description.md; private/{test,leaderboard}.csv; the marker."""
    competition = demo_competition(competition_id, cache_dir)
    assert competition.root == cache_dir / "competitions" / competition_id / "prepared"
    assert competition.embedded
    for name in ("train.csv", "test.csv", "sample_submission.csv", "description.md"):
        assert (competition.public / name).is_file()
    assert competition.answers == competition.root / "private" / "test.csv"
    assert competition.leaderboard == competition.root / "private" / "leaderboard.csv"
    assert is_demo_built(competition_id, cache_dir)
    assert (demo_folder(competition_id, cache_dir) / MARKER).is_file()
    spec = competition.spec
    assert list(read(competition.public / "test.csv")[0])[:1] == ["id"]
    assert spec.target_columns[0] not in read(competition.public / "test.csv")[0]
    description = (competition.public / "description.md").read_text()
    assert spec.metric is not None
    assert spec.metric in description
    assert ("higher is better" if spec.higher_is_better else "lower is better") in description


@pytest.mark.parametrize("competition_id", DEMOS)
def test_builds_are_the_same_bytes_twice(cache_dir: Path, tmp_path: Path, competition_id: str) -> None:
    """A second build from scratch writes exactly the same files."""
    build_demo(competition_id, tmp_path / "again")
    assert files(tmp_path / "again" / "prepared") == files(demo_folder(competition_id, cache_dir) / "prepared")


@pytest.mark.parametrize("competition_id", DEMOS)
def test_the_sample_submission_is_valid_and_wins_nothing(cache_dir: Path, competition_id: str) -> None:
    """The neutral sample submission validates and grades below every medal."""
    competition = demo_competition(competition_id, cache_dir)
    assert validate_submission(competition.sample_submission, competition).valid
    report = grade_submission(competition.sample_submission, competition)
    assert report.valid_submission
    assert not report.any_medal
    assert not report.above_median


@pytest.mark.parametrize("competition_id", DEMOS)
def test_the_answers_themselves_take_gold(cache_dir: Path, competition_id: str) -> None:
    """A perfect submission (the private answers) gets a gold medal."""
    competition = demo_competition(competition_id, cache_dir)
    assert competition.answers is not None
    report = grade_submission(competition.answers, competition)
    assert (report.valid_submission, report.gold_medal) == (True, True)


@pytest.mark.parametrize(
    ("competition_id", "teams"), [("digits-png", 200), ("breast-cancer", 150), ("wine-classes", 120), ("diabetes", 300)]
)
def test_leaderboards_run_best_first_in_the_metrics_direction(cache_dir: Path, competition_id: str, teams: int) -> None:
    """The synthetic leaderboard has its teams, best first, and medals spread over distinct scores."""
    competition = demo_competition(competition_id, cache_dir)
    assert competition.leaderboard is not None
    scores = read_leaderboard(competition.leaderboard)
    assert len(scores) == teams
    higher = competition.spec.higher_is_better
    assert scores == sorted(scores, reverse=higher)
    limits = thresholds(scores)
    assert limits.is_lower_better == (not higher)
    assert len({limits.gold, limits.silver, limits.bronze, limits.median}) == 4


def test_split_matches_the_files(cache_dir: Path) -> None:
    """``demo_split`` gives the files' ids, labels and pixels; 75/25 stratified by class."""
    split = demo_split("digits-png")
    competition = demo_competition("digits-png", cache_dir)
    train = read(competition.public / "train.csv")
    assert tuple(r["id"] for r in train) == split.train_ids
    assert [int(r["label"]) for r in train] == split.y_train.tolist()
    assert tuple(r["id"] for r in read(competition.public / "test.csv")) == split.test_ids
    answers = read(competition.root / "private" / "test.csv")
    assert [int(r["label"]) for r in answers] == split.y_test.tolist()
    assert len(split.test_ids) + len(split.train_ids) == 1797
    assert abs(len(split.test_ids) / 1797 - 0.25) < 0.01
    for label in range(10):
        share = np.mean(split.y_test == label) / np.mean(split.y_train == label)
        assert 0.9 < share < 1.1


def test_pngs_open_with_pillow(cache_dir: Path) -> None:
    """Every image is an 8x8 grayscale PNG holding the split's pixels (0..255)."""
    split = demo_split("digits-png")
    images = demo_competition("digits-png", cache_dir).public / "images"
    assert len(list(images.glob("*.png"))) == 1797
    for id_, pixels in list(zip(split.test_ids, split.x_test, strict=True))[:20]:
        with Image.open(images / f"{id_}.png") as image:
            assert (image.format, image.mode, image.size) == ("PNG", "L", (8, 8))
            assert np.array_equal(np.asarray(image), pixels.reshape(8, 8))
    assert split.x_train.max() == 255


def test_png_refuses_what_is_not_a_grayscale_image() -> None:
    """Only a non-empty 2-d uint8 array is a grayscale image."""
    with pytest.raises(ValueError, match="2-d uint8"):
        grayscale_png(np.zeros((2, 2, 3), dtype=np.uint8))
    assert grayscale_png(np.full((1, 3), 7, dtype=np.uint8)).startswith(b"\x89PNG")


def test_an_unknown_demo_is_named(tmp_path: Path) -> None:
    """Asking for a demo that does not exist lists the ones that do."""
    with pytest.raises(CompetitionError, match="'nope' is not an embedded competition"):
        demo_competition("nope", tmp_path)


def _count_builds(calls: list[int]) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        calls.append(1)
        time.sleep(0.2)
        (folder / "data.txt").write_text("whole")

    return build


def test_concurrent_builders_build_once(tmp_path: Path) -> None:
    """Two builders at once: one builds, the other waits and finds the finished folder."""
    calls: list[int] = []
    folder = tmp_path / "competitions" / "x"
    threads = [threading.Thread(target=ensure_built, args=(folder, 1, _count_builds(calls), {})) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert (folder / "data.txt").read_text() == "whole"
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".x.tmp")] == []


def test_a_new_format_version_rebuilds_and_leftovers_go(tmp_path: Path) -> None:
    """A folder of an older format is replaced; the temporary folder of a killed build is removed."""
    folder = tmp_path / "x"
    calls: list[int] = []
    assert ensure_built(folder, 1, _count_builds(calls), {})
    assert not ensure_built(folder, 1, _count_builds(calls), {})
    (tmp_path / ".x.tmp-killed").mkdir()
    assert ensure_built(folder, 2, _count_builds(calls), {"note": "v2"})
    assert is_built(folder, 2) and not is_built(folder, 1)
    assert calls == [1, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.lock", "x"]


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    """A builder that raises leaves no folder and no temporary folder."""

    def broken(folder: Path) -> None:
        (folder / "half").write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        ensure_built(tmp_path / "x", 1, broken, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.lock"]


BUILD = """
import sys
from pathlib import Path
from mle_ci.competitions.demos import demo_competition
demo_competition("wine-classes", Path(sys.argv[1]))
"""


def test_two_processes_building_at_once_end_with_one_valid_folder(tmp_path: Path, cache_dir: Path) -> None:
    """Two processes build the same demo into one cache: one whole folder, identical to a single build."""
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", BUILD, str(cache)]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    folder = demo_folder("wine-classes", cache)
    assert is_built(folder, DEMO_FORMAT_VERSION)
    assert files(folder) == files(demo_folder("wine-classes", cache_dir))
    assert sorted(p.name for p in folder.parent.iterdir()) == [".wine-classes.lock", "wine-classes"]


def test_a_built_demo_is_used_as_it_is(cache_dir: Path) -> None:
    """A second request reads the finished folder without building it again."""
    marker = demo_folder("diabetes", cache_dir) / MARKER
    before = marker.stat().st_mtime_ns
    competition: Competition = demo_competition("diabetes", cache_dir)
    assert competition.spec.metric == "rmse"
    assert marker.stat().st_mtime_ns == before
