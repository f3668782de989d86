"""Learnable medical pictures: fundus photographs whose lesions multiply with the grade (aptos), chest X-rays whose
tubes end where their state says (ranzcr), and skin lesions, rarely malignant: larger, irregular, darker, on older
patients (siim-isic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..images import (
    RANZCR_LABELS,
    SIIM_BENIGN,
    SIIM_SITES,
    encode_image,
    hex_ids,
    ranzcr_labels,
    unique,
    write_aptos,
    write_ranzcr,
    write_siim_isic,
)
from .drawing import background, ellipse_mask, finished, jitter, paint, stroke_mask
from .split import drawn_labels, split_sizes

# --- aptos2019-blindness-detection: diagnosis 0-4 -------------------------------------------------------------------
# Microaneurysms (dark red dots) become more numerous with the grade, exudates (yellow) appear from grade 2, new
# vessels and haemorrhages at grade 4; the counts overlap between neighbouring grades.

_ANEURYSMS = (0.3, 2.5, 5.0, 9.0, 13.0)
_EXUDATES = (0.0, 0.2, 1.5, 3.0, 3.5)


def _fundus(rng: np.random.Generator, grade: int) -> bytes:
    size = int(rng.integers(32, 49))
    image = np.zeros((size, size, 3))
    retina = ellipse_mask(image.shape, (size / 2, size / 2), (size * 0.46, size * 0.46))
    paint(image, retina, jitter(rng, (190, 90, 40), 15))
    image += (retina * rng.normal(0, 5, (size, size)))[:, :, None]
    side = rng.choice([-1, 1])
    disc = (size / 2 + rng.normal(0, 2), size / 2 + side * size * 0.22)
    for _ in range(4):  # vessels leaving the optic disc
        end = (rng.uniform(0.1, 0.9) * size, rng.uniform(0.1, 0.9) * size)
        paint(image, stroke_mask(image.shape, [disc, end], 1.0) * retina, (140, 40, 25), 0.8)
    paint(image, ellipse_mask(image.shape, disc, (size * 0.07, size * 0.07)), (245, 210, 130))

    def spots(count: int, colour: tuple[float, float, float], radius: tuple[float, float]) -> None:
        for _ in range(count):
            angle, reach = rng.uniform(0, 2 * np.pi), size * 0.38 * np.sqrt(rng.random())
            centre = (size / 2 + reach * np.sin(angle), size / 2 + reach * np.cos(angle))
            r = rng.uniform(*radius)
            paint(image, ellipse_mask(image.shape, centre, (r, r)), colour)

    spots(int(rng.poisson(_ANEURYSMS[grade])), (110, 25, 20), (0.6, 1.0))
    spots(int(rng.poisson(_EXUDATES[grade])), (235, 215, 90), (0.8, 1.5))
    if grade == 4:
        spots(int(rng.integers(1, 4)), (90, 15, 10), (1.5, 3.0))
    return encode_image(finished(image), "PNG")


def aptos(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    shares = [0.49, 0.10, 0.27, 0.05, 0.09]
    labels = drawn_labels(rng, n_train, shares) + drawn_labels(rng, n_test, shares)
    ids = hex_ids(rng, 12, n_train + n_test)
    pictures = [(i, grade, _fundus(rng, grade)) for i, grade in zip(ids, labels, strict=True)]
    write_aptos(folder, pictures[:n_train], pictures[n_train:])


# --- ranzcr-clip-catheter-line-classification ----------------------------------------------------------------------
# A 40x40 chest: lungs, spine, abdomen. The endotracheal tube comes down the middle and its tip sits too high or too
# low when not normal; the nasogastric tube goes down into the stomach, stops short, runs off the image or curls back
# up; the central line comes in from the right shoulder and its tip stops short or strays. Tips scatter, so
# borderline and normal overlap.

SIDE = 40
_ETT_TIP = {1: (0.1, 0.58), 2: (0.21, 0.44), 3: (0.32,)}  # the tip's height (a fraction), one of these
_CVC_TIP = {1: (0.15, 0.72), 2: (0.3, 0.64), 3: (0.42, 0.55)}  # tip (y, x)


def _chest(rng: np.random.Generator, ett: int, ngt: int, cvc: int, swan: int) -> tuple[bytes, dict[str, list]]:
    image = background(rng, SIDE, SIDE, (25,), grain=4, blotch=6)
    for x in (0.3, 0.7):
        paint(image, ellipse_mask(image.shape, (0.45 * SIDE, x * SIDE), (0.3 * SIDE, 0.15 * SIDE)), (75,))
    paint(image, stroke_mask(image.shape, [(0, SIDE / 2), (SIDE, SIDE / 2)], 3), (105,), 0.8)
    paint(image, ellipse_mask(image.shape, (SIDE, SIDE / 2), (0.25 * SIDE, 0.6 * SIDE)), (115,), 0.9)
    paths: dict[str, list] = {}

    def scattered(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(y * SIDE + rng.normal(0, 0.03 * SIDE), x * SIDE + rng.normal(0, 0.015 * SIDE)) for y, x in points]

    if ett:
        tip = float(rng.choice(_ETT_TIP[ett]))
        paths[f"ETT - {('', 'Abnormal', 'Borderline', 'Normal')[ett]}"] = scattered([(0.0, 0.5), (tip, 0.5)])
    if ngt:
        ends = {1: [(0.6, 0.45), (0.35, 0.3)], 2: [(0.72, 0.42)], 3: [(0.85, 0.42), (1.15, 0.38)], 4: [(0.9, 0.35)]}
        name = ("", "Abnormal", "Borderline", "Incompletely Imaged", "Normal")[ngt]
        paths[f"NGT - {name}"] = scattered([(0.0, 0.45), (0.55, 0.45), *ends[ngt]])
    if cvc:
        name = ("", "Abnormal", "Borderline", "Normal")[cvc]
        paths[f"CVC - {name}"] = scattered([(0.08, 0.95), (0.2, 0.75), _CVC_TIP[cvc]])
    if swan:
        paths["Swan Ganz Catheter Present"] = scattered([(0.05, 0.1), (0.3, 0.3), (0.45, 0.62)])
    for points in paths.values():
        paint(image, stroke_mask(image.shape, points, 1.2), (rng.uniform(190, 240),))
    return encode_image(finished(image), "JPEG"), paths


def ranzcr(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows, least=12)
    total = n_train + n_test
    rng = np.random.default_rng(seed)
    states = np.column_stack(
        [
            rng.choice(4, total, p=[0.55, 0.05, 0.1, 0.3]),
            rng.choice(5, total, p=[0.55, 0.06, 0.07, 0.1, 0.22]),
            rng.choice(4, total, p=[0.08, 0.15, 0.27, 0.5]),
            rng.random(total) < 0.05,
        ]
    ).astype(int)
    forced = [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2)]  # a positive of each class
    for k, (device, state) in zip(rng.choice(n_test, len(forced), replace=False), forced, strict=True):
        states[n_train + k, device] = state
    uids = unique(
        ("1.2.826.0.1.3680043.8.498." + str(int(rng.integers(1, 10))) + "".join(map(str, rng.integers(0, 10, 37)))
         for _ in range(4 * total)),
        total,
    )  # fmt: skip
    patients = hex_ids(rng, 9, max(total // 3, 2))
    rows_out, images, annotations = [], [], []
    for k, (uid, state) in enumerate(zip(uids, states.tolist(), strict=True)):
        image, paths = _chest(rng, *state)
        images.append(image)
        rows_out.append((uid, *ranzcr_labels(*state), patients[int(rng.integers(len(patients)))]))
        if k < n_train:
            for label, points in paths.items():
                if label in RANZCR_LABELS and rng.random() < 0.7:
                    data = "[" + ", ".join(f"[{round(x)}, {round(y)}]" for y, x in points) + "]"
                    annotations.append((uid, label, data))
    write_ranzcr(folder, rows_out[:n_train], rows_out[n_train:], images, annotations)


# --- siim-isic-melanoma-classification: one lesion on skin; six in a hundred malignant ------------------------------

_SITE_SHARE = {0: [0.06, 0.15, 0.25, 0.51, 0.02, 0.01], 1: [0.15, 0.2, 0.25, 0.38, 0.01, 0.01]}


def _lesion(rng: np.random.Generator, malignant: int) -> np.ndarray:
    image = background(rng, 32, 32, jitter(rng, (215, 165, 140), 20), grain=4, blotch=6)
    atypical = malignant != (rng.random() < 0.15)  # some benign lesions look atypical and some melanomas do not
    radius = rng.uniform(6, 11) if atypical else rng.uniform(3.5, 7)
    wobble = (rng.uniform(0.15, 0.3) if atypical else 0.03, int(rng.integers(3, 8)), rng.uniform(0, 6))
    centre = (16 + rng.normal(0, 2), 16 + rng.normal(0, 2))
    lesion = ellipse_mask(image.shape, centre, (radius, radius * rng.uniform(0.75, 1.0)), rng.uniform(0, 3), wobble)
    paint(image, lesion, jitter(rng, (95, 60, 45) if atypical else (140, 95, 70), 12))
    if atypical:  # darker and blue-grey areas inside
        for colour in ((45, 30, 30), (90, 95, 115)):
            offset = rng.normal(0, radius / 3, 2)
            patch = ellipse_mask(image.shape, (centre[0] + offset[0], centre[1] + offset[1]), (radius / 3,) * 2)
            paint(image, patch * lesion, colour, 0.8)
    for _ in range(int(rng.integers(0, 3))):  # hairs
        ends = [tuple(rng.uniform(0, 32, 2)) for _ in range(2)]
        paint(image, stroke_mask(image.shape, ends, 0.7), (50, 35, 30), 0.7)
    return finished(image)


def siim_isic(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    total = n_train + n_test
    rng = np.random.default_rng(seed)
    names = sorted(unique((f"ISIC_{int(v):07d}" for v in rng.integers(0, 10**7, size=4 * total)), total))
    patients = unique((f"IP_{int(v):07d}" for v in rng.integers(0, 10**7, size=4 * total)), max(total // 4, 2))
    test = rng.permutation(np.arange(total) < n_test)
    tfrecords = np.zeros(total, dtype=int)
    tfrecords[test] = np.arange(n_test) % 2 * 6  # Kaggle's train00 and train06 become the test set
    tfrecords[~test] = np.array([1, 2, 3, 4, 5, 7, 8, 9])[rng.permutation(n_train) % 8]
    target = (rng.random(total) < 0.06).astype(int)
    for split in (test, ~test):  # two melanomas at least in each split
        target[rng.choice(np.flatnonzero(split), 2, replace=False)] = 1
    rows_out: list[list[object]] = []
    for name, malignant in zip(names, target.tolist(), strict=True):
        sex = (None, "male", "female")[int(rng.choice(3, p=[0.02, 0.51 + 0.05 * malignant, 0.47 - 0.05 * malignant]))]
        age = (
            None
            if rng.random() < 0.02
            else float(np.clip(5 * round(rng.normal(60 if malignant else 45, 14) / 5), 10, 90))
        )
        site = None if rng.random() < 0.05 else SIIM_SITES[int(rng.choice(6, p=_SITE_SHARE[malignant]))]
        diagnosis = "melanoma" if malignant else SIIM_BENIGN[int(rng.choice(6, p=[0.8, 0.15, 0.02, 0.01, 0.01, 0.01]))]
        patient = patients[int(rng.integers(len(patients)))]
        rows_out.append([name, patient, sex, age, site, diagnosis, "malignant" if malignant else "benign", malignant])
    uids = ("2.25." + str(int.from_bytes(rng.bytes(16), "big")) for _ in target)
    pictures = [(_lesion(rng, malignant), next(uids)) for malignant in target.tolist()]
    write_siim_isic(folder, rows_out, pictures, tfrecords.tolist(), (0, 6))


LEARNABLE = {
    "aptos2019-blindness-detection": aptos,
    "ranzcr-clip-catheter-line-classification": ranzcr,
    "siim-isic-melanoma-classification": siim_isic,
}
