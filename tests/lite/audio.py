"""Lite fixtures of the audio competitions: mlsp-2013-birds (WAV, BMP, text tables) and the right-whale clips (AIFF)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import aiff_bytes, bmp_bytes, wav_bytes, write, write_csv, zip_bytes
from .model import LiteLayout


def _dirs(folder: Path) -> tuple[Path, Path]:
    public, private = folder / "prepared" / "public", folder / "prepared" / "private"
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    return public, private


def _tone(rng: np.random.Generator, count: int, amplitude: int) -> list[int]:
    phase = np.arange(count) * float(rng.uniform(0.05, 0.6))
    noise = rng.integers(-amplitude // 8, amplitude // 8 + 1, count)
    return [int(v) for v in (np.sin(phase) * amplitude).astype(np.int64) + noise]


def _grey(rng: np.random.Generator, height: int, width: int) -> list[list[int]]:
    return [[int(v) for v in row] for row in rng.integers(0, 256, (height, width))]


# --- mlsp-2013-birds -----------------------------------------------------------------------------------------------
# prepare.py keeps the original train fold, renumbers its recordings 0..n-1 and marks a fifth of them fold 1 (the new
# test set). public/essential_data holds CVfolds_2.txt, rec_id2filename.txt, rec_labels_test_hidden.txt (test labels
# as "?", a recording without birds as its bare id), species_list.txt and src_wavs/; public/supplemental_data holds
# four folders of BMPs per recording (segmentation_examples only for some), two BMP mosaics and three text tables
# that prepare.py rewrites, all three under the histogram's header line. The answers have one row per (recording,
# species): Id = rec_id * 100 + species.

MLSP_SPECIES = (
    ("BRCR", "Brown Creeper"),
    ("PAWR", "Pacific Wren"),
    ("PSFL", "Pacific-slope Flycatcher"),
    ("RBNU", "Red-breasted Nuthatch"),
    ("DEJU", "Dark-eyed Junco"),
    ("OSFL", "Olive-sided Flycatcher"),
    ("HETH", "Hermit Thrush"),
    ("CBCH", "Chestnut-backed Chickadee"),
    ("VATH", "Varied Thrush"),
    ("HEWA", "Hermit Warbler"),
    ("SWTH", "Swainson's Thrush"),
    ("HAFL", "Hammond's Flycatcher"),
    ("WETA", "Western Tanager"),
    ("BHGB", "Black-headed Grosbeak"),
    ("GCKI", "Golden Crowned Kinglet"),
    ("WAVI", "Warbling Vireo"),
    ("MGWA", "MacGillivray's Warbler"),
    ("STJA", "Stellar's Jay"),
    ("CONI", "Common Nighthawk"),
)
MLSP_HEADER = "rec_id,[histogram of segment features]\n"


@dataclass(frozen=True)
class BirdRecording:
    """One recording of mlsp-2013-birds: its files and the rows it has in the three supplemental tables."""

    name: str
    species: tuple[int, ...]  # the class ids heard, sorted
    test: bool  # fold 1, labels hidden
    wav: bytes
    spectrograms: tuple[bytes, ...]  # one BMP for each of MLSP_SPECTROGRAMS, in that order
    segmentation_example: bytes | None
    histogram: tuple[float, ...]  # 100 bins
    segments: tuple[tuple[tuple[float, ...], tuple[int, int, int, int]], ...]  # 38 features, (x0, x1, y0, y1)


MLSP_SPECTROGRAMS = ("filtered_spectrograms", "spectrograms", "supervised_segmentation")


def write_mlsp(folder: Path, recordings: Sequence[BirdRecording], clusters: bytes, mosaic: bytes) -> None:
    """Recordings in rec_id order; ``clusters`` and ``mosaic`` the two supplemental BMPs."""
    public, private = _dirs(folder)
    essential, supplemental = public / "essential_data", public / "supplemental_data"
    write_csv(essential / "CVfolds_2.txt", ["rec_id", "fold"], [(k, int(r.test)) for k, r in enumerate(recordings)])
    names = [(k, r.name) for k, r in enumerate(recordings)]
    write_csv(essential / "rec_id2filename.txt", ["rec_id", "filename"], names)
    lines = ["rec_id,[labels]\n"]
    for k, recording in enumerate(recordings):
        shown = "?" if recording.test else ",".join(map(str, recording.species))
        lines.append(f"{k},{shown}\n" if shown else f"{k}\n")
    write(essential / "rec_labels_test_hidden.txt", "".join(lines))
    species_lines = "".join(f"{k},{code},{name}\n" for k, (code, name) in enumerate(MLSP_SPECIES))
    write(essential / "species_list.txt", "class_id,code,species\n" + species_lines)

    for recording in recordings:
        write(essential / "src_wavs" / f"{recording.name}.wav", recording.wav)
        for sub, image in zip(MLSP_SPECTROGRAMS, recording.spectrograms, strict=True):
            write(supplemental / sub / f"{recording.name}.bmp", image)
        if recording.segmentation_example is not None:
            write(supplemental / "segmentation_examples" / f"{recording.name}.bmp", recording.segmentation_example)
    (supplemental / "segmentation_examples").mkdir(parents=True, exist_ok=True)
    write(supplemental / "segment_clusters.bmp", clusters)
    write(supplemental / "segment_mosaic.bmp", mosaic)

    histogram, features, rectangles = [MLSP_HEADER], [MLSP_HEADER], [MLSP_HEADER]
    for k, recording in enumerate(recordings):
        for s, (values, (x0, x1, y0, y1)) in enumerate(recording.segments):
            features.append(f"{k},{s}," + ",".join(f"{v:.6f}" for v in values) + "\n")
            rectangles.append(f"{k},{s},{x0},{x1},{y0},{y1},\n")
        histogram.append(f"{k}," + ",".join(f"{v:.6f}" for v in recording.histogram) + "\n")
    write(supplemental / "histogram_of_segments.txt", "".join(histogram))
    write(supplemental / "segment_features.txt", "".join(features))
    write(supplemental / "segment_rectangles.txt", "".join(rectangles))

    answers = [(k * 100 + s, int(s in r.species)) for k, r in enumerate(recordings) if r.test for s in range(19)]
    write_csv(private / "answers.csv", ["Id", "Probability"], answers)
    write_csv(public / "sample_submission.csv", ["Id", "Probability"], [(i, 0) for i, _ in answers])


def mlsp_name(k: int) -> str:
    """The k-th recording's file stem, in the form of the original ones (site, date, time, number)."""
    return f"PC{1 + k % 4}_200906{6 + k % 3:02d}_0{5 + k % 2}{(7 * k) % 60:02d}12_{10 * (k + 1):04d}"


def build_mlsp(folder: Path) -> None:
    rng = np.random.default_rng(201)
    count, test_ids = 12, (1, 6, 9)
    labels = [sorted({int(s) for s in rng.choice(19, int(rng.integers(0, 4)), replace=False)}) for _ in range(count)]
    labels[test_ids[0]] = labels[test_ids[0]] or [2]  # the test set holds at least one bird
    media = []
    for k in range(count):
        wav = wav_bytes(_tone(rng, 160, 8000), 16000)
        images = tuple(bmp_bytes(_grey(rng, 6, 10)) for _ in MLSP_SPECTROGRAMS)
        example = bmp_bytes(_grey(rng, 6, 10)) if k % 3 == 0 else None
        media.append((wav, images, example))
    clusters, mosaic = bmp_bytes(_grey(rng, 8, 8)), bmp_bytes(_grey(rng, 8, 12))
    recordings = []
    for k in range(count):
        segment_count = len(labels[k]) + k % 2
        bins = np.zeros(100)
        segments = []
        for _ in range(segment_count):
            bins[int(rng.integers(100))] += 1 / segment_count
            values = tuple(float(v) for v in rng.random(38))
            x, y = int(rng.integers(0, 900)), int(rng.integers(0, 200))
            segments.append((values, (x, x + 40, y, y + 30)))
        wav, images, example = media[k]
        recordings.append(
            BirdRecording(
                name=mlsp_name(k),
                species=tuple(labels[k]),
                test=k in test_ids,
                wav=wav,
                spectrograms=images,
                segmentation_example=example,
                histogram=tuple(float(v) for v in bins),
                segments=tuple(segments),
            )
        )
    write_mlsp(folder, recordings, clusters, mosaic)


# --- the-icml-2013-whale-challenge-right-whale-redux ---------------------------------------------------------------
# The original train2 clips (YYYYMMDD_HHMMSS_<offset>_TRAIN<i>_<label>.aif) of 4 days split by day: the first two
# stay train (re-indexed in name order), the last two become test, renamed ..._Test<i>.aif. Both go into zips made by
# shutil.make_archive (a folder entry, then the deflated clips); the answers name each test clip.


WhaleClip = tuple[str, int, bytes]  # original name (..._TRAIN<i>_<label>.aif), label, AIFF bytes


def _clip_names(rng: np.random.Generator, day: str, count: int, start: int) -> list[tuple[str, int]]:
    clips = []
    for k in range(count):
        label = int(rng.random() < 0.4) if k > 1 else k  # every day holds both labels
        seconds = (37 * k + int(rng.integers(0, 30))) % 900
        prefix = f"{day}_{k // 3:02d}{15 * (k % 3):02d}00_{seconds:03d}s{int(rng.integers(0, 10))}ms"
        clips.append((f"{prefix}_TRAIN{start + k}_{label}.aif", label))
    return clips


def write_whale(folder: Path, train: Sequence[WhaleClip], test: Sequence[WhaleClip]) -> None:
    """Clips under their original names, sorted; train clips are re-indexed, test clips renamed ``..._Test<i>``."""
    public, private = _dirs(folder)
    train_entries: list[tuple[str, bytes | None]] = [("train2/", None)]
    for idx, (name, _, clip) in enumerate(train):
        new_name = name.split("TRAIN")[0] + f"TRAIN{idx}_" + name.rsplit("_", 1)[1]
        train_entries.append((f"train2/{new_name}", clip))
    test_entries: list[tuple[str, bytes | None]] = [("test2/", None)]
    answers = []
    for idx, (name, label, clip) in enumerate(test):
        new_name = name.split("TRAIN")[0] + f"Test{idx}.aif"
        test_entries.append((f"test2/{new_name}", clip))
        answers.append((new_name, label))
    write(public / "train2.zip", zip_bytes(train_entries, deflate=True))
    write(public / "test2.zip", zip_bytes(test_entries, deflate=True))
    write_csv(private / "test.csv", ["clip", "probability"], answers)
    write_csv(public / "sampleSubmission.csv", ["clip", "probability"], [(c, 0) for c, _ in answers])


def build_whale(folder: Path) -> None:
    rng = np.random.default_rng(202)
    days = [_clip_names(rng, day, 6, 30 * d) for d, day in enumerate(("20090328", "20090329", "20090330", "20090331"))]
    train = sorted(days[0] + days[1])
    test = sorted(days[2] + days[3])
    train_clips = [(name, label, aiff_bytes(_tone(rng, 40, 3000), 2000)) for name, label in train]
    test_clips = [(name, label, aiff_bytes(_tone(rng, 40, 3000), 2000)) for name, label in test]
    write_whale(folder, train_clips, test_clips)


LAYOUTS: tuple[LiteLayout, ...] = (
    LiteLayout(
        id="mlsp-2013-birds",
        build=build_mlsp,
        id_column="Id",
        target_columns=("Probability",),
        answers="private/answers.csv",
        sample_submission="public/sample_submission.csv",
        values="probability",
    ),
    LiteLayout(
        id="the-icml-2013-whale-challenge-right-whale-redux",
        build=build_whale,
        id_column="clip",
        target_columns=("probability",),
        answers="private/test.csv",
        sample_submission="public/sampleSubmission.csv",
        values="probability",
    ),
)
