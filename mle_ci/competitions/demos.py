"""Embedded demo competitions, built on first use from data scikit-learn ships (nothing is downloaded).

Layout: ``<cache_dir>/competitions/<id>/prepared/{public,private}`` as MLE-bench prepares a competition, plus
``<cache_dir>/competitions/<id>/mle-ci-built.json`` (the finished marker with the format version). Each demo is
shuffled with a fixed seed, numbered ``0..n-1`` in that order (the ids), and split 75/25 (stratified by class for
classification); ``demo_split`` gives the same split as arrays, so a benchmark can train references on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mle_ci.competitions.cache import ensure_built, is_built
from mle_ci.competitions.csvtable import write_csv
from mle_ci.competitions.model import Competition, CompetitionError, CompetitionSpec
from mle_ci.competitions.png import grayscale_png
from mle_ci.competitions.references import reference_fits, synthetic_leaderboard

DEMO_FORMAT_VERSION = 1
DEMO_SEED = 2024
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class DemoSplit:
    """A demo's train and test rows as arrays, with their ids: the features exactly as the files give them."""

    competition_id: str
    feature_names: tuple[str, ...]
    x_train: NDArray[np.float64]
    y_train: NDArray[Any]
    x_test: NDArray[np.float64]
    y_test: NDArray[Any]
    train_ids: tuple[str, ...]
    test_ids: tuple[str, ...]
    classes: tuple[int, ...]


@dataclass(frozen=True)
class _Demo:
    spec: CompetitionSpec
    loader: str
    classification: bool
    teams: int
    data: str
    submission: str


_DEMOS = {
    d.spec.id: d
    for d in (
        _Demo(
            CompetitionSpec(
                id="digits-png",
                name="Handwritten digits (8x8 PNG)",
                metric="accuracy",
                higher_is_better=True,
                id_column="id",
                target_columns=("label",),
                kind="image",
                description="Classify 8x8 grayscale images of handwritten digits 0-9.",
            ),
            loader="load_digits",
            classification=True,
            teams=200,
            data="`images/<id>.png`: one 8x8 grayscale PNG per image, train and test (white ink on black: "
            "0 = background, 255 = ink).\n`train.csv`: `id,label` (the digit). `test.csv`: `id`.",
            submission="`id,label`: one row per test id, `label` the predicted digit 0-9.",
        ),
        _Demo(
            CompetitionSpec(
                id="breast-cancer",
                name="Breast cancer diagnosis",
                metric="auc",
                higher_is_better=True,
                id_column="id",
                target_columns=("target",),
                kind="tabular",
                description="Predict whether a breast mass is benign from 30 measurements of its cell nuclei.",
            ),
            loader="load_breast_cancer",
            classification=True,
            teams=150,
            data="`train.csv`: `id`, 30 numeric features, `target` (1 = benign, 0 = malignant). "
            "`test.csv`: the same without `target`.",
            submission="`id,target`: one row per test id, `target` the probability that the mass is benign (0 to 1).",
        ),
        _Demo(
            CompetitionSpec(
                id="wine-classes",
                name="Wine cultivars",
                metric="log_loss",
                higher_is_better=False,
                id_column="id",
                target_columns=("class_0", "class_1", "class_2"),
                kind="tabular",
                description="Predict which of three cultivars a wine comes from, given 13 chemical measurements.",
            ),
            loader="load_wine",
            classification=True,
            teams=120,
            data="`train.csv`: `id`, 13 numeric features, `target` (the cultivar: 0, 1 or 2). "
            "`test.csv`: the same without `target`.",
            submission="`id,class_0,class_1,class_2`: one row per test id, the probability of each cultivar; "
            "each row sums to 1.",
        ),
        _Demo(
            CompetitionSpec(
                id="diabetes",
                name="Diabetes progression",
                metric="rmse",
                higher_is_better=False,
                id_column="id",
                target_columns=("target",),
                kind="tabular",
                description="Predict disease progression one year on from 10 baseline measurements (standardised).",
            ),
            loader="load_diabetes",
            classification=False,
            teams=300,
            data="`train.csv`: `id`, 10 numeric features, `target` (a progression measure). "
            "`test.csv`: the same without `target`.",
            submission="`id,target`: one row per test id, `target` the predicted progression.",
        ),
    )
}

DEMO_SPECS: dict[str, CompetitionSpec] = {id_: d.spec for id_, d in _DEMOS.items()}


def _load(loader: str) -> tuple[NDArray[np.float64], NDArray[Any], tuple[str, ...]]:
    try:
        import sklearn.datasets  # noqa: PLC0415 - scikit-learn is heavy; only building a demo needs it
    except ImportError:
        raise CompetitionError(
            "the embedded demo competitions are built from scikit-learn's bundled data: pip install scikit-learn"
        ) from None
    bunch = getattr(sklearn.datasets, loader)()
    names = tuple(re.sub(r"[^0-9A-Za-z]+", "_", str(n)).strip("_").lower() for n in bunch.feature_names)
    x = np.asarray(bunch.data, dtype=np.float64)
    if loader == "load_digits":
        # pixels as the PNG files hold them: 0..16 scaled to 0..255
        x = np.rint(x * 255.0 / 16.0)
    return x, np.asarray(bunch.target), names


def demo_split(competition_id: str) -> DemoSplit:
    """The train/test split of an embedded demo, the same rows and ids as its files (fixed seed)."""
    demo = _demo(competition_id)
    x, y, names = _load(demo.loader)
    rng = np.random.default_rng(DEMO_SEED)
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    if demo.classification:
        test = np.concatenate([_take(rng, np.flatnonzero(y == c)) for c in np.unique(y)])
    else:
        test = _take(rng, np.arange(len(y)))
    in_test = np.zeros(len(y), dtype=bool)
    in_test[test] = True
    ids = np.array([str(i) for i in range(len(y))])
    return DemoSplit(
        competition_id=competition_id,
        feature_names=names,
        x_train=x[~in_test],
        y_train=y[~in_test],
        x_test=x[in_test],
        y_test=y[in_test],
        train_ids=tuple(ids[~in_test]),
        test_ids=tuple(ids[in_test]),
        classes=tuple(int(c) for c in np.unique(y)) if demo.classification else (),
    )


def _take(rng: np.random.Generator, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    return rng.permutation(rows)[: round(TEST_FRACTION * len(rows))]


def _demo(competition_id: str) -> _Demo:
    if competition_id not in _DEMOS:
        raise CompetitionError(f"{competition_id!r} is not an embedded competition (embedded: {', '.join(_DEMOS)})")
    return _DEMOS[competition_id]


def demo_folder(competition_id: str, cache_dir: Path) -> Path:
    """Where an embedded demo is (or will be) built: ``<cache_dir>/competitions/<id>``."""
    return cache_dir / "competitions" / competition_id


def is_demo_built(competition_id: str, cache_dir: Path) -> bool:
    """Whether the demo's folder holds a finished build of the current format."""
    return is_built(demo_folder(competition_id, cache_dir), DEMO_FORMAT_VERSION)


def demo_competition(competition_id: str, cache_dir: Path) -> Competition:
    """An embedded demo, built into the cache first if it is not there (or is of an older format)."""
    demo = _demo(competition_id)
    folder = demo_folder(competition_id, cache_dir)
    try:
        ensure_built(
            folder,
            DEMO_FORMAT_VERSION,
            lambda tmp: build_demo(demo.spec.id, tmp),
            {"competition_id": competition_id, "seed": DEMO_SEED},
        )
    except OSError as exc:
        raise CompetitionError(f"cannot build the demo competition {competition_id} in {folder}: {exc}") from None
    root = folder / "prepared"
    return Competition(
        spec=demo.spec,
        root=root,
        public=root / "public",
        private=root / "private",
        sample_submission=root / "public" / "sample_submission.csv",
        answers=root / "private" / "test.csv",
        leaderboard=root / "private" / "leaderboard.csv",
        embedded=True,
    )


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)


def _answers(demo: _Demo, y: NDArray[Any], classes: tuple[int, ...]) -> NDArray[np.float64]:
    if demo.spec.metric == "log_loss":
        return np.array([[1.0 if v == c else 0.0 for c in classes] for v in y])
    return np.asarray(y, dtype=np.float64)


def _rows(ids: tuple[str, ...], values: NDArray[Any]) -> list[list[str]]:
    matrix = values.reshape(-1, 1) if values.ndim == 1 else values
    return [[i, *(_number(v) for v in row)] for i, row in zip(ids, matrix, strict=True)]


def build_demo(competition_id: str, folder: Path) -> None:
    """Write a demo's ``prepared/{public,private}`` files into ``folder`` (same bytes on every build)."""
    demo = _demo(competition_id)
    spec, split = demo.spec, demo_split(competition_id)
    public, private = folder / "prepared" / "public", folder / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    writers: dict[str, Callable[[Path, DemoSplit], None]] = {"image": _write_images, "tabular": _write_tabular}
    writers[spec.kind](public, split)
    (public / "test.csv").write_bytes(
        write_csv(["id", *_features(spec, split)], _rows(split.test_ids, _x(spec, split.x_test)))
    )
    neutral = _neutral(demo, split)
    (public / "sample_submission.csv").write_bytes(
        write_csv(["id", *spec.target_columns], [[i, *neutral] for i in split.test_ids])
    )
    (public / "description.md").write_text(_description(demo, split), encoding="utf-8")
    answers = _answers(demo, split.y_test, split.classes)
    (private / "test.csv").write_bytes(write_csv(["id", *spec.target_columns], _rows(split.test_ids, answers)))
    assert spec.metric is not None
    fits = reference_fits(spec.metric, split.x_train, split.y_train, split.x_test, DEMO_SEED)
    classes = np.array(split.classes)
    scores = synthetic_leaderboard(spec.metric, answers, fits, classes, teams=demo.teams, seed=DEMO_SEED)
    rows = [[f"synthetic-team-{rank}", _number(s)] for rank, s in enumerate(scores, start=1)]
    (private / "leaderboard.csv").write_bytes(write_csv(["teamName", "score"], rows))


def _features(spec: CompetitionSpec, split: DemoSplit) -> tuple[str, ...]:
    return () if spec.kind == "image" else split.feature_names


def _x(spec: CompetitionSpec, x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.zeros((len(x), 0)) if spec.kind == "image" else x


def _write_images(public: Path, split: DemoSplit) -> None:
    images = public / "images"
    images.mkdir()
    for ids, x in ((split.train_ids, split.x_train), (split.test_ids, split.x_test)):
        for id_, pixels in zip(ids, x, strict=True):
            (images / f"{id_}.png").write_bytes(grayscale_png(pixels.reshape(8, 8).astype(np.uint8)))
    (public / "train.csv").write_bytes(write_csv(["id", "label"], _rows(split.train_ids, split.y_train)))


def _write_tabular(public: Path, split: DemoSplit) -> None:
    rows = [[*r, _number(y)] for r, y in zip(_rows(split.train_ids, split.x_train), split.y_train, strict=True)]
    (public / "train.csv").write_bytes(write_csv(["id", *split.feature_names, "target"], rows))


def _neutral(demo: _Demo, split: DemoSplit) -> list[str]:
    metric = demo.spec.metric
    if metric == "accuracy":
        return [str(split.classes[0])]
    if metric == "auc":
        return ["0.5"]
    if metric == "log_loss":
        return [repr(1.0 / len(split.classes))] * len(split.classes)
    return [_number(round(float(np.mean(split.y_train)), 1))]


def _description(demo: _Demo, split: DemoSplit) -> str:
    spec = demo.spec
    direction = "higher is better" if spec.higher_is_better else "lower is better"
    return (
        f"# {spec.name}\n\n{spec.description}\n\n"
        f"An embedded demo competition of mle-ci (competition id `{spec.id}`), built from scikit-learn's bundled "
        f"data set: {len(split.train_ids)} training rows, {len(split.test_ids)} test rows.\n\n"
        f"## Data\n\n{demo.data}\n\n"
        f"## Evaluation\n\nMetric: {spec.metric} ({direction}).\n\n"
        f"## Submission format\n\n{demo.submission} See `sample_submission.csv`.\n"
    )
