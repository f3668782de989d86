"""Turn the competition's tables and images into arrays: features, class indices or scaled targets, test rows."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.metrics import LOG_TARGET_METRICS
from mle_ci.agents.baseline.tables import Table, is_missing, numeric, parse_float
from mle_ci.agents.baseline.task import Competition, Kind, Task, TaskError
from mle_ci.agents.baseline.text import TextEncoder

MAX_CATEGORIES = 30
"""One-hot columns per categorical feature: the most frequent values; rarer ones share the all-zero code."""

MAX_IMAGE_SIDE = 64
"""Images are resized so no side exceeds this: a baseline CNN gains little from more pixels."""

SKEWED = 0.5
"""Non-negative features more skewed than this are log1p-transformed: heavy right tails dominate an MLP's inputs."""

IQR_PER_SIGMA = 1.349
"""The interquartile range of a normal distribution in standard deviations."""

OUTLIER_SPREAD = 5.0
"""A feature whose standard deviation is this many times the one its interquartile range implies is scaled by the
latter: its deviation is made by a few outliers, not by the rows a model must tell apart. The networks clip
standardised features (``models.CLIP``); the trees take them as they are, far values apart."""

_DATETIME = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")

_GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})


@dataclass(frozen=True)
class NumericCoder:
    """A numeric feature: log1p if skewed, median imputation, standardisation, a missing-value indicator if needed."""

    name: str
    median: float
    mean: float
    std: float
    indicator: bool
    log: bool = False

    @classmethod
    def fit(cls, name: str, values: NDArray[np.float64], *, indicator: bool) -> NumericCoder:
        """Fit on the column's non-missing training values."""
        std = float(values.std())
        skew = float(np.mean((values - values.mean()) ** 3) / std**3) if std > 0 else 0.0
        log = bool(values.min() >= 0) and skew > SKEWED
        z = np.log1p(values) if log else values
        spread, centre = float(z.std()), float(z.mean())
        q1, q3 = np.percentile(z, [25.0, 75.0])
        robust = float(q3 - q1) / IQR_PER_SIGMA
        if robust > 0 and spread > OUTLIER_SPREAD * robust:
            # a few far-off values (taxi rides at longitude 0) would squeeze every other row onto one value
            spread, centre = robust, float(np.median(z))
        return cls(name, float(np.median(z)), centre, spread if spread > 0 else 1.0, indicator, log)

    @property
    def width(self) -> int:
        return 2 if self.indicator else 1

    def encode(self, cells: list[str]) -> NDArray[np.float32]:
        values = np.array([np.nan if (v := parse_float(c)) is None else v for c in cells], dtype=np.float64)
        missing = np.isnan(values)
        z = np.log1p(np.clip(values, 0.0, None)) if self.log else values
        scaled = (np.where(missing, self.median, z) - self.mean) / self.std
        columns = [scaled, missing.astype(np.float64)] if self.indicator else [scaled]
        return np.stack(columns, axis=1).astype(np.float32)


@dataclass(frozen=True)
class CategoricalCoder:
    """A categorical feature: one-hot over its most frequent values (missing is a value of its own)."""

    name: str
    categories: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.categories)

    def encode(self, cells: list[str]) -> NDArray[np.float32]:
        position = {category: i for i, category in enumerate(self.categories)}
        out = np.zeros((len(cells), len(self.categories)), dtype=np.float32)
        for row, cell in enumerate(cells):
            column = position.get(_category(cell))
            if column is not None:
                out[row, column] = 1.0
        return out


@dataclass(frozen=True)
class DatetimeCoder:
    """A date-time feature (``2014-07-10 19:55:15 UTC``): year, month, weekday and hour as scaled numbers."""

    name: str
    first_year: int

    @property
    def width(self) -> int:
        return 5

    def encode(self, cells: list[str]) -> NDArray[np.float32]:
        out = np.zeros((len(cells), self.width), dtype=np.float32)
        for row, cell in enumerate(cells):
            parts = parse_datetime(cell)
            if parts is None:
                out[row, 4] = 1.0  # missing or unreadable: its own indicator, the rest at zero
                continue
            when, hour = parts
            out[row, :4] = (
                (when.year - self.first_year) / 10.0,
                (when.month - 6.5) / 6.0,
                (when.weekday() - 3.0) / 3.0,
                (hour - 12.0) / 12.0,
            )
        return out


def parse_datetime(cell: str) -> tuple[datetime.date, float] | None:
    """The date and the hour of day (with minutes and seconds as its fraction) of an ISO-like cell, else None."""
    match = _DATETIME.match(cell)
    if match is None:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return None
    return date, hour + minute / 60.0 + int(match.group(6) or 0) / 3600.0


def _is_datetime(cells: list[str]) -> bool:
    present = [c for c in cells[:1000] if not is_missing(c)]
    return bool(present) and sum(parse_datetime(c) is not None for c in present) >= 0.9 * len(present)


Coder = NumericCoder | CategoricalCoder | DatetimeCoder


def _category(cell: str) -> str:
    return "" if is_missing(cell) else cell.strip()


def fit_coders(train: Table, test: Table, columns: tuple[str, ...], *, required: bool = True) -> list[Coder]:
    """One coder per feature column, fitted on train.csv (test.csv only tells whether values go missing);
    ``required`` False allows none (the text columns carry the information)."""
    coders: list[Coder] = []
    for name in columns:
        cells = train.column(name)
        if numeric(cells):
            values = np.array([v for c in cells if (v := parse_float(c)) is not None], dtype=np.float64)
            indicator = any(is_missing(c) for c in cells) or any(is_missing(c) for c in test.column(name))
            coders.append(NumericCoder.fit(name, values, indicator=indicator))
        elif _is_datetime(cells):
            years = [p[0].year for c in cells if (p := parse_datetime(c)) is not None]
            coders.append(DatetimeCoder(name, min(years)))
        else:
            counts = Counter(_category(c) for c in cells)
            # Most frequent first, ties by value, so the encoding does not depend on row order.
            ranked = sorted(counts, key=lambda value: (-counts[value], value))[:MAX_CATEGORIES]
            if len(ranked) > 1:
                coders.append(CategoricalCoder(name, tuple(ranked)))
    if not coders and required:
        raise TaskError("no feature column carries information (every one is constant)")
    return coders


def encode_table(table: Table, coders: list[Coder]) -> NDArray[np.float32]:
    """The feature matrix of a table (rows × encoded width)."""
    if not coders:
        return np.zeros((table.rows, 0), dtype=np.float32)
    return np.concatenate([coder.encode(table.column(coder.name)) for coder in coders], axis=1)


def _pillow() -> Any:
    try:
        from PIL import Image  # noqa: PLC0415 - Pillow is heavy; only image tasks need it
    except ImportError:
        raise TaskError("an image competition needs Pillow: pip install pillow") from None
    return Image


def image_shape(paths: list[Path]) -> tuple[int, int, str]:
    """Common (height, width, mode) from a sample of the images: the most frequent size, capped."""
    Image = _pillow()

    sizes: Counter[tuple[int, int]] = Counter()
    color = False
    for path in paths[:64]:
        with Image.open(path) as image:
            sizes[(image.height, image.width)] += 1
            color = color or image.mode not in _GRAY_MODES
    height, width = sizes.most_common(1)[0][0]
    scale = min(1.0, MAX_IMAGE_SIDE / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale)), "RGB" if color else "L"


def load_images(paths: list[Path], shape: tuple[int, int, str], *, threads: int = 1) -> NDArray[np.uint8]:
    """Images as one uint8 array (rows × channels × height × width) of the given (height, width, mode)."""
    Image = _pillow()

    height, width, mode = shape

    def read(path: Path) -> NDArray[np.uint8]:
        with Image.open(path) as image:
            converted = image.convert(mode)
            if converted.size != (width, height):
                converted = converted.resize((width, height), Image.Resampling.BILINEAR)
            array = np.asarray(converted, dtype=np.uint8)
        return array[None] if array.ndim == 2 else np.ascontiguousarray(array.transpose(2, 0, 1))

    # Pillow decodes outside the GIL, so threads overlap file reads and decoding.
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return np.stack(list(pool.map(read, paths)))


@dataclass(frozen=True)
class TargetScaler:
    """Regression targets to the model's scale and back: optional log1p (for RMSLE), then standardisation."""

    mean: NDArray[np.float64]
    std: NDArray[np.float64]
    log: bool

    @classmethod
    def fit(cls, y: NDArray[np.float64], *, log: bool) -> TargetScaler:
        z = np.log1p(np.clip(y, 0.0, None)) if log else y
        std = z.std(axis=0)
        return cls(z.mean(axis=0), np.where(std > 0, std, 1.0), log)

    def forward(self, y: NDArray[np.float64]) -> NDArray[np.float32]:
        z = np.log1p(np.clip(y, 0.0, None)) if self.log else y
        return ((z - self.mean) / self.std).astype(np.float32)

    def inverse(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        y = z * self.std + self.mean
        return np.clip(np.expm1(y), 0.0, None) if self.log else y


@dataclass(frozen=True)
class Dataset:
    """Model-ready arrays: inputs (float32 features or uint8 images), targets, and the test rows' ids."""

    x_train: NDArray[np.float32] | NDArray[np.uint8]
    x_test: NDArray[np.float32] | NDArray[np.uint8]
    y_class: NDArray[np.int64] | None
    y_value: NDArray[np.float32] | None
    scaler: TargetScaler | None
    test_ids: tuple[str, ...]
    outputs: int
    dropped: int
    text_width: int = 0
    """The last columns of ``x`` that are an encoded text block (hashed n-gram slots, then weights)."""
    features_train: NDArray[np.float32] | None = None
    """Beside images (``x``), the same train rows' encoded feature columns, for the feature models."""
    features_test: NDArray[np.float32] | None = None
    """Beside images, the test rows' encoded feature columns."""

    def inputs(self, images: bool) -> tuple[NDArray[np.float32] | NDArray[np.uint8], NDArray[Any]]:
        """The train and test inputs of a model of images (``x``) or of feature columns (beside the images, or
        ``x`` itself when there are no images)."""
        if images or self.features_train is None or self.features_test is None:
            return self.x_train, self.x_test
        return self.features_train, self.features_test

    @property
    def multilabel(self) -> bool:
        """Whether each output is a label of its own (0/1 targets, no scaler), not a class or a value."""
        return self.y_class is None and self.scaler is None


def _targets(task: Task, train: Table) -> tuple[NDArray[np.int64] | None, NDArray[np.float64] | None]:
    """Class index (or NaN-marked float targets) per train row; -1 or NaN marks a row without a target."""
    if task.kind in (Kind.REGRESSION, Kind.MULTILABEL):
        columns = [[parse_float(c) for c in train.column(name)] for name in task.source_columns]
        return None, np.array(columns, dtype=np.float64).T  # None becomes NaN
    position = {label: i for i, label in enumerate(task.classes)}
    if len(task.source_columns) == 1:
        cells = train.column(task.source_columns[0])
        return np.array([position.get(c.strip(), -1) for c in cells], dtype=np.int64), None
    # One-hot target columns: the class is the column holding the 1.
    hot = np.array([[parse_float(c) or 0.0 for c in train.column(n)] for n in task.source_columns])
    return hot.argmax(axis=0).astype(np.int64), None


def build_dataset(
    competition: Competition,
    *,
    threads: int = 1,
    stop: Callable[[], bool] | None = None,
) -> Dataset:
    """Encode the competition's data for the task; train rows without a target (or image) are left out."""
    task, train, test = competition.task, competition.train, competition.test
    y_class, y_value = _targets(task, train)
    keep: NDArray[np.bool_]
    if y_class is not None:
        keep = y_class >= 0
    else:
        assert y_value is not None
        keep = np.asarray(~np.isnan(y_value).any(axis=1), dtype=np.bool_)
    train_ids = [c.strip() for c in train.column(task.id_column)] if task.id_column in train.header else []
    test_ids = tuple(c.strip() for c in test.column(task.id_column))
    x_train: NDArray[np.float32] | NDArray[np.uint8]
    x_test: NDArray[np.float32] | NDArray[np.uint8]
    text_width = 0
    features_train = features_test = None
    if task.images:
        if not train_ids:
            raise TaskError(f"train.csv has no {task.id_column} column naming its images")
        keep &= np.array([value in competition.images for value in train_ids], dtype=bool)
        rows = np.flatnonzero(keep)
        train_paths = [competition.images[train_ids[i]] for i in rows]
        shape = image_shape(train_paths)
        x_train = load_images(train_paths, shape, threads=threads)
        if stop is not None and stop():
            raise InterruptedError("stopped while loading images")
        x_test = load_images([competition.images[value] for value in test_ids], shape, threads=threads)
        if task.feature_columns:
            coders = fit_coders(train, test, task.feature_columns)
            features_train, features_test = encode_table(train, coders)[rows], encode_table(test, coders)
    else:
        coders = fit_coders(train, test, task.feature_columns, required=not task.text_columns)
        rows = np.flatnonzero(keep)
        x_train = encode_table(train, coders)[rows]
        x_test = encode_table(test, coders)
        if task.text_columns:
            # the idf is fitted on the rows that train, never on the test rows
            encoder = TextEncoder.fit([[train.column(c)[i] for i in rows] for c in task.text_columns])
            x_train = np.hstack(
                [x_train, encoder.encode([[train.column(c)[i] for i in rows] for c in task.text_columns])]
            )
            x_test = np.hstack([x_test, encoder.encode([test.column(c) for c in task.text_columns])])
            text_width = encoder.width
    if len(rows) < 2:
        raise TaskError(f"only {len(rows)} usable training row(s)")
    scaler = None
    y_scaled = None
    if y_value is not None and task.kind is Kind.MULTILABEL:
        y_scaled = y_value[rows].astype(np.float32)
    elif y_value is not None:
        scaler = TargetScaler.fit(y_value[rows], log=task.metric in LOG_TARGET_METRICS)
        y_scaled = scaler.forward(y_value[rows])
    return Dataset(
        x_train=x_train,
        x_test=x_test,
        y_class=None if y_class is None else y_class[rows],
        y_value=y_scaled,
        scaler=scaler,
        test_ids=test_ids,
        outputs=len(task.classes) if task.kind.classification else len(task.source_columns),
        dropped=int(len(keep) - len(rows)),
        text_width=text_width,
        features_train=features_train,
        features_test=features_test,
    )
