"""Bird species in recordings (MLSP 2013): a logistic model per species on the histogram of segments, else its prior.

The grade is one AUC over every (recording, species) row, so a species' frequency alone already ranks its rows
above a rarer species' rows; the per-species models must beat that prior in the pooled out-of-fold AUC to be kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.metrics import fold_indices
from mle_ci.agents.baseline.special.budget import Budget
from mle_ci.agents.baseline.special.inputs import find_sample, read_csv
from mle_ci.agents.baseline.special.linear import fit_logistic
from mle_ci.agents.baseline.special.result import READ_ERRORS, SpecialInputError, SpecialResult
from mle_ci.metrics import score

FloatArray = NDArray[np.float64]

FOLDS = 5
L2_GRID = (0.3, 0.03)
"""Penalties tried for the per-species models; the better pooled out-of-fold AUC is kept."""

MIN_POSITIVES = 2
"""A species with fewer positive train recordings than this is predicted by its prior."""

PRIOR_SMOOTHING = 1.0
"""Pseudo-count added to a species' positives (over twice as many recordings) so that no prior is exactly zero."""


@dataclass(frozen=True)
class BirdFiles:
    """The essential tables (labels with test rows as "?", species) and the histogram of segments."""

    labels: Path
    species: Path
    histogram: Path | None
    sample: Path


@dataclass(frozen=True)
class Recordings:
    """Train recordings' label matrix and features, test recordings' features, in the sample's species order."""

    train_ids: tuple[int, ...]
    labels: FloatArray  # train recordings × species, 0 or 1
    train_x: FloatArray
    test_ids: tuple[int, ...]
    test_x: FloatArray


def recognise(public: Path) -> BirdFiles | None:
    """The layout's files: ``essential_data/rec_labels_test_hidden.txt`` and ``species_list.txt``, an Id sample."""
    essential, supplemental = public / "essential_data", public / "supplemental_data"
    labels, species = essential / "rec_labels_test_hidden.txt", essential / "species_list.txt"
    sample = find_sample(public, ("Id", "Probability"))
    if not labels.is_file() or not species.is_file() or sample is None:
        return None
    histogram = supplemental / "histogram_of_segments.txt"
    return BirdFiles(labels, species, histogram if histogram.is_file() else None, sample)


def _labels(path: Path) -> tuple[dict[int, list[int]], list[int]]:
    """Train recordings' species (an empty list: no bird) and the test recordings (labels shown as "?")."""
    known: dict[int, list[int]] = {}
    hidden: list[int] = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        cells = [cell.strip() for cell in line.split(",") if cell.strip()]
        if not cells:
            continue
        if "?" in cells[1:]:
            hidden.append(int(cells[0]))
        else:
            known[int(cells[0])] = [int(cell) for cell in cells[1:]]
    return known, hidden


def _histograms(path: Path | None, notes: list[str]) -> dict[int, FloatArray]:
    if path is None:
        notes.append("no histogram_of_segments.txt: the species priors are the model")
        return {}
    rows: dict[int, FloatArray] = {}
    try:
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            cells = line.split(",")
            if len(cells) > 1:
                rows[int(cells[0])] = np.array([float(cell) for cell in cells[1:] if cell.strip()])
    except READ_ERRORS as exc:
        notes.append(f"histogram_of_segments.txt unreadable ({exc}): the species priors are the model")
        return {}
    return rows


def _features(histograms: dict[int, FloatArray], ids: list[int], width: int) -> FloatArray:
    """The histogram, its total (zero: no segment found) and its spread, per recording; zeros where absent."""
    x = np.zeros((len(ids), width + 2))
    for row, rec in enumerate(ids):
        values = histograms.get(rec)
        if values is not None and len(values) == width:
            x[row, :width] = values
            x[row, width] = values.sum()
            x[row, width + 1] = np.count_nonzero(values)
    return x


def _priors(labels: FloatArray) -> FloatArray:
    result: FloatArray = (labels.sum(axis=0) + PRIOR_SMOOTHING) / (len(labels) + 2 * PRIOR_SMOOTHING)
    return result


def _predict(train_x: FloatArray, labels: FloatArray, test_x: FloatArray, l2: float | None) -> FloatArray:
    """Each test recording's probability per species: a logistic model where enough positives, else the prior."""
    priors = _priors(labels)
    out = np.tile(priors, (len(test_x), 1))
    if l2 is None or train_x.shape[1] == 0:
        return out
    for species in range(labels.shape[1]):
        positives = int(labels[:, species].sum())
        if MIN_POSITIVES <= positives <= len(labels) - MIN_POSITIVES:
            out[:, species] = fit_logistic(train_x, labels[:, species], l2=l2).probability(test_x)
    return out


def _pooled_auc(labels: FloatArray, predicted: FloatArray) -> float | None:
    truth = labels.ravel()
    if truth.min() == truth.max():
        return None
    return score("auc", truth, predicted.ravel())


def _cross_validate(data: Recordings, l2: float | None, seed: int) -> float | None:
    """The pooled AUC of out-of-fold predictions (``l2=None``: the priors of the other folds)."""
    folds = min(FOLDS, len(data.train_ids))
    if folds < 2:
        return None
    predicted = np.zeros_like(data.labels)
    for held in fold_indices(len(data.train_ids), folds, seed):
        fit = np.setdiff1d(np.arange(len(data.train_ids)), held)
        predicted[held] = _predict(data.train_x[fit], data.labels[fit], data.train_x[held], l2)
    return _pooled_auc(data.labels, predicted)


def _read(files: BirdFiles, notes: list[str]) -> tuple[Recordings, int]:
    known, hidden = _labels(files.labels)
    species = len([line for line in files.species.read_text(encoding="utf-8").splitlines()[1:] if line.strip()])
    if not known or species == 0:
        raise SpecialInputError("no labelled recording or no species listed")
    train_ids = sorted(known)
    labels = np.zeros((len(train_ids), species))
    for row, rec in enumerate(train_ids):
        for s in known[rec]:
            if 0 <= s < species:
                labels[row, s] = 1.0
    histograms = _histograms(files.histogram, notes)
    widths = [len(v) for v in histograms.values()]
    width = max(set(widths), key=widths.count) if widths else 0
    train_x = _features(histograms, train_ids, width) if width else np.zeros((len(train_ids), 0))
    test_x = _features(histograms, hidden, width) if width else np.zeros((len(hidden), 0))
    return Recordings(tuple(train_ids), labels, train_x, tuple(hidden), test_x), species


def solve(files: BirdFiles, *, seed: int, budget: Budget) -> SpecialResult:
    """Choose between the priors and per-species models by pooled out-of-fold AUC, then predict every sample row."""
    notes: list[str] = []
    header, sample = read_csv(files.sample)
    data, species = _read(files, notes)
    prior_auc = _cross_validate(data, None, seed)
    best_l2: float | None = None
    best_auc = prior_auc
    for l2 in L2_GRID:
        if data.train_x.shape[1] == 0 or not budget.allows(5.0):
            break
        auc = _cross_validate(data, l2, seed)
        if auc is not None and (best_auc is None or auc > best_auc):
            best_l2, best_auc = l2, auc
    model = "species priors" if best_l2 is None else f"logistic per species on segment histograms (L2 {best_l2})"
    notes.append(
        f"{len(data.train_ids)} train recordings, {len(data.test_ids)} test, {species} species; "
        f"pooled out-of-fold AUC over {FOLDS} folds: {model} {_text(best_auc)}, species priors {_text(prior_auc)}; "
        "the sample's constant scores 0.5"
    )
    predicted = _predict(data.train_x, data.labels, data.test_x, best_l2)
    by_id = {rec * 100 + s: predicted[row, s] for row, rec in enumerate(data.test_ids) for s in range(species)}
    id_at, value_at = header.index("Id"), header.index("Probability")
    rows: list[list[str]] = []
    unmatched = 0
    for row in sample:
        value = by_id.get(int(row[id_at])) if row[id_at].strip().isdigit() else None
        unmatched += value is None
        rows.append([row[id_at], row[value_at] if value is None else f"{value:.6g}"])
    if unmatched:
        notes.append(f"{unmatched} sample rows name no test recording and species and keep the sample's value")
    return SpecialResult(
        kind="bird species in recordings (multi-label)",
        metric="auc",
        higher_is_better=True,
        header=header,
        rows=rows,
        cv_score=best_auc,
        fallback_score=prior_auc,
        model=model,
        notes=tuple(notes),
    )


def _text(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"
