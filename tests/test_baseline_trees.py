"""The boosted trees beside the networks: their outputs in the ensemble's terms, and a fold that picks them where
only a threshold tells the classes apart."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mle_ci.agents.baseline.agent import main
from mle_ci.agents.baseline.data import Dataset, TargetScaler
from mle_ci.agents.baseline.deadline import StopSignal
from mle_ci.agents.baseline.trees import MAX_TREE_CLASSES, fit_trees, trees_fit

pytest.importorskip("sklearn")


def _dataset(x: np.ndarray, *, y_class: np.ndarray | None = None, y_value: np.ndarray | None = None,
             outputs: int, scaler: TargetScaler | None = None) -> Dataset:  # fmt: skip
    return Dataset(
        x_train=x[:-10].astype(np.float32),
        x_test=x[-10:].astype(np.float32),
        y_class=y_class,
        y_value=y_value,
        scaler=scaler,
        test_ids=tuple(str(i) for i in range(10)),
        outputs=outputs,
        dropped=0,
    )


ROWS = np.arange(200)
VAL, TRAIN = ROWS[:40], ROWS[40:]


def test_class_probabilities_cover_every_class_and_a_class_absent_from_the_fold_gets_none() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(210, 3))
    y = (x[:200, 0] > 0).astype(np.int64)
    y[:40][y[:40] == 1] = 2  # class 2 only among the validation rows; class 1 only among the training rows
    fit = fit_trees(_dataset(x, y_class=y, outputs=3), train_rows=TRAIN, val_rows=VAL, seed=0)
    assert fit.val_outputs.shape == (40, 3) and fit.test_outputs.shape == (10, 3)
    assert np.allclose(fit.val_outputs.sum(axis=1), 1.0) and (fit.val_outputs[:, 2] == 0).all()
    assert ((fit.val_outputs[:, 1] > 0.5) == (x[:40, 0] > 0)).mean() > 0.85
    assert fit.rounds >= 1


def test_regression_stays_on_the_models_scale_and_each_label_is_a_probability() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(210, 2))
    values = np.stack([np.where(x[:200, 0] > 0, 50.0, 10.0), x[:200, 1] * 3], axis=1)
    scaler = TargetScaler.fit(values, log=False)
    fit = fit_trees(
        _dataset(x, y_value=scaler.forward(values), outputs=2, scaler=scaler), train_rows=TRAIN, val_rows=VAL, seed=0
    )
    back = scaler.inverse(fit.val_outputs)
    assert np.sqrt(((back[:, 0] - values[:40, 0]) ** 2).mean()) < 5.0
    labels = np.stack([(x[:200, 0] > 0), np.zeros(200, dtype=bool)], axis=1).astype(np.float32)
    multi = fit_trees(_dataset(x, y_value=labels, outputs=2), train_rows=TRAIN, val_rows=VAL, seed=0)
    assert ((multi.val_outputs >= 0) & (multi.val_outputs <= 1)).all()
    assert (multi.test_outputs[:, 1] == 0).all()  # a label never set in the training rows: nothing to split on
    assert ((multi.val_outputs[:, 0] > 0.5) == (x[:40, 0] > 0)).mean() > 0.85


def test_many_classes_leave_the_trees_out() -> None:
    x = np.zeros((30, 2))
    assert trees_fit(_dataset(x, y_class=np.zeros(20, np.int64), outputs=MAX_TREE_CLASSES))
    assert not trees_fit(_dataset(x, y_class=np.zeros(20, np.int64), outputs=MAX_TREE_CLASSES + 1))
    assert trees_fit(_dataset(x, y_value=np.zeros((20, 1), np.float32), outputs=1))


def test_a_threshold_only_trees_find_makes_them_the_submission(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The label is whether a feature lies in one narrow band: the networks, on a standardised scale, find it
    late; the trees split on it at once, score better out of fold, and the submission is theirs."""
    rng = np.random.default_rng(3)
    data = tmp_path / "data"
    data.mkdir()
    total, train = 400, 320
    x = rng.uniform(0, 10, size=(total, 3))
    label = ((x[:, 0] > 4.0) & (x[:, 0] < 4.6)) | (x[:, 1] > 9.4)
    head = "id,a,b,c"
    (data / "train.csv").write_text(
        "\n".join([f"{head},label"] + [f"{i},{a:.4f},{b:.4f},{c:.4f},{int(y)}" for i, ((a, b, c), y) in
                                       enumerate(zip(x[:train], label[:train], strict=True))]) + "\n"
    )  # fmt: skip
    (data / "test.csv").write_text(
        "\n".join([head] + [f"{i},{a:.4f},{b:.4f},{c:.4f}" for i, (a, b, c) in enumerate(x[train:], start=train)])
        + "\n"
    )
    (data / "sample_submission.csv").write_text(
        "\n".join(["id,label"] + [f"{i},0.5" for i in range(train, total)]) + "\n"
    )
    out = tmp_path / "out"
    argv = ["--data-dir", str(data), "--submission-dir", str(out), "--folds", "3", "--max-epochs", "10"]
    assert main(argv, {"MLE_CI_CHECKPOINT_DIR": str(tmp_path / "ck")}, stop=StopSignal()) == 0
    printed = capsys.readouterr().out
    scores = re.search(r"out-of-fold (\w+): mlp ([\d.]+) · linear ([\d.]+) · gbdt ([\d.]+)", printed)
    assert scores is not None, printed
    assert float(scores.group(4)) > max(float(scores.group(2)), float(scores.group(3)))
    assert "the submission is the gbdt's fold mean" in printed
    saved = {p.name for p in (tmp_path / "ck").iterdir()}  # the networks' checkpoints, none for the trees
    assert saved == {f"fold-{fold}{suffix}.pt" for fold in (1, 2, 3) for suffix in ("", "-linear")}
