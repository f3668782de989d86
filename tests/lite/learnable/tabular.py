"""Learnable tables: leaf species from shape features, taxi fares from distance and time, nomad's energies from
composition and lattice, forest cover from elevation and soil, tps-may's target from interactions and ``f_27``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..files import Cell, jpeg_bytes
from ..tabular import (
    LEAF_SPECIES,
    geometry_xyz,
    write_leaf,
    write_nomad,
    write_taxi,
    write_tps_dec,
    write_tps_may,
)
from .split import split_sizes


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-z)))


def _columns(*columns: list[Any]) -> list[list[Cell]]:
    """Row lists from column lists (each already plain Python values)."""
    return [list(row) for row in zip(*columns, strict=True)]


# --- leaf-classification -------------------------------------------------------------------------------------------
# Each species has a prototype: margin and texture histograms (64 bins each, summing to one) and a smooth shape
# contour; a leaf is its prototype with multiplicative noise. The silhouette's lobes and elongation follow the species.


def _leaf_silhouette(rng: np.random.Generator, lobes: int, elongation: float) -> bytes:
    height, width = int(rng.integers(24, 41)), int(rng.integers(24, 41))
    ys, xs = np.mgrid[0:height, 0:width]
    dy, dx = (ys - height / 2) / (height / 2.2), (xs - width / 2) / (width / 2.2) * elongation
    radius = 0.75 + 0.2 * np.cos(lobes * np.arctan2(dy, dx) + rng.uniform(-0.3, 0.3))
    inside = np.hypot(dy, dx) <= radius
    return jpeg_bytes((inside * 255).astype(np.uint8))


def leaf(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    kinds = len(LEAF_SPECIES)
    margin_proto = rng.dirichlet(np.full(64, 0.7), kinds)
    texture_proto = rng.dirichlet(np.full(64, 0.4), kinds)
    bins = np.arange(64) / 64
    shape_proto = 0.0009 * (
        1 + 0.6 * np.cos(2 * np.pi * (rng.integers(1, 4, (kinds, 1)) * bins + rng.random((kinds, 1))))
    )
    lobes, elongation = rng.integers(1, 7, kinds), rng.uniform(0.6, 1.6, kinds)
    train_species = rng.permutation(np.arange(n_train) % kinds)  # every species is seen in training
    species = np.concatenate([train_species, rng.choice(train_species, n_test)])
    total = n_train + n_test

    def noisy(proto: np.ndarray, spread: float) -> np.ndarray:
        values = proto[species] * rng.lognormal(0.0, spread, (total, 64)) + rng.exponential(0.004, (total, 64))
        return np.asarray(values / values.sum(axis=1, keepdims=True))

    margin, texture = noisy(margin_proto, 1.6), noisy(texture_proto, 1.6)
    shape = shape_proto[species] * rng.lognormal(0.0, 0.6, (total, 64))
    id_pool = np.arange(1, max(1585, 2 * total))
    ids = rng.choice(id_pool, total, replace=False).tolist()
    table = _columns(
        ids,
        [LEAF_SPECIES[s] for s in species],
        *np.round(margin, 6).T.tolist(),
        *np.round(shape, 8).T.tolist(),
        *np.round(texture, 6).T.tolist(),
    )
    images = [_leaf_silhouette(rng, int(lobes[s]), float(elongation[s])) for s in species]
    write_leaf(folder, table[:n_train], table[n_train:], images)


# --- new-york-city-taxi-fare-prediction ----------------------------------------------------------------------------
# Fares: a flag fall, a rate per mile of the straight-line (haversine) distance, surcharges by local hour and after
# the 2012 fare rise, flat airport fares, traffic noise; a few trips lost their coordinates (zeros), as in Kaggle's.

JFK = (-73.7781, 40.6413)


def _miles(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    lon0, lat0, lon1, lat1 = (np.radians(v) for v in (x0, y0, x1, y1))
    a = np.sin((lat1 - lat0) / 2) ** 2 + np.cos(lat0) * np.cos(lat1) * np.sin((lon1 - lon0) / 2) ** 2
    return np.asarray(2 * 3958.8 * np.arcsin(np.sqrt(a)))


def taxi(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    total = n_train + n_test
    rng = np.random.default_rng(seed)
    start = np.datetime64("2009-01-01T00:00:00")
    seconds = rng.integers(0, int((np.datetime64("2015-06-30T00:00:00") - start).astype(int)), total)
    stamps = start + seconds.astype("timedelta64[s]")
    when = [t.replace("T", " ") for t in np.datetime_as_string(stamps, unit="s").tolist()]
    x0, y0 = rng.normal(-73.978, 0.018, total), rng.normal(40.752, 0.022, total)
    trip = np.clip(rng.lognormal(np.log(1.7), 0.7, total), 0.1, 20)
    angle = rng.uniform(0, 2 * np.pi, total)
    x1 = x0 + trip / 69.0 * np.cos(angle) / np.cos(np.radians(y0))
    y1 = y0 + trip / 69.0 * np.sin(angle)
    airport = rng.random(total) < 0.03
    x1[airport], y1[airport] = (
        JFK[0] + rng.normal(0, 0.004, airport.sum()),
        JFK[1] + rng.normal(0, 0.004, airport.sum()),
    )
    miles = _miles(x0, y0, x1, y1)
    local_hour = ((seconds % 86400) // 3600 - 5) % 24
    risen = stamps >= np.datetime64("2012-09-04")
    fare = (
        2.5
        + 2.3 * miles * rng.lognormal(0, 0.12, total)
        + 0.8 * ((local_hour >= 16) & (local_hour < 20))
        + 0.5 * ((local_hour >= 20) | (local_hour < 6))
        + 0.9 * risen
        + rng.normal(0, 1.0, total)
    )
    fare = np.where(airport, np.where(risen, 52.0, 45.0) + rng.normal(0, 2.0, total), fare)
    fare = np.maximum(np.round(fare, 1), 2.5)
    lost = rng.random(total) < 0.01
    coordinates = [np.where(lost, 0.0, np.round(v, 6)).tolist() for v in (x0, y0, x1, y1)]
    seen: Counter[str] = Counter()
    keys = []
    for stamp in when:  # a key repeats a time stamp only with a new suffix, as Kaggle's keys do
        seen[stamp] += 1
        keys.append(f"{stamp}.{seen[stamp]:07d}")
    passengers = rng.choice([1, 2, 3, 4, 5, 6], total, p=[0.69, 0.15, 0.04, 0.02, 0.07, 0.03]).tolist()
    table = _columns(keys, fare.tolist(), [f"{w} UTC" for w in when], *coordinates, passengers)
    write_taxi(folder, table[:n_train], table[n_train:])


# --- nomad2018-predict-transparent-conductors ----------------------------------------------------------------------
# (Al, Ga, In) oxides: the band gap rises with aluminium and gallium, the formation energy with mixing; the cell's
# volume per atom grows with indium; each space group shifts both energies and shapes the cell.

SPACEGROUPS = (12, 33, 167, 194, 206, 227)
_SG_GAP = np.array([0.0, 0.25, -0.2, 0.1, 0.05, -0.3])
_SG_FORMATION = np.array([0.02, 0.0, 0.06, 0.04, -0.02, 0.08])
_SG_RATIOS = np.array(
    [[1.0, 0.5, 1.6], [1.0, 1.0, 1.0], [1.0, 1.0, 2.6], [1.0, 1.0, 1.5], [1.0, 1.0, 1.0], [1.0, 1.8, 1.8]]
)
_SG_ANGLES = np.array([[90, 103.7, 90], [90, 90, 90], [90, 90, 120], [90, 90, 120], [90, 90, 90], [90, 90, 90]])


def nomad(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    total = n_train + n_test
    rng = np.random.default_rng(seed)
    group = rng.choice(len(SPACEGROUPS), total, p=[0.2, 0.1, 0.1, 0.15, 0.25, 0.2])
    atoms = rng.choice([10, 20, 30, 40, 60, 80], total)
    al = rng.integers(0, 33, total)
    ga = np.floor(rng.random(total) * (33 - al)).astype(int)
    x_al, x_ga = al / 32, ga / 32
    x_in = (32 - al - ga) / 32
    per_atom = 10.5 + 4.0 * x_in - 1.8 * x_al + rng.normal(0, 0.15, total)
    ratios = _SG_RATIOS[group] * rng.lognormal(0, 0.03, (total, 3))
    lattice = ratios * np.cbrt(per_atom * atoms / ratios.prod(axis=1))[:, None]
    angles = _SG_ANGLES[group] + rng.normal(0, 0.02, (total, 3))
    mixing = x_al * x_ga + x_al * x_in + x_ga * x_in
    formation = 0.06 + 0.45 * mixing + 0.08 * x_al + _SG_FORMATION[group] + rng.normal(0, 0.025, total)
    gap = 0.9 + 3.7 * x_al + 1.7 * x_ga - 0.15 * (per_atom - 10.5) + _SG_GAP[group] + rng.normal(0, 0.18, total)
    formation, gap = np.clip(formation, 0.0, None), np.clip(gap, 0.0001, None)
    ids = [*range(1, n_train + 1), *range(1, n_test + 1)]
    table = _columns(
        ids,
        [SPACEGROUPS[g] for g in group],
        atoms.astype(float).tolist(),
        x_al.tolist(),
        x_ga.tolist(),
        x_in.tolist(),
        *np.round(lattice, 4).T.tolist(),
        *np.round(angles, 4).T.tolist(),
        np.round(formation, 4).tolist(),
        np.round(gap, 4).tolist(),
    )
    geometries = []
    for k in range(total):
        metals = int(atoms[k] * 2 / 5)
        n_al, n_ga = round(x_al[k] * metals), round(x_ga[k] * metals)
        n_in = max(metals - n_al - n_ga, 0)
        elements = ["Al"] * n_al + ["Ga"] * n_ga + ["In"] * n_in
        elements += ["O"] * (int(atoms[k]) - len(elements))
        positions = rng.random((int(atoms[k]), 3)) * lattice[k]
        geometries.append(geometry_xyz(lattice[k].tolist(), list(zip(positions.tolist(), elements, strict=True))))
    write_nomad(folder, table[:n_train], table[n_train:], geometries)


# --- tabular-playground-series-dec-2021 ----------------------------------------------------------------------------
# Forest cover types, drawn first with Kaggle's skewed shares; elevation bands, the wilderness area, preferred soil
# types and road distance follow the type; a few labels are then redrawn at random.

COVERS = np.arange(1, 8)
_COVER_SHARE = np.array([0.36, 0.52, 0.06, 0.004, 0.006, 0.02, 0.03])
_COVER_ELEVATION = np.array([3150, 2920, 2450, 2200, 2750, 2400, 3380])
_COVER_WILDERNESS = np.array([0, 0, 3, 3, 1, 3, 2])
_LOWS = np.array([1800, 0, 0, 0, -100, 0, 0, 50, 0, 0])
_HIGHS = np.array([3899, 359, 59, 1499, 499, 6999, 254, 254, 254, 6999])


def tps_dec(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    total = n_train + n_test
    rng = np.random.default_rng(seed)
    cover = rng.choice(7, total, p=_COVER_SHARE / _COVER_SHARE.sum())
    measures = np.column_stack(
        [
            rng.normal(_COVER_ELEVATION[cover], 170),
            rng.uniform(0, 360, total),
            rng.gamma(2.0, 7.0, total),
            rng.exponential(250, total) * (1 + 0.5 * (cover == 6)),
            rng.normal(50, 60, total),
            rng.exponential(1500, total) * (1 + 0.6 * np.isin(cover, [0, 6])),
            rng.normal(210, 25, total),
            rng.normal(220, 20, total),
            rng.normal(140, 40, total),
            rng.exponential(1500, total) * (1 + 0.4 * (cover == 1)),
        ]
    )
    measures = np.clip(np.round(measures), _LOWS, _HIGHS).astype(int)
    wilderness = (rng.random((total, 4)) < 0.04).astype(int)
    area = np.where(rng.random(total) < 0.75, _COVER_WILDERNESS[cover], rng.integers(0, 4, total))
    wilderness[np.arange(total), area] = 1
    preferred = rng.integers(0, 40, (7, 4))  # each cover's favourite soil types
    soil_type = np.where(
        rng.random(total) < 0.65, preferred[cover, rng.integers(0, 4, total)], rng.integers(0, 40, total)
    )
    soil = (rng.random((total, 40)) < 0.02).astype(int)
    soil[np.arange(total), soil_type] = 1
    redrawn = rng.random(total) < 0.05
    cover = np.where(redrawn, rng.choice(7, total, p=_COVER_SHARE / _COVER_SHARE.sum()), cover)
    ids = rng.choice(4_000_000, total, replace=False)
    table = np.column_stack([ids, measures, wilderness, soil, COVERS[cover]]).tolist()
    write_tps_dec(folder, table[:n_train], table[n_train:])


# --- tabular-playground-series-may-2022 ----------------------------------------------------------------------------
# The target's log-odds: pairwise interactions of the continuous features, counts, letters of f_27 (how many A's,
# the eighth letter) and f_28 signed by f_29, as Kaggle's synthetic target mixes them.

_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRST"))
_LETTER_SHARE = np.array([0.22, 0.2, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.03, *[0.07 / 10] * 10])


def tps_may(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    total = n_train + n_test
    rng = np.random.default_rng(seed)
    first = rng.normal(0, 1.0, (total, 7))
    counts = rng.poisson(rng.uniform(1.0, 5.0, 12), (total, 12))
    middle = rng.normal(0, 2.0, (total, 8))
    letters = rng.choice(20, (total, 10), p=_LETTER_SHARE / _LETTER_SHARE.sum())
    f28 = rng.normal(0, 240, total)
    f29, f30 = rng.integers(0, 2, total), rng.integers(0, 3, total)
    logit = (
        0.9 * np.tanh(first[:, 0] * first[:, 1])
        + 0.35 * (middle[:, 0] + middle[:, 1])
        - 0.3 * middle[:, 7]
        + 0.7 * np.sign(first[:, 2]) * (middle[:, 2] > 0)
        + 0.25 * (counts[:, 0] - counts[:, 0].mean())
        - 0.2 * (counts[:, 1] - counts[:, 1].mean())
        + 0.5 * ((letters == 0).sum(axis=1) - 2.2)
        - 0.6 * np.isin(letters[:, 7], [1, 2, 3])
        + 0.9 * (2 * f29 - 1) * f28 / 240
        + 0.3 * (f30 - 1)
    )
    target = (rng.random(total) < _sigmoid(logit)).astype(int)
    words = ["".join(word) for word in _LETTERS[letters].tolist()]
    table = _columns(
        list(range(total)),
        *np.round(first, 6).T.tolist(),
        *counts.T.tolist(),
        *np.round(middle, 6).T.tolist(),
        words,
        np.round(f28, 6).tolist(),
        f29.tolist(),
        f30.tolist(),
        target.tolist(),
    )
    write_tps_may(folder, table[:n_train], table[n_train:])


LEARNABLE = {
    "leaf-classification": leaf,
    "new-york-city-taxi-fare-prediction": taxi,
    "nomad2018-predict-transparent-conductors": nomad,
    "tabular-playground-series-dec-2021": tps_dec,
    "tabular-playground-series-may-2022": tps_may,
}
