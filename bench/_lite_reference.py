"""The scikit-learn reference of ``lite_baseline.py``: fitted on a competition's public train rows, written in its
sample submission's format, graded by the project's grader.

Tabular competitions: ``HistGradientBoostingClassifier/Regressor`` (scikit-learn's defaults, one OpenMP thread;
string columns ordinal-encoded, as categories when they have at most 255 values, else as their rank; one model per
target column; class probabilities matched to the sample's columns by name). Text competitions: word 1-2-gram and
char_wb 2-5-gram ``TfidfVectorizer`` (sublinear tf) into ``LogisticRegression``, one per label. Nothing is fitted on
the answers or on the test rows' features (the encoders learn their vocabulary from the train rows).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_union
from threadpoolctl import threadpool_limits

from mle_ci.agents.baseline.layout import Layout, LayoutError, read_layout
from mle_ci.agents.baseline.tables import Table, numeric, parse_float
from mle_ci.competitions.grade import grade_submission
from mle_ci.competitions.model import Competition
from mle_ci.metrics import Metric, get_metric

TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "detecting-insults-in-social-commentary": ("Comment",),
    "jigsaw-toxic-comment-classification-challenge": ("comment_text",),
    "random-acts-of-pizza": ("request_title", "request_text_edit_aware"),
    "spooky-author-identification": ("text",),
}
"""The free text the reference reads in each text competition (insults: the comment, which is also the id)."""

REFERENCE_KINDS = frozenset({"tabular", "text"})
"""Data kinds that have a reference; the others (images, audio, denoising, text normalization) show "-"."""

MAX_CATEGORIES = 255
"""HistGradientBoosting's most categories per feature; a string column with more is encoded by its rank."""


class ReferenceFailed(Exception):
    """The reference could not be fitted or written for this competition; the message says why."""


def _normalised(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def match_classes(columns: Sequence[str], labels: Iterable[str]) -> dict[str, str]:
    """Each sample column's class label, by exact name, else by name lower-cased without punctuation; a column that
    no label names is absent (a class never seen in train). ``ReferenceFailed`` when a label names no column."""
    labels = list(labels)
    by_norm: dict[str, list[str]] = {}
    for label in labels:
        by_norm.setdefault(_normalised(label), []).append(label)
    matched: dict[str, str] = {}
    for column in columns:
        if column in labels:
            matched[column] = column
        elif len(candidates := by_norm.get(_normalised(column), [])) == 1 and candidates[0] not in columns:
            matched[column] = candidates[0]
    missing = sorted(set(labels) - set(matched.values()))
    if missing:
        raise ReferenceFailed(f"train labels naming no sample column: {', '.join(missing[:5])}")
    return matched


def label_column(train: Table, test: Table, id_column: str, targets: Sequence[str]) -> str:
    """The train column (absent from test) whose values name most of the sample's class columns."""
    candidates = [c for c in train.header if c not in test.header and c != id_column]
    wanted = {_normalised(t) for t in targets}
    hits = {c: len({_normalised(v) for v in set(train.column(c))} & wanted) for c in candidates}
    best = max(candidates, key=lambda c: hits[c], default=None)
    if best is None or hits[best] == 0:
        raise ReferenceFailed(f"no train column holds the labels {', '.join(targets[:3])}, ...")
    return best


def encode_columns(train: Table, test: Table, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """Numbers as they are, string columns ordinal-encoded from the train values: as categories (unseen: missing)
    when there are at most ``MAX_CATEGORIES``, else as the rank among the sorted train values (dates stay in
    order). Returns the train and test matrices and which columns are categorical."""
    x_train, x_test, categorical = [], [], []
    for name in names:
        a, b = train.column(name), test.column(name)
        if numeric(a):
            x_train.append([np.nan if (v := parse_float(c)) is None else v for c in a])
            x_test.append([np.nan if (v := parse_float(c)) is None else v for c in b])
            categorical.append(False)
            continue
        vocab = sorted(set(a))
        if len(vocab) <= MAX_CATEGORIES:
            code = {value: float(i) for i, value in enumerate(vocab)}
            x_train.append([code[c] for c in a])
            x_test.append([code.get(c, np.nan) for c in b])
            categorical.append(True)
        else:
            x_train.append(np.searchsorted(vocab, a).astype(float).tolist())
            x_test.append(np.searchsorted(vocab, b).astype(float).tolist())
            categorical.append(False)
    return np.array(x_train, dtype=float).T, np.array(x_test, dtype=float).T, categorical


def _text(table: Table, names: Sequence[str]) -> list[str]:
    return [" ".join(cells) for cells in zip(*(table.column(n) for n in names), strict=True)]


class _Model:
    """One kind of reference model on fixed train and test features: fit on labels, predict the test rows."""

    def __init__(self, kind: str, train: Table, test: Table, id_column: str, targets: Sequence[str], cid: str):
        if kind == "text":
            names = TEXT_COLUMNS.get(cid)
            if names is None:
                raise ReferenceFailed("no text columns are known for this competition")
            union = make_union(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            )
            self.x_train, self.x_test = union.fit_transform(_text(train, names)), union.transform(_text(test, names))
            self.categorical: list[bool] | None = None
        else:
            skip = {id_column, *targets}
            names = [c for c in train.header if c in test.header and c not in skip]
            if not names:
                raise ReferenceFailed("train and test share no feature column")
            self.x_train, self.x_test, self.categorical = encode_columns(train, test, names)
        self.text = kind == "text"

    def _estimator(self, regression: bool) -> Any:
        if self.text:
            return LogisticRegression(max_iter=2000)
        mask = self.categorical if any(self.categorical or ()) else None
        if regression:
            return HistGradientBoostingRegressor(categorical_features=mask, random_state=0)
        return HistGradientBoostingClassifier(categorical_features=mask, random_state=0)

    def regress(self, cells: Sequence[str]) -> np.ndarray:
        if self.text:
            raise ReferenceFailed("a text reference for a numeric target is not defined")
        y = np.array([np.nan if (v := parse_float(c)) is None else v for c in cells])
        known = ~np.isnan(y)
        return np.asarray(self._estimator(True).fit(self.x_train[known], y[known]).predict(self.x_test))

    def classify(self, cells: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The classes (sorted) and each test row's probabilities; one class seen: probability 1 for it."""
        y = np.array(cells, dtype=object)
        known = np.array([c.strip() != "" for c in cells])
        classes = sorted(set(y[known]))
        if len(classes) < 2:
            return classes, np.ones((self.x_test.shape[0], len(classes)))
        model = self._estimator(False).fit(self.x_train[known], y[known])
        return [str(c) for c in model.classes_], np.asarray(model.predict_proba(self.x_test))


def reference_predictions(competition: Competition, layout: Layout) -> dict[str, list[str]]:
    """Each target column's cells for the test rows, in test order, from models fitted on the public train rows."""
    spec, train, test = competition.spec, layout.train, layout.test
    metric = get_metric(spec.metric or "")
    targets = list(spec.target_columns)
    model = _Model(spec.kind, train, test, spec.id_column, targets, spec.id)
    if all(t in train.header for t in targets):
        return {t: _target_cells(model, metric, train.column(t)) for t in targets}
    label = label_column(train, test, spec.id_column, targets)
    classes, probabilities = model.classify(train.column(label))
    matched = match_classes(targets, classes)
    index = {c: i for i, c in enumerate(classes)}
    zero = np.zeros(probabilities.shape[0])
    return {t: [_number(p) for p in (probabilities[:, index[matched[t]]] if t in matched else zero)] for t in targets}


def _target_cells(model: _Model, metric: Metric, cells: Sequence[str]) -> list[str]:
    if metric.regression:
        predicted = model.regress(cells)
        # log errors are undefined below -1; the targets of such competitions are never negative
        return [_number(v) for v in (np.maximum(predicted, 0.0) if metric.above_minus_one else predicted)]
    classes, probabilities = model.classify(cells)
    if not metric.probabilities:
        return [classes[i] for i in probabilities.argmax(axis=1)]
    if len(classes) > 2:
        raise ReferenceFailed(f"{len(classes)} classes in one probability column")
    # the later class in sort order is the positive one: 1 after 0, True after False
    return [_number(p) for p in (probabilities[:, -1] if len(classes) == 2 else np.zeros(len(probabilities)))]


def _number(value: float) -> str:
    return format(float(value), ".9g")


def write_like_sample(
    sample: Path, id_column: str, ids: Sequence[str], cells: Mapping[str, list[str]], out: Path
) -> None:
    """The sample submission with its target cells replaced by the predictions of the test row of the same id."""
    by_id = {column: dict(zip(ids, values, strict=True)) for column, values in cells.items()}
    with sample.open(newline="", encoding="utf-8-sig") as source, out.open("w", newline="", encoding="utf-8") as sink:
        reader, writer = csv.reader(source), csv.writer(sink)
        header = next(reader)
        writer.writerow(header)
        key = header.index(id_column)
        for row in reader:
            for index, column in enumerate(header):
                if column in by_id:
                    if row[key] not in by_id[column]:
                        raise ReferenceFailed(f"the sample's id {row[key][:40]!r} is not a test row")
                    row[index] = by_id[column][row[key]]
            writer.writerow(row)


def reference_score(competition: Competition, scratch: Path) -> float | None:
    """The reference's graded score; ``ReferenceFailed`` (or scikit-learn's error) when it cannot be had."""
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        layout = read_layout(competition.public, scratch)
    except LayoutError as error:
        raise ReferenceFailed(str(error)) from error
    # one OpenMP thread: on a small shared machine HistGradientBoosting's threads contend (ten times slower)
    with threadpool_limits(limits=1, user_api="openmp"):
        cells = reference_predictions(competition, layout)
    out = scratch / "reference.csv"
    write_like_sample(
        competition.sample_submission,
        competition.spec.id_column,
        layout.test.column(competition.spec.id_column),
        cells,
        out,
    )
    report = grade_submission(out, competition)
    if not report.valid_submission:
        raise ReferenceFailed("graded invalid: " + "; ".join(report.problems)[:200])
    return report.score
