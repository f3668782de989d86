"""The layout reader makes train, test, sample and images out of MLE-bench's real public layouts (the 22 lite
competitions' fixtures) and out of small hand-made folders, one rule at a time, and fails with a LayoutError."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest
from lite import LAYOUTS

from mle_ci.agents.baseline import tablefiles
from mle_ci.agents.baseline.layout import Layout, LayoutError, read_layout
from mle_ci.agents.baseline.tables import read_csv
from mle_ci.agents.baseline.task import TaskError

# Train and test rows of each competition the layout reads; the rest raise a LayoutError saying why.
USABLE = {
    "aerial-cactus-identification": (24, 6),
    "aptos2019-blindness-detection": (20, 10),
    "detecting-insults-in-social-commentary": (20, 16),
    "dog-breed-identification": (24, 8),
    "dogs-vs-cats-redux-kernels-edition": (18, 6),
    "histopathologic-cancer-detection": (20, 8),
    "jigsaw-toxic-comment-classification-challenge": (18, 20),
    "leaf-classification": (30, 10),
    "new-york-city-taxi-fare-prediction": (30, 10),
    "nomad2018-predict-transparent-conductors": (20, 8),
    "plant-pathology-2020-fgvc7": (16, 8),
    "random-acts-of-pizza": (24, 12),
    "ranzcr-clip-catheter-line-classification": (18, 10),
    "siim-isic-melanoma-classification": (18, 6),
    "spooky-author-identification": (30, 10),
    "tabular-playground-series-dec-2021": (30, 10),
    "tabular-playground-series-may-2022": (30, 10),
    "text-normalization-challenge-english-language": (22, 20),
    "text-normalization-challenge-russian-language": (12, 16),
}
UNUSABLE = {
    # Audio clips and text tables of features, no train table: left to an audio reader.
    "mlsp-2013-birds": "12 audio files",
    # Train labels live only in the clips' names (..._TRAIN3_1.aif) inside train2.zip: audio, left to an audio reader.
    "the-icml-2013-whale-challenge-right-whale-redux": "24 audio files (in test2.zip, train2.zip)",
    # Image to image (train/ and train_cleaned/, per-pixel answers): no table, no class in the file names.
    "denoising-dirty-documents": "the images in train, train_cleaned do not name a class",
}
WITH_IMAGES = {
    "aerial-cactus-identification",
    "aptos2019-blindness-detection",
    "dog-breed-identification",
    "dogs-vs-cats-redux-kernels-edition",
    "histopathologic-cancer-detection",
    "leaf-classification",
    "plant-pathology-2020-fgvc7",
    "ranzcr-clip-catheter-line-classification",
    "siim-isic-melanoma-classification",
}


def test_every_lite_competition_is_decided() -> None:
    """Each of the 22 lite competitions is either read or refused, by a decision written down here."""
    assert set(LAYOUTS) == set(USABLE) | set(UNUSABLE)
    assert len(LAYOUTS) == 22
    assert set(USABLE).isdisjoint(UNUSABLE)
    assert set(USABLE) >= WITH_IMAGES


def _built(competition: str, tmp_path: Path) -> Path:
    LAYOUTS[competition].build(tmp_path / "competition")
    return tmp_path / "competition" / "prepared" / "public"


@pytest.mark.parametrize("competition", sorted(USABLE))
def test_lite_competition_is_read(competition: str, tmp_path: Path) -> None:
    """A usable competition gives its train and test rows, a sample whose ids the test table holds, and images."""
    lite = LAYOUTS[competition]
    layout = read_layout(_built(competition, tmp_path), tmp_path / "scratch")
    assert (layout.train.rows, layout.test.rows) == USABLE[competition]
    assert layout.sample.rows == layout.test.rows
    assert set(layout.sample.column(lite.id_column)) <= set(layout.test.column(lite.id_column))
    assert read_csv(layout.sample_path) == layout.sample
    assert layout.notes
    if competition in WITH_IMAGES:
        ids = layout.train.column(lite.id_column) + layout.test.column(lite.id_column)
        assert all(identifier in layout.images for identifier in ids)
    else:
        assert layout.images == {}


@pytest.mark.parametrize("competition", sorted(UNUSABLE))
def test_lite_competition_is_refused(competition: str, tmp_path: Path) -> None:
    """A competition the layout cannot make train rows of raises a LayoutError that says what it found."""
    with pytest.raises(LayoutError, match="no train table") as raised:
        read_layout(_built(competition, tmp_path), tmp_path / "scratch")
    assert UNUSABLE[competition] in str(raised.value)


def test_dogs_vs_cats_train_rows_come_from_file_names(tmp_path: Path) -> None:
    """Without a train table the classes before the first dot of train/'s names are the labels, dog positive."""
    layout = read_layout(_built("dogs-vs-cats-redux-kernels-edition", tmp_path), tmp_path / "scratch")
    assert layout.train.header == ("id", "label")
    assert set(layout.train.column("label")) == {"cat", "dog"}
    assert all(stem.startswith(f"{label}.") for stem, label in zip(*layout.train.columns.values(), strict=True))
    assert "label is the probability of 'dog', the positive class ('cat' the other)" in layout.notes
    assert "train.zip not extracted: its images are in the folders already" in layout.notes


def test_text_normalization_gets_its_composite_id(tmp_path: Path) -> None:
    """The zipped en_ tables are read, the sample extracted, and id = sentence_id_token_id added to train and test."""
    layout = read_layout(_built("text-normalization-challenge-english-language", tmp_path), tmp_path / "scratch")
    assert layout.test.header == ("id", "sentence_id", "token_id", "before")
    assert layout.train.header[0] == "id"
    assert "after" in layout.train.header
    assert layout.sample_path.name == "en_sample_submission_2.csv"
    assert "id made of sentence_id and token_id joined by '_', as the sample submission's ids are" in layout.notes


def test_siim_reads_the_jpegs_not_the_dicoms(tmp_path: Path) -> None:
    """DICOM files with a JPEG of the same name are left out of the index, and a note says so."""
    layout = read_layout(_built("siim-isic-melanoma-classification", tmp_path), tmp_path / "scratch")
    assert all(path.suffix == ".jpg" for path in layout.images.values())
    assert "24 DICOM files ignored: images of the same names are used" in layout.notes


# --------------------------------------------------------------------------------------------------------------------
# Hand-made folders, one rule at a time

CSV_SAMPLE = "id,target\n1,0.5\n2,0.5\n"
CSV_TRAIN = "id,x,target\n10,1.5,0\n11,2.5,1\n12,3.5,0\n"
CSV_TEST = "id,x\n1,1.0\n2,2.0\n"


def _zip(entries: dict[str, bytes | str], *, mode: int = 0o100644) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return out.getvalue()


def _folder(root: Path, files: dict[str, bytes | str]) -> Path:
    for name, data in files.items():
        path = root / "public" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root / "public"


def _read(tmp_path: Path, files: dict[str, bytes | str], max_rows: int | None = None) -> Layout:
    return read_layout(_folder(tmp_path, files), tmp_path / "scratch", max_rows=max_rows)


def _image(colour: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (4, 4), colour).save(out, format="PNG")
    return out.getvalue()


def test_layout_error_is_a_task_error() -> None:
    """The agent's handler of task errors catches layout errors too."""
    assert issubclass(LayoutError, TaskError)


def test_plain_tables(tmp_path: Path) -> None:
    """train.csv, test.csv and sample_submission.csv are read as they are, the sample file used in place."""
    layout = _read(tmp_path, {"train.csv": CSV_TRAIN, "test.csv": CSV_TEST, "sample_submission.csv": CSV_SAMPLE})
    assert layout.train.column("target") == ["0", "1", "0"]
    assert layout.test.header == ("id", "x")
    assert layout.sample_path == tmp_path / "public" / "sample_submission.csv"
    assert layout.notes == (
        "sample submission from sample_submission.csv (2 rows)",
        "train rows from train.csv (3 rows)",
        "test rows from test.csv (2 rows)",
    )


def test_tsv_tables_and_a_json_sample_written_as_csv(tmp_path: Path) -> None:
    """TSV tables are read with tabs; a sample submission that is not CSV is written as one under scratch."""
    layout = _read(
        tmp_path,
        {
            "train.tsv": CSV_TRAIN.replace(",", "\t"),
            "test.tsv": CSV_TEST.replace(",", "\t"),
            "sample_submission.json": json.dumps([{"id": 1, "target": 0.5}, {"id": 2, "target": 0.5}]),
        },
    )
    assert layout.train.header == ("id", "x", "target")
    assert layout.sample_path.is_relative_to(tmp_path / "scratch")
    assert layout.sample_path.read_text() == CSV_SAMPLE
    assert "sample submission sample_submission.json written as CSV" in layout.notes


def test_zipped_csv_tables_and_sample(tmp_path: Path) -> None:
    """A zip holding one CSV is a table; a zipped sample is extracted under scratch."""
    layout = _read(
        tmp_path,
        {
            "train.csv.zip": _zip({"train.csv": CSV_TRAIN}),
            "test.csv.zip": _zip({"test.csv": CSV_TEST}),
            "sample_submission.csv.zip": _zip({"sample_submission.csv": CSV_SAMPLE}),
        },
    )
    assert layout.train.rows == 3
    assert layout.test.rows == 2
    assert layout.sample_path.is_relative_to(tmp_path / "scratch")
    assert layout.sample_path.read_text() == CSV_SAMPLE


def test_json_cells(tmp_path: Path) -> None:
    """JSON lists of objects: nested values as their JSON, booleans as True/False, null and absent keys empty."""
    records = [
        {"id": "a", "n": 1, "f": 0.25, "ok": True, "tags": ["x", "y"], "meta": {"k": 1}, "none": None},
        {"id": "b", "n": 2, "f": 1e-7, "ok": False, "tags": [], "meta": {}, "none": None, "late": "z"},
    ]
    layout = _read(
        tmp_path,
        {
            "train.json": json.dumps(records),
            "test.json.zip": _zip({"test.json": '[{"id": "c"}]'}),
            "sampleSubmission.csv": "id,n\n",
        },
    )
    train = layout.train
    assert train.header == ("id", "n", "f", "ok", "tags", "meta", "none", "late")
    assert train.column("n") == ["1", "2"]
    assert train.column("f") == ["0.25", "1e-07"]
    assert train.column("ok") == ["True", "False"]
    assert train.column("tags") == ['["x", "y"]', "[]"]
    assert train.column("meta") == ['{"k": 1}', "{}"]
    assert train.column("none") == ["", ""]
    assert train.column("late") == ["", "z"]
    assert layout.test.column("id") == ["c"]


def test_json_not_a_list_of_objects_is_refused(tmp_path: Path) -> None:
    """A JSON file that is not a table is an error naming it."""
    with pytest.raises(LayoutError, match=r"train\.json: not a table"):
        _read(tmp_path, {"train.json": '{"images": []}', "sample_submission.csv": CSV_SAMPLE})


def test_unzipped_twin_is_preferred(tmp_path: Path) -> None:
    """train.json beside train.zip (holding train.json) is read, and the zip left alone."""
    layout = _read(
        tmp_path,
        {
            "train.json": json.dumps([{"id": 1, "target": 1}]),
            "train.zip": _zip({"train.json": json.dumps([{"id": 2, "target": 0}, {"id": 3, "target": 1}])}),
            "test.csv": CSV_TEST,
            "test.csv.zip": b"not even a zip",
            "sample_submission.csv": CSV_SAMPLE,
        },
    )
    assert layout.train.column("id") == ["1"]
    assert "train.json read rather than its zip twin train.zip" in layout.notes
    assert "test.csv read rather than its zip twin test.csv.zip" in layout.notes


@pytest.mark.parametrize(
    "name",
    ["sampleSubmission.csv", "sample_submission_null.csv", "SAMPLE_SUBMISSION.csv", "en_sample_submission_2.csv"],
)
def test_sample_submission_names(name: str, tmp_path: Path) -> None:
    """Any name holding sample_submission or samplesubmission, in any case, is the sample submission."""
    zipped = name.startswith("en_")
    files = {"train.csv": CSV_TRAIN, "test.csv": CSV_TEST}
    files[f"{name}.zip" if zipped else name] = _zip({name: CSV_SAMPLE}) if zipped else CSV_SAMPLE
    layout = _read(tmp_path, files)
    assert layout.sample.rows == 2
    assert layout.sample_path.name == name


def test_no_sample_submission(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"no sample submission .*tables found: test\.csv, train\.csv"):
        _read(tmp_path, {"train.csv": CSV_TRAIN, "test.csv": CSV_TEST})


def test_train_and_test_by_name(tmp_path: Path) -> None:
    """Names holding train and test are the tables when there is no train.* and test.*; "constraints" is no train."""
    layout = _read(
        tmp_path,
        {
            "constraints.csv": "a\n1\n",
            "en_train.csv.zip": _zip({"en_train.csv": CSV_TRAIN}),
            "en_test_2.csv.zip": _zip({"en_test_2.csv": CSV_TEST}),
            "sample_submission.csv": CSV_SAMPLE,
        },
    )
    assert "train rows from en_train.csv.zip (3 rows)" in layout.notes
    assert "test rows from en_test_2.csv.zip (2 rows)" in layout.notes


def test_train_dot_wins_then_columns_decide(tmp_path: Path) -> None:
    """train.csv wins over train_annotations.csv; among train_* tables, the one with the sample's columns."""
    first = _read(
        tmp_path / "a",
        {"train.csv": CSV_TRAIN, "train_annotations.csv": "id,box\n", "x_sample_submission.csv": CSV_SAMPLE},
    )
    assert first.train.rows == 3
    assert "train rows from train.csv (3 rows; also there: train_annotations.csv)" in first.notes
    second = _read(
        tmp_path / "b",
        {"train_boxes.csv": "id,box\n1,2\n", "train_y.csv": CSV_TRAIN, "sample_submission.csv": CSV_SAMPLE},
    )
    assert second.train.header == ("id", "x", "target")


def test_labels_csv_and_test_ids_from_the_sample(tmp_path: Path) -> None:
    """labels.csv is the train table when nothing is named train; without a test table the sample's ids are."""
    layout = _read(tmp_path, {"labels.csv": CSV_TRAIN, "sample_submission.csv": CSV_SAMPLE})
    assert layout.train.rows == 3
    assert layout.test.header == ("id",)
    assert layout.test.column("id") == ["1", "2"]
    assert "test ids from sample_submission.csv (no test table)" in layout.notes


def test_no_train_table(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"no train table .*tables found: sample_submission\.csv, test\.csv"):
        _read(tmp_path, {"test.csv": CSV_TEST, "sample_submission.csv": CSV_SAMPLE})


def test_train_from_class_names_in_a_zip(tmp_path: Path) -> None:
    """Class-named images in train.zip (under a folder) give the train rows; the test ids come from the sample."""
    members = {
        f"train/{label}.{k}.png": _image(40 if label == "cat" else 200) for label in ("cat", "dog") for k in range(3)
    }
    layout = _read(
        tmp_path,
        {
            "train.zip": _zip(members),
            "test.zip": _zip({"1.png": _image(50), "2.png": _image(210), "readme.txt": "skipped"}),
            "sample_submission.csv": "id,label\n1,0.5\n2,0.5\n",
        },
    )
    assert layout.train.column("id") == ["cat.0", "cat.1", "cat.2", "dog.0", "dog.1", "dog.2"]
    assert layout.train.column("label") == ["cat"] * 3 + ["dog"] * 3
    assert all(key in layout.images for key in ("cat.0", "dog.2.png", "1", "2.png"))
    assert "images from test.zip, train.zip (extracted)" in layout.notes
    assert not any(path.name == "readme.txt" for path in (tmp_path / "scratch").rglob("*"))


def test_class_names_are_capped_evenly(tmp_path: Path) -> None:
    """A cap on file-name rows keeps both classes rather than the first names, which all are cats."""
    files: dict[str, bytes | str] = {f"train/{c}.{k}.png": _image(9) for c in ("cat", "dog") for k in range(5)}
    files["sample_submission.csv"] = "id,label\n1,cat\n"
    layout = _read(tmp_path, files, max_rows=4)
    assert layout.train.column("label") == ["cat", "cat", "dog", "dog"]
    assert "train rows capped at 4 of 10 (evenly spaced files)" in layout.notes
    assert not any("probability" in note for note in layout.notes)  # the sample holds labels, not probabilities


def test_dotted_ids_are_no_class_names(tmp_path: Path) -> None:
    """Names such as DICOM UIDs hold dots but name no classes: no train rows come of them."""
    files: dict[str, bytes | str] = {f"train/1.2.840.{k}.png": _image(9) for k in range(4)}
    files["sample_submission.csv"] = CSV_SAMPLE
    with pytest.raises(LayoutError, match=r"the images in train do not name a class"):
        _read(tmp_path, files)


def test_images_in_nested_folders_and_suffixes(tmp_path: Path) -> None:
    """Every image suffix in any folder is indexed by name and stem; DICOM without a twin is not."""
    files: dict[str, bytes | str] = {
        "train.csv": "id,target\na,0\nb,1\nc,0\nd,1\n",
        "sample_submission.csv": "id,target\ne,0\n",
        "jpeg/train/a.jpg": b"x",
        "train_images/deep/b.TIF": b"x",
        "images/c.webp": b"x",
        "images/d.bmp": b"x",
        "test/e.dcm": b"x",
        "test/notes.txt": b"x",
    }
    layout = _read(tmp_path, files)
    assert {"a", "a.jpg", "b", "b.TIF", "c", "c.webp", "d", "d.bmp"} == set(layout.images)
    assert "images in folders images/, jpeg/train/, train_images/deep/ (4 files)" in layout.notes
    assert "1 DICOM files without an image twin are not read (no DICOM decoder)" in layout.notes


def test_zip_extracted_once(tmp_path: Path) -> None:
    """A second read finds the zip's images where the first one put them and does not extract again."""
    files = {
        "train.csv": "id,target\na,0\n",
        "test.zip": _zip({"b.png": _image(1)}),
        "sample_submission.csv": "id,target\nb,0\n",
    }
    first = _read(tmp_path, files)
    extracted = first.images["b"]
    stamp = extracted.stat().st_mtime_ns
    second = read_layout(tmp_path / "public", tmp_path / "scratch")
    assert second.images["b"] == extracted
    assert extracted.stat().st_mtime_ns == stamp
    assert "images from test.zip (extracted by an earlier run)" in second.notes


@pytest.mark.parametrize(
    ("member", "mode", "why"),
    [
        ("../escape.png", 0o100644, "would land outside"),
        ("train/../../escape.png", 0o100644, "would land outside"),
        ("/abs/escape.png", 0o100644, "would land outside"),
        ("C:/escape.png", 0o100644, "would land outside"),
        ("link.png", stat.S_IFLNK | 0o777, "symbolic link"),
    ],
)
def test_unsafe_zip_members_are_refused(member: str, mode: int, why: str, tmp_path: Path) -> None:
    """A zip with a member that could land outside scratch, or a link, is refused whole and nothing is written."""
    files = {
        "train.csv": "id,target\na,0\n",
        "train.zip": _zip({"a.png": _image(1), member: b"/etc/passwd"}, mode=mode),
        "sample_submission.csv": CSV_SAMPLE,
    }
    with pytest.raises(LayoutError, match=rf"train\.zip: member .*{why}"):
        _read(tmp_path, files)
    assert not (tmp_path / "escape.png").exists()
    assert not any(path.is_file() for path in (tmp_path / "scratch").rglob("*"))


def test_row_cap_counts_what_it_skips(tmp_path: Path) -> None:
    """max_rows keeps the first rows and, the file being small, says how many it had."""
    rows = "".join(f"{k},{k % 2}\n" for k in range(10))
    layout = _read(tmp_path, {"labels.csv": "id,target\n" + rows, "sample_submission.csv": CSV_SAMPLE}, max_rows=4)
    assert layout.train.column("id") == ["0", "1", "2", "3"]
    assert "train rows capped at 4 of 10" in layout.notes


def test_row_cap_streams_a_big_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file past the counting limit is read only up to the cap: bytes after it are never decoded."""
    monkeypatch.setattr(tablefiles, "CHEAP_COUNT_BYTES", 1000)
    rows = "".join(f"{k},{k % 2}\n" for k in range(20000)).encode()
    layout = _read(
        tmp_path,
        {"train.csv": b"id,target\n" + rows + b"\xff\xfe broken\n", "sample_submission.csv": CSV_SAMPLE},
        max_rows=5,
    )
    assert layout.train.rows == 5
    assert "train rows capped at 5 of at least 6" in layout.notes


def test_composite_id(tmp_path: Path) -> None:
    """A sample id made of the test table's first two columns joined by '_' becomes the test's id column."""
    layout = _read(
        tmp_path,
        {
            "train.csv": "sid,tid,before,after\n0,0,a,A\n0,1,b,B\n",
            "test.csv": "sid,tid,before\n5,0,c\n5,1,d\n",
            "sample_submission.csv": "id,after\n5_0,c\n5_1,d\n",
        },
    )
    assert layout.test.column("id") == ["5_0", "5_1"]
    assert layout.train.column("id") == ["0_0", "0_1"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"train.zip": b"PK\x03\x04 broken"}, r"train\.zip: not a readable zip"),
        ({"train.csv": b"id,target\n\xff\xfe,1\n"}, r"train\.csv: cannot be read as a table"),
        ({"train.json": b"[{"}, r"train\.json: cannot be read as a table"),
        ({"train.csv": b""}, r"train\.csv is empty"),
    ],
)
def test_unreadable_files_are_layout_errors(files: dict[str, bytes | str], message: str, tmp_path: Path) -> None:
    """A broken zip, undecodable or empty table is a LayoutError naming the file, never a traceback of its own."""
    with pytest.raises(LayoutError, match=message):
        _read(tmp_path, {**files, "sample_submission.csv": CSV_SAMPLE})


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="the data folder public is not there"):
        read_layout(tmp_path / "public", tmp_path / "scratch")
