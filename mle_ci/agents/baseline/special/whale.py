"""Right-whale up-calls in AIFF clips: log band energies of a short-time spectrum, then a logistic model.

The clips are read straight from their zips (nothing is extracted, so no member can land outside the scratch
folder); a train clip's label is the ``_0``/``_1`` at the end of its name. The test clips are read first: without
their features no model helps, and the train clips are then read while the deadline allows.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.metrics import fold_indices
from mle_ci.agents.baseline.special.aiff import read_aiff
from mle_ci.agents.baseline.special.budget import Budget
from mle_ci.agents.baseline.special.inputs import find_sample, member_name, read_csv, read_member, zip_members
from mle_ci.agents.baseline.special.linear import fit_logistic
from mle_ci.agents.baseline.special.result import READ_ERRORS, SpecialInputError, SpecialResult
from mle_ci.agents.baseline.special.spectrum import clip_features
from mle_ci.metrics import score

FloatArray = NDArray[np.float64]

LABELLED = re.compile(r"_([01])\.aiff?$", re.IGNORECASE)
CLIP = re.compile(r"\.aiff?$", re.IGNORECASE)
FOLDS = 5
L2_GRID = (0.1, 0.01, 0.001)
FIT_SECONDS = 10.0
"""Time kept for the cross-validation and the final fit when the train clips are read against the deadline."""


@dataclass(frozen=True)
class ClipFiles:
    """The zip of labelled train clips, the zip of test clips and the sample submission."""

    train: Path
    test: Path
    sample: Path


@dataclass(frozen=True)
class ClipSet:
    """Feature rows of the clips read, their names, and how many could not be read (the first error kept)."""

    names: list[str]
    features: FloatArray
    failed: int
    first_error: str
    stopped: bool = False  # the deadline came before the last clip


def _clip_names(path: Path) -> list[str] | None:
    """The AIFF clips' file names in a zip, ``None`` when it cannot be opened."""
    try:
        return [name for info in zip_members(path) if CLIP.search(name := member_name(info.filename) or "")]
    except SpecialInputError:
        return None


def recognise(public: Path) -> ClipFiles | None:
    """The layout's files: a zip of ``*_0.aif``/``*_1.aif`` clips, a zip of unlabelled clips, a clip sample."""
    sample = find_sample(public, ("clip", "probability"))
    if sample is None:
        return None
    train = test = None
    for path in sorted(public.glob("*.zip")):
        names = _clip_names(path)
        if names is None:
            # Unreadable, but named as the train or test clips: the solver falls back to a constant, or says why not.
            train = path if "train" in path.name.lower() else train
            test = path if "test" in path.name.lower() else test
        elif names and all(LABELLED.search(name) for name in names):
            train = path
        elif names and not any(LABELLED.search(name) for name in names):
            test = path
    return None if train is None or test is None else ClipFiles(train, test, sample)


def _read_clips(path: Path, budget: Budget, reserve: float, wanted: set[str] | None = None) -> ClipSet:
    """Features of the zip's clips (those in ``wanted`` when given), read until ``reserve`` seconds are left."""
    names: list[str] = []
    rows: list[FloatArray] = []
    failed, first_error, stopped = 0, "", False
    with zipfile.ZipFile(path) as archive:
        for index, info in enumerate(archive.infolist()):
            name = member_name(info.filename)
            if name is None or not CLIP.search(name) or (wanted is not None and name not in wanted):
                continue
            if index % 256 == 0 and not budget.allows(reserve):
                stopped = True
                break
            try:
                rows.append(clip_features(read_aiff(read_member(archive, info))))
            except READ_ERRORS as exc:
                failed += 1
                first_error = first_error or f"{name}: {exc}"
                continue
            names.append(name)
    width = rows[0].shape[0] if rows else 0
    return ClipSet(names, np.array(rows) if rows else np.zeros((0, width)), failed, first_error, stopped)


def _labels(names: list[str]) -> FloatArray:
    return np.array([float(match.group(1)) if (match := LABELLED.search(name)) else 0.0 for name in names])


def _out_of_fold_auc(x: FloatArray, y: FloatArray, l2: float, seed: int) -> float:
    predicted = np.zeros_like(y)
    for held in fold_indices(len(y), FOLDS, seed, y.astype(np.int64)):
        fit = np.setdiff1d(np.arange(len(y)), held)
        predicted[held] = fit_logistic(x[fit], y[fit], l2=l2).probability(x[held])
    return score("auc", y, predicted)


def _choose_penalty(
    train: ClipSet, y: FloatArray, width: int, *, seed: int, budget: Budget, notes: list[str]
) -> tuple[float | None, float | None]:
    """The best out-of-fold AUC over ``L2_GRID`` and its penalty; ``None`` when a class has too few clips."""
    positives = int(y.sum())
    if train.features.shape[1] != width:
        notes.append("no test clip could be read: there is nothing for a model to score")
        return None, None
    if min(positives, len(y) - positives) < FOLDS:
        notes.append(f"{positives} of {len(y)} train clips are positive: too few of a class to fit a model")
        return None, None
    best: tuple[float | None, float | None] = (None, None)
    for l2 in L2_GRID:
        if not budget.allows(5.0):
            break
        auc = _out_of_fold_auc(train.features, y, l2, seed)
        if best[0] is None or auc > best[0]:
            best = (auc, l2)
    return best


def solve(files: ClipFiles, *, seed: int, budget: Budget) -> SpecialResult:
    """Read the test then the train clips, choose the penalty by out-of-fold AUC, predict each sample clip."""
    notes: list[str] = []
    header, sample = read_csv(files.sample)
    clip_at = header.index("clip")
    try:
        test = _read_clips(files.test, Budget(None), 0.0, {row[clip_at] for row in sample})
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpecialInputError(f"the test clips cannot be read: {exc}") from None
    try:
        train = _read_clips(files.train, budget, reserve=FIT_SECONDS)
    except (zipfile.BadZipFile, OSError) as exc:
        notes.append(f"the train clips cannot be read ({exc}): every clip gets the same probability")
        train = ClipSet([], np.zeros((0, test.features.shape[1])), 0, "")
    if train.stopped:
        notes.append(f"the deadline stopped the reading of train clips after {len(train.names)}")
    for kind, clips in (("train", train), ("test", test)):
        if clips.failed:
            notes.append(f"{clips.failed} {kind} clips could not be read and are left out (first: {clips.first_error})")
    y = _labels(train.names)
    positives = int(y.sum())
    cv_score, best_l2 = _choose_penalty(train, y, test.features.shape[1], seed=seed, budget=budget, notes=notes)
    if best_l2 is not None and cv_score is not None and cv_score > 0.5:
        model = f"logistic on log band energies (L2 {best_l2})"
        predicted = fit_logistic(train.features, y, l2=best_l2).probability(test.features)
    else:
        if cv_score is not None:
            notes.append(f"the logistic model's out-of-fold AUC {cv_score:.4f} is no better than a constant's")
            cv_score = 0.5
        model = "constant (train share of up-calls)"
        predicted = np.full(len(test.names), positives / len(y) if len(y) else 0.5)
    by_name = dict(zip(test.names, predicted, strict=True))
    middle = float(np.median(predicted)) if len(predicted) else 0.5
    rows = [[row[clip_at], f"{by_name.get(row[clip_at], middle):.6g}"] for row in sample]
    missing = sum(row[clip_at] not in by_name for row in sample)
    if missing:
        notes.append(f"{missing} sample clips were not read and get the median probability")
    notes.insert(
        0,
        f"{model} from {len(y)} train clips ({positives} up-calls); out-of-fold AUC over {FOLDS} folds "
        f"{'undefined' if cv_score is None else f'{cv_score:.4f}'}, against 0.5 for a constant (the sample)",
    )
    return SpecialResult(
        kind="whale call detection in audio clips",
        metric="auc",
        higher_is_better=True,
        header=header,
        rows=rows,
        cv_score=cv_score,
        fallback_score=0.5 if cv_score is not None else None,
        model=model,
        notes=tuple(notes),
    )
