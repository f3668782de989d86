"""Finding competitions (embedded and discovered), competition.yaml, and the three commands' output and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from competitions_toy import make_competition, write_rows

from mle_ci.commands.competitions import competitions_command
from mle_ci.commands.grade import grade_command
from mle_ci.commands.validate import validate_command
from mle_ci.competitions.lite import LITE_SPLIT
from mle_ci.competitions.model import CompetitionError
from mle_ci.competitions.registry import DEFAULT_COMPETITION, discover, find_competition, list_competitions
from mle_ci.errors import ConfigError


def test_the_default_is_the_digits_demo() -> None:
    """With no competition named, agents get the embedded digits-png."""
    assert DEFAULT_COMPETITION == "digits-png"


def test_a_lite_competition_knows_its_metric_and_columns(tmp_path: Path) -> None:
    """spooky-author-identification: log loss and text from the lite table, columns from the sample submission."""
    make_competition(
        tmp_path, "spooky-author-identification", targets=("EAP", "HPL", "MWS"), answers=(("id1", 1, 0, 0),)
    )
    competition = discover("spooky-author-identification", tmp_path)
    spec = competition.spec
    assert (spec.metric, spec.higher_is_better, spec.id_column) == ("log_loss", False, "id")
    assert spec.target_columns == ("EAP", "HPL", "MWS")
    assert (spec.kind, spec.name, spec.description) == (
        "text",
        "spooky-author-identification",
        "The spooky-author-identification competition",
    )
    assert competition.answers == tmp_path / "spooky-author-identification" / "prepared" / "private" / "test.csv"
    assert competition.leaderboard is None
    assert not competition.embedded


def test_columns_that_are_not_first_come_from_the_override(tmp_path: Path) -> None:
    """detecting-insults-in-social-commentary is keyed by its Comment column, as MLE-bench's grader reads it."""
    folder = tmp_path / "detecting-insults-in-social-commentary" / "prepared"
    write_rows(folder / "public" / "sample_submission.csv", ["Insult", "Date", "Comment"], [["0", "", "hi"]])
    spec = discover("detecting-insults-in-social-commentary", tmp_path).spec
    assert (spec.id_column, spec.target_columns, spec.metric) == ("Comment", ("Insult",), "auc")


def test_competition_yaml_overrides_everything(tmp_path: Path) -> None:
    """Every key of competition.yaml is read, paths relative to prepared/."""
    folder = make_competition(
        tmp_path,
        "mine",
        config={
            "name": "My competition",
            "description": "Guess the label.",
            "metric": "f1",
            "higher_is_better": True,
            "id_column": "id",
            "target_columns": ["label"],
            "kind": "image",
            "answers": "private/test.csv",
            "leaderboard": "lb.csv",
        },
    )
    write_rows(folder / "prepared" / "lb.csv", ["score"], [["0.9"]])
    competition = discover("mine", tmp_path)
    assert competition.spec.name == "My competition"
    assert (competition.spec.metric, competition.spec.kind) == ("f1", "image")
    assert competition.leaderboard == folder / "prepared" / "lb.csv"


def test_kind_is_inferred_from_images_in_public(tmp_path: Path) -> None:
    """An unknown competition with image files in public/ is an image competition."""
    folder = make_competition(tmp_path, "pics")
    (folder / "prepared" / "public" / "train").mkdir()
    (folder / "prepared" / "public" / "train" / "a.JPG").write_bytes(b"")
    assert discover("pics", tmp_path).spec.kind == "image"
    assert discover("pics", tmp_path).spec.metric is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("metric: brier\n", "unknown metric 'brier'"),
        ("metrc: auc\n", "unknown key 'metrc'"),
        ("higher_is_better: maybe\n", "higher_is_better must be a bool"),
        ("target_columns: []\n", "target_columns must be a non-empty list"),
        ("kind: video\n", "kind must be one of tabular, text, image, audio"),
        ("- a\n- b\n", "must hold a mapping"),
        ("metric: [unclosed\n", "cannot be read"),
    ],
)
def test_a_bad_competition_yaml_is_named(tmp_path: Path, config: str, message: str) -> None:
    """Each mistake in competition.yaml is a CompetitionError naming the file and the key."""
    folder = make_competition(tmp_path, "bad")
    (folder / "competition.yaml").write_text(config)
    with pytest.raises(CompetitionError, match=message) as caught:
        discover("bad", tmp_path)
    assert "competition.yaml" in str(caught.value)


def test_missing_folders_are_named(tmp_path: Path) -> None:
    """No folder, no prepared/public, no sample submission: each says what is missing (exit 2)."""
    with pytest.raises(CompetitionError, match=r"competition 'gone' not found: .*gone \(no such folder\)") as caught:
        find_competition("gone", data_dir=tmp_path, cache_dir=tmp_path)
    assert caught.value.exit_code == 2
    assert isinstance(caught.value, ConfigError)
    (tmp_path / "half").mkdir()
    with pytest.raises(CompetitionError, match="no prepared/public folder in it"):
        discover("half", tmp_path)
    (tmp_path / "empty" / "prepared" / "public").mkdir(parents=True)
    with pytest.raises(CompetitionError, match="no sample submission"):
        discover("empty", tmp_path)
    with pytest.raises(CompetitionError, match=r"is not embedded .*give --data-dir"):
        find_competition("gone", data_dir=None, cache_dir=tmp_path)


def test_listing_shows_embedded_then_discovered(tmp_path: Path) -> None:
    """Embedded demos (not built yet), each folder under the data dir (an unreadable one with its reason), then the
    lite competitions not prepared there."""
    make_competition(tmp_path / "data", "spaceship-titanic", targets=("Transported",))
    (tmp_path / "data" / "broken" / "prepared").mkdir(parents=True)
    (tmp_path / "data" / "not-a-competition").mkdir()
    entries = list_competitions(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    assert [(e.id, e.origin, e.built) for e in entries[:6]] == [
        ("digits-png", "embedded", False),
        ("breast-cancer", "embedded", False),
        ("wine-classes", "embedded", False),
        ("diabetes", "embedded", False),
        ("broken", "discovered", True),
        ("spaceship-titanic", "discovered", True),
    ]
    assert [e.id for e in entries[6:]] == list(LITE_SPLIT)
    assert {(e.origin, e.problem) for e in entries[6:]} == {("mle-bench", "not prepared")}
    assert entries[4].spec is None
    assert entries[4].problem is not None and "no prepared/public folder" in entries[4].problem
    with pytest.raises(CompetitionError, match="does not exist"):
        list_competitions(data_dir=tmp_path / "nope", cache_dir=tmp_path)


def test_competitions_command_prints_a_table(tmp_path: Path) -> None:
    """One line per competition: id, metric, direction, kind, origin, status."""
    make_competition(tmp_path / "data", "spaceship-titanic", targets=("Transported",))
    out = io.StringIO()
    assert competitions_command(tmp_path / "data", tmp_path / "cache", out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["id", "metric", "direction", "kind", "origin", "status"]
    assert lines[1].split() == [
        "digits-png",
        "accuracy",
        "higher",
        "is",
        "better",
        "image",
        "embedded",
        "ready",
        "(built",
        "on",
        "first",
        "use)",
    ]
    assert lines[5].split()[:7] == ["spaceship-titanic", "accuracy", "higher", "is", "better", "tabular", "discovered"]
    # MLE-bench's prepare.py writes train.csv and test.csv beside the sample submission
    assert lines[5].endswith("missing public/train.csv, public/test.csv")
    assert lines[6].split()[:6] == ["aerial-cactus-identification", "auc", "higher", "is", "better", "image"]
    assert lines[6].endswith("not prepared: run `mlebench prepare -c ID`, then give --data-dir")
    assert len(lines) == 1 + 4 + 1 + 22


def test_validate_command_exit_codes_and_problems(tmp_path: Path) -> None:
    """0 and one line for a valid file; 1 and every problem for an invalid one."""
    make_competition(tmp_path / "data", config={"metric": "accuracy"})
    good = write_rows(tmp_path / "good.csv", ["id", "label"], [["1", "a"], ["2", "b"], ["3", "a"], ["4", "c"]])
    out = io.StringIO()
    assert validate_command(good, "toy", tmp_path / "data", tmp_path / "cache", out) == 0
    assert out.getvalue() == f"Submission is valid: 4 rows for toy ({good})\n"
    bad = write_rows(tmp_path / "bad.csv", ["id"], [["1"]])
    out = io.StringIO()
    assert validate_command(bad, "toy", tmp_path / "data", tmp_path / "cache", out) == 1
    assert out.getvalue().splitlines() == [
        f"Submission is invalid for toy ({bad}): 3 problems",
        "  - missing target column: label",
        "  - expected 4 rows (as the answers), found 1",
        "  - 3 ids of the answers missing, e.g. '2', '3', '4'",
    ]


def test_grade_command_text_and_json(tmp_path: Path) -> None:
    """The report with MLE-bench's names, as lines or JSON; exit 1 for an invalid file."""
    make_competition(tmp_path / "data", leaderboard=[1.0, 0.5], config={"metric": "accuracy"})
    good = write_rows(tmp_path / "good.csv", ["id", "label"], [["1", "a"], ["2", "b"], ["3", "a"], ["4", "c"]])
    out = io.StringIO()
    assert grade_command(good, "toy", tmp_path / "data", tmp_path / "cache", out, True) == 0
    data = json.loads(out.getvalue())
    assert (data["competition_id"], data["score"], data["gold_medal"], data["valid_submission"]) == (
        "toy",
        1.0,
        True,
        True,
    )
    out = io.StringIO()
    assert grade_command(good, "toy", tmp_path / "data", tmp_path / "cache", out, False) == 0
    fields = [line.split(None, 1) for line in out.getvalue().splitlines()]
    assert ["score", "1.0"] in fields
    assert ["gold_medal", "True"] in fields
    out = io.StringIO()
    assert grade_command(tmp_path / "none.csv", "toy", tmp_path / "data", tmp_path / "cache", out, False) == 1
    assert ["score", "null"] in [line.split(None, 1) for line in out.getvalue().splitlines()]
    assert f"problem: {tmp_path / 'none.csv'} does not exist" in out.getvalue()


LFS = "version https://git-lfs.github.com/spec/v1\noid sha256:1087af\nsize 67155\n"


def _installed_mlebench(root: Path, monkeypatch: pytest.MonkeyPatch, competition_id: str, board: str) -> Path:
    """A package named mlebench on sys.path with one competition's leaderboard, as MLE-bench installs it."""
    package = root / "site" / "mlebench"
    (package / "competitions" / competition_id).mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('the registry must not import mlebench')\n")
    path = package / "competitions" / competition_id / "leaderboard.csv"
    path.write_text(board)
    monkeypatch.syspath_prepend(str(root / "site"))
    return path


def test_the_leaderboard_is_found_where_mle_bench_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed mlebench's competitions/<id>/leaderboard.csv is found without importing the package."""
    make_competition(tmp_path / "data", "spooky-author-identification", targets=("EAP", "HPL", "MWS"))
    board = _installed_mlebench(tmp_path, monkeypatch, "spooky-author-identification", "teamName,score\na,0.1\nb,0.4\n")
    competition = discover("spooky-author-identification", tmp_path / "data")
    assert competition.leaderboard == board
    assert competition.leaderboard_problem is None


def test_a_git_lfs_pointer_is_not_a_leaderboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fetched MLE-bench checkout holds LFS pointers: medals are unknown, and the grade says why."""
    make_competition(tmp_path / "data", "toy", config={"metric": "accuracy"})
    _installed_mlebench(tmp_path, monkeypatch, "toy", LFS)
    competition = discover("toy", tmp_path / "data")
    assert competition.leaderboard is None
    assert competition.leaderboard_problem is not None
    assert "is a Git LFS pointer, not the leaderboard" in competition.leaderboard_problem
    out = io.StringIO()
    submission = tmp_path / "submission.csv"
    submission.write_text("id,label\n1,a\n2,b\n3,a\n4,c\n")
    assert grade_command(submission, "toy", tmp_path / "data", tmp_path / "cache", out, False) == 0
    text = out.getvalue()
    assert "any_medal" in text
    assert "warning: medals unknown: " in text and "Git LFS pointer" in text


def test_a_leaderboard_given_on_the_command_line_wins(tmp_path: Path) -> None:
    """--leaderboard is used as given; a missing file or an LFS pointer there is a usage error (exit 2)."""
    make_competition(tmp_path / "data", "toy", config={"metric": "accuracy"}, leaderboard=[1.0, 0.5])
    given = write_rows(tmp_path / "board.csv", ["teamName", "score"], [["a", 0.9], ["b", 0.8], ["c", 0.1]])
    competition = find_competition("toy", data_dir=tmp_path / "data", cache_dir=tmp_path, leaderboard=given)
    assert competition.leaderboard == given
    with pytest.raises(CompetitionError, match=r"--leaderboard .*nope\.csv: no such file") as caught:
        find_competition("toy", data_dir=tmp_path / "data", cache_dir=tmp_path, leaderboard=tmp_path / "nope.csv")
    assert caught.value.exit_code == 2
    (tmp_path / "lfs.csv").write_text(LFS)
    with pytest.raises(CompetitionError, match="Git LFS pointer"):
        find_competition("toy", data_dir=tmp_path / "data", cache_dir=tmp_path, leaderboard=tmp_path / "lfs.csv")


def test_a_lite_competition_is_read_where_mle_bench_prepares_it(tmp_path: Path) -> None:
    """text-normalization keeps its sample submission in private/ and its public data in zips only."""
    from lite import LAYOUTS

    LAYOUTS["text-normalization-challenge-english-language"].build(
        tmp_path / "text-normalization-challenge-english-language"
    )
    competition = discover("text-normalization-challenge-english-language", tmp_path)
    assert competition.sample_submission.relative_to(competition.root).as_posix() == "private/sample_submission.csv"
    assert competition.answers is not None and competition.answers.name == "answers.csv"
    assert (competition.spec.id_column, competition.spec.target_columns) == ("id", ("after",))
    assert competition.spec.kind == "text-to-text"
    entries = {e.id: e for e in list_competitions(data_dir=tmp_path, cache_dir=tmp_path / "cache")}
    ready = entries["text-normalization-challenge-english-language"]
    assert (ready.missing, ready.gradeable) == ((), True)
    (competition.public / "en_train.csv.zip").unlink()
    entries = {e.id: e for e in list_competitions(data_dir=tmp_path, cache_dir=tmp_path / "cache")}
    assert entries["text-normalization-challenge-english-language"].missing == ("public/en_train.csv.zip",)
