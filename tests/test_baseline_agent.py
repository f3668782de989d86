"""The baseline agent: task inference, encoding, submissions, deadline decisions, and whole runs as a child."""

from __future__ import annotations

import ast
import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mle_ci.agents.baseline.agent import _config, batch_size, main
from mle_ci.agents.baseline.data import CategoricalCoder, NumericCoder, build_dataset, fit_coders
from mle_ci.agents.baseline.deadline import FoldDecision, StopSignal, decide_fold, folds_started
from mle_ci.agents.baseline.folds import candidate_names, scorer
from mle_ci.agents.baseline.metrics import canonical_metric, classification_score, fold_indices
from mle_ci.agents.baseline.models import CLIP, TabularEnsemble, build_model
from mle_ci.agents.baseline.options import AgentOptions, OptionsError, load_options
from mle_ci.agents.baseline.reading import read_competition
from mle_ci.agents.baseline.submission import Ensemble, render, write_atomic
from mle_ci.agents.baseline.task import Kind, TaskError, infer_task, metric_from_description
from mle_ci.agents.baseline.train import EarlyStopping, predict, train_fold

ROOT = Path(__file__).resolve().parent.parent


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def make_competition(
    folder: Path,
    *,
    rows: int = 80,
    test_rows: int = 20,
    kind: str = "binary",
    description: str = "",
    seed: int = 0,
) -> Path:
    """A small learnable tabular competition: two numeric features, a categorical one, a few missing cells."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    total = rows + test_rows
    x = rng.normal(size=(total, 2))
    colour = rng.choice(["red", "green", "blue"], size=total)
    signal_ = x[:, 0] + 0.5 * x[:, 1] + (colour == "red")
    ids = [f"id{i:04d}" for i in range(total)]
    cells = [
        [f"{a:.4f}" if i % 17 else "", f"{b:.4f}", c] for i, (a, b, c) in enumerate(zip(*x.T, colour, strict=True))
    ]
    if kind == "regression":
        target: list[Any] = [f"{v * 10 + 50:.3f}" for v in signal_]
        sample_header, sample_row = ["id", "target"], [0.0]
    elif kind == "probabilities":
        target = [["low", "mid", "high"][int(np.digitize(v, [-0.5, 0.7]))] for v in signal_]
        sample_header, sample_row = ["id", "high", "low", "mid"], [1 / 3] * 3
    elif kind == "labels":
        target = ["yes" if v > 0.3 else "no" for v in signal_]
        sample_header, sample_row = ["id", "target"], ["no"]
    else:
        target = [int(v > 0.3) for v in signal_]
        sample_header, sample_row = ["id", "target"], [0.5]
    header = ["id", "f_a", "f_b", "colour"]
    write_csv(folder / "train.csv", [*header, "target"], [[ids[i], *cells[i], target[i]] for i in range(rows)])
    write_csv(folder / "test.csv", header, [[ids[i], *cells[i]] for i in range(rows, total)])
    write_csv(folder / "sample_submission.csv", sample_header, [[ids[i], *sample_row] for i in range(rows, total)])
    if description:
        (folder / "description.md").write_text(description)
    return folder


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLE_CI_", "GITHUB_", "INPUT_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


# --- task inference ---------------------------------------------------------------------------------------


def test_string_labels_with_a_label_submission_are_a_labels_task(tmp_path: Path) -> None:
    """Non-numeric targets and a one-column submission: class labels, scored by accuracy."""
    comp = read_competition(make_competition(tmp_path, kind="labels"), metric=None, higher_is_better=None)
    task = comp.task
    assert (task.id_column, task.target_columns, task.kind) == ("id", ("target",), Kind.LABELS)
    assert task.classes == ("no", "yes")
    assert (task.metric, task.higher_is_better) == ("accuracy", True)
    assert task.feature_columns == ("f_a", "f_b", "colour")
    assert not task.images


def test_class_named_submission_columns_are_probabilities_from_the_label_column(tmp_path: Path) -> None:
    """Submission columns named after the labels of a train-only column: one probability per class, log loss."""
    task = read_competition(make_competition(tmp_path, kind="probabilities"), metric=None, higher_is_better=None).task
    assert task.kind is Kind.PROBABILITIES
    assert task.source_columns == ("target",)
    assert task.classes == ("high", "low", "mid")  # in submission-column order
    assert (task.metric, task.higher_is_better) == ("log_loss", False)


def test_prefixed_class_columns_are_matched_to_numeric_labels() -> None:
    """``class_0``, ``class_1`` and ``class_2`` match the labels 0, 1 and 2 wherever the columns are."""
    from mle_ci.agents.baseline.tables import Table

    train = Table(("id", "x", "y"), {"id": ["a", "b", "c", "d"], "x": ["1", "2", "3", "4"], "y": ["2", "0", "1", "0"]})
    test = Table(("id", "x"), {"id": ["e"], "x": ["5"]})
    sample = Table(
        ("id", "class_2", "class_0", "class_1"), {"id": ["e"], "class_2": ["0"], "class_0": ["0"], "class_1": ["0"]}
    )
    task = infer_task(train, test, sample)
    assert task.kind is Kind.PROBABILITIES
    assert task.classes == ("2", "0", "1")


def test_several_zero_one_targets_are_labels_of_their_own() -> None:
    """Jigsaw's shape: 0/1 columns that are not one-hot are a multi-label task, graded on AUC per column."""
    from mle_ci.agents.baseline.tables import Table

    train = Table(
        ("id", "text", "toxic", "insult"),
        {"id": ["a", "b", "c", "d"], "text": ["x"] * 4, "toxic": ["1", "0", "1", "0"], "insult": ["1", "0", "0", "0"]},
    )
    test = Table(("id", "text"), {"id": ["e"], "text": ["y"]})
    sample = Table(("id", "toxic", "insult"), {"id": ["e"], "toxic": ["0.5"], "insult": ["0.5"]})
    task = infer_task(train, test, sample, metric="auc")
    assert (task.kind, task.metric, task.classes) == (Kind.MULTILABEL, "auc", ("toxic", "insult"))
    assert not task.kind.classification
    assert any("each label is predicted on its own" in note for note in task.notes)


def test_the_submission_keeps_the_samples_own_cells() -> None:
    """Ids are written as the sample holds them (spaces kept), and columns that are not targets pass through."""
    from mle_ci.agents.baseline.tables import Table

    train = Table(("Insult", "Date", "Comment"), {"Insult": ["1", "0"], "Date": ["d1", ""], "Comment": ["a", "b"]})
    test = Table(("Date", "Comment"), {"Date": ["", "d2"], "Comment": [" you ", "hi"]})
    sample = Table(
        ("Insult", "Date", "Comment"), {"Insult": ["0", "0"], "Date": ["d2", ""], "Comment": ["hi", " you "]}
    )
    task = infer_task(train, test, sample, metric="auc")
    assert task.id_column == "Comment"
    assert task.target_columns == ("Insult",)
    text = render(task, sample, ("you", "hi"), np.array([[0.2, 0.8], [0.9, 0.1]]))
    assert text.splitlines() == ["Insult,Date,Comment", "0.1,d2,hi", "0.8,, you "]


def test_binary_target_with_probability_sample_is_auc(tmp_path: Path) -> None:
    """0/1 targets and 0.5 in the sample submission: one positive-class probability column, scored by AUC."""
    task = read_competition(make_competition(tmp_path, kind="binary"), metric=None, higher_is_better=None).task
    assert task.kind is Kind.BINARY
    assert task.classes == ("0", "1")
    assert task.metric == "auc"


def test_float_target_is_regression_and_the_metric_comes_from_the_description(tmp_path: Path) -> None:
    """Continuous targets are regression; the description's evaluation section names the metric."""
    description = "# Intro\nWe like accuracy.\n\n## Evaluation\n\nSubmissions are scored on mean absolute error.\n"
    comp = read_competition(
        make_competition(tmp_path, kind="regression", description=description), metric=None, higher_is_better=None
    )
    assert comp.task.kind is Kind.REGRESSION
    assert comp.task.metric == "mae"
    assert any("description" in note for note in comp.task.notes)


def test_metric_from_the_environment_beats_the_description_and_an_unknown_one_is_noted(tmp_path: Path) -> None:
    """MLE_CI_METRIC wins over description.md; a metric the agent cannot compute falls back to the kind's default."""
    folder = make_competition(tmp_path, kind="binary", description="## Evaluation\nlog loss\n")
    assert read_competition(folder, metric="ROC-AUC", higher_is_better=None).task.metric == "auc"
    odd = read_competition(folder, metric="quadratic_kappa", higher_is_better=None).task
    assert odd.metric == "log_loss"
    assert any("quadratic_kappa" in note for note in odd.notes)


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("Scored on the Root Mean Squared Error.", "rmse"),
        ("evaluated on root mean squared logarithmic error", "rmsle"),
        ("area under the ROC curve", "auc"),
        ("multi-class logarithmic loss", "log_loss"),
        ("mean squared error", "mse"),
        ("nothing said", None),
    ],
)
def test_metric_names_in_descriptions(text: str, metric: str | None) -> None:
    """The earliest metric phrase wins, so RMSE is not read as MSE."""
    assert metric_from_description(text) == metric


def test_image_ids_make_an_image_task(tmp_path: Path) -> None:
    """Ids that name files under images/ make an image task with no tabular features."""
    image = pytest.importorskip("PIL.Image")
    folder = tmp_path / "comp"
    (folder / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(12):
        image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8), mode="L").save(folder / "images" / f"im{i}.png")
    write_csv(folder / "train.csv", ["id", "label"], [[f"im{i}", i % 2] for i in range(8)])
    write_csv(folder / "test.csv", ["id"], [[f"im{i}"] for i in range(8, 12)])
    write_csv(folder / "sample_submission.csv", ["id", "label"], [[f"im{i}", 0] for i in range(8, 12)])
    comp = read_competition(folder, metric="accuracy", higher_is_better=None)
    assert comp.task.images
    assert comp.task.feature_columns == ()
    data = build_dataset(comp)
    assert data.x_train.shape == (8, 1, 8, 8)
    assert data.x_train.dtype == np.uint8
    assert data.x_test.shape == (4, 1, 8, 8)


def test_no_shared_id_column_is_a_task_error(tmp_path: Path) -> None:
    """A sample submission whose columns are not in test.csv cannot be understood."""
    folder = make_competition(tmp_path)
    write_csv(folder / "sample_submission.csv", ["key", "target"], [["x", 0]])
    with pytest.raises(TaskError, match="id column"):
        read_competition(folder, metric=None, higher_is_better=None)


def test_categorical_strings_and_missing_values_are_encoded(tmp_path: Path) -> None:
    """Strings become one-hot columns; a numeric column with gaps gets the median and a missing indicator."""
    comp = read_competition(make_competition(tmp_path), metric=None, higher_is_better=None)
    coders = fit_coders(comp.train, comp.test, comp.task.feature_columns)
    by_name = {coder.name: coder for coder in coders}
    f_a, colour = by_name["f_a"], by_name["colour"]
    assert isinstance(f_a, NumericCoder)
    assert f_a.indicator
    assert isinstance(colour, CategoricalCoder)
    assert set(colour.categories) == {"red", "green", "blue"}
    encoded = f_a.encode(["", "1.0"])
    assert encoded[0, 1] == 1.0  # the indicator
    assert encoded[1, 1] == 0.0
    assert math.isclose(encoded[0, 0], (f_a.median - f_a.mean) / f_a.std, rel_tol=1e-6)
    data = build_dataset(comp)
    assert data.x_train.shape == (80, 2 + 1 + 3)
    assert np.isfinite(data.x_train).all()


# --- small pure parts -------------------------------------------------------------------------------------


def test_validation_scores_are_the_graders_metric() -> None:
    """Class indices and probability rows scored as the grader scores the CSV: AUC, one-hot log loss, QWK."""
    from sklearn.metrics import cohen_kappa_score, log_loss, roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 200)
    proba = rng.dirichlet(np.ones(3), 200)
    binary = np.stack([1 - proba[:, 0], proba[:, 0]], axis=1)
    assert classification_score("auc", (y == 0).astype(np.int64), binary) == roc_auc_score(y == 0, proba[:, 0])
    assert classification_score("log_loss", y, proba) == log_loss(np.eye(3)[y], proba)
    assert classification_score("qwk", y, proba) == cohen_kappa_score(y, proba.argmax(axis=1), weights="quadratic")
    # a class absent from the rows leaves its AUC column out rather than failing the fold
    assert classification_score("auc", np.array([0, 1, 0, 1]), np.eye(3)[[0, 1, 0, 1]] * 0.8 + 0.05) == 1.0
    assert canonical_metric("Multi-LogLoss") == "log_loss"
    assert canonical_metric("quadratic-weighted-kappa") == "qwk"
    assert canonical_metric("brier") is None


def test_stratified_folds_cover_every_row_once_and_balance_classes() -> None:
    """Folds partition the rows; each fold holds its share of every class."""
    labels = np.array([0] * 50 + [1] * 10, dtype=np.int64)
    folds = fold_indices(60, 5, 0, labels)
    assert sorted(np.concatenate(folds).tolist()) == list(range(60))
    assert [int((labels[f] == 1).sum()) for f in folds] == [2, 2, 2, 2, 2]


def test_early_stopping_breaks_metric_ties_by_loss_and_counts_patience() -> None:
    """An equal score with a lower loss is an improvement; `patience` epochs without one exhaust it."""
    stopper = EarlyStopping(higher_is_better=True, patience=2)
    assert stopper.update(1, 0.9, 0.5)
    assert stopper.update(2, 0.9, 0.4)
    assert not stopper.update(3, 0.9, 0.45)
    assert not stopper.exhausted
    assert not stopper.update(4, float("nan"), 0.1)
    assert stopper.exhausted
    assert (stopper.best_epoch, stopper.best_score) == (2, 0.9)


def test_batch_size_follows_the_plan_but_never_exceeds_half_a_fold() -> None:
    """The plan's batch on large data; half the fold's rows (a power of two) on tiny data."""
    assert batch_size(64, 10_000, cuda=False) == 64
    assert batch_size(None, 10_000, cuda=True) == 256
    assert batch_size(64, 85, cuda=False) == 32
    assert batch_size(64, 3, cuda=False) == 2


def test_flags_beat_environment_and_bad_values_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A flag wins over its variable; an empty variable is unset; an invalid value is a usage error (exit 2)."""
    env = {"MLE_CI_DATA_DIR": str(tmp_path), "MLE_CI_FOLDS": "3", "MLE_CI_SEED": "", "LOGS_DIR": str(tmp_path)}
    options = load_options(["--folds", "4"], env)
    assert (options.folds, options.seed, options.data_dir) == (4, 0, tmp_path)
    assert options.checkpoint_dir == tmp_path / "checkpoints"
    assert load_options([], env).folds == 3
    with pytest.raises(OptionsError, match="amp"):
        load_options([], {**env, "MLE_CI_AMP": "fp8"})
    assert main([], {**env, "MLE_CI_HIGHER_IS_BETTER": "maybe"}, stop=StopSignal()) == 2
    assert "higher-is-better" in capsys.readouterr().err


def test_agent_imports_nothing_of_the_harness_but_progress() -> None:
    """Agents are child processes: of mle_ci they import only the progress API, its event schema, the events file and
    the progress line formats (the claude agent reports its search nodes' lines as their events), the contract (exit
    codes, variable names, event types) and the error tree, the metrics (the one implementation the grader scores
    with) and the secret policy (the one the claude agent's transcript and tool results are redacted by)."""
    imported: set[str] = set()
    for path in (ROOT / "mle_ci" / "agents").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "mle_ci":
                imported.update(f"mle_ci.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    harness = {name for name in imported if name.startswith("mle_ci") and not name.startswith("mle_ci.agents")}
    allowed = {"progress", "events", "eventlog", "lineparser", "contract", "errors", "metrics", "redaction"}
    assert harness <= {f"mle_ci.{name}" for name in allowed}
    assert "mle_ci.progress" in harness


# --- submission and deadline ------------------------------------------------------------------------------


def test_labels_come_from_averaged_probabilities_in_the_sample_order(tmp_path: Path) -> None:
    """Fold probabilities are averaged, then the label is their argmax; rows follow the sample submission."""
    comp = read_competition(make_competition(tmp_path, kind="labels", test_rows=3), metric=None, higher_is_better=None)
    task, ids = comp.task, ("id0080", "id0081", "id0082")
    ensemble = Ensemble()
    ensemble.add(np.array([[0.9, 0.1], [0.4, 0.6], [0.45, 0.55]]))
    ensemble.add(np.array([[0.8, 0.2], [0.4, 0.6], [0.65, 0.35]]))
    text = render(task, comp.sample, ids[::-1], ensemble.mean()[::-1])
    assert text.splitlines() == ["id,target", "id0080,no", "id0081,yes", "id0082,no"]


def test_atomic_write_never_shows_a_partial_file(tmp_path: Path) -> None:
    """A reader polling during 200 rewrites only ever sees one whole version; no temp file is left."""
    path = tmp_path / "submission.csv"
    versions = ["id,target\n" + "a,1\n" * 10, "id,target\n" + "b,2\n" * 50_000]
    write_atomic(path, versions[0])
    seen: set[int] = set()
    bad: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            text = path.read_text()
            if text in versions:
                seen.add(versions.index(text))
            else:
                bad.append(len(text))

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        write_atomic(path, versions[i % 2])
    done.set()
    reader.join()
    assert not bad
    assert seen == {0, 1}
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]


def test_fold_decisions_follow_the_slowest_fold() -> None:
    """The first fold starts while time is left; a later one only if a fold as slow as the slowest so far ends
    before the margin."""
    assert decide_fold([], 11, margin=10).start
    assert decide_fold([], 10, margin=10) == FoldDecision(False, None, "10s left, no more than the 10s margin")
    assert not decide_fold([20], 29, margin=10).start  # 20 + 10 > 29
    assert decide_fold([20], 30, margin=10).start
    assert not decide_fold([20, 12], 29, margin=10).start  # the slowest, not the last
    assert decide_fold([5, 20], 30, margin=10) == FoldDecision(True, 20, "a fold should take 20s, 30s are left")
    assert folds_started([10, 10, 10, 10, 10], budget=math.inf, margin=10) == 5
    # 50 s: folds 1-4 fit (the fourth needs 10 + 5 of the 20 s left), the fifth does not (10 + 5 > 10 left).
    assert folds_started([10, 10, 10, 10, 10], budget=50, margin=5) == 4
    assert folds_started([30, 5, 5], budget=40, margin=5) == 1


# --- the tabular fold model: MLPs trained side by side, their average -----------------------------------------


def test_tabular_ensemble_averages_its_members_probabilities_or_values() -> None:
    """Classification: the softmax of its output is the members' mean probability; regression: their mean value."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = torch.randn(7, 5)
    for classification in (True, False):
        model = TabularEnsemble(5, 3, members=3, classification=classification).eval()
        with torch.no_grad():
            members = model.member_outputs(x)
            out = model(x)
        assert members.shape == (3, 7, 3)
        assert not torch.allclose(members[0], members[1])  # the members start apart
        if classification:
            assert torch.allclose(torch.softmax(out, dim=1), torch.softmax(members, -1).mean(0), atol=1e-6)
        else:
            assert torch.allclose(out, members.mean(0), atol=1e-6)
    assert isinstance(build_model(torch.Size([5]), 2, images=False), TabularEnsemble)
    with pytest.raises(ValueError, match="member"):
        TabularEnsemble(5, 2, members=0, classification=True)


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_a_tabular_fold_reports_the_score_of_the_model_it_saves(tmp_path: Path, kind: str) -> None:
    """The members train on their own losses; the fold's score is that of their average as saved (best epoch)."""
    torch = pytest.importorskip("torch")
    comp = read_competition(make_competition(tmp_path, rows=120, kind=kind), metric=None, higher_is_better=None)
    task, dataset = comp.task, build_dataset(comp)
    y = dataset.y_class if dataset.y_class is not None else dataset.y_value
    assert y is not None
    config = _config(AgentOptions(data_dir=tmp_path, submission_dir=tmp_path, max_epochs=3), task, 80)
    val_rows = fold_indices(len(y), 3, 0, dataset.y_class)[0]
    torch.manual_seed(0)
    model = build_model(
        torch.Size(dataset.x_train.shape[1:]), dataset.outputs, images=False, regression=kind != "binary"
    )
    outcome = train_fold(
        model,
        fold=1,
        x=dataset.x_train,
        y=y,
        train_rows=np.setdiff1d(np.arange(len(y)), val_rows),
        val_rows=val_rows,
        classification=kind == "binary",
        score=scorer(task, dataset, val_rows),
        higher_is_better=task.higher_is_better,
        config=config,
        seed=1,
        stop=lambda: False,
    )
    assert outcome.state is not None
    assert outcome.best_score is not None
    assert {key.split(".")[1] for key in outcome.state if key.startswith("members.")} == {"0", "1", "2"}
    saved = build_model(
        torch.Size(dataset.x_train.shape[1:]), dataset.outputs, images=False, regression=kind != "binary"
    )
    saved.load_state_dict(outcome.state)
    raw = torch.from_numpy(predict(saved, dataset.x_train[val_rows], config))
    outputs = torch.softmax(raw, dim=1).numpy() if kind == "binary" else raw.numpy()
    assert math.isclose(scorer(task, dataset, val_rows)(outputs), outcome.best_score, rel_tol=1e-9)


# --- whole runs ---------------------------------------------------------------------------------------------


def test_full_run_writes_a_valid_submission_and_reports_epochs_and_folds(tmp_path: Path) -> None:
    """As the harness starts it: a valid submission in sample order, and epoch, fold and metric events."""
    data = make_competition(tmp_path / "data", rows=120, kind="binary")
    events = tmp_path / "events.jsonl"
    env = agent_env(
        {"MLE_CI_EVENTS": str(events), "MLE_CI_FOLDS": "3", "MLE_CI_MAX_EPOCHS": "4", "LOGS_DIR": str(tmp_path)}
    )
    argv = [sys.executable, "-W", "error", "-m", "mle_ci.agents.baseline", "--data-dir", str(data)]
    done = subprocess.run(
        [*argv, "--submission-dir", str(tmp_path / "out")],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = read_rows(tmp_path / "out" / "submission.csv")
    sample = read_rows(data / "sample_submission.csv")
    assert [r["id"] for r in rows] == [r["id"] for r in sample]
    assert all(0.0 <= float(r["target"]) <= 1.0 for r in rows)
    records = [json.loads(line) for line in events.read_text().splitlines()]
    types = [r["type"] for r in records]
    # a fold is reported again when the chosen model changes: the last report of each fold counts
    assert {r["fold"] for r in records if r["type"] == "fold"} == {1, 2, 3}
    assert types.count("fold_start") == 3
    assert 3 <= types.count("epoch") <= 12  # the MLPs' epochs only: the linear model trains silently
    assert all(r["metric"] == "auc" and r["higher_is_better"] for r in records if r["type"] == "fold")
    final = [r for r in records if r["type"] == "metric"][-1]
    assert final["name"] == "auc"
    assert final["value"] > 0.7
    # the sample submission first, then the prior, then the fold models' mean after each fold
    handed_in = [r for r in records if r["type"] == "submission"]
    assert [r.get("folds") for r in handed_in] == [None, 0, 1, 2, 3]
    assert handed_in[0]["producer"] == "the sample submission"
    choice = [r["text"] for r in records if r["type"] == "message" and r["text"].startswith("out-of-fold auc: ")]
    assert len(choice) == 1
    assert " mlp " in choice[0]
    assert " linear " in choice[0]
    # each fold's last report is of the chosen model, the one the submission holds
    chosen = choice[0].rsplit("the submission is the ", 1)[1].removesuffix("'s fold mean")
    last = {r["fold"]: r["model"] for r in records if r["type"] == "fold"}
    assert last == {1: chosen, 2: chosen, 3: chosen}
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["fold-1-linear.pt", "fold-1.pt", "fold-2-linear.pt", "fold-2.pt", "fold-3-linear.pt", "fold-3.pt"]


def test_on_a_tabular_demo_the_ensemble_folds_hand_in_a_valid_graded_submission(tmp_path: Path) -> None:
    """The wine demo as the harness starts the agent: 3-MLP fold models, a valid submission its grader scores."""
    torch = pytest.importorskip("torch")
    from mle_ci.competitions.demos import demo_competition
    from mle_ci.competitions.grade import grade_submission

    competition = demo_competition("wine-classes", tmp_path / "cache")
    events = tmp_path / "events.jsonl"
    env = agent_env({"MLE_CI_EVENTS": str(events), "MLE_CI_FOLDS": "2", "MLE_CI_MAX_EPOCHS": "4"})
    argv = [sys.executable, "-W", "error", "-m", "mle_ci.agents.baseline", "--data-dir", str(competition.public)]
    argv += ["--submission-dir", str(tmp_path / "out"), "--checkpoint-dir", str(tmp_path / "checkpoints")]
    done = subprocess.run(argv, check=False, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = grade_submission(tmp_path / "out" / "submission.csv", competition)
    assert report.valid_submission, report.problems
    assert report.score is not None and report.score < math.log(3)  # better than the uniform guess
    records = [json.loads(line) for line in events.read_text().splitlines()]
    folds = [r for r in records if r["type"] == "fold"]
    assert {f["fold"] for f in folds} == {1, 2}
    for fold in (1, 2):
        state = torch.load(tmp_path / "checkpoints" / f"fold-{fold}.pt", weights_only=True)
        assert {key.split(".")[1] for key in state if key.startswith("members.")} == {"0", "1", "2"}


def test_image_and_regression_runs_in_process(tmp_path: Path) -> None:
    """The CNN path on 8×8 images and the regression path both finish with a complete submission."""
    image = pytest.importorskip("PIL.Image")
    folder = tmp_path / "img"
    (folder / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(48):
        pixels = np.zeros((8, 8), dtype=np.uint8)
        pixels[:, :4] = 200 if i % 2 else 0  # the label is which half is bright
        pixels[:, 4:] = 0 if i % 2 else 200
        image.fromarray(pixels + rng.integers(0, 40, (8, 8), dtype=np.uint8), mode="L").save(
            folder / "images" / f"{i}.png"
        )
    write_csv(folder / "train.csv", ["id", "label"], [[i, i % 2] for i in range(40)])
    write_csv(folder / "test.csv", ["id"], [[i] for i in range(40, 48)])
    write_csv(folder / "sample_submission.csv", ["id", "label"], [[i, 0] for i in range(40, 48)])
    regression = make_competition(tmp_path / "reg", kind="regression")
    for data in (folder, regression):
        out = tmp_path / f"out-{data.name}"
        argv = ["--data-dir", str(data), "--submission-dir", str(out), "--folds", "2", "--max-epochs", "3"]
        assert main(argv, {}, stop=StopSignal()) == 0
        rows = read_rows(out / "submission.csv")
        assert len(rows) == 8 if data is folder else 20
    labels = [int(r["label"]) for r in read_rows(tmp_path / "out-img" / "submission.csv")]
    assert labels == [i % 2 for i in range(40, 48)]


def test_sigterm_mid_training_leaves_a_valid_submission_and_exits_0(tmp_path: Path) -> None:
    """SIGTERM during an epoch: the agent finishes the step, writes up and exits 0 within seconds."""
    data = make_competition(tmp_path / "data", rows=600, test_rows=50, kind="probabilities")
    events = tmp_path / "events.jsonl"
    env = agent_env({"MLE_CI_EVENTS": str(events), "MLE_CI_PATIENCE": "1000", "MLE_CI_MAX_EPOCHS": "100000"})
    argv = [sys.executable, "-m", "mle_ci.agents.baseline", "--data-dir", str(data), "--submission-dir", str(tmp_path)]
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and '"epoch"' not in (events.read_text() if events.exists() else ""):
            time.sleep(0.05)
        assert '"epoch"' in events.read_text()
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        code = proc.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, log.read_text()
    assert took < 5
    rows = read_rows(tmp_path / "submission.csv")
    assert len(rows) == 50
    assert all(math.isclose(sum(float(r[c]) for c in ("high", "low", "mid")), 1.0, rel_tol=1e-6) for r in rows)
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert any(r["type"] == "message" and "SIGTERM" in r["text"] for r in records)


@pytest.mark.gpu
def test_on_a_gpu_the_agent_trains_on_cuda_under_bf16(tmp_path: Path) -> None:
    """With the plan's cuda device and bf16, the agent reports training on cuda with bf16 autocast."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    if not torch.cuda.is_bf16_supported(including_emulation=False):
        pytest.skip("this GPU has no bf16")
    data = make_competition(tmp_path / "data", rows=200, kind="probabilities")
    events = tmp_path / "events.jsonl"
    plan = {"MLE_CI_DEVICE": "cuda", "MLE_CI_AMP": "bf16", "MLE_CI_BATCH_SIZE": "64", "MLE_CI_NUM_WORKERS": "2"}
    env = agent_env({"MLE_CI_EVENTS": str(events), "MLE_CI_FOLDS": "2", "MLE_CI_MAX_EPOCHS": "3", **plan})
    argv = [sys.executable, "-W", "error", "-m", "mle_ci.agents.baseline", "--data-dir", str(data)]
    done = subprocess.run(
        [*argv, "--submission-dir", str(tmp_path / "out")],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    texts = [json.loads(line).get("text", "") for line in events.read_text().splitlines()]
    assert any("cuda" in text and "amp bf16" in text for text in texts)
    assert len(read_rows(tmp_path / "out" / "submission.csv")) == 20


def test_tables_predict_in_full_precision_and_images_under_the_plans_autocast() -> None:
    """bf16 would round a table's outputs into ties (AUC); the CNN's inference keeps the plan's precision."""
    import contextlib
    import dataclasses
    import warnings

    torch = pytest.importorskip("torch")
    from mle_ci.agents.baseline.train import TrainConfig, autocast

    table = TrainConfig(
        device=torch.device("cuda"), batch_size=64, amp="bf16", num_workers=0, max_epochs=1, patience=3, lr=1e-3,
        weight_decay=0.0, margin=0.0, images=False,
    )  # fmt: skip
    images = dataclasses.replace(table, images=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constructing a CUDA autocast without CUDA warns that it is disabled
        assert isinstance(autocast(table), torch.autocast)
        assert isinstance(autocast(images, inference=True), torch.autocast)
    assert isinstance(autocast(table, inference=True), contextlib.nullcontext)
    assert isinstance(autocast(dataclasses.replace(table, device=torch.device("cpu"))), contextlib.nullcontext)


@pytest.mark.gpu
def test_on_a_gpu_a_tables_predictions_match_the_cpus_in_full_precision() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    import dataclasses

    from mle_ci.agents.baseline.train import TrainConfig

    cpu = TrainConfig(
        device=torch.device("cpu"), batch_size=64, amp="off", num_workers=0, max_epochs=1, patience=3, lr=1e-3,
        weight_decay=0.0, margin=0.0, images=False,
    )  # fmt: skip
    cuda = dataclasses.replace(cpu, device=torch.device("cuda"), amp="bf16")
    torch.manual_seed(0)
    model = build_model(torch.Size([12]), 2, images=False)
    x = np.random.default_rng(0).standard_normal((500, 12)).astype(np.float32)
    on_cpu = predict(model, x, cpu)
    on_gpu = predict(model.to("cuda"), x, cuda)
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-4, atol=1e-5)  # bf16 would be off by about 1e-2
    assert len(np.unique(on_gpu[:, 1])) == len(np.unique(on_cpu[:, 1]))


class _StopsAfter(StopSignal):
    """A stop request that arrives after ``calls`` looks at it: in the middle of a model's training."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.calls = calls

    def is_set(self) -> bool:
        self.calls -= 1
        return self.calls < 0


def test_a_second_model_cut_short_drops_out_and_the_first_one_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The linear model stopped mid-training is not compared; the MLPs' fit and checkpoint are kept."""
    pytest.importorskip("torch")
    from mle_ci.agents.baseline import folds

    comp = read_competition(
        make_competition(tmp_path / "data", rows=120, kind="binary"), metric=None, higher_is_better=None
    )
    task, dataset = comp.task, build_dataset(comp)
    options = AgentOptions(data_dir=tmp_path, submission_dir=tmp_path, max_epochs=3, checkpoint_dir=tmp_path / "ck")
    config = _config(options, task, 80)
    real = folds._fit_fold

    def fit(*args: Any, **kwargs: Any) -> Any:
        if kwargs["candidate"] == "linear":
            kwargs["stop"] = _StopsAfter(50)  # one epoch is at least 40 steps: the stop lands in the second
        return real(*args, **kwargs)

    monkeypatch.setattr(folds, "_fit_fold", fit)
    val_rows = fold_indices(120, 3, 0, dataset.y_class)[0]
    work = folds.fit_fold_models(
        1, val_rows, options=options, task=task, dataset=dataset, config=config, seed=1, stop=StopSignal()
    )
    outcome, fits = work.outcome, work.fits
    assert outcome.ended in ("early stopping", "epoch limit")
    assert [fit.name for fit in fits] == ["mlp", "gbdt"] and work.cut == ("linear",)
    assert "the linear model was cut short (stop request)" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["fold-1.pt"]
    assert fits[0].val_outputs.shape == (len(val_rows), 2)
    assert fits[0].test_outputs.shape == (len(dataset.test_ids), 2)


def test_images_train_the_cnn_and_features_beside_them_the_mlps_in_the_order_their_count_gives(
    tmp_path: Path,
) -> None:
    import dataclasses

    table = read_competition(
        make_competition(tmp_path, rows=40, kind="binary"), metric=None, higher_is_better=None
    ).task
    assert candidate_names(table) == ("mlp", "linear", "gbdt")
    assert candidate_names(table, trees=False) == ("mlp", "linear")
    assert candidate_names(dataclasses.replace(table, images=True, feature_columns=())) == ("cnn",)
    few = dataclasses.replace(table, images=True, feature_columns=("age", "site"))
    assert candidate_names(few) == ("cnn", "mlp", "linear", "gbdt")
    many = dataclasses.replace(table, images=True, feature_columns=tuple(f"margin{i}" for i in range(64)))
    assert candidate_names(many) == ("mlp", "linear", "gbdt", "cnn")


def _images_and_features(folder: Path, *, features: int, signal_in: str) -> Path:
    """48 grey 8×8 images named by the ids and ``features`` numeric columns; the label is in one of the two."""
    image = pytest.importorskip("PIL.Image")
    (folder / "images").mkdir(parents=True)
    rng = np.random.default_rng(7)
    labels = [i % 2 for i in range(48)]
    rows = []
    for i, label in enumerate(labels):
        pixels = rng.integers(0, 255, (8, 8), dtype=np.uint8)
        if signal_in == "images":
            pixels[:, :4], pixels[:, 4:] = (200, 0) if label else (0, 200)
        image.fromarray(pixels, mode="L").save(folder / "images" / f"{i}.png")
        values = rng.normal(size=features)
        if signal_in == "features":
            values[0] += 8.0 * label
        rows.append([i, *[f"{v:.4f}" for v in values]])
    names = [f"f{j}" for j in range(features)]
    write_csv(folder / "train.csv", ["id", *names, "label"], [[*r, y] for r, y in zip(rows[:40], labels, strict=False)])
    write_csv(folder / "test.csv", ["id", *names], rows[40:])
    write_csv(folder / "sample_submission.csv", ["id", "label"], [[i, 0] for i in range(40, 48)])
    return folder


@pytest.mark.parametrize(
    ("features", "signal_in", "chosen"), [(10, "features", ("mlp", "linear", "gbdt")), (2, "images", ("cnn",))]
)
def test_images_and_features_are_both_candidates_and_the_better_out_of_fold_score_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], features: int, signal_in: str, chosen: tuple[str, ...]
) -> None:
    data = _images_and_features(tmp_path / "data", features=features, signal_in=signal_in)
    comp = read_competition(data, metric="accuracy", higher_is_better=None)
    assert comp.task.images and len(comp.task.feature_columns) == features
    dataset = build_dataset(comp)
    assert dataset.x_train.shape == (40, 1, 8, 8)
    assert dataset.features_train is not None and dataset.features_train.shape[0] == 40
    assert dataset.inputs(images=False)[1].shape[0] == 8
    out = tmp_path / "out"
    argv = ["--data-dir", str(data), "--submission-dir", str(out), "--folds", "2", "--max-epochs", "30"]
    assert main(argv, {}, stop=StopSignal()) == 0
    printed = capsys.readouterr().out
    assert "a CNN and the feature models are candidates" in printed
    said = re.search(r"the submission is the (\w+)'s fold mean", printed)
    assert said is not None and said.group(1) in chosen
    labels = [int(r["label"]) for r in read_rows(out / "submission.csv")]
    assert labels == [i % 2 for i in range(40, 48)]


def test_a_few_far_outliers_do_not_squeeze_the_other_rows() -> None:
    """Longitudes near -73.97 with a few rides at 0: scaled by the interquartile range, the usual rows stay apart."""
    rng = np.random.default_rng(0)
    values = np.concatenate([-73.97 + rng.normal(0, 0.03, 400), np.zeros(8)])
    coder = NumericCoder.fit("lon", values, indicator=False)
    encoded = coder.encode([str(v) for v in values]).ravel()
    assert encoded[:400].std() > 0.5
    assert (encoded[400:] > 100).all()  # far, as they are: the trees take them so, the networks clip them
    torch = pytest.importorskip("torch")
    net = TabularEnsemble(1, 1, members=1, classification=False).eval()
    far, clipped = torch.tensor([[float(encoded[400])]]), torch.tensor([[CLIP]])
    assert torch.equal(net(far), net(clipped))
    text = build_model(torch.Size([3]), 1, images=False, candidate="text-linear", text_width=2).eval()
    torch.nn.init.ones_(text.dense.weight)
    assert torch.equal(text(torch.tensor([[float(encoded[400]), 0, 0]])), text(torch.tensor([[CLIP, 0, 0]])))
    plain = NumericCoder.fit("x", rng.normal(5, 2, 400), indicator=False)
    assert plain.std == pytest.approx(2, rel=0.1)  # no outliers: the standard deviation as before


def test_date_times_become_year_month_weekday_and_hour() -> None:
    """`2014-07-10 19:55:15 UTC` is a Thursday at 19.92 h; an unreadable cell raises only the indicator."""
    from mle_ci.agents.baseline.data import DatetimeCoder, fit_coders
    from mle_ci.agents.baseline.tables import Table

    cells = ["2014-07-10 19:55:15 UTC", "2009-01-01 00:00:00 UTC", "nope"]
    table = Table(("when",), {"when": cells[:2] * 10 + cells[2:]})  # at least nine cells in ten are date-times
    (coder,) = fit_coders(table, table, ("when",))
    assert isinstance(coder, DatetimeCoder)
    rows = coder.encode(cells)
    assert rows[0] == pytest.approx([0.5, (7 - 6.5) / 6, 0.0, (19 + 55 / 60 + 15 / 3600 - 12) / 12, 0.0])
    assert rows[2].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
