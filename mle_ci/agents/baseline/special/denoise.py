"""Document denoising: least squares from a noisy pixel's 5×5 neighbourhood and the paper around it to the clean pixel.

The paper's brightness around a pixel is the maximum over an 11×11 window (ink is darker than the paper and thinner
than the window, stains are wider); the pixel's difference from it enters both linearly and through ten bins with
their own slope, so the map can whiten paper and keep ink. Fitted as normal equations summed page by page, so a
hundred full pages need no more memory than one, and cut short at the deadline with the pages summed so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mle_ci.agents.baseline.special.budget import Budget
from mle_ci.agents.baseline.special.inputs import find_sample
from mle_ci.agents.baseline.special.pixels import Prediction, submission_rows
from mle_ci.agents.baseline.special.result import READ_ERRORS, SpecialInputError, SpecialResult
from mle_ci.metrics import score

FloatArray = NDArray[np.float64]

RADIUS = 2
"""The neighbourhood is (2 × RADIUS + 1)² pixels."""

PAPER_WINDOW = 11
"""The side of the window whose brightest pixel stands for the paper under a pixel."""

BINS = np.linspace(-1.0, 0.0, 11)[1:-1]
"""Edges of the pixel-minus-paper bins (the difference is at most 0: the paper is the brightest pixel around)."""

FEATURES = (2 * RADIUS + 1) ** 2 + 2 + 2 * (len(BINS) + 1) + 1
HOLD_OUT_SHARE = 0.2
RIDGE = 1e-3
MODEL = "least squares on 5×5 neighbourhood and paper"


@dataclass(frozen=True)
class PageFiles:
    """Noisy train pages with their clean versions (by file name), noisy test pages and the sample submission."""

    pairs: tuple[tuple[Path, Path], ...]
    tests: tuple[Path, ...]
    sample: Path


@dataclass(frozen=True)
class Normals:
    """The normal equations of the least-squares fit: ``XᵀX``, ``Xᵀy`` and the number of pixels summed."""

    xtx: FloatArray
    xty: FloatArray
    pixels: int

    def plus(self, other: Normals | None) -> Normals:
        if other is None:
            return self
        return Normals(self.xtx + other.xtx, self.xty + other.xty, self.pixels + other.pixels)

    def weights(self) -> FloatArray:
        """The least-squares weights, with a ridge (scaled to the pixel count) that keeps them defined."""
        ridge = RIDGE * max(self.pixels, 1) * np.eye(len(self.xty))
        return np.asarray(np.linalg.solve(self.xtx + ridge, self.xty), dtype=np.float64)


@dataclass(frozen=True)
class Fit:
    """The normal equations of the fitted pages and of the held-out ones, the held-out pages, the pages read."""

    fitted: Normals | None
    held_normals: Normals | None
    held: list[tuple[FloatArray, FloatArray]]
    pages: int


def recognise(public: Path) -> PageFiles | None:
    """The layout's files: ``train/`` and ``train_cleaned/`` PNGs paired by name, ``test/`` PNGs, an id,value sample."""
    folders = [public / name for name in ("train", "train_cleaned", "test")]
    sample = find_sample(public, ("id", "value"))
    if sample is None or not all(folder.is_dir() for folder in folders):
        return None
    noisy, clean, tests = ({p.name: p for p in folder.glob("*.png")} for folder in folders)
    pairs = tuple((noisy[name], clean[name]) for name in sorted(noisy.keys() & clean.keys()))
    if not pairs or not tests:
        return None
    return PageFiles(pairs, tuple(tests[name] for name in sorted(tests)), sample)


def read_page(path: Path) -> FloatArray:
    """A page as greyscale values in [0, 1], as MLE-bench's answers are (``convert("L")`` / 255)."""
    from PIL import Image  # noqa: PLC0415 - Pillow is heavy; only this layout's pages need it

    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.float64) / 255.0


def _max_filter(page: FloatArray, size: int) -> FloatArray:
    """Each pixel's brightest neighbour within a ``size``-wide square (a shifted maximum per axis: fast in numpy)."""
    before, after = size // 2, size - 1 - size // 2
    height, width = page.shape
    padded = np.pad(page, ((before, after), (0, 0)), mode="edge")
    rows = padded[:height].copy()
    for shift in range(1, size):
        np.maximum(rows, padded[shift : shift + height], out=rows)
    padded = np.pad(rows, ((0, 0), (before, after)), mode="edge")
    result = padded[:, :width].copy()
    for shift in range(1, size):
        np.maximum(result, padded[:, shift : shift + width], out=result)
    return result


def features(page: FloatArray) -> NDArray[np.float32]:
    """One row per pixel (row by row): its neighbourhood, the paper, the difference, binned slopes, a constant."""
    height, width = page.shape
    # Built feature by feature as contiguous rows, then transposed: writing columns of a row-major array is slow.
    out = np.empty((FEATURES, page.size), dtype=np.float32)  # float32 halves the time of the products below
    padded = np.pad(page, RADIUS, mode="edge")
    side = 2 * RADIUS + 1
    for index in range(side * side):
        dy, dx = divmod(index, side)
        out[index].reshape(height, width)[...] = padded[dy : dy + height, dx : dx + width]
    at = side * side
    paper = _max_filter(page, PAPER_WINDOW).ravel()
    difference = page.ravel() - paper
    out[at], out[at + 1] = paper, difference
    bins = np.digitize(difference, BINS)
    for index in range(len(BINS) + 1):
        inside = bins == index
        out[at + 2 + index] = inside
        out[at + 3 + len(BINS) + index] = np.where(inside, difference, 0.0)
    out[-1] = 1.0
    return out.T


def denoise(page: FloatArray, weights: FloatArray | None) -> FloatArray:
    """The clean page predicted by the fitted map, or the page itself without one."""
    if weights is None:
        return page
    predicted = np.clip(features(page) @ weights.astype(np.float32), 0.0, 1.0)
    return predicted.astype(np.float64).reshape(page.shape)


def _normals(noisy: FloatArray, clean: FloatArray) -> Normals:
    x = features(noisy)
    xty = x.T @ clean.ravel().astype(np.float32)
    return Normals((x.T @ x).astype(np.float64), xty.astype(np.float64), noisy.size)


def _read_pair(noisy_path: Path, clean_path: Path, notes: list[str]) -> tuple[FloatArray, FloatArray] | None:
    try:
        noisy, clean = read_page(noisy_path), read_page(clean_path)
    except READ_ERRORS as exc:
        notes.append(f"train page {noisy_path.name} left out: {exc}")
        return None
    if noisy.shape != clean.shape:
        notes.append(f"train page {noisy_path.name} left out: its clean version has another size")
        return None
    return noisy, clean


def _fit(files: PageFiles, held: set[int], budget: Budget, notes: list[str]) -> Fit:
    """Sum the normal equations page by page (pages in ``held`` kept aside) while the deadline allows another."""
    fitted: Normals | None = None
    kept: Normals | None = None
    held_pages: list[tuple[FloatArray, FloatArray]] = []
    slowest, pages = 0.0, 0
    for index, (noisy_path, clean_path) in enumerate(files.pairs):
        if not budget.allows(3 * slowest + 5):
            notes.append(f"the deadline came after {index} of {len(files.pairs)} train pages")
            break
        started = time.monotonic()
        pair = _read_pair(noisy_path, clean_path, notes)
        if pair is None:
            continue
        normals = _normals(*pair)
        if index in held:
            held_pages.append(pair)
            kept = normals.plus(kept)
        else:
            fitted = normals.plus(fitted)
        slowest = max(slowest, time.monotonic() - started)
        pages += 1
    return Fit(fitted, kept, held_pages, pages)


def _rmse(truth: list[FloatArray], predicted: list[FloatArray]) -> float:
    return score("rmse", np.concatenate([t.ravel() for t in truth]), np.concatenate([p.ravel() for p in predicted]))


def _measure(fit: Fit, notes: list[str]) -> tuple[FloatArray | None, float | None, float | None]:
    """The map refitted on every page read, its held-out RMSE and the noisy pages'; no map where it does not help."""
    if fit.fitted is None:
        return None, None, None
    if not fit.held:
        return fit.fitted.weights(), None, None
    truth = [clean for _, clean in fit.held]
    cv_score = _rmse(truth, [denoise(noisy, fit.fitted.weights()) for noisy, _ in fit.held])
    fallback = _rmse(truth, [noisy for noisy, _ in fit.held])
    white = _rmse(truth, [np.ones_like(clean) for clean in truth])
    notes.append(
        f"held-out RMSE on {len(fit.held)} train pages: {cv_score:.4f}, against {fallback:.4f} for the noisy "
        f"page itself and {white:.4f} for the sample's all-white page"
    )
    if cv_score >= fallback:
        notes.append("the map did not beat the noisy pages on held-out pages: the test pages are left as they are")
        return None, fallback, fallback
    return fit.fitted.plus(fit.held_normals).weights(), cv_score, fallback


def solve(files: PageFiles, *, seed: int, budget: Budget) -> SpecialResult:
    """Fit the map on most train pages, measure it on the rest against the noisy page itself, refit on all."""
    notes: list[str] = []
    count = len(files.pairs)
    order = np.random.default_rng(seed).permutation(count)
    held = {int(i) for i in order[: round(HOLD_OUT_SHARE * count)]} if count > 1 else set()
    fit = _fit(files, held, budget, notes)
    weights, cv_score, fallback = _measure(fit, notes)
    model = "identity" if weights is None else MODEL
    if weights is None:
        notes.insert(0, f"no map ({fit.pages} train pages read): each test pixel is predicted as its noisy value")
    else:
        notes.insert(0, f"{MODEL}, fitted on {fit.pages} train pages ({len(fit.held)} first held out to measure it)")
    predictions: dict[str, Prediction] = {}
    for path in files.tests:
        try:
            predictions[path.stem] = Prediction.of(denoise(read_page(path), weights))
        except READ_ERRORS as exc:
            notes.append(f"test page {path.name} unreadable ({exc}): its pixels keep the sample's value")
    try:
        header, rows, unmatched = submission_rows(files.sample, predictions)
    except READ_ERRORS as exc:
        raise SpecialInputError(f"{files.sample.name} cannot be read: {exc}") from None
    if unmatched:
        notes.append(f"{unmatched} sample ids name no test pixel and keep the sample's value")
    return SpecialResult(
        kind="image denoising",
        metric="rmse",
        higher_is_better=False,
        header=header,
        rows=rows,
        cv_score=cv_score,
        fallback_score=fallback,
        model=model,
        notes=tuple(notes),
    )
