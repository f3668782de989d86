"""What the competition asks for, inferred from its files: id and target columns, problem kind, metric, images."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path

from mle_ci.agents.baseline.metrics import HIGHER_IS_BETTER, REGRESSION_METRICS, canonical_metric
from mle_ci.agents.baseline.tables import Table, is_missing, numeric, parse_float, sort_labels
from mle_ci.agents.baseline.text import is_free_text
from mle_ci.errors import MleCiError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})

MIN_FEATURES_OVER_IMAGES = 8
"""With images and feature columns both, both are candidates and the better out-of-fold score wins; with at least
this many feature columns (leaf's 192 measurements) the feature models come first (the default, whose epochs are
reported, and the one a fold cannot do without), fewer (a melanoma's age and site) and the CNN does."""

MAX_LABEL_CLASSES = 30
"""Integer targets with more distinct values than this (and no metric saying otherwise) are regression."""

_POSITIVE = frozenset({"1", "1.0", "true", "yes", "y", "positive", "pos"})

# Earliest match wins, so "root mean squared error" is RMSE although it contains "mean squared error".
_METRIC_PATTERNS = (
    ("log_loss", r"log(?:arithmic)?[\s-]*loss|logloss|cross[\s-]*entropy"),
    ("auc", r"\bauc\b|area under the (?:roc )?curve|\broc curve"),
    ("rmsle", r"\brmsle\b|root[\s-]mean[\s-]squared?[\s-]log(?:arithmic)?[\s-]error"),
    ("rmse", r"\brmse\b|root[\s-]mean[\s-]squared?[\s-]error"),
    ("mae", r"\bmae\b|mean[\s-]absolute[\s-]error"),
    ("mse", r"\bmse\b|mean[\s-]squared[\s-]error"),
    ("accuracy", r"\baccuracy\b"),
)


class TaskError(MleCiError):
    """The competition's files do not say what to predict in a way the baseline understands."""


class Kind(enum.Enum):
    """The shape of what is predicted."""

    LABELS = "labels"  # one column of class labels
    PROBABILITIES = "probabilities"  # one probability column per class
    BINARY = "binary"  # one probability column, for the positive class
    MULTILABEL = "multilabel"  # one probability column per label, each 0/1 on its own
    REGRESSION = "regression"  # one or more numeric columns

    @property
    def classification(self) -> bool:
        """Whether each row is one class of several (the model's outputs are one softmax)."""
        return self not in (Kind.REGRESSION, Kind.MULTILABEL)


_DEFAULT_METRIC = {
    Kind.LABELS: "accuracy",
    Kind.PROBABILITIES: "log_loss",
    Kind.BINARY: "auc",
    Kind.MULTILABEL: "auc",
    Kind.REGRESSION: "rmse",
}
_ALLOWED_METRICS = {
    Kind.LABELS: frozenset({"accuracy", "qwk", "f1"}),
    Kind.PROBABILITIES: frozenset({"log_loss", "auc", "accuracy"}),
    Kind.BINARY: frozenset({"auc", "log_loss", "accuracy"}),
    Kind.MULTILABEL: frozenset({"auc", "log_loss"}),
    Kind.REGRESSION: REGRESSION_METRICS,
}


@dataclass(frozen=True)
class Task:
    """The prediction task: columns, kind, classes (in model-output order), metric and inputs."""

    id_column: str
    submission_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    source_columns: tuple[str, ...]
    kind: Kind
    classes: tuple[str, ...]
    metric: str
    higher_is_better: bool
    feature_columns: tuple[str, ...]
    """The columns learned from as features; beside images, by the feature models among the candidates."""
    images: bool
    """Whether the images named by the ids are learned from (by the CNN among the candidates)."""
    notes: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()
    """Free-text columns (among the features, or the id itself when it is the text), learned as n-grams."""

    @property
    def features_first(self) -> bool:
        """Whether the feature models come before the CNN (always without images; see MIN_FEATURES_OVER_IMAGES)."""
        return not self.images or len(self.feature_columns) >= MIN_FEATURES_OVER_IMAGES


def image_index(folder: Path) -> dict[str, Path]:
    """Image files under ``folder`` by file name and by name without suffix."""
    index: dict[str, Path] = {}
    if not folder.is_dir():
        return index
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            index.setdefault(path.name, path)
            index.setdefault(path.stem, path)
    return index


def metric_from_description(text: str) -> str | None:
    """The metric an evaluation section names, preferring that section over the rest of the text."""
    lowered = text.lower()
    section = re.search(r"^#+[^\n]*evaluat[^\n]*\n(.*?)(?=^#+ |\Z)", lowered, flags=re.MULTILINE | re.DOTALL)
    for haystack in ((section.group(1),) if section else ()) + (lowered,):
        found = [(m.start(), name) for name, pattern in _METRIC_PATTERNS if (m := re.search(pattern, haystack))]
        if found:
            return min(found)[1]
    return None


def _is_integral(cells: list[str]) -> bool:
    values = [parse_float(cell) for cell in cells if not is_missing(cell)]
    return all(value is not None and value == int(value) for value in values)


def _fractional(cells: list[str]) -> bool:
    """Whether some cell is a number strictly between 0 and 1 (a probability, not a label)."""
    return any((value := parse_float(cell)) is not None and 0.0 < value < 1.0 for cell in cells)


def binary_classes(labels: set[str]) -> tuple[str, ...]:
    """(negative, positive): the positive class is 1/true/yes when present, else the later one in sort order."""
    ordered = sort_labels(labels)
    positive = [label for label in ordered if label.strip().lower() in _POSITIVE]
    if positive:
        return (next(label for label in ordered if label != positive[0]), positive[0])
    return ordered


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def _match_class_columns(columns: tuple[str, ...], labels: set[str]) -> tuple[str, ...] | None:
    """Each submission column's class label (``class_0`` <- ``0``, ``EAP`` <- ``EAP``), or None when ambiguous.

    Every label must name a column; a column no train label names is a class never seen in train (its name is
    its label), as when a rare class of a hundred has no row in the rows read.
    """
    by_norm = {_normalise(label): label for label in labels}
    if len(by_norm) != len(labels):
        return None
    matched: list[str] = []
    for column in columns:
        norm = _normalise(column)
        if norm in by_norm:
            matched.append(by_norm[norm])
            continue
        # A prefix such as "class_" or "target" before the label: the longest label that ends the name.
        candidates = [label for key, label in by_norm.items() if key and norm.endswith(key)]
        matched.append(max(candidates, key=len) if candidates else column)
    if len(set(matched)) != len(columns) or not labels <= set(matched):
        return None
    return tuple(matched)


def _single_column_kind(cells: list[str], sample_cells: list[str], metric: str | None, rows: int) -> Kind:
    labels = {cell.strip() for cell in cells if not is_missing(cell)}
    is_numeric = numeric(cells)
    if metric in REGRESSION_METRICS and is_numeric:
        return Kind.REGRESSION
    if metric in ("auc", "log_loss") and len(labels) == 2:
        return Kind.BINARY
    if metric in ("accuracy", "qwk", "f1"):
        return Kind.LABELS
    if not is_numeric:
        return Kind.LABELS
    if _is_integral(cells) and len(labels) <= MAX_LABEL_CLASSES and len(labels) * 5 <= rows:
        return Kind.BINARY if len(labels) == 2 and _fractional(sample_cells) else Kind.LABELS
    return Kind.REGRESSION


def _id_column(test: Table, sample: Table) -> str:
    """The sample column that names the test rows: in test.csv, every value present and distinct (the first such)."""
    shared = [name for name in sample.header if name in test.header]
    if not shared:
        raise TaskError("no column of sample_submission.csv is in test.csv: cannot find the id column")
    for name in shared:
        values = [cell.strip() for cell in test.column(name)]
        if all(values) and len(set(values)) == len(values):
            return name
    return shared[0]


def _columns(train: Table, test: Table, sample: Table) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The id column, the submission's target columns, and the train.csv columns that hold the targets.

    The targets are the sample's columns that test.csv lacks; a column both have besides the id (e.g. a date
    beside a comment) is copied from the sample as it is.
    """
    id_column = _id_column(test, sample)
    others = tuple(name for name in sample.header if name != id_column)
    targets = tuple(name for name in others if name not in test.header) or others
    if not targets:
        raise TaskError("sample_submission.csv has no column besides the id")
    if all(name in train.header for name in targets):
        return id_column, targets, targets
    extra = tuple(name for name in train.header if name not in test.header and name != id_column)
    if len(extra) != 1:
        raise TaskError(
            f"cannot tell which train.csv column holds the target of {', '.join(targets)} "
            f"(train-only columns: {', '.join(extra) or 'none'})"
        )
    return id_column, targets, extra


def _wanted_metric(metric: str | None, description: str, notes: list[str]) -> str | None:
    """The metric named by the caller, else by the description, as the agent's name for it."""
    if metric:
        wanted = canonical_metric(metric)
        if wanted is not None:
            return wanted
        notes.append(f"metric {metric!r} is not one the baseline computes: it uses its own instead")
    wanted = metric_from_description(description) if description else None
    if wanted:
        notes.append(f"metric {wanted} read from description.md")
    return wanted


def _kind(
    train: Table,
    sample: Table,
    *,
    targets: tuple[str, ...],
    sources: tuple[str, ...],
    wanted: str | None,
    notes: list[str],
) -> tuple[Kind, tuple[str, ...]]:
    """The kind of prediction and the classes in model-output order (empty for regression)."""
    if len(targets) == 1:
        cells = train.column(sources[0])
        kind = _single_column_kind(cells, sample.column(targets[0]), wanted, train.rows)
        labels = {cell.strip() for cell in cells if not is_missing(cell)}
        if kind is Kind.BINARY:
            return kind, binary_classes(labels)
        return kind, (sort_labels(labels) if kind is Kind.LABELS else ())
    if sources == targets:
        columns = [train.column(name) for name in targets]
        if not all(numeric(column) for column in columns):
            raise TaskError(f"target columns {', '.join(targets)} are not all numeric")
        one_hot = [0.0] * (len(targets) - 1) + [1.0]
        rows = [[parse_float(cell) or 0.0 for cell in row] for row in zip(*columns, strict=True)]
        if all(sorted(row) == one_hot for row in rows):
            return Kind.PROBABILITIES, targets
        if wanted not in REGRESSION_METRICS and all(v in (0.0, 1.0) for row in rows for v in row):
            notes.append(f"{len(targets)} target columns of 0/1, not one-hot: each label is predicted on its own")
            return Kind.MULTILABEL, targets
        return Kind.REGRESSION, ()
    labels = {cell.strip() for cell in train.column(sources[0]) if not is_missing(cell)}
    matched = _match_class_columns(targets, labels)
    if matched is not None and len(labels) < len(targets):
        notes.append(f"{len(targets) - len(labels)} of the {len(targets)} classes have no train row")
    if matched is None and len(labels) == len(targets):
        matched = sort_labels(labels)
        notes.append(f"class columns {', '.join(targets)} matched to labels in sorted order")
    if matched is None:
        raise TaskError(
            f"{len(targets)} submission columns but {len(labels)} labels in {sources[0]}: cannot match them"
        )
    return Kind.PROBABILITIES, matched


def infer_task(
    train: Table,
    test: Table,
    sample: Table,
    *,
    description: str = "",
    metric: str | None = None,
    higher_is_better: bool | None = None,
    image_ids: frozenset[str] = frozenset(),
) -> Task:
    """Infer the task from the three tables, the description, an optional metric name and the image files' names."""
    notes: list[str] = []
    id_column, targets, sources = _columns(train, test, sample)
    wanted = _wanted_metric(metric, description, notes)
    kind, classes = _kind(train, sample, targets=targets, sources=sources, wanted=wanted, notes=notes)
    if kind.classification and len(classes) < 2:
        raise TaskError(f"the target has {len(classes)} class(es): nothing to learn")

    if wanted is not None and wanted not in _ALLOWED_METRICS[kind]:
        notes.append(f"metric {wanted} does not fit a {kind.value} submission: using {_DEFAULT_METRIC[kind]}")
        wanted = None
    chosen = wanted or _DEFAULT_METRIC[kind]
    direction = HIGHER_IS_BETTER[chosen] if higher_is_better is None or wanted is None else higher_is_better

    test_ids = [cell.strip() for cell in test.column(id_column)]
    named = bool(image_ids) and bool(test_ids) and all(value in image_ids for value in test_ids)
    features = tuple(name for name in test.header if name != id_column and name in train.header and name not in sources)
    images = named
    texts = () if images else _text_columns(train, features, id_column)
    if images and features:
        notes.append(
            f"images and {len(features)} feature columns: a CNN and the feature models are candidates, "
            "the better out-of-fold score wins"
        )
    if texts:
        notes.append(f"free text in {', '.join(texts)}: word and character n-grams (TF-IDF)")
    if not images and not features and not texts:
        raise TaskError("test.csv has no feature column shared with train.csv and no images named by its ids")
    return Task(
        id_column=id_column,
        submission_columns=sample.header,
        target_columns=targets,
        source_columns=sources,
        kind=kind,
        classes=classes,
        metric=chosen,
        higher_is_better=direction,
        feature_columns=tuple(name for name in features if name not in texts),
        images=images,
        notes=tuple(notes),
        text_columns=texts,
    )


def _text_columns(train: Table, features: tuple[str, ...], id_column: str) -> tuple[str, ...]:
    """The features that hold free text, and the id when it is the text itself (a comment keyed by its words)."""
    candidates = features + ((id_column,) if id_column in train.header else ())
    return tuple(name for name in candidates if is_free_text(train.column(name)))


@dataclass(frozen=True)
class Competition:
    """A competition's public files, read, with its task."""

    task: Task
    train: Table
    test: Table
    sample: Table
    images: dict[str, Path]
    notes: tuple[str, ...] = ()
