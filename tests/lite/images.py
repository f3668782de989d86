"""MLE-bench's lite image competitions as tiny fixtures.

Each builder draws small synthetic data and hands it to its competition's ``write_*`` function (which the learnable
data in ``learnable/`` shares), which writes the files that MLE-bench's ``prepare.py`` of that competition writes
under ``prepared/public`` and ``prepared/private``: the same file and folder names, image formats, CSV columns in the
same order, id formats, the sample submission under its real name and the answers where ``config.yaml`` names them.
The images are real, decodable files (a few dozen pixels a side) whose brightness or colour leans with the label.

Every byte is deterministic: one fixed seed per competition, images encoded by Pillow with fixed options, zips with a
fixed date, CSVs written the way pandas' ``to_csv(index=False)`` writes them (floats as their shortest repr, missing
values as empty cells). Nothing here needs MLE-bench, pandas or TensorFlow.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .files import dicom_bytes, tf_example, tfrecord_bytes
from .model import LiteLayout

Row = Sequence[object]
Picture = tuple[str, int, bytes]  # id, label, encoded image
Page = tuple[int, np.ndarray, np.ndarray]  # number, noisy page, clean page

# --------------------------------------------------------------------------------------------------------------------
# Writers shared by the builders


def _dirs(folder: Path) -> tuple[Path, Path]:
    public = folder / "prepared" / "public"
    private = folder / "prepared" / "private"
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    return public, private


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Row]) -> None:
    """As pandas writes it: comma-separated, minimal quoting, ``\\n`` line ends, None as an empty cell."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_zip(path: Path, members: Iterable[tuple[str, bytes]]) -> None:
    """A deflated zip with fixed dates and modes, so that the same members give the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def _pixels(rng: np.random.Generator, width: int, height: int, colour: Sequence[int]) -> np.ndarray:
    """Noise around ``colour`` (one value for greyscale, three for RGB); integers only, so exact everywhere."""
    shape = (height, width) if len(colour) == 1 else (height, width, len(colour))
    base = np.asarray(colour, dtype=np.int16).reshape(() if len(colour) == 1 else (1, 1, len(colour)))
    noise = rng.integers(-40, 41, size=shape, dtype=np.int16)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def encode_image(array: np.ndarray, fmt: str) -> bytes:
    image = Image.fromarray(array)  # uint8: "L" for two dimensions, "RGB" for three
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, format="JPEG", quality=90, optimize=False, progressive=False, subsampling=2)
    elif fmt == "PNG":
        image.save(buffer, format="PNG", optimize=False, compress_level=6)
    elif fmt == "TIFF":
        image.save(buffer, format="TIFF", compression=None)
    else:
        raise ValueError(fmt)
    return buffer.getvalue()


def _hex(rng: np.random.Generator, digits: int) -> str:
    return rng.bytes((digits + 1) // 2).hex()[:digits]


def unique(make: Iterable[str], count: int) -> list[str]:
    """The first ``count`` distinct values that ``make`` yields."""
    seen: dict[str, None] = {}
    for value in make:
        seen.setdefault(value, None)
        if len(seen) == count:
            return list(seen)
    raise AssertionError("ran out of values")


def hex_ids(rng: np.random.Generator, digits: int, count: int) -> list[str]:
    return unique((_hex(rng, digits) for _ in range(count * 4)), count)


def _labels(rng: np.random.Generator, counts: Sequence[int]) -> list[int]:
    """``counts[k]`` rows of class ``k``, in a shuffled order (so every listed class is there)."""
    labels = np.repeat(np.arange(len(counts)), counts)
    return [int(v) for v in rng.permutation(labels)]


def _size(rng: np.random.Generator, low: int, high: int) -> tuple[int, int]:
    width, height = rng.integers(low, high + 1, size=2)
    return int(width), int(height)


# --------------------------------------------------------------------------------------------------------------------
# aerial-cactus-identification: train.zip / test.zip of 32x32 JPEGs named by their id ("<32 hex>.jpg").
# prepare.py's compress() writes members relative to the zipped folder, so they sit at the zip's root (no "train/").


def write_aerial_cactus(folder: Path, train: Sequence[Picture], test: Sequence[Picture]) -> None:
    """Pictures ``(id, has_cactus, JPEG)``, the id a file name."""
    public, private = _dirs(folder)
    _write_csv(public / "train.csv", ["id", "has_cactus"], [(i, label) for i, label, _ in train])
    _write_csv(private / "test.csv", ["id", "has_cactus"], [(i, label) for i, label, _ in test])
    _write_csv(public / "sample_submission.csv", ["id", "has_cactus"], [(i, 0.5) for i, _, _ in test])
    _write_zip(public / "train.zip", [(i, data) for i, _, data in train])
    _write_zip(public / "test.zip", [(i, data) for i, _, data in test])


def _build_aerial_cactus(folder: Path) -> None:
    rng = np.random.default_rng(1001)
    train_labels = _labels(rng, [6, 18])  # about three in four have a cactus, as in Kaggle's data
    test_labels = _labels(rng, [2, 4])
    ids = [f"{v}.jpg" for v in hex_ids(rng, 32, len(train_labels) + len(test_labels))]

    def image(label: int) -> bytes:
        return encode_image(_pixels(rng, 32, 32, (150, 130, 100) if label == 0 else (110, 150, 90)), "JPEG")

    train = [(i, label, image(label)) for i, label in zip(ids, train_labels, strict=False)]
    test = [(i, label, image(label)) for i, label in zip(ids[len(train_labels) :], test_labels, strict=True)]
    write_aerial_cactus(folder, train, test)


# --------------------------------------------------------------------------------------------------------------------
# aptos2019-blindness-detection: colour PNG fundus photographs named "<12 hex id_code>.png", diagnosis 0-4.


def write_aptos(folder: Path, train: Sequence[Picture], test: Sequence[Picture]) -> None:
    """Pictures ``(id_code, diagnosis, PNG)``."""
    public, private = _dirs(folder)
    for subdir, pictures in (("train_images", train), ("test_images", test)):
        for id_code, _, data in pictures:
            _write(public / subdir / f"{id_code}.png", data)
    _write_csv(public / "train.csv", ["id_code", "diagnosis"], [(i, label) for i, label, _ in train])
    _write_csv(private / "test.csv", ["id_code", "diagnosis"], [(i, label) for i, label, _ in test])
    _write_csv(public / "test.csv", ["id_code"], [(i,) for i, _, _ in test])
    _write_csv(public / "sample_submission.csv", ["id_code", "diagnosis"], [(i, 0) for i, _, _ in test])


def _build_aptos(folder: Path) -> None:
    rng = np.random.default_rng(1002)
    train_labels = _labels(rng, [8, 3, 5, 2, 2])
    test_labels = _labels(rng, [3, 2, 2, 1, 2])
    ids = hex_ids(rng, 12, len(train_labels) + len(test_labels))

    def image(diagnosis: int) -> bytes:
        pixels = _pixels(rng, *_size(rng, 20, 32), (200 - 25 * diagnosis, 90, 40 + 10 * diagnosis))
        return encode_image(pixels, "PNG")

    train = [(i, label, image(label)) for i, label in zip(ids, train_labels, strict=False)]
    test = [(i, label, image(label)) for i, label in zip(ids[len(train_labels) :], test_labels, strict=True)]
    write_aptos(folder, train, test)


# --------------------------------------------------------------------------------------------------------------------
# denoising-dirty-documents: greyscale PNG pages named "<number>.png" (Kaggle's are 540 wide, 258 or 420 high; these
# are 18 wide, 9 or 14 high). public/train/ holds the noisy training pages, public/train_cleaned/ their clean versions
# (the test pages' clean versions are not there), public/test/ the noisy test pages. private/answers.csv has one row
# per test pixel, "<image>_<row>_<col>" (1-based) and the clean pixel / 255, images in the order of their sorted file
# names (as strings: "101.png" before "11.png") and pixels row by row; sampleSubmission.csv is the same ids with 1.


def write_denoising(folder: Path, train: Sequence[Page], test: Sequence[Page]) -> None:
    """Pages ``(number, noisy, clean)``, greyscale uint8 arrays; the test pages' clean pixels become the answers."""
    public, private = _dirs(folder)
    for number, noisy, clean in train:
        _write(public / "train" / f"{number}.png", encode_image(noisy, "PNG"))
        _write(public / "train_cleaned" / f"{number}.png", encode_image(clean, "PNG"))
    for number, noisy, _ in test:
        _write(public / "test" / f"{number}.png", encode_image(noisy, "PNG"))
    answers: list[tuple[str, float]] = []
    for number, _, clean in sorted(test, key=lambda page: f"{page[0]}.png"):
        height, width = clean.shape
        answers.extend(
            (f"{number}_{row + 1}_{col + 1}", int(clean[row, col]) / 255.0)
            for row in range(height)
            for col in range(width)
        )
    _write_csv(private / "answers.csv", ["id", "value"], answers)
    _write_csv(public / "sampleSubmission.csv", ["id", "value"], [(i, 1) for i, _ in answers])


def _build_denoising(folder: Path) -> None:
    rng = np.random.default_rng(1003)
    numbers = [int(v) for v in rng.choice(np.arange(1, 217), size=8, replace=False)]

    def pages(height: int) -> tuple[np.ndarray, np.ndarray]:
        clean = np.full((height, 18), 255, dtype=np.int16)
        for row in range(1, height - 1, 3):  # lines of "text": dark runs on a white page
            ink = rng.random(18) < 0.35
            clean[row, ink] = rng.integers(0, 60, size=int(ink.sum()))
        noisy = clean - rng.integers(0, 70, size=clean.shape)
        top, left = int(rng.integers(0, height // 2)), int(rng.integers(0, 9))
        noisy[top : top + height // 2, left : left + 9] -= 50  # a coffee stain
        return np.clip(clean, 0, 255).astype(np.uint8), np.clip(noisy, 0, 255).astype(np.uint8)

    made = [(number, *pages(9 if index % 2 == 0 else 14)) for index, number in enumerate(numbers)]
    write_denoising(
        folder, [(n, noisy, clean) for n, clean, noisy in made[:6]], [(n, noisy, clean) for n, clean, noisy in made[6:]]
    )


# --------------------------------------------------------------------------------------------------------------------
# dog-breed-identification: colour JPEGs named "<32 hex id>.jpg"; labels.csv (id, breed); the answers one-hot over
# Kaggle's 120 breeds (0/1 integers), the sample submission 1/120 in each of them.

DOG_BREEDS: tuple[str, ...] = (
    "affenpinscher",
    "afghan_hound",
    "african_hunting_dog",
    "airedale",
    "american_staffordshire_terrier",
    "appenzeller",
    "australian_terrier",
    "basenji",
    "basset",
    "beagle",
    "bedlington_terrier",
    "bernese_mountain_dog",
    "black-and-tan_coonhound",
    "blenheim_spaniel",
    "bloodhound",
    "bluetick",
    "border_collie",
    "border_terrier",
    "borzoi",
    "boston_bull",
    "bouvier_des_flandres",
    "boxer",
    "brabancon_griffon",
    "briard",
    "brittany_spaniel",
    "bull_mastiff",
    "cairn",
    "cardigan",
    "chesapeake_bay_retriever",
    "chihuahua",
    "chow",
    "clumber",
    "cocker_spaniel",
    "collie",
    "curly-coated_retriever",
    "dandie_dinmont",
    "dhole",
    "dingo",
    "doberman",
    "english_foxhound",
    "english_setter",
    "english_springer",
    "entlebucher",
    "eskimo_dog",
    "flat-coated_retriever",
    "french_bulldog",
    "german_shepherd",
    "german_short-haired_pointer",
    "giant_schnauzer",
    "golden_retriever",
    "gordon_setter",
    "great_dane",
    "great_pyrenees",
    "greater_swiss_mountain_dog",
    "groenendael",
    "ibizan_hound",
    "irish_setter",
    "irish_terrier",
    "irish_water_spaniel",
    "irish_wolfhound",
    "italian_greyhound",
    "japanese_spaniel",
    "keeshond",
    "kelpie",
    "kerry_blue_terrier",
    "komondor",
    "kuvasz",
    "labrador_retriever",
    "lakeland_terrier",
    "leonberg",
    "lhasa",
    "malamute",
    "malinois",
    "maltese_dog",
    "mexican_hairless",
    "miniature_pinscher",
    "miniature_poodle",
    "miniature_schnauzer",
    "newfoundland",
    "norfolk_terrier",
    "norwegian_elkhound",
    "norwich_terrier",
    "old_english_sheepdog",
    "otterhound",
    "papillon",
    "pekinese",
    "pembroke",
    "pomeranian",
    "pug",
    "redbone",
    "rhodesian_ridgeback",
    "rottweiler",
    "saint_bernard",
    "saluki",
    "samoyed",
    "schipperke",
    "scotch_terrier",
    "scottish_deerhound",
    "sealyham_terrier",
    "shetland_sheepdog",
    "shih-tzu",
    "siberian_husky",
    "silky_terrier",
    "soft-coated_wheaten_terrier",
    "staffordshire_bullterrier",
    "standard_poodle",
    "standard_schnauzer",
    "sussex_spaniel",
    "tibetan_mastiff",
    "tibetan_terrier",
    "toy_poodle",
    "toy_terrier",
    "vizsla",
    "walker_hound",
    "weimaraner",
    "welsh_springer_spaniel",
    "west_highland_white_terrier",
    "whippet",
    "wire-haired_fox_terrier",
    "yorkshire_terrier",
)
assert len(DOG_BREEDS) == 120
assert list(DOG_BREEDS) == sorted(DOG_BREEDS)


def write_dog_breed(folder: Path, train: Sequence[Picture], test: Sequence[Picture]) -> None:
    """Pictures ``(id, index into DOG_BREEDS, JPEG)``."""
    public, private = _dirs(folder)
    for subdir, pictures in (("train", train), ("test", test)):
        for dog_id, _, data in pictures:
            _write(public / subdir / f"{dog_id}.jpg", data)
    _write_csv(public / "labels.csv", ["id", "breed"], [(i, DOG_BREEDS[b]) for i, b, _ in train])
    header = ["id", *DOG_BREEDS]
    one_hot = [(i, *(int(k == b) for k in range(len(DOG_BREEDS)))) for i, b, _ in test]
    _write_csv(private / "test.csv", header, one_hot)
    _write_csv(public / "sample_submission.csv", header, [(i, *[1 / 120] * len(DOG_BREEDS)) for i, _, _ in test])


def _build_dog_breed(folder: Path) -> None:
    rng = np.random.default_rng(1004)
    n_train, n_test = 24, 8
    ids = hex_ids(rng, 32, n_train + n_test)
    breeds = [int(v) for v in rng.choice(len(DOG_BREEDS), size=n_train + n_test, replace=True)]
    assert len(set(breeds[n_train:])) >= 2
    pictures = []
    for dog_id, breed in zip(ids, breeds, strict=True):
        colour = (60 + breed * 3 % 180, 200 - breed % 150, 40 + breed * 7 % 200)
        pictures.append((dog_id, breed, encode_image(_pixels(rng, *_size(rng, 20, 32), colour), "JPEG")))
    write_dog_breed(folder, pictures[:n_train], pictures[n_train:])


# --------------------------------------------------------------------------------------------------------------------
# dogs-vs-cats-redux-kernels-edition: train images "cat.<k>.jpg" / "dog.<k>.jpg" (numbered per class from 0), test
# images "<n>.jpg" (from 1), answers label 1 for a dog. prepare.py zips public/train and public/test into train.zip
# and test.zip (members at the zip's root) but removes only its raw folders, so the public train/ and test/ folders
# stay next to the zips: both are written here.


def write_dogs_vs_cats(folder: Path, train: Sequence[tuple[int, bytes]], test: Sequence[tuple[int, bytes]]) -> None:
    """Pictures ``(label, JPEG)``, 1 for a dog; the names are given here, by class and number."""
    public, private = _dirs(folder)
    named_train: list[tuple[str, bytes]] = []
    counters = {0: 0, 1: 0}
    for label, data in train:
        named_train.append((f"{'dog' if label else 'cat'}.{counters[label]}.jpg", data))
        counters[label] += 1
    named_test = [(f"{n}.jpg", data) for n, (_, data) in enumerate(test, start=1)]
    for subdir, members in (("train", named_train), ("test", named_test)):
        for name, data in members:
            _write(public / subdir / name, data)
        _write_zip(public / f"{subdir}.zip", members)
    _write_csv(private / "answers.csv", ["id", "label"], [(n, label) for n, (label, _) in enumerate(test, start=1)])
    _write_csv(public / "sample_submission.csv", ["id", "label"], [(n, 0.5) for n in range(1, len(test) + 1)])


def _build_dogs_vs_cats(folder: Path) -> None:
    rng = np.random.default_rng(1005)
    train_labels = _labels(rng, [9, 9])
    test_labels = _labels(rng, [3, 3])

    def image(label: int) -> bytes:
        colour = (170, 120, 90) if label == 1 else (110, 110, 120)
        return encode_image(_pixels(rng, *_size(rng, 20, 32), colour), "JPEG")

    train = [(label, image(label)) for label in train_labels]
    test = [(label, image(label)) for label in test_labels]
    write_dogs_vs_cats(folder, train, test)


# --------------------------------------------------------------------------------------------------------------------
# histopathologic-cancer-detection: colour TIFF patches (Kaggle's are 96x96) named "<40 hex id>.tif".


def write_histopathologic(folder: Path, train: Sequence[Picture], test: Sequence[Picture]) -> None:
    """Pictures ``(id, label, TIFF)``."""
    public, private = _dirs(folder)
    for subdir, pictures in (("train", train), ("test", test)):
        for patch_id, _, data in pictures:
            _write(public / subdir / f"{patch_id}.tif", data)
    _write_csv(public / "train_labels.csv", ["id", "label"], [(i, label) for i, label, _ in train])
    _write_csv(private / "answers.csv", ["id", "label"], [(i, label) for i, label, _ in test])
    _write_csv(public / "sample_submission.csv", ["id", "label"], [(i, 0) for i, _, _ in test])


def _build_histopathologic(folder: Path) -> None:
    rng = np.random.default_rng(1006)
    train_labels = _labels(rng, [12, 8])  # about 40 % positive, as in Kaggle's data
    test_labels = _labels(rng, [5, 3])
    ids = hex_ids(rng, 40, len(train_labels) + len(test_labels))

    def image(label: int) -> bytes:
        return encode_image(_pixels(rng, 24, 24, (120, 50, 140) if label else (220, 160, 210)), "TIFF")

    train = [(i, label, image(label)) for i, label in zip(ids, train_labels, strict=False)]
    test = [(i, label, image(label)) for i, label in zip(ids[len(train_labels) :], test_labels, strict=True)]
    write_histopathologic(folder, train, test)


# --------------------------------------------------------------------------------------------------------------------
# plant-pathology-2020-fgvc7: colour JPEG leaves all in public/images/, prepare.py renaming the split's images
# "Train_<i>.jpg" and "Test_<i>.jpg" (numbered in CSV order from 0); the four classes one-hot (0/1 integers).

PLANT_CLASSES = ("healthy", "multiple_diseases", "rust", "scab")


def write_plant_pathology(folder: Path, train: Sequence[tuple[int, bytes]], test: Sequence[tuple[int, bytes]]) -> None:
    """Pictures ``(index into PLANT_CLASSES, JPEG)``, named here ``Train_<i>`` and ``Test_<i>``."""
    public, private = _dirs(folder)
    header = ["image_id", *PLANT_CLASSES]
    tables: dict[str, list[Row]] = {}
    for prefix, pictures in (("Train", train), ("Test", test)):
        tables[prefix] = [
            (f"{prefix}_{i}", *(int(k == label) for k in range(4))) for i, (label, _) in enumerate(pictures)
        ]
        for i, (_, data) in enumerate(pictures):
            _write(public / "images" / f"{prefix}_{i}.jpg", data)
    _write_csv(public / "train.csv", header, tables["Train"])
    _write_csv(private / "test.csv", header, tables["Test"])
    _write_csv(public / "test.csv", ["image_id"], [row[:1] for row in tables["Test"]])
    _write_csv(public / "sample_submission.csv", header, [(row[0], 0.25, 0.25, 0.25, 0.25) for row in tables["Test"]])


def _build_plant_pathology(folder: Path) -> None:
    rng = np.random.default_rng(1007)
    colours = ((60, 170, 60), (150, 120, 50), (190, 110, 40), (110, 120, 80))
    train_labels, test_labels = _labels(rng, [5, 2, 5, 4]), _labels(rng, [2, 2, 2, 2])
    train = [(label, encode_image(_pixels(rng, 24, 16, colours[label]), "JPEG")) for label in train_labels]
    test = [(label, encode_image(_pixels(rng, 24, 16, colours[label]), "JPEG")) for label in test_labels]
    write_plant_pathology(folder, train, test)


# --------------------------------------------------------------------------------------------------------------------
# ranzcr-clip-catheter-line-classification: greyscale JPEG chest X-rays named "<StudyInstanceUID>.jpg", a DICOM-like
# UID under 1.2.826.0.1.3680043.8.498. train.csv and the answers carry Kaggle's 11 label columns and PatientID (9 hex
# digits); MLE-bench's sample submission and grader use only the first 9 labels (no "CVC - Normal", no "Swan Ganz
# Catheter Present"). train_annotations.csv (StudyInstanceUID, label, data: a list of [x, y] points) holds only the
# training studies' rows.

RANZCR_LABELS = (
    "ETT - Abnormal",
    "ETT - Borderline",
    "ETT - Normal",
    "NGT - Abnormal",
    "NGT - Borderline",
    "NGT - Incompletely Imaged",
    "NGT - Normal",
    "CVC - Abnormal",
    "CVC - Borderline",
    "CVC - Normal",
    "Swan Ganz Catheter Present",
)
RANZCR_CLASSES = RANZCR_LABELS[:9]


def ranzcr_labels(ett: int, ngt: int, cvc: int, swan: int) -> list[int]:
    """ETT state 0 (none) to 3, NGT 0 (none) to 4, CVC 0 (none) to 3, Swan Ganz 0/1 as the 11 label columns."""
    return [
        *(int(ett == k) for k in (1, 2, 3)),
        *(int(ngt == k) for k in (1, 2, 3, 4)),
        *(int(cvc == k) for k in (1, 2, 3)),
        swan,
    ]


def write_ranzcr(
    folder: Path, train: Sequence[Row], test: Sequence[Row], images: Sequence[bytes], annotations: Sequence[Row]
) -> None:
    """Rows ``(StudyInstanceUID, *RANZCR_LABELS, PatientID)``; one JPEG per row, the train rows' then the test rows';
    annotations ``(StudyInstanceUID, label, data)`` of training studies."""
    public, private = _dirs(folder)
    for (subdir, row), data in zip([*(("train", r) for r in train), *(("test", r) for r in test)], images, strict=True):
        _write(public / subdir / f"{row[0]}.jpg", data)
    header = ["StudyInstanceUID", *RANZCR_LABELS, "PatientID"]
    _write_csv(public / "train.csv", header, train)
    _write_csv(public / "train_annotations.csv", ["StudyInstanceUID", "label", "data"], annotations)
    _write_csv(private / "test.csv", header, test)
    _write_csv(
        public / "sample_submission.csv", ["StudyInstanceUID", *RANZCR_CLASSES], [(r[0], *[0] * 9) for r in test]
    )


def _build_ranzcr(folder: Path) -> None:
    rng = np.random.default_rng(1008)
    n_train, n_test = 18, 10
    uids = unique(
        (
            "1.2.826.0.1.3680043.8.498." + str(int(rng.integers(1, 10))) + "".join(map(str, rng.integers(0, 10, 37)))
            for _ in range(4 * (n_train + n_test))
        ),
        n_train + n_test,
    )
    patients = hex_ids(rng, 9, 20)
    train_states = [
        (int(rng.integers(0, 4)), int(rng.integers(0, 5)), int(rng.integers(0, 4)), int(rng.random() < 0.1))
        for _ in range(n_train)
    ]
    # Cycling the states gives every graded class both a 0 and a 1 among the test rows (AUC is defined).
    test_states = [(i % 4, i % 5, 1 + i % 3, int(i % 5 == 0)) for i in range(n_test)]
    test_states = [test_states[int(i)] for i in rng.permutation(n_test)]
    rows: list[Row] = []
    for uid, state in zip(uids, train_states + test_states, strict=True):
        rows.append((uid, *ranzcr_labels(*state), patients[int(rng.integers(0, len(patients)))]))
    train, test = rows[:n_train], rows[n_train:]
    images = []
    for row in [*train, *test]:
        lines = sum(int(v) for v in row[1:-1])
        images.append(encode_image(_pixels(rng, 24, 24, (70 + 15 * lines,)), "JPEG"))
    annotations: list[Row] = []
    for row in train:
        for label, value in zip(RANZCR_LABELS, row[1:-1], strict=True):
            if value and rng.random() < 0.7:
                points = rng.integers(0, 24, size=(int(rng.integers(2, 6)), 2))
                data = "[" + ", ".join(f"[{x}, {y}]" for x, y in points) + "]"
                annotations.append((row[0], label, data))
    write_ranzcr(folder, train, test, images, annotations)


# --------------------------------------------------------------------------------------------------------------------
# siim-isic-melanoma-classification: "ISIC_<7 digits>" images of "IP_<7 digits>" patients, three copies of each:
# public/{train,test}/<image_name>.dcm (DICOM), public/jpeg/{train,test}/<image_name>.jpg, and TFRecords in
# public/tfrecords/. prepare.py takes Kaggle's train00-2071.tfrec and train06-2071.tfrec as the test set and copies
# the raw train tfrecords in sorted order, renamed test00-2071.tfrec, test01-2071.tfrec, train00-2071.tfrec, ...: the
# "-2071" in a name is the record count of Kaggle's file, copied, not the count in these tiny files. The CSVs keep
# train.csv's row order (sorted by image_name); the answers are image_name, target.

SIIM_SITES = ("head/neck", "upper extremity", "lower extremity", "torso", "palms/soles", "oral/genital")
SIIM_BENIGN = ("unknown", "nevus", "seborrheic keratosis", "lentigo NOS", "lichenoid keratosis", "solar lentigo")
SIIM_DIAGNOSES = (*SIIM_BENIGN, "melanoma")
SIIM_TRAIN_COLUMNS = (
    "image_name",
    "patient_id",
    "sex",
    "age_approx",
    "anatom_site_general_challenge",
    "diagnosis",
    "benign_malignant",
    "target",
)


def write_siim_isic(
    folder: Path,
    rows: Sequence[Sequence[object]],
    pictures: Sequence[tuple[np.ndarray, str]],
    tfrecords: Sequence[int],
    test_files: tuple[int, int],
) -> None:
    """Rows in ``SIIM_TRAIN_COLUMNS`` order, sorted by name; per row its RGB pixels and DICOM instance UID, and the
    raw Kaggle tfrecord it sits in (0 to n-1): the rows of ``test_files`` are the test set."""
    public, private = _dirs(folder)
    n_files = max(tfrecords) + 1
    is_test = [f in test_files for f in tfrecords]
    records: dict[int, list[bytes]] = {f: [] for f in range(n_files)}
    for i, (row, (pixels, uid)) in enumerate(zip(rows, pictures, strict=True)):
        name, patient, sex, age, site, diagnosis, _, target = row
        assert isinstance(name, str) and isinstance(patient, str) and isinstance(target, int)
        height, width = pixels.shape[:2]
        jpeg = encode_image(pixels, "JPEG")
        subdir = "test" if is_test[i] else "train"
        _write(public / "jpeg" / subdir / f"{name}.jpg", jpeg)
        _write(
            public / subdir / f"{name}.dcm",
            dicom_bytes(jpeg, width, height, uid, patient, sex if isinstance(sex, str) else None),
        )
        # Kaggle's train tfrecords hold the image resized to a square, its name, the metadata and the target; the
        # feature names are Kaggle's, the integer codes of the categories (-1 when missing) ours.
        side = min(width, height)
        square = np.asarray(Image.fromarray(pixels).resize((side, side), Image.Resampling.NEAREST))
        records[tfrecords[i]].append(
            tf_example(
                {
                    "image": encode_image(square, "JPEG"),
                    "image_name": name.encode(),
                    "patient_id": int(patient.removeprefix("IP_")),
                    "sex": {"female": 0, "male": 1}.get(sex if isinstance(sex, str) else "", -1),
                    "age_approx": int(age) if isinstance(age, float) else -1,
                    "anatom_site_general_challenge": SIIM_SITES.index(site) if isinstance(site, str) else -1,
                    "diagnosis": SIIM_DIAGNOSES.index(str(diagnosis)),
                    "target": target,
                }
            )
        )
    renamed = {f: f"test{test_files.index(f):02d}" for f in test_files}
    renamed |= {f: f"train{k:02d}" for k, f in enumerate(f for f in range(n_files) if f not in test_files)}
    for f, new_name in renamed.items():
        _write(public / "tfrecords" / f"{new_name}-2071.tfrec", tfrecord_bytes(records[f]))

    train = [row for i, row in enumerate(rows) if not is_test[i]]
    test = [row for i, row in enumerate(rows) if is_test[i]]
    _write_csv(public / "train.csv", SIIM_TRAIN_COLUMNS, train)
    _write_csv(public / "test.csv", SIIM_TRAIN_COLUMNS[:5], [row[:5] for row in test])
    _write_csv(public / "sample_submission.csv", ["image_name", "target"], [(row[0], 0) for row in test])
    _write_csv(private / "test.csv", ["image_name", "target"], [(row[0], row[7]) for row in test])


def _build_siim_isic(folder: Path) -> None:
    rng = np.random.default_rng(1009)
    per_file, n_files, test_files = 3, 8, (0, 6)  # raw train00..train07; Kaggle's train00 and train06 become the test
    count = per_file * n_files
    names = sorted(unique((f"ISIC_{int(v):07d}" for v in rng.integers(0, 10**7, size=4 * count)), count))
    patients = unique((f"IP_{int(v):07d}" for v in rng.integers(0, 10**7, size=40)), 9)
    files = [int(v) for v in rng.permutation(np.repeat(np.arange(n_files), per_file))]  # raw tfrecord of each image
    is_test = [f in test_files for f in files]
    # Two melanomas among the test images and two among the training ones, the rest benign.
    test_positions = [i for i in range(count) if is_test[i]]
    train_positions = [i for i in range(count) if not is_test[i]]
    positives = {
        *rng.choice(test_positions, 2, replace=False).tolist(),
        *rng.choice(train_positions, 2, replace=False).tolist(),
    }

    rows: list[list[object]] = []
    for i, name in enumerate(names):
        target = int(i in positives)
        sex = (None, "male", "female")[int(rng.choice(3, p=[0.1, 0.45, 0.45]))]
        age = None if rng.random() < 0.1 else float(5 * rng.integers(4, 18))
        site = None if rng.random() < 0.1 else SIIM_SITES[int(rng.integers(0, len(SIIM_SITES)))]
        diagnosis = (
            "melanoma"
            if target
            else SIIM_BENIGN[int(rng.choice(len(SIIM_BENIGN), p=[0.6, 0.2, 0.05, 0.05, 0.05, 0.05]))]
        )
        patient = patients[int(rng.integers(0, len(patients)))]
        rows.append([name, patient, sex, age, site, diagnosis, "malignant" if target else "benign", target])

    pictures = []
    for row in rows:
        pixels = _pixels(rng, 24, 16, (90, 50, 40) if row[7] else (170, 120, 100))
        pictures.append((pixels, "2.25." + str(int.from_bytes(rng.bytes(16), "big"))))
    write_siim_isic(folder, rows, pictures, files, test_files)


# --------------------------------------------------------------------------------------------------------------------

LAYOUTS: tuple[LiteLayout, ...] = (
    LiteLayout(
        id="aerial-cactus-identification",
        build=_build_aerial_cactus,
        id_column="id",
        target_columns=("has_cactus",),
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probability",
    ),
    LiteLayout(
        id="aptos2019-blindness-detection",
        build=_build_aptos,
        id_column="id_code",
        target_columns=("diagnosis",),
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="labels",
    ),
    LiteLayout(
        id="denoising-dirty-documents",
        build=_build_denoising,
        id_column="id",
        target_columns=("value",),
        answers="private/answers.csv",
        sample_submission="public/sampleSubmission.csv",
        values="regression",
    ),
    LiteLayout(
        id="dog-breed-identification",
        build=_build_dog_breed,
        id_column="id",
        target_columns=DOG_BREEDS,
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probabilities",
        rows_sum_to_one=True,
    ),
    LiteLayout(
        id="dogs-vs-cats-redux-kernels-edition",
        build=_build_dogs_vs_cats,
        id_column="id",
        target_columns=("label",),
        answers="private/answers.csv",
        sample_submission="public/sample_submission.csv",
        values="probability",
    ),
    LiteLayout(
        id="histopathologic-cancer-detection",
        build=_build_histopathologic,
        id_column="id",
        target_columns=("label",),
        answers="private/answers.csv",
        sample_submission="public/sample_submission.csv",
        values="probability",
    ),
    LiteLayout(
        id="plant-pathology-2020-fgvc7",
        build=_build_plant_pathology,
        id_column="image_id",
        target_columns=PLANT_CLASSES,
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probabilities",
    ),
    LiteLayout(
        id="ranzcr-clip-catheter-line-classification",
        build=_build_ranzcr,
        id_column="StudyInstanceUID",
        target_columns=RANZCR_CLASSES,
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probabilities",
    ),
    LiteLayout(
        id="siim-isic-melanoma-classification",
        build=_build_siim_isic,
        id_column="image_name",
        target_columns=("target",),
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probability",
    ),
)
