"""MLE-bench's lite image competitions as tiny fixtures.

Each builder writes, from small synthetic data, the files that MLE-bench's ``prepare.py`` of that competition writes
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
import struct
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .model import LiteLayout

Row = Sequence[object]

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


def _encode(array: np.ndarray, fmt: str) -> bytes:
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


def _unique(make: Iterable[str], count: int) -> list[str]:
    """The first ``count`` distinct values that ``make`` yields."""
    seen: dict[str, None] = {}
    for value in make:
        seen.setdefault(value, None)
        if len(seen) == count:
            return list(seen)
    raise AssertionError("ran out of values")


def _hex_ids(rng: np.random.Generator, digits: int, count: int) -> list[str]:
    return _unique((_hex(rng, digits) for _ in range(count * 4)), count)


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


def _build_aerial_cactus(folder: Path) -> None:
    rng = np.random.default_rng(1001)
    public, private = _dirs(folder)
    train_labels = _labels(rng, [6, 18])  # about three in four have a cactus, as in Kaggle's data
    test_labels = _labels(rng, [2, 4])
    ids = [f"{v}.jpg" for v in _hex_ids(rng, 32, len(train_labels) + len(test_labels))]
    train = list(zip(ids, train_labels, strict=False))
    test = list(zip(ids[len(train_labels) :], test_labels, strict=True))

    def image(label: int) -> bytes:
        return _encode(_pixels(rng, 32, 32, (150, 130, 100) if label == 0 else (110, 150, 90)), "JPEG")

    _write_csv(public / "train.csv", ["id", "has_cactus"], train)
    _write_csv(private / "test.csv", ["id", "has_cactus"], test)
    _write_csv(public / "sample_submission.csv", ["id", "has_cactus"], [(i, 0.5) for i, _ in test])
    _write_zip(public / "train.zip", [(i, image(label)) for i, label in train])
    _write_zip(public / "test.zip", [(i, image(label)) for i, label in test])


# --------------------------------------------------------------------------------------------------------------------
# aptos2019-blindness-detection: colour PNG fundus photographs named "<12 hex id_code>.png", diagnosis 0-4.


def _build_aptos(folder: Path) -> None:
    rng = np.random.default_rng(1002)
    public, private = _dirs(folder)
    train_labels = _labels(rng, [8, 3, 5, 2, 2])
    test_labels = _labels(rng, [3, 2, 2, 1, 2])
    ids = _hex_ids(rng, 12, len(train_labels) + len(test_labels))
    train = list(zip(ids, train_labels, strict=False))
    test = list(zip(ids[len(train_labels) :], test_labels, strict=True))

    for subdir, rows in (("train_images", train), ("test_images", test)):
        for id_code, diagnosis in rows:
            pixels = _pixels(rng, *_size(rng, 20, 32), (200 - 25 * diagnosis, 90, 40 + 10 * diagnosis))
            _write(public / subdir / f"{id_code}.png", _encode(pixels, "PNG"))
    _write_csv(public / "train.csv", ["id_code", "diagnosis"], train)
    _write_csv(private / "test.csv", ["id_code", "diagnosis"], test)
    _write_csv(public / "test.csv", ["id_code"], [(i,) for i, _ in test])
    _write_csv(public / "sample_submission.csv", ["id_code", "diagnosis"], [(i, 0) for i, _ in test])


# --------------------------------------------------------------------------------------------------------------------
# denoising-dirty-documents: greyscale PNG pages named "<number>.png" (Kaggle's are 540 wide, 258 or 420 high; these
# are 18 wide, 9 or 14 high). public/train/ holds the noisy training pages, public/train_cleaned/ their clean versions
# (the test pages' clean versions are not there), public/test/ the noisy test pages. private/answers.csv has one row
# per test pixel, "<image>_<row>_<col>" (1-based) and the clean pixel / 255, images in the order of their sorted file
# names (as strings: "101.png" before "11.png") and pixels row by row; sampleSubmission.csv is the same ids with 1.


def _build_denoising(folder: Path) -> None:
    rng = np.random.default_rng(1003)
    public, private = _dirs(folder)
    numbers = [int(v) for v in rng.choice(np.arange(1, 217), size=8, replace=False)]
    train_numbers, test_numbers = numbers[:6], numbers[6:]

    def pages(height: int) -> tuple[np.ndarray, np.ndarray]:
        clean = np.full((height, 18), 255, dtype=np.int16)
        for row in range(1, height - 1, 3):  # lines of "text": dark runs on a white page
            ink = rng.random(18) < 0.35
            clean[row, ink] = rng.integers(0, 60, size=int(ink.sum()))
        noisy = clean - rng.integers(0, 70, size=clean.shape)
        top, left = int(rng.integers(0, height // 2)), int(rng.integers(0, 9))
        noisy[top : top + height // 2, left : left + 9] -= 50  # a coffee stain
        return np.clip(clean, 0, 255).astype(np.uint8), np.clip(noisy, 0, 255).astype(np.uint8)

    answers: list[tuple[str, float]] = []
    clean_tests: dict[str, np.ndarray] = {}
    for index, number in enumerate(numbers):
        clean, noisy = pages(9 if index % 2 == 0 else 14)
        if number in train_numbers:
            _write(public / "train" / f"{number}.png", _encode(noisy, "PNG"))
            _write(public / "train_cleaned" / f"{number}.png", _encode(clean, "PNG"))
        else:
            _write(public / "test" / f"{number}.png", _encode(noisy, "PNG"))
            clean_tests[f"{number}.png"] = clean
    assert len(clean_tests) == len(test_numbers)
    for name in sorted(clean_tests):
        clean = clean_tests[name]
        stem = name.removesuffix(".png")
        height, width = clean.shape
        answers.extend(
            (f"{stem}_{row + 1}_{col + 1}", int(clean[row, col]) / 255.0)
            for row in range(height)
            for col in range(width)
        )
    _write_csv(private / "answers.csv", ["id", "value"], answers)
    _write_csv(public / "sampleSubmission.csv", ["id", "value"], [(i, 1) for i, _ in answers])


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


def _build_dog_breed(folder: Path) -> None:
    rng = np.random.default_rng(1004)
    public, private = _dirs(folder)
    n_train, n_test = 24, 8
    ids = _hex_ids(rng, 32, n_train + n_test)
    breeds = [int(v) for v in rng.choice(len(DOG_BREEDS), size=n_train + n_test, replace=True)]
    assert len(set(breeds[n_train:])) >= 2

    for index, (dog_id, breed) in enumerate(zip(ids, breeds, strict=True)):
        colour = (60 + breed * 3 % 180, 200 - breed % 150, 40 + breed * 7 % 200)
        subdir = "train" if index < n_train else "test"
        _write(public / subdir / f"{dog_id}.jpg", _encode(_pixels(rng, *_size(rng, 20, 32), colour), "JPEG"))
    _write_csv(
        public / "labels.csv", ["id", "breed"], [(i, DOG_BREEDS[b]) for i, b in zip(ids, breeds, strict=True)][:n_train]
    )
    header = ["id", *DOG_BREEDS]
    one_hot = [
        (i, *(int(k == b) for k in range(len(DOG_BREEDS))))
        for i, b in zip(ids[n_train:], breeds[n_train:], strict=True)
    ]
    _write_csv(private / "test.csv", header, one_hot)
    _write_csv(public / "sample_submission.csv", header, [(i, *[1 / 120] * len(DOG_BREEDS)) for i in ids[n_train:]])


# --------------------------------------------------------------------------------------------------------------------
# dogs-vs-cats-redux-kernels-edition: train images "cat.<k>.jpg" / "dog.<k>.jpg" (numbered per class from 0), test
# images "<n>.jpg" (from 1), answers label 1 for a dog. prepare.py zips public/train and public/test into train.zip
# and test.zip (members at the zip's root) but removes only its raw folders, so the public train/ and test/ folders
# stay next to the zips: both are written here.


def _build_dogs_vs_cats(folder: Path) -> None:
    rng = np.random.default_rng(1005)
    public, private = _dirs(folder)
    train_labels = _labels(rng, [9, 9])
    test_labels = _labels(rng, [3, 3])

    def image(label: int) -> bytes:
        colour = (170, 120, 90) if label == 1 else (110, 110, 120)
        return _encode(_pixels(rng, *_size(rng, 20, 32), colour), "JPEG")

    train: list[tuple[str, bytes]] = []
    counters = {0: 0, 1: 0}
    for label in train_labels:
        train.append((f"{'dog' if label else 'cat'}.{counters[label]}.jpg", image(label)))
        counters[label] += 1
    test = [(f"{n}.jpg", image(label)) for n, label in enumerate(test_labels, start=1)]
    for subdir, members in (("train", train), ("test", test)):
        for name, data in members:
            _write(public / subdir / name, data)
        _write_zip(public / f"{subdir}.zip", members)
    _write_csv(private / "answers.csv", ["id", "label"], [(n, label) for n, label in enumerate(test_labels, start=1)])
    _write_csv(public / "sample_submission.csv", ["id", "label"], [(n, 0.5) for n in range(1, len(test_labels) + 1)])


# --------------------------------------------------------------------------------------------------------------------
# histopathologic-cancer-detection: colour TIFF patches (Kaggle's are 96x96) named "<40 hex id>.tif".


def _build_histopathologic(folder: Path) -> None:
    rng = np.random.default_rng(1006)
    public, private = _dirs(folder)
    train_labels = _labels(rng, [12, 8])  # about 40 % positive, as in Kaggle's data
    test_labels = _labels(rng, [5, 3])
    ids = _hex_ids(rng, 40, len(train_labels) + len(test_labels))
    train = list(zip(ids, train_labels, strict=False))
    test = list(zip(ids[len(train_labels) :], test_labels, strict=True))
    for subdir, rows in (("train", train), ("test", test)):
        for patch_id, label in rows:
            colour = (120, 50, 140) if label else (220, 160, 210)
            _write(public / subdir / f"{patch_id}.tif", _encode(_pixels(rng, 24, 24, colour), "TIFF"))
    _write_csv(public / "train_labels.csv", ["id", "label"], train)
    _write_csv(private / "answers.csv", ["id", "label"], test)
    _write_csv(public / "sample_submission.csv", ["id", "label"], [(i, 0) for i, _ in test])


# --------------------------------------------------------------------------------------------------------------------
# plant-pathology-2020-fgvc7: colour JPEG leaves all in public/images/, prepare.py renaming the split's images
# "Train_<i>.jpg" and "Test_<i>.jpg" (numbered in CSV order from 0); the four classes one-hot (0/1 integers).

PLANT_CLASSES = ("healthy", "multiple_diseases", "rust", "scab")


def _build_plant_pathology(folder: Path) -> None:
    rng = np.random.default_rng(1007)
    public, private = _dirs(folder)
    colours = ((60, 170, 60), (150, 120, 50), (190, 110, 40), (110, 120, 80))
    header = ["image_id", *PLANT_CLASSES]
    splits = {"Train": _labels(rng, [5, 2, 5, 4]), "Test": _labels(rng, [2, 2, 2, 2])}
    tables: dict[str, list[Row]] = {}
    for prefix, labels in splits.items():
        tables[prefix] = [(f"{prefix}_{i}", *(int(k == label) for k in range(4))) for i, label in enumerate(labels)]
        for i, label in enumerate(labels):
            _write(public / "images" / f"{prefix}_{i}.jpg", _encode(_pixels(rng, 24, 16, colours[label]), "JPEG"))
    _write_csv(public / "train.csv", header, tables["Train"])
    _write_csv(private / "test.csv", header, tables["Test"])
    _write_csv(public / "test.csv", ["image_id"], [row[:1] for row in tables["Test"]])
    _write_csv(public / "sample_submission.csv", header, [(row[0], 0.25, 0.25, 0.25, 0.25) for row in tables["Test"]])


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


def _ranzcr_labels(ett: int, ngt: int, cvc: int, swan: int) -> list[int]:
    """ETT state 0 (none) to 3, NGT 0 (none) to 4, CVC 0 (none) to 3, Swan Ganz 0/1 as the 11 label columns."""
    return [
        *(int(ett == k) for k in (1, 2, 3)),
        *(int(ngt == k) for k in (1, 2, 3, 4)),
        *(int(cvc == k) for k in (1, 2, 3)),
        swan,
    ]


def _build_ranzcr(folder: Path) -> None:
    rng = np.random.default_rng(1008)
    public, private = _dirs(folder)
    n_train, n_test = 18, 10
    uids = _unique(
        (
            "1.2.826.0.1.3680043.8.498." + str(int(rng.integers(1, 10))) + "".join(map(str, rng.integers(0, 10, 37)))
            for _ in range(4 * (n_train + n_test))
        ),
        n_train + n_test,
    )
    patients = _hex_ids(rng, 9, 20)
    train_states = [
        (int(rng.integers(0, 4)), int(rng.integers(0, 5)), int(rng.integers(0, 4)), int(rng.random() < 0.1))
        for _ in range(n_train)
    ]
    # Cycling the states gives every graded class both a 0 and a 1 among the test rows (AUC is defined).
    test_states = [(i % 4, i % 5, 1 + i % 3, int(i % 5 == 0)) for i in range(n_test)]
    test_states = [test_states[int(i)] for i in rng.permutation(n_test)]
    rows: list[Row] = []
    for uid, state in zip(uids, train_states + test_states, strict=True):
        rows.append((uid, *_ranzcr_labels(*state), patients[int(rng.integers(0, len(patients)))]))
    header = ["StudyInstanceUID", *RANZCR_LABELS, "PatientID"]
    train, test = rows[:n_train], rows[n_train:]

    for subdir, table in (("train", train), ("test", test)):
        for row in table:
            lines = sum(int(v) for v in row[1:-1])
            pixels = _pixels(rng, 24, 24, (70 + 15 * lines,))
            _write(public / subdir / f"{row[0]}.jpg", _encode(pixels, "JPEG"))
    annotations: list[Row] = []
    for row in train:
        for label, value in zip(RANZCR_LABELS, row[1:-1], strict=True):
            if value and rng.random() < 0.7:
                points = rng.integers(0, 24, size=(int(rng.integers(2, 6)), 2))
                data = "[" + ", ".join(f"[{x}, {y}]" for x, y in points) + "]"
                annotations.append((row[0], label, data))
    _write_csv(public / "train.csv", header, train)
    _write_csv(public / "train_annotations.csv", ["StudyInstanceUID", "label", "data"], annotations)
    _write_csv(private / "test.csv", header, test)
    _write_csv(
        public / "sample_submission.csv", ["StudyInstanceUID", *RANZCR_CLASSES], [(r[0], *[0] * 9) for r in test]
    )


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


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C = _crc32c_table()


def _masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: CRC-32C, rotated right by 15 bits, plus a constant."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 as ten bytes of two's complement, as protobuf does
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if not value:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _tf_example(features: dict[str, bytes | int]) -> bytes:
    """A serialized tf.train.Example: bytes as a BytesList (field 1), ints as a packed Int64List (field 3)."""
    encoded = b""
    for key in sorted(features):
        value = features[key]
        feature = _field(1, _field(1, value)) if isinstance(value, bytes) else _field(3, _field(1, _varint(value)))
        encoded += _field(1, _field(1, key.encode()) + _field(2, feature))
    return _field(1, encoded)


def _tfrecord(records: Iterable[bytes]) -> bytes:
    out = b""
    for record in records:
        length = struct.pack("<Q", len(record))
        out += length + struct.pack("<I", _masked_crc32c(length)) + record + struct.pack("<I", _masked_crc32c(record))
    return out


def _dicom_element(group: int, element: int, vr: str, value: bytes) -> bytes:
    """One data element in explicit-VR little endian, its value padded to an even length."""
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB") else b" "
    head = struct.pack("<HH", group, element) + vr.encode("ascii")
    if vr in ("OB", "OW", "SQ", "UN", "UT"):
        return head + b"\0\0" + struct.pack("<I", len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def _dicom(jpeg: bytes, width: int, height: int, instance_uid: str, patient_id: str, sex: str | None) -> bytes:
    """A DICOM file (VL Photographic Image, JPEG Baseline transfer syntax) whose encapsulated frame is ``jpeg``."""
    sop_class, transfer_syntax = "1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.840.10008.1.2.4.50"
    meta = b"".join(
        (
            _dicom_element(0x0002, 0x0001, "OB", b"\0\1"),
            _dicom_element(0x0002, 0x0002, "UI", sop_class.encode()),
            _dicom_element(0x0002, 0x0003, "UI", instance_uid.encode()),
            _dicom_element(0x0002, 0x0010, "UI", transfer_syntax.encode()),
            _dicom_element(0x0002, 0x0012, "UI", b"2.25.1"),
        )
    )
    meta = _dicom_element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta))) + meta

    def us(value: int) -> bytes:
        return struct.pack("<H", value)

    fragment = jpeg + (b"\0" if len(jpeg) % 2 else b"")
    pixel_data = (
        struct.pack("<HH", 0x7FE0, 0x0010)
        + b"OB\0\0"
        + struct.pack("<I", 0xFFFFFFFF)  # undefined length: encapsulated frames follow
        + struct.pack("<HHI", 0xFFFE, 0xE000, 0)  # an empty basic offset table
        + struct.pack("<HHI", 0xFFFE, 0xE000, len(fragment))
        + fragment
        + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    )
    dataset = b"".join(
        (
            _dicom_element(0x0008, 0x0016, "UI", sop_class.encode()),
            _dicom_element(0x0008, 0x0018, "UI", instance_uid.encode()),
            _dicom_element(0x0008, 0x0060, "CS", b"XC"),
            _dicom_element(0x0010, 0x0020, "LO", patient_id.encode()),
            _dicom_element(0x0010, 0x0040, "CS", {"male": b"M", "female": b"F"}.get(sex or "", b"O")),
            _dicom_element(0x0028, 0x0002, "US", us(3)),
            _dicom_element(0x0028, 0x0004, "CS", b"YBR_FULL_422"),
            _dicom_element(0x0028, 0x0006, "US", us(0)),
            _dicom_element(0x0028, 0x0010, "US", us(height)),
            _dicom_element(0x0028, 0x0011, "US", us(width)),
            _dicom_element(0x0028, 0x0100, "US", us(8)),
            _dicom_element(0x0028, 0x0101, "US", us(8)),
            _dicom_element(0x0028, 0x0102, "US", us(7)),
            _dicom_element(0x0028, 0x0103, "US", us(0)),
            pixel_data,
        )
    )
    return b"\0" * 128 + b"DICM" + meta + dataset


def _build_siim_isic(folder: Path) -> None:
    rng = np.random.default_rng(1009)
    public, private = _dirs(folder)
    per_file, n_files, test_files = 3, 8, (0, 6)  # raw train00..train07; Kaggle's train00 and train06 become the test
    count = per_file * n_files
    names = sorted(_unique((f"ISIC_{int(v):07d}" for v in rng.integers(0, 10**7, size=4 * count)), count))
    patients = _unique((f"IP_{int(v):07d}" for v in rng.integers(0, 10**7, size=40)), 9)
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

    records: dict[int, list[bytes]] = {f: [] for f in range(n_files)}
    for i, row in enumerate(rows):
        name, patient, sex, age, site, diagnosis, _, target = row
        assert isinstance(name, str) and isinstance(patient, str) and isinstance(target, int)
        colour = (90, 50, 40) if target else (170, 120, 100)
        width, height = 24, 16
        pixels = _pixels(rng, width, height, colour)
        jpeg = _encode(pixels, "JPEG")
        subdir = "test" if is_test[i] else "train"
        uid = "2.25." + str(int.from_bytes(rng.bytes(16), "big"))
        _write(public / "jpeg" / subdir / f"{name}.jpg", jpeg)
        _write(
            public / subdir / f"{name}.dcm",
            _dicom(jpeg, width, height, uid, patient, sex if isinstance(sex, str) else None),
        )
        # Kaggle's train tfrecords hold the image resized to a square, its name, the metadata and the target; the
        # feature names are Kaggle's, the integer codes of the categories (-1 when missing) ours.
        square = np.asarray(Image.fromarray(pixels).resize((16, 16), Image.Resampling.NEAREST))
        records[files[i]].append(
            _tf_example(
                {
                    "image": _encode(square, "JPEG"),
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
        _write(public / "tfrecords" / f"{new_name}-2071.tfrec", _tfrecord(records[f]))

    train = [row for i, row in enumerate(rows) if not is_test[i]]
    test = [row for i, row in enumerate(rows) if is_test[i]]
    _write_csv(public / "train.csv", SIIM_TRAIN_COLUMNS, train)
    _write_csv(public / "test.csv", SIIM_TRAIN_COLUMNS[:5], [row[:5] for row in test])
    _write_csv(public / "sample_submission.csv", ["image_name", "target"], [(row[0], 0) for row in test])
    _write_csv(private / "test.csv", ["image_name", "target"], [(row[0], row[7]) for row in test])


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
