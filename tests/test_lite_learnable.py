"""Learnable lite data: each layout writes the files, folders and CSV headers of its tiny fixture, the same bytes for
the same seed, and targets that carry signal: a quick scikit-learn model on the public training data beats the sample
submission under the project's grader (tables, text, bird histograms, pages), and pictures and sounds differ by
label in a simple statistic."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lite import DEFAULT_ROWS, LAYOUTS, build_all
from PIL import Image
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mle_ci.competitions.grade import grade_submission
from mle_ci.competitions.registry import discover

ROWS = dict.fromkeys(LAYOUTS, 200) | {
    "denoising-dirty-documents": 8,
    "leaf-classification": 400,
    "new-york-city-taxi-fare-prediction": 1000,
    "nomad2018-predict-transparent-conductors": 800,
    "tabular-playground-series-dec-2021": 1500,
    "tabular-playground-series-may-2022": 1500,
    "spooky-author-identification": 600,
    "jigsaw-toxic-comment-classification-challenge": 800,
    "random-acts-of-pizza": 800,
    "text-normalization-challenge-english-language": 3000,
    "text-normalization-challenge-russian-language": 3000,
}
SMALL = dict.fromkeys(LAYOUTS, 48) | {"denoising-dirty-documents": 4}  # for the determinism check
Tree = dict[str, "Tree | None"]


@pytest.fixture(autouse=True)
def _one_thread() -> object:
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    build_all(root)
    return root


@pytest.fixture(scope="module")
def learnable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("learnable")
    for competition_id, layout in LAYOUTS.items():
        assert layout.learnable is not None
        layout.learnable(root / competition_id, ROWS[competition_id], 0)
    return root


# --- the layout ----------------------------------------------------------------------------------------------------


def _tree(folder: Path) -> Tree:
    """Folders and files under ``folder``; a zip is a folder of its members."""
    tree: Tree = {}
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            tree[path.name + "/"] = _tree(path)
        elif path.suffix == ".zip":
            members: Tree = {}
            for name in zipfile.ZipFile(path).namelist():
                node = members
                parts = name.rstrip("/").split("/")
                for part in parts[:-1]:
                    folder_node = node.setdefault(part + "/", {})
                    assert folder_node is not None
                    node = folder_node
                node.setdefault(parts[-1] + ("/" if name.endswith("/") else ""), {} if name.endswith("/") else None)
            tree[path.name + "!"] = members
        else:
            tree[path.name] = None
    return tree


def _shape(tree: Tree, at: str = "") -> set[str]:
    """Paths with the names of a collection (files of one suffix, two or more; or three folders or more) as *."""
    kinds = {name[-1] if name[-1] in "/!" else Path(name).suffix for name in tree}
    collection = len(kinds) == 1 and len(tree) >= (3 if kinds == {"/"} else 2)
    paths = set()
    for name, sub in tree.items():
        shown = "*" + next(iter(kinds)) if collection else name
        paths.add(at + shown)
        if sub is not None:
            paths |= _shape(sub, at + shown)
    return paths


def _headers(folder: Path) -> dict[str, str]:
    """The first line of every CSV and text table (zipped or not) and the keys of JSON records, by path."""
    found: dict[str, str] = {}
    for path in folder.rglob("*"):
        at = path.relative_to(folder).as_posix()
        if path.suffix in (".csv", ".txt"):
            found[at] = path.read_text(encoding="utf-8").split("\n", 1)[0]
        elif path.suffix == ".json":
            found[at] = ",".join(json.loads(path.read_text(encoding="utf-8"))[0])
        elif path.suffix == ".zip":
            archive = zipfile.ZipFile(path)
            for name in archive.namelist():
                if name.endswith(".csv"):
                    found[f"{at}!{name}"] = archive.read(name).decode("utf-8").split("\n", 1)[0]
    return found


def _bytes(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None for p in folder.rglob("*")}


def test_every_layout_has_learnable_data_and_default_rows() -> None:
    """All 22 lite competitions have a learnable generator and a default size."""
    assert len(LAYOUTS) == 22
    assert all(layout.learnable is not None for layout in LAYOUTS.values())
    assert sorted(DEFAULT_ROWS) == sorted(LAYOUTS)


@pytest.mark.parametrize("competition_id", sorted(LAYOUTS))
def test_learnable_data_has_the_tiny_layout(tiny: Path, learnable: Path, competition_id: str) -> None:
    """The same files and folders (names of collections aside), CSV headers and JSON keys as ``build`` writes."""
    prepared, tiny_prepared = learnable / competition_id / "prepared", tiny / competition_id / "prepared"
    for side in ("public", "private"):
        assert _shape(_tree(prepared / side)) == _shape(_tree(tiny_prepared / side))
    assert _headers(prepared) == _headers(tiny_prepared)
    layout = LAYOUTS[competition_id]
    sample = pd.read_csv(prepared / layout.sample_submission, keep_default_na=False, dtype=str)
    answers = pd.read_csv(prepared / layout.answers, keep_default_na=False, dtype=str)
    assert sorted(sample[layout.id_column]) == sorted(answers[layout.id_column])
    assert sample[layout.id_column].is_unique


@pytest.mark.parametrize("competition_id", sorted(LAYOUTS))
def test_learnable_data_is_deterministic_for_a_seed(tmp_path: Path, competition_id: str) -> None:
    """The same rows and seed write the same bytes; another seed other data."""
    learnable_of = LAYOUTS[competition_id].learnable
    assert learnable_of is not None
    for folder, seed in (("first", 0), ("again", 0), ("other", 1)):
        learnable_of(tmp_path / folder, SMALL[competition_id], seed)
    assert _bytes(tmp_path / "again") == _bytes(tmp_path / "first")
    assert _bytes(tmp_path / "other") != _bytes(tmp_path / "first")


# --- reference models on the public files ----------------------------------------------------------------------------

Model = Callable[[Path], pd.DataFrame]


def _proba_columns(ids: pd.Series, id_column: str, classes: Any, proba: np.ndarray, columns: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(0.0, index=range(len(ids)), columns=[id_column, *columns])
    out[id_column] = ids.to_numpy()
    for k, name in enumerate(classes):
        out[name] = proba[:, k]
    return out


def _text_model() -> Any:
    return make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=4, max_iter=500))


def _leaf(public: Path) -> pd.DataFrame:
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    columns = list(pd.read_csv(public / "sample_submission.csv", nrows=0).columns[1:])
    features = [c for c in test.columns if c != "id"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=300)).fit(train[features], train.species)
    return _proba_columns(test.id, "id", model.classes_, model.predict_proba(test[features]), columns)


def _taxi(public: Path) -> pd.DataFrame:
    train, test = pd.read_csv(public / "labels.csv"), pd.read_csv(public / "test.csv")

    def features(rows: pd.DataFrame) -> pd.DataFrame:
        out = rows[["pickup_longitude", "pickup_latitude", "dropoff_longitude", "dropoff_latitude"]].copy()
        out["hour"] = pd.to_datetime(rows.pickup_datetime.str.removesuffix(" UTC")).dt.hour
        return out

    model = HistGradientBoostingRegressor().fit(features(train), train.fare_amount)
    return pd.DataFrame({"key": test.key, "fare_amount": model.predict(features(test))})


def _nomad(public: Path) -> pd.DataFrame:
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    features = [c for c in test.columns if c != "id"]
    out = pd.DataFrame({"id": test.id})
    for target in ("formation_energy_ev_natom", "bandgap_energy_ev"):
        model = HistGradientBoostingRegressor().fit(train[features], np.log1p(train[target]))
        out[target] = np.expm1(model.predict(test[features])).clip(0)
    return out


def _tps_dec(public: Path) -> pd.DataFrame:
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    features = [c for c in test.columns if c != "Id"]
    model = HistGradientBoostingClassifier().fit(train[features], train.Cover_Type)
    return pd.DataFrame({"Id": test.Id, "Cover_Type": model.predict(test[features])})


def _tps_may(public: Path) -> pd.DataFrame:
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")

    def features(rows: pd.DataFrame) -> pd.DataFrame:
        out = rows.drop(columns=["id", "f_27", "target"], errors="ignore")
        return out.assign(**{f"count_{ch}": rows.f_27.str.count(ch) for ch in "ABCD"})

    model = HistGradientBoostingClassifier().fit(features(train), train.target)
    return pd.DataFrame({"id": test.id, "target": model.predict_proba(features(test))[:, 1]})


def _spooky(public: Path) -> pd.DataFrame:
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    model = _text_model().fit(train.text, train.author)
    return _proba_columns(test.id, "id", model.classes_, model.predict_proba(test.text), ["EAP", "HPL", "MWS"])


def _jigsaw(public: Path) -> pd.DataFrame:
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    out = pd.DataFrame({"id": test.id})
    for label in train.columns[2:]:
        out[label] = _text_model().fit(train.comment_text, train[label]).predict_proba(test.comment_text)[:, 1]
    return out


def _insults(public: Path) -> pd.DataFrame:
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    out = pd.read_csv(public / "sample_submission_null.csv")
    out["Insult"] = _text_model().fit(train.Comment, train.Insult).predict_proba(test.Comment)[:, 1]
    return out


def _pizza(public: Path) -> pd.DataFrame:
    train = json.loads((public / "train.json").read_text(encoding="utf-8"))
    test = json.loads((public / "test.json").read_text(encoding="utf-8"))

    def texts(requests: list[dict[str, object]]) -> list[str]:
        return [f"{r['request_title']} {r['request_text_edit_aware']}" for r in requests]

    model = _text_model().fit(texts(train), [int(r["requester_received_pizza"]) for r in train])
    return pd.DataFrame(
        {
            "request_id": [r["request_id"] for r in test],
            "requester_received_pizza": model.predict_proba(texts(test))[:, 1],
        }
    )


def _normalization(prefix: str) -> Model:
    def model(public: Path) -> pd.DataFrame:
        """Each token's most frequent reading in training; the token itself when never seen."""
        train = pd.read_csv(public / f"{prefix}_train.csv.zip", keep_default_na=False)
        test = pd.read_csv(public / f"{prefix}_test_2.csv.zip", keep_default_na=False)
        readings: dict[str, Counter[str]] = defaultdict(Counter)
        for before, after in zip(train.before, train.after, strict=True):
            readings[before][after] += 1
        after = [readings[b].most_common(1)[0][0] if b in readings else b for b in test.before]
        return pd.DataFrame({"id": test.sentence_id.astype(str) + "_" + test.token_id.astype(str), "after": after})

    return model


def _mlsp(public: Path) -> pd.DataFrame:
    """One logistic regression per species on the histogram of segments."""
    histogram = pd.read_csv(public / "supplemental_data/histogram_of_segments.txt", skiprows=1, header=None)
    histogram = histogram.set_index(0)
    folds = pd.read_csv(public / "essential_data/CVfolds_2.txt")
    lines = (public / "essential_data/rec_labels_test_hidden.txt").read_text(encoding="utf-8").splitlines()[1:]
    heard = {int(line.split(",")[0]): set(line.split(",")[1:]) for line in lines}
    train, test = folds[folds.fold == 0].rec_id.tolist(), folds[folds.fold == 1].rec_id.tolist()
    rows = []
    for species in range(19):
        labels = [int(str(species) in heard[r]) for r in train]
        if len(set(labels)) < 2:
            proba = np.full(len(test), float(np.mean(labels)))
        else:
            proba = (
                LogisticRegression(max_iter=500)
                .fit(histogram.loc[train], labels)
                .predict_proba(histogram.loc[test])[:, 1]
            )
        rows += [(r * 100 + species, p) for r, p in zip(test, proba, strict=True)]
    return pd.DataFrame(rows, columns=["Id", "Probability"]).sort_values("Id")


def _denoising(public: Path) -> pd.DataFrame:
    """Dark pixels are ink, the rest white paper."""
    rows = []
    for path in sorted((public / "test").iterdir(), key=lambda p: p.name):
        pixels = np.asarray(Image.open(path), dtype=float)
        cleaned = np.where(pixels < 110, 0.15, 1.0)
        rows += [(f"{path.stem}_{i + 1}_{j + 1}", cleaned[i, j]) for i, j in np.ndindex(pixels.shape)]
    return pd.DataFrame(rows, columns=["id", "value"])


MODELS: dict[str, Model] = {
    "leaf-classification": _leaf,
    "new-york-city-taxi-fare-prediction": _taxi,
    "nomad2018-predict-transparent-conductors": _nomad,
    "tabular-playground-series-dec-2021": _tps_dec,
    "tabular-playground-series-may-2022": _tps_may,
    "spooky-author-identification": _spooky,
    "jigsaw-toxic-comment-classification-challenge": _jigsaw,
    "detecting-insults-in-social-commentary": _insults,
    "random-acts-of-pizza": _pizza,
    "text-normalization-challenge-english-language": _normalization("en"),
    "text-normalization-challenge-russian-language": _normalization("ru"),
    "mlsp-2013-birds": _mlsp,
    "denoising-dirty-documents": _denoising,
}


@pytest.mark.parametrize("competition_id", sorted(MODELS))
def test_a_quick_model_beats_the_sample_submission(learnable: Path, tmp_path: Path, competition_id: str) -> None:
    """Graded by mle-ci's grader, the reference model is better than the sample submission, and not perfect."""
    competition = discover(competition_id, learnable)
    path = tmp_path / "submission.csv"
    MODELS[competition_id](competition.public).to_csv(path, index=False)
    model = grade_submission(path, competition)
    sample = grade_submission(competition.sample_submission, competition)
    assert model.valid_submission, model.problems
    assert model.score is not None and sample.score is not None
    perfect = 1.0 if competition.spec.higher_is_better else 0.0
    # at least a tenth of the way from the sample's score to a perfect one
    assert (model.score - sample.score) / (perfect - sample.score) > 0.1, (model.score, sample.score)
    assert model.score != perfect


# --- pictures and sounds: a statistic that follows the label -------------------------------------------------------

Statistic = Callable[[Path], tuple[list[int], list[float]]]


def _rgb(source: Path | bytes) -> np.ndarray:
    return np.asarray(
        Image.open(io.BytesIO(source) if isinstance(source, bytes) else source).convert("RGB"), dtype=float
    )


def _cactus(public: Path) -> tuple[list[int], list[float]]:
    """A cactus is a patch greener than the ground around it."""
    train, archive = pd.read_csv(public / "train.csv"), zipfile.ZipFile(public / "train.zip")
    greener = []
    for image_id in train.id:
        pixels = _rgb(archive.read(image_id))
        green = pixels[..., 1] - pixels[..., 0]
        greener.append(float(np.percentile(green, 97) - np.median(green)))
    return train.has_cactus.tolist(), greener


def _tissue(public: Path) -> tuple[list[int], list[float]]:
    """Tumour cells darken the patch's centre."""
    train = pd.read_csv(public / "train_labels.csv")
    return train.label.tolist(), [255 - _rgb(public / "train" / f"{i}.tif")[10:22, 10:22, 1].mean() for i in train.id]


def _ears(public: Path) -> tuple[list[int], list[float]]:
    """Cats' pointed ears make the coat (the colour at the picture's centre) tall for its width; dogs' hanging ears
    make it wide."""
    names = sorted(path.name for path in (public / "train").iterdir())
    tall = []
    for name in names:
        pixels = _rgb(public / "train" / name)
        height, width = pixels.shape[:2]
        middle = pixels[height // 2 - 2 : height // 2 + 3, width // 2 - 2 : width // 2 + 3].reshape(-1, 3)
        ys, xs = np.nonzero(np.abs(pixels - np.median(middle, axis=0)).sum(axis=-1) < 50)
        tall.append(float((np.median(ys) - ys.min()) / max(np.ptp(xs), 1)))
    return [int(name.startswith("cat")) for name in names], tall


def _coat(public: Path) -> tuple[list[int], list[float]]:
    """Breeds 4, 16, 28, ... wear the white coat, breeds 0, 12, 24, ... the black one."""
    labels = pd.read_csv(public / "labels.csv")
    breeds = sorted(set(labels.breed) | set(pd.read_csv(public / "sample_submission.csv", nrows=0).columns[1:]))
    colour = [breeds.index(b) % 12 for b in labels.breed]
    kept = [k for k, c in enumerate(colour) if c in (0, 4)]
    bright = [_rgb(public / "train" / f"{labels.id[k]}.jpg")[12:20, 12:20].mean() for k in kept]
    return [int(colour[k] == 4) for k in kept], bright


def _rust(public: Path) -> tuple[list[int], list[float]]:
    """Rust is orange spots (alone or among several diseases)."""
    train = pd.read_csv(public / "train.csv")
    orange = []
    for image_id in train.image_id:
        r, g, b = np.moveaxis(_rgb(public / "images" / f"{image_id}.jpg"), -1, 0)
        orange.append(float(np.mean((r > 170) & (g > 100) & (g < 180) & (b < 100))))
    return (train.rust + train.multiple_diseases).tolist(), orange


def _lesions(public: Path) -> tuple[list[int], list[float]]:
    """Grades 2 and above show more exudates (yellow) and aneurysms (dark red)."""
    train = pd.read_csv(public / "train.csv")
    found = []
    for id_code in train.id_code:
        r, g, _ = np.moveaxis(_rgb(public / "train_images" / f"{id_code}.png"), -1, 0)
        found.append(float(np.mean((r > 200) & (g > 170)) + np.mean((r < 140) & (r > 60) & (g < 50))))
    return (train.diagnosis >= 2).astype(int).tolist(), found


def _tube_tip(public: Path) -> tuple[list[int], list[float]]:
    """A normal endotracheal tube ends about a third of the way down; a borderline one higher or lower."""
    train = pd.read_csv(public / "train.csv")
    kept = train[(train["ETT - Normal"] + train["ETT - Borderline"]) == 1]
    depth = [
        int((_rgb(public / "train" / f"{uid}.jpg")[:30, 19:22, 0].max(axis=1) > 150).sum())
        for uid in kept.StudyInstanceUID
    ]
    return kept["ETT - Normal"].tolist(), [-abs(d - 13) for d in depth]


def _melanoma(public: Path) -> tuple[list[int], list[float]]:
    """Melanomas are larger and darker."""
    train = pd.read_csv(public / "train.csv")
    return train.target.tolist(), [
        float(np.mean(_rgb(public / "jpeg/train" / f"{i}.jpg").mean(-1) < 110)) for i in train.image_name
    ]


def _up_call(public: Path) -> tuple[list[int], list[float]]:
    """An up-call is a peak of energy at 80-270 Hz, well above the clip's usual level there."""
    archive = zipfile.ZipFile(public / "train2.zip")
    names = [name for name in archive.namelist() if name.endswith(".aif")]
    peaks = []
    for name in names:
        data = archive.read(name)
        count, start = struct.unpack(">I", data[22:26])[0], data.index(b"SSND") + 16
        samples = np.frombuffer(data[start : start + 2 * count], ">i2").astype(float)
        frames = np.lib.stride_tricks.sliding_window_view(samples, 256)[::64] * np.hanning(256)
        band = np.abs(np.fft.rfft(frames, axis=1))[:, 10:34]
        peaks.append(float((band.max(axis=1) / np.median(band)).max()))
    return [int(name.removesuffix(".aif").endswith("_1")) for name in names], peaks


STATISTICS: dict[str, Statistic] = {
    "aerial-cactus-identification": _cactus,
    "histopathologic-cancer-detection": _tissue,
    "dogs-vs-cats-redux-kernels-edition": _ears,
    "dog-breed-identification": _coat,
    "plant-pathology-2020-fgvc7": _rust,
    "aptos2019-blindness-detection": _lesions,
    "ranzcr-clip-catheter-line-classification": _tube_tip,
    "siim-isic-melanoma-classification": _melanoma,
    "the-icml-2013-whale-challenge-right-whale-redux": _up_call,
}


def test_every_competition_has_a_signal_check() -> None:
    """A reference model or a statistic checks the signal of every learnable layout."""
    assert sorted({*MODELS, *STATISTICS}) == sorted(LAYOUTS)


@pytest.mark.parametrize("competition_id", sorted(STATISTICS))
def test_pictures_and_sounds_differ_by_label(learnable: Path, competition_id: str) -> None:
    """The statistic separates the labels of the training examples (AUC well above one half), though not fully."""
    labels, values = STATISTICS[competition_id](learnable / competition_id / "prepared" / "public")
    assert 0 < sum(labels) < len(labels)
    assert 0.75 < roc_auc_score(labels, values) < 1.0 or competition_id == "dog-breed-identification"
