"""Learnable pictures: columnar cacti seen from above, nuclei crowding a tissue patch's centre, cats' pointed and
dogs' hanging ears, breeds as coat colour times pattern, leaves with rust spots or scab patches, and stained pages
of text with their clean originals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..images import (
    DOG_BREEDS,
    encode_image,
    hex_ids,
    write_aerial_cactus,
    write_denoising,
    write_dog_breed,
    write_dogs_vs_cats,
    write_histopathologic,
    write_plant_pathology,
)
from .drawing import background, ellipse_mask, finished, jitter, paint, smooth_noise, stroke_mask
from .split import drawn_labels, split_sizes

# --- aerial-cactus-identification: 32x32 JPEGs, three in four with a cactus ----------------------------------------


def _cactus_image(rng: np.random.Generator, cactus: int) -> bytes:
    image = background(rng, 32, 32, jitter(rng, (165, 140, 110), 20), grain=8, blotch=12)
    for _ in range(int(rng.integers(0, 4))):  # shrubs and stones, in both classes
        centre = (rng.uniform(0, 32), rng.uniform(0, 32))
        radius = rng.uniform(1.5, 4)
        paint(image, ellipse_mask(image.shape, centre, (radius, radius)), jitter(rng, (95, 95, 70), 20))
    if cactus:
        length, width = rng.uniform(5, 15), rng.uniform(1.2, 2.5)
        centre = (rng.uniform(6, 26), rng.uniform(6, 26))
        mask = ellipse_mask(image.shape, centre, (length, width), angle=rng.uniform(1.0, 2.1))
        paint(image, mask, jitter(rng, (80, 125, 70), 12), strength=rng.uniform(0.35, 1.0))
    return encode_image(finished(image), "JPEG")


def aerial_cactus(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    labels = drawn_labels(rng, n_train, [0.25, 0.75]) + drawn_labels(rng, n_test, [0.25, 0.75])
    ids = [f"{v}.jpg" for v in hex_ids(rng, 32, n_train + n_test)]
    pictures = [(i, label, _cactus_image(rng, label)) for i, label in zip(ids, labels, strict=True)]
    write_aerial_cactus(folder, pictures[:n_train], pictures[n_train:])


# --- histopathologic-cancer-detection: TIFF patches; a patch is positive when tumour cells crowd its centre --------


def _tissue_image(rng: np.random.Generator, tumour: int) -> bytes:
    size = 32
    image = background(rng, size, size, jitter(rng, (225, 170, 205), 12), grain=6, blotch=10)
    nuclei = [(*rng.uniform(0, size, 2), rng.uniform(0.8, 1.6)) for _ in range(int(rng.integers(8, 24)))]
    clusters = []
    if tumour:  # tumour cells crowd the centre
        clusters.append((size / 2 + rng.normal(0, 2.5), size / 2 + rng.normal(0, 2.5)))
    if rng.random() < 0.4:  # tumour-like cells away from the centre do not count
        angle = rng.uniform(0, 2 * np.pi)
        clusters.append((size / 2 + 11 * np.sin(angle), size / 2 + 11 * np.cos(angle)))
    for y, x in clusters:
        for _ in range(int(rng.integers(3, 12))):
            nuclei.append((*rng.normal((y, x), 3.5), rng.uniform(1.2, 2.2)))
    for y, x, radius in nuclei:
        mask = ellipse_mask(image.shape, (y, x), (radius, radius * rng.uniform(0.7, 1.3)))
        paint(image, mask, jitter(rng, (95, 40, 130), 15))
    return encode_image(finished(image), "TIFF")


def histopathologic(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    labels = drawn_labels(rng, n_train, [0.6, 0.4]) + drawn_labels(rng, n_test, [0.6, 0.4])
    ids = hex_ids(rng, 40, n_train + n_test)
    pictures = [(i, label, _tissue_image(rng, label)) for i, label in zip(ids, labels, strict=True)]
    write_histopathologic(folder, pictures[:n_train], pictures[n_train:])


# --- dogs-vs-cats-redux-kernels-edition: the same coats on both; cats have pointed ears up, dogs ears hanging -------

COATS = ((60, 45, 35), (200, 160, 110), (235, 230, 220), (120, 120, 125), (170, 100, 50), (30, 30, 30))


def _head(rng: np.random.Generator, size: int, dog: int, coat: tuple[float, ...]) -> np.ndarray:
    image = background(rng, size, size, jitter(rng, (120, 140, 120), 40), grain=10, blotch=15)
    cy, cx, radius = size * rng.uniform(0.45, 0.6), size * rng.uniform(0.4, 0.6), size * rng.uniform(0.2, 0.28)
    for side in (-1, 1):
        if dog:  # a long ear hanging beside the head
            ear = ellipse_mask(image.shape, (cy + 0.3 * radius, cx + side * radius), (radius * 0.8, radius * 0.35))
        else:  # a pointed ear standing on top
            tip = (cy - 1.9 * radius, cx + side * 0.7 * radius)
            ear = stroke_mask(image.shape, [(cy - 0.6 * radius, cx + side * 0.2 * radius), tip], radius * 0.45)
            ear = np.maximum(ear, stroke_mask(image.shape, [(cy - 0.6 * radius, cx + side * 0.9 * radius), tip], 1.5))
        paint(image, ear, jitter(rng, coat, 15))
    paint(image, ellipse_mask(image.shape, (cy, cx), (radius, radius * (1.0 if dog else 1.1))), coat)
    if dog:  # a muzzle
        paint(
            image,
            ellipse_mask(image.shape, (cy + 0.6 * radius, cx), (radius * 0.5, radius * 0.45)),
            jitter(rng, coat, 25),
        )
    return image


def dogs_vs_cats(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    labels = drawn_labels(rng, n_train, [0.5, 0.5]) + drawn_labels(rng, n_test, [0.5, 0.5])
    pictures = []
    for label in labels:
        coat = jitter(rng, COATS[int(rng.integers(len(COATS)))], 10)
        pixels = finished(_head(rng, int(rng.integers(32, 49)), label, coat))
        pictures.append((label, encode_image(pixels, "JPEG")))
    write_dogs_vs_cats(folder, pictures[:n_train], pictures[n_train:])


# --- dog-breed-identification: 120 breeds = 12 coat colours x 10 coat patterns -------------------------------------

BREED_COLOURS = (
    (40, 30, 25), (110, 70, 40), (180, 120, 60), (220, 190, 140), (240, 240, 235), (130, 130, 135),
    (200, 80, 40), (90, 90, 60), (60, 60, 90), (160, 150, 120), (230, 200, 90), (120, 40, 40),
)  # fmt: skip


def _pattern(kind: int, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Where a coat shows its second shade: one of ten patterns, at a random phase."""
    ys, xs = np.mgrid[0:height, 0:width]
    phase = rng.uniform(0, 6)
    patterns = (
        np.zeros((height, width)),
        np.sin(ys * 1.2 + phase) > 0,
        np.sin(xs * 1.2 + phase) > 0,
        (np.sin(ys * 1.3 + phase) > 0.6) & (np.sin(xs * 1.3) > 0.6),
        ((ys // 4 + xs // 4) % 2) == 0,
        xs > width / 2,
        ys > height / 2,
        np.sin((xs + ys) * 0.9 + phase) > 0,
        np.hypot(ys - height / 2, xs - width / 2) < min(height, width) / 4,
        np.sin(np.hypot(ys - height / 2, xs - width / 2) * 1.5 + phase) > 0,
    )
    return np.asarray(patterns[kind], dtype=float)


def dog_breed(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    breeds = list(rng.permutation(np.arange(n_train) % len(DOG_BREEDS)).tolist())  # every breed is seen in training
    breeds += [int(v) for v in rng.choice(breeds, n_test)]
    ids = hex_ids(rng, 32, n_train + n_test)
    pictures = []
    for dog_id, breed in zip(ids, breeds, strict=True):
        size = int(rng.integers(32, 41))
        image = background(rng, size, size, jitter(rng, (110, 150, 110), 45), grain=10, blotch=15)
        colour = np.asarray(jitter(rng, BREED_COLOURS[breed % 12], 12))
        coat = colour + (60 if colour.mean() < 128 else -60) * _pattern(breed // 12, size, size, rng)[:, :, None]
        body = ellipse_mask(
            image.shape, (size * rng.uniform(0.4, 0.6),) * 2, (size * 0.35, size * 0.42), rng.uniform(-0.5, 0.5)
        )
        image = image * (1 - body[:, :, None]) + coat * body[:, :, None]
        pictures.append((dog_id, breed, encode_image(finished(image), "JPEG")))
    write_dog_breed(folder, pictures[:n_train], pictures[n_train:])


# --- plant-pathology-2020-fgvc7: a green leaf, healthy, with rust spots, scab patches, or both ---------------------


def _spots(
    rng: np.random.Generator, image: np.ndarray, count: int, colour: tuple[float, ...], size: tuple[float, float]
) -> None:
    height, width = image.shape[:2]
    for _ in range(count):
        centre = (rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width)
        radius = rng.uniform(*size)
        wobble = (0.3 * (size[1] > 2), int(rng.integers(3, 7)), rng.uniform(0, 6))
        paint(
            image,
            ellipse_mask(image.shape, centre, (radius, radius * rng.uniform(0.6, 1.4)), 0.0, wobble),
            jitter(rng, colour, 15),
        )


def _leaf(rng: np.random.Generator, label: int) -> bytes:
    height, width = 32, 32
    image = background(rng, height, width, jitter(rng, (90, 80, 70), 25), grain=8, blotch=20)
    leaf = ellipse_mask(image.shape, (height / 2, width / 2), (height * 0.45, width * 0.3), rng.uniform(-0.4, 0.4))
    paint(image, leaf, jitter(rng, (70, 150, 60), 15))
    image += (leaf * smooth_noise(rng, height, width, 4) * 8)[:, :, None]
    if label in (1, 2):  # rust: small orange spots
        _spots(rng, image, int(rng.integers(1, 9)), (215, 140, 40), (0.8, 1.6))
    if label in (1, 3):  # scab: larger rough brown-grey patches
        _spots(rng, image, int(rng.integers(1, 4)), (110, 95, 70), (2.0, 4.0))
    return encode_image(finished(image), "JPEG")


def plant_pathology(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    shares = [0.28, 0.05, 0.34, 0.33]
    labels = drawn_labels(rng, n_train, shares) + drawn_labels(rng, n_test, shares)
    pictures = [(label, _leaf(rng, label)) for label in labels]
    write_plant_pathology(folder, pictures[:n_train], pictures[n_train:])


# --- denoising-dirty-documents: pages of glyphs; the noisy copy has stains, creases, grey paper and grain ----------


def _page(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A clean page and its noisy copy: grey blotchy paper, faded and smeared ink, coffee rings, a crease, grain."""
    clean = np.full((height, width), 255.0)
    for top in range(3, height - 7, 8):
        x = int(rng.integers(2, 6))
        while x < width - 6:
            glyph = rng.random((5, int(rng.integers(2, 5)))) < 0.55
            clean[top : top + 5, x : x + glyph.shape[1]][glyph] = rng.uniform(10, 60)
            x += glyph.shape[1] + 1 + 3 * int(rng.random() < 0.2)
    paper = rng.uniform(185, 240) + 30 * smooth_noise(rng, height, width, 16)
    ink = np.minimum(clean + rng.uniform(0, 70), 255)  # the ink has faded
    noisy = np.minimum(ink, paper)
    noisy = 0.6 * noisy + 0.1 * (
        np.roll(noisy, 1, 0) + np.roll(noisy, -1, 0) + np.roll(noisy, 1, 1) + np.roll(noisy, -1, 1)
    )
    for _ in range(int(rng.integers(0, 4))):  # coffee stains
        centre = (rng.uniform(0, height), rng.uniform(0, width))
        stain = ellipse_mask((height, width), centre, (rng.uniform(6, 16),) * 2)
        noisy -= stain * rng.uniform(40, 110)
    if rng.random() < 0.5:  # a crease
        row = int(rng.integers(0, height))
        noisy[row : row + 2] -= 60
    noisy += rng.normal(0, 14, (height, width))
    return np.clip(noisy, 0, 255).astype(np.uint8), clean.astype(np.uint8)


def denoising(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows, least=2)
    rng = np.random.default_rng(seed)
    numbers = [
        int(v) for v in rng.choice(np.arange(1, max(217, 2 * (n_train + n_test))), n_train + n_test, replace=False)
    ]
    pages = [(number, *_page(rng, 48 if k % 2 else 64, 64)) for k, number in enumerate(numbers)]
    write_denoising(folder, pages[:n_train], pages[n_train:])


LEARNABLE = {
    "aerial-cactus-identification": aerial_cactus,
    "denoising-dirty-documents": denoising,
    "dog-breed-identification": dog_breed,
    "dogs-vs-cats-redux-kernels-edition": dogs_vs_cats,
    "histopathologic-cancer-detection": histopathologic,
    "plant-pathology-2020-fgvc7": plant_pathology,
}
