"""The baseline's special solvers: each recognises its layout from the files alone, hands in the sample's ids in the
sample's order, and beats the sample and its own fallback where the data carry signal; broken inputs give a
fallback or ``None`` with a note, never a traceback.

The lite fixtures of text normalisation, mlsp-2013-birds and the whale clips carry no learnable signal (every test
token that is written differently is unseen in train; the bird labels and the whale tones are drawn independently
of their features), so on them only the submission's validity is held; the ``_learnable_*`` builders below write
the same layouts through the fixtures' own writers with data that do carry signal.
"""

from __future__ import annotations

import csv
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from lite import LAYOUTS
from lite.audio import MLSP_SPECIES, BirdRecording, write_mlsp, write_whale
from lite.files import aiff_bytes, bmp_bytes, wav_bytes
from lite.model import LiteLayout
from lite.text import CLASSES, write_text_normalization

from mle_ci.agents.baseline.special import SpecialResult, solve_special
from mle_ci.agents.baseline.special.aiff import AiffError, read_aiff
from mle_ci.agents.baseline.special.inputs import member_name
from mle_ci.agents.baseline.special.textnorm import Memory, _memory
from mle_ci.metrics import get_metric, score

TEXT_EN = "text-normalization-challenge-english-language"
TEXT_RU = "text-normalization-challenge-russian-language"
DENOISING = "denoising-dirty-documents"
BIRDS = "mlsp-2013-birds"
WHALE = "the-icml-2013-whale-challenge-right-whale-redux"
SPECIAL = {
    TEXT_EN: ("text normalisation", "accuracy"),
    TEXT_RU: ("text normalisation", "accuracy"),
    DENOISING: ("image denoising", "rmse"),
    BIRDS: ("bird species in recordings (multi-label)", "auc"),
    WHALE: ("whale call detection in audio clips", "auc"),
}


def _solve(folder: Path, *, deadline: float | None = None) -> SpecialResult | None:
    return solve_special(folder / "prepared" / "public", folder / "scratch", seed=0, deadline=deadline)


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _graded(layout: LiteLayout, folder: Path, result: SpecialResult) -> tuple[float, float]:
    """The result's score and the sample's on the private answers, rows aligned by id."""
    answers = _read(folder / "prepared" / layout.answers)
    sample = _read(folder / "prepared" / layout.sample_submission)
    id_at, target_at = answers[0].index(layout.id_column), answers[0].index(layout.target_columns[0])
    truth = {row[id_at]: row[target_at] for row in answers[1:]}
    metric = get_metric(result.metric)
    kind: Callable[[str], object] = str if metric.name == "accuracy" else float
    sample_at = sample[0].index(layout.target_columns[0])
    ids = [row[0] for row in result.rows]
    ours = score(metric.name, [kind(truth[i]) for i in ids], [kind(row[1]) for row in result.rows])
    theirs = score(
        metric.name, [kind(truth[row[0]]) for row in sample[1:]], [kind(row[sample_at]) for row in sample[1:]]
    )
    return ours, theirs


def _check_submission(layout: LiteLayout, folder: Path, result: SpecialResult) -> None:
    """The result's header and ids are the sample's, in its order; its values are what the metric reads."""
    sample = _read(folder / "prepared" / layout.sample_submission)
    assert result.header == tuple(sample[0])
    assert [row[0] for row in result.rows] == [row[0] for row in sample[1:]]
    assert all(len(row) == 2 for row in result.rows)
    if result.metric != "accuracy":
        values = np.array([float(row[1]) for row in result.rows])
        assert np.isfinite(values).all()
        assert ((values >= 0) & (values <= 1)).all()


# --- the lite fixtures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("competition", sorted(SPECIAL))
def test_lite_fixture_is_recognised_and_submitted_in_the_sample_order(competition: str, tmp_path: Path) -> None:
    """Each special lite fixture is recognised, and its submission has the sample's header, ids and order."""
    layout = LAYOUTS[competition]
    layout.build(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = _solve(tmp_path)
    assert result is not None
    assert (result.kind, result.metric) == SPECIAL[competition]
    assert result.higher_is_better == get_metric(result.metric).higher_is_better
    _check_submission(layout, tmp_path, result)
    assert result.notes and result.model
    # Zips are read in place: nothing is written next to the data or into the scratch folder.
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_lite_denoising_beats_the_noisy_page_and_the_sample(tmp_path: Path) -> None:
    """On the denoising fixture (clean pages plus noise and a stain) the map beats identity and the all-white sample."""
    layout = LAYOUTS[DENOISING]
    layout.build(tmp_path)
    result = _solve(tmp_path)
    assert result is not None and result.cv_score is not None and result.fallback_score is not None
    assert result.cv_score < 0.5 * result.fallback_score
    ours, sample = _graded(layout, tmp_path, result)
    assert ours < 0.5 * sample


@pytest.mark.parametrize("competition", sorted(set(LAYOUTS) - set(SPECIAL)))
def test_other_lite_layouts_are_not_special(competition: str, tmp_path: Path) -> None:
    """Every other lite layout is left to the general learner."""
    LAYOUTS[competition].build(tmp_path)
    assert _solve(tmp_path) is None


def test_a_folder_that_is_not_there_is_not_special(tmp_path: Path) -> None:
    """A missing public folder is no layout."""
    assert _solve(tmp_path / "nowhere") is None


# --- learnable versions of the layouts -----------------------------------------------------------------------------

Token = tuple[str, str, str]
EN_TRAIN = (
    "It|cost|MONEY:$5=five dollars|PUNCT:.",  # the first train sentence is the held-out one
    "MONEY:$5=five dollars|is|cheap|PUNCT:.",
    "In|DATE:1999=nineteen ninety nine|CARDINAL:120=one hundred twenty|people|met|PUNCT:.",
    "The|LETTERS:BBC=b b c|reported|it|PUNCT:.",
    "She|read|the|LETTERS:BBC=b b c|PUNCT:.",
)
EN_TEST = (
    "He|paid|MONEY:$5=five dollars|in|DATE:1999=nineteen ninety nine|PUNCT:.",
    "LETTERS:BBC=b b c|said|so|PUNCT:.",
    "CARDINAL:120=one hundred twenty|people|PUNCT:!",
)
RU_TRAIN = (
    "Это|стоило|MONEY:100 руб.=сто рублей|PUNCT:.",
    "MONEY:100 руб.=сто рублей|это|дёшево|PUNCT:.",
    "В|DATE:1862 году=тысяча восемьсот шестьдесят втором году|CARDINAL:25=двадцать пять|человек|PUNCT:.",
    "LETTERS:СССР=с с с р|распался|PUNCT:.",
)
RU_TEST = (
    "Он|заплатил|MONEY:100 руб.=сто рублей|PUNCT:.",
    "LETTERS:СССР=с с с р|и|CARDINAL:25=двадцать пять|PUNCT:!",
)


def _tokens(line: str) -> list[Token]:
    tokens = []
    for spec in line.split("|"):
        kind, _, rest = spec.partition(":")
        if kind not in CLASSES:
            kind, rest = "PLAIN", spec
        before, _, after = rest.partition("=")
        tokens.append((kind, before, after or before))
    return tokens


def _learnable_text(folder: Path, prefix: str) -> None:
    train, test = (EN_TRAIN, EN_TEST) if prefix == "en" else (RU_TRAIN, RU_TEST)
    write_text_normalization(folder, prefix, [_tokens(s) for s in train], [_tokens(s) for s in test])


def _learnable_birds(folder: Path, count: int = 80, tests: int = 20) -> None:
    """Species heard at their own rates; a heard species puts mass in its own five histogram bins."""
    rng = np.random.default_rng(5)
    rates = np.linspace(0.03, 0.45, len(MLSP_SPECIES))
    wav, image = wav_bytes([0] * 16, 16000), bmp_bytes([[0, 0], [0, 0]])
    recordings = []
    for k in range(count):
        species = tuple(int(s) for s in np.flatnonzero(rng.random(len(MLSP_SPECIES)) < rates))
        bins = rng.random(100) * 0.2
        for s in species:
            bins[5 * s : 5 * s + 5] += rng.random(5)
        recordings.append(
            BirdRecording(
                name=f"PC1_20090606_0500_{k:04d}",
                species=species,
                test=k >= count - tests,
                wav=wav,
                spectrograms=(image, image, image),
                segmentation_example=None,
                histogram=tuple(float(v) for v in bins / bins.sum()),
                segments=(),
            )
        )
    write_mlsp(folder, recordings, image, image)


def _chirp_clip(rng: np.random.Generator, call: bool, rate: int = 2000, count: int = 1000) -> bytes:
    """Coloured noise and a stray tone; an up-call adds a tone rising from 100 to 250 Hz."""
    t = np.arange(count) / rate
    x = np.convolve(rng.normal(0.0, 3000.0, count), np.ones(4) / 4, mode="same")
    x += 1500 * np.sin(2 * np.pi * rng.uniform(300, 900) * t)
    if call:
        x += 1200 * np.sin(2 * np.pi * (100 * t + 150 * t**2)) * np.hanning(count)
    return aiff_bytes([int(v) for v in np.clip(x, -32768, 32767)], rate)


def _learnable_whale(folder: Path, train: int = 60, test: int = 30) -> None:
    rng = np.random.default_rng(7)

    def clips(day: str, count: int) -> list[tuple[str, int, bytes]]:
        labels = [k % 3 == 0 for k in range(count)]
        return [
            (f"{day}_000000_{k:03d}s0ms_TRAIN{k}_{int(c)}.aif", int(c), _chirp_clip(rng, c))
            for k, c in enumerate(labels)
        ]

    write_whale(folder, clips("20090328", train), clips("20090330", test))


LEARNABLE: dict[str, Callable[[Path], None]] = {
    TEXT_EN: lambda folder: _learnable_text(folder, "en"),
    TEXT_RU: lambda folder: _learnable_text(folder, "ru"),
    BIRDS: _learnable_birds,
    WHALE: _learnable_whale,
}


@pytest.mark.parametrize("competition", sorted(LEARNABLE))
def test_learnable_data_beat_the_fallback_and_the_sample(competition: str, tmp_path: Path) -> None:
    """With signal in the data, the held-out score beats the fallback's and the test score beats the sample's."""
    LEARNABLE[competition](tmp_path)
    layout = LAYOUTS[competition]
    started = time.monotonic()
    result = _solve(tmp_path)
    assert result is not None
    assert time.monotonic() - started < 10
    _check_submission(layout, tmp_path, result)
    metric = get_metric(result.metric)
    assert result.cv_score is not None and result.fallback_score is not None
    assert metric.better(result.cv_score, result.fallback_score), result.notes
    ours, sample = _graded(layout, tmp_path, result)
    assert metric.better(ours, sample), result.notes


@pytest.mark.parametrize("competition", sorted(SPECIAL))
def test_the_fixtures_own_learnable_data_beat_the_sample(competition: str, tmp_path: Path) -> None:
    """Where the lite fixtures ship learnable data for a special layout, the solver beats the sample on it."""
    learnable = getattr(LAYOUTS[competition], "learnable", None)
    if learnable is None:
        pytest.skip("the lite fixture has no learnable data for this layout yet")
    learnable(tmp_path, 24 if competition == DENOISING else 120, 0)  # pages are many pixels each
    result = _solve(tmp_path)
    assert result is not None
    _check_submission(LAYOUTS[competition], tmp_path, result)
    ours, sample = _graded(LAYOUTS[competition], tmp_path, result)
    assert get_metric(result.metric).better(ours, sample), result.notes


def test_text_context_overrules_the_usual_form_only_where_seen_often() -> None:
    """A token's neighbours decide its form only when that neighbourhood was seen with its own form twice."""
    unigrams = {("-", "-"): 5, ("-", "to"): 3}
    contexts = {("1", "-", "2", "to"): 2, ("a", "-", "b", "-"): 4, ("x", "-", "y", "to"): 1}
    memory = _memory(Counter(unigrams), Counter(contexts))
    assert memory.normalise("1", "-", "2") == "to"
    assert memory.normalise("x", "-", "y") == "-"
    assert memory.normalise("q", "unseen", "r") == "unseen"
    assert Memory({}, {}).accuracy([]) == 1.0


# --- broken inputs and deadlines -----------------------------------------------------------------------------------


def _replace_member(archive: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(archive) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(archive, "w") as target:
        for info, payload in entries:
            target.writestr(info, data if info.filename.endswith(member) else payload)


def test_a_broken_train_zip_gives_the_identity_normalisation_with_a_note(tmp_path: Path) -> None:
    """A train zip that is no zip leaves every token as itself, which is the sample, and says why."""
    LAYOUTS[TEXT_EN].build(tmp_path)
    (tmp_path / "prepared" / "public" / "en_train.csv.zip").write_bytes(b"not a zip at all")
    result = _solve(tmp_path)
    assert result is not None
    sample = _read(tmp_path / "prepared" / "private" / "sample_submission.csv")
    assert result.rows == sample[1:]
    assert any("could not be read" in note for note in result.notes)


def test_broken_clips_are_left_out_and_a_broken_train_zip_gives_a_constant(tmp_path: Path) -> None:
    """An unreadable train clip is skipped with a note; an unreadable train zip leaves a constant prediction."""
    _learnable_whale(tmp_path)
    public = tmp_path / "prepared" / "public"
    _replace_member(public / "train2.zip", "TRAIN0_1.aif", b"FORM\x00\x00\x00\x04AIFF")
    result = _solve(tmp_path)
    assert result is not None
    assert any("1 train clips could not be read" in note for note in result.notes)
    (public / "train2.zip").write_bytes(b"PK\x03\x04 broken")
    result = _solve(tmp_path)
    assert result is not None and result.model.startswith("constant")
    assert len({row[1] for row in result.rows}) == 1
    assert any("cannot be read" in note for note in result.notes)


def test_a_broken_test_zip_gives_none_and_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without readable test clips there is nothing to submit: ``None``, and a warning on the progress channel."""
    _learnable_whale(tmp_path)
    (tmp_path / "prepared" / "public" / "test2.zip").write_bytes(b"garbage")
    assert _solve(tmp_path) is None
    assert "whale calls: recognised, but its files cannot be read" in capsys.readouterr().out


def test_a_broken_test_page_keeps_the_sample_values(tmp_path: Path) -> None:
    """A test page that is no PNG keeps the sample's value on its pixels; the other pages are denoised."""
    LAYOUTS[DENOISING].build(tmp_path)
    broken = sorted((tmp_path / "prepared" / "public" / "test").glob("*.png"))[0]
    broken.write_bytes(b"\x89PNG broken")
    result = _solve(tmp_path)
    assert result is not None
    values = {row[1] for row in result.rows if row[0].startswith(f"{broken.stem}_")}
    assert values == {"1"}
    assert any(broken.name in note for note in result.notes)


def test_a_broken_histogram_leaves_the_species_priors(tmp_path: Path) -> None:
    """Unreadable segment histograms leave the species priors as the model, with a note."""
    _learnable_birds(tmp_path)
    (tmp_path / "prepared" / "public" / "supplemental_data" / "histogram_of_segments.txt").write_text("rec_id\n0,x\n")
    result = _solve(tmp_path)
    assert result is not None and result.model == "species priors"
    assert any("unreadable" in note for note in result.notes)


def test_a_past_deadline_still_gives_a_valid_submission(tmp_path: Path) -> None:
    """With no time left the denoiser fits nothing and submits the noisy pages as they are."""
    layout = LAYOUTS[DENOISING]
    layout.build(tmp_path)
    result = _solve(tmp_path, deadline=time.monotonic() - 1)
    assert result is not None and result.model == "identity"
    _check_submission(layout, tmp_path, result)


def test_zip_members_that_climb_out_are_never_read(tmp_path: Path) -> None:
    """Member names with ``..`` or a trailing slash name no file; others are known by their last part."""
    assert member_name("train2/a_1.aif") == "a_1.aif"
    assert member_name("../evil_1.aif") is None
    assert member_name("train2/") is None
    assert member_name("a\\..\\b.aif") is None


# --- the AIFF reader -----------------------------------------------------------------------------------------------


def test_aiff_samples_and_rate_are_read() -> None:
    """16-bit big-endian AIFF (as the fixtures write it): samples scaled to [-1, 1], the 80-bit rate decoded."""
    clip = read_aiff(aiff_bytes([0, 16384, -32768, 32767], 2000))
    assert clip.rate == 2000.0
    assert clip.samples.tolist() == [0.0, 0.5, -1.0, 32767 / 32768]


def _aifc(samples: bytes, *, channels: int, frames: int, bits: int, compression: bytes) -> bytes:
    rate = b"\x40\x0e\xac\x44" + b"\x00" * 6  # 44100 as an 80-bit extended float
    comm = channels.to_bytes(2, "big") + frames.to_bytes(4, "big") + bits.to_bytes(2, "big") + rate + compression
    comm += b"\x00"  # an empty pascal string names the compression
    ssnd = b"\x00" * 8 + samples
    body = b"AIFC" + b"COMM" + len(comm).to_bytes(4, "big") + comm + b"\x00" * (len(comm) & 1)
    body += b"SSND" + len(ssnd).to_bytes(4, "big") + ssnd
    return b"FORM" + len(body).to_bytes(4, "big") + body


def test_aifc_little_endian_stereo_and_24_bit_are_read() -> None:
    """AIFF-C ``sowt`` (little-endian) stereo is averaged over channels; 24-bit samples keep their sign."""
    stereo = np.array([[16384, 0], [-32768, -32768]], dtype="<i2").tobytes()
    clip = read_aiff(_aifc(stereo, channels=2, frames=2, bits=16, compression=b"sowt"))
    assert clip.rate == 44100.0
    assert clip.samples.tolist() == [0.25, -1.0]
    packed = bytes([0x40, 0, 0, 0xC0, 0, 0])  # +0.5 and -0.5 as big-endian 24-bit
    assert read_aiff(_aifc(packed, channels=1, frames=2, bits=24, compression=b"NONE")).samples.tolist() == [0.5, -0.5]


@pytest.mark.parametrize(
    "data",
    [b"", b"RIFF\x00\x00\x00\x00WAVE", b"FORM\x00\x00\x00\x04AIFF", aiff_bytes([1, 2], 2000)[:40]],
    ids=["empty", "wav", "no-chunks", "truncated"],
)
def test_broken_aiff_raises_its_own_error(data: bytes) -> None:
    """Bytes that are no readable clip raise ``AiffError`` (a ``ValueError``), which the solver counts and skips."""
    with pytest.raises(AiffError):
        read_aiff(data)


def test_compressed_aifc_is_refused() -> None:
    """A compressed AIFF-C clip is not decoded as if it were PCM."""
    with pytest.raises(AiffError, match="compressed"):
        read_aiff(_aifc(b"\x00" * 4, channels=1, frames=2, bits=16, compression=b"ima4"))


def test_zip_reading_needs_no_extraction(tmp_path: Path) -> None:
    """A clip zip with a member that climbs out is read in place and the member is ignored."""
    _learnable_whale(tmp_path)
    public = tmp_path / "prepared" / "public"
    with zipfile.ZipFile(public / "train2.zip", "a") as archive:
        archive.writestr("../escaped_1.aif", aiff_bytes([0] * 1000, 2000))
    result = _solve(tmp_path)
    assert result is not None
    assert not (tmp_path / "prepared" / "escaped_1.aif").exists()
    assert "from 60 train clips" in result.notes[0]
