"""Baseline agent quality: its held-out score beside HistGradientBoosting and a linear model on the same split.

Four scikit-learn datasets, each split 75/25 (stratified for classification, seed 0), are written in the MLE-bench
layout (``train.csv`` with the target, ``test.csv`` without, ``sample_submission.csv``, ``description.md`` naming
the metric; digits as 8×8 PNG files under ``images/``). The agent runs as a subprocess exactly as the harness
starts it, without being told the metric, and its ``submission.csv`` is scored on the held-out quarter. The goal:
at least as good as the better of HistGradientBoosting and LogisticRegression (Ridge for regression), trained on the
same split, and under 25 s of wall time per dataset on a 2-core CPU.

Run: ``.venv/bin/python bench/baseline_quality.py [--only digits,wine] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import Figure, at_most, python, report, run_to_end, temp_dir
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

WALL_LIMIT = 25.0

_EVALUATION = {
    "accuracy": "Submissions are evaluated on classification accuracy: the share of test images whose label is right.",
    "auc": "Submissions are evaluated on area under the ROC curve between the predicted probability and the target.",
    "log_loss": "Submissions are evaluated using the multi-class logarithmic loss of the predicted probabilities.",
    "rmse": "Submissions are scored on the root mean squared error between predictions and the target.",
}


@dataclass(frozen=True)
class Case:
    """One dataset: its loader, metric, direction, the agent's goal and how to read a submission."""

    name: str
    metric: str
    higher_is_better: bool
    load: Callable[[], tuple[np.ndarray, np.ndarray]]

    @property
    def classification(self) -> bool:
        return self.metric != "rmse"


CASES = (
    Case("digits", "accuracy", True, lambda: datasets.load_digits(return_X_y=True)),
    Case("breast_cancer", "auc", True, lambda: datasets.load_breast_cancer(return_X_y=True)),
    Case("wine", "log_loss", False, lambda: datasets.load_wine(return_X_y=True)),
    Case("diabetes", "rmse", False, lambda: datasets.load_diabetes(return_X_y=True)),
)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_competition(case: Case, folder: Path, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> None:
    """The split in MLE-bench's public layout (ids ``r00000``..., the test quarter's ids after the train ones)."""
    folder.mkdir(parents=True)
    train_ids = [f"r{i:05d}" for i in range(len(x_train))]
    test_ids = [f"r{len(x_train) + i:05d}" for i in range(len(x_test))]
    (folder / "description.md").write_text(f"# {case.name}\n\n## Evaluation\n\n{_EVALUATION[case.metric]}\n")
    target = [int(v) for v in y_train] if case.classification else [float(v) for v in y_train]
    if case.name == "digits":
        from PIL import Image

        images = folder / "images"
        images.mkdir()
        for ident, pixels in zip(train_ids + test_ids, np.concatenate([x_train, x_test]), strict=True):
            gray = np.round(pixels.reshape(8, 8) * 255.0 / 16.0).astype(np.uint8)
            Image.fromarray(gray, mode="L").save(images / f"{ident}.png")
        _write_csv(folder / "train.csv", ["id", "label"], list(zip(train_ids, target, strict=True)))
        _write_csv(folder / "test.csv", ["id"], [[i] for i in test_ids])
        _write_csv(folder / "sample_submission.csv", ["id", "label"], [[i, 0] for i in test_ids])
        return
    features = [f"f{j}" for j in range(x_train.shape[1])]
    _write_csv(
        folder / "train.csv",
        ["id", *features, "target"],
        [[i, *map(float, row), t] for i, row, t in zip(train_ids, x_train, target, strict=True)],
    )
    _write_csv(
        folder / "test.csv", ["id", *features], [[i, *map(float, row)] for i, row in zip(test_ids, x_test, strict=True)]
    )
    if case.metric == "log_loss":
        classes = sorted(set(target))
        header = ["id", *(f"class_{c}" for c in classes)]
        _write_csv(
            folder / "sample_submission.csv", header, [[i] + [1 / len(classes)] * len(classes) for i in test_ids]
        )
    else:
        _write_csv(folder / "sample_submission.csv", ["id", "target"], [[i, 0.5] for i in test_ids])


def score_submission(case: Case, path: Path, y_test: np.ndarray) -> float:
    """The submission's score on the held-out quarter (rows matched by id)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows.sort(key=lambda row: row["id"])
    if case.metric == "accuracy":
        return float(accuracy_score(y_test, [int(row["label"]) for row in rows]))
    if case.metric == "auc":
        return float(roc_auc_score(y_test, [float(row["target"]) for row in rows]))
    if case.metric == "log_loss":
        columns = sorted((k for k in rows[0] if k != "id"), key=lambda k: int(k.split("_")[1]))
        return float(log_loss(y_test, [[float(row[c]) for c in columns] for row in rows], labels=sorted(set(y_test))))
    return float(np.sqrt(mean_squared_error(y_test, [float(row["target"]) for row in rows])))


def _metric(case: Case, model: Any, x: np.ndarray, y: np.ndarray) -> float:
    if case.metric == "accuracy":
        return float(accuracy_score(y, model.predict(x)))
    if case.metric == "auc":
        return float(roc_auc_score(y, model.predict_proba(x)[:, 1]))
    if case.metric == "log_loss":
        return float(log_loss(y, model.predict_proba(x)))
    return float(np.sqrt(mean_squared_error(y, model.predict(x))))


def references(
    case: Case, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> dict[str, tuple[float, float]]:
    """Held-out score and fit seconds of HistGradientBoosting and the linear model."""
    if case.classification:
        models = {
            "HGB": HistGradientBoostingClassifier(random_state=0),
            "LogReg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
        }
    else:
        models = {
            "HGB": HistGradientBoostingRegressor(random_state=0),
            "Ridge": make_pipeline(StandardScaler(), Ridge()),
        }
    out: dict[str, tuple[float, float]] = {}
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(x_train, y_train)
        out[name] = (_metric(case, model, x_test, y_test), time.perf_counter() - started)
    return out


@dataclass(frozen=True)
class Row:
    """One dataset's outcome."""

    case: Case
    score: float | None
    seconds: float
    refs: dict[str, tuple[float, float]]
    exit_code: int

    @property
    def best(self) -> float:
        scores = [score for score, _ in self.refs.values()]
        return max(scores) if self.case.higher_is_better else min(scores)

    @property
    def met(self) -> bool:
        if self.score is None:
            return False
        return self.score >= self.best if self.case.higher_is_better else self.score <= self.best


def run_case(case: Case, work: Path, seed: int) -> Row:
    x, y = case.load()
    stratify = y if case.classification else None
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=stratify)
    data, out = work / case.name / "data", work / case.name / "submission"
    write_competition(case, data, x_train, y_train, x_test)
    argv = [python(), "-m", "mle_ci.agents.baseline", "--data-dir", str(data), "--submission-dir", str(out)]
    finished = run_to_end(argv, timeout=300)
    if finished.returncode != 0:
        print(finished.stdout[-3000:])
    submission = out / "submission.csv"
    score = score_submission(case, submission, y_test) if submission.exists() else None
    refs = references(case, x_train, y_train, x_test, y_test)
    row = Row(case, score, finished.seconds, refs, finished.returncode)
    cv = [line for line in finished.stdout.splitlines() if "metric" in line and "=" in line]
    print(
        f"  {case.name}: agent {score}, {finished.seconds:.1f} s, exit {finished.returncode}; {cv[-1] if cv else ''}",
        flush=True,
    )
    return row


def quality_table(rows: Sequence[Row]) -> str:
    """Dataset, metric, baseline score, best reference, the references' scores, wall times, goal met."""
    header = ("dataset", "metric", "baseline", "best ref", "references (score, fit s)", "agent wall", "goal met")
    lines = [header]
    for row in rows:
        refs = ", ".join(f"{name} {score:.4f} ({seconds:.2f}s)" for name, (score, seconds) in row.refs.items())
        score = "n/a" if row.score is None else f"{row.score:.4f}"
        lines.append(
            (
                row.case.name,
                row.case.metric,
                score,
                f"{row.best:.4f}",
                refs,
                f"{row.seconds:.1f}s",
                "yes" if row.met else "NO",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def measure(only: Sequence[str] = (), seed: int = 0) -> list[Figure]:
    rows: list[Row] = []
    with temp_dir("mle-ci-baseline-") as work:
        for case in CASES:
            if not only or case.name in only:
                rows.append(run_case(case, work, seed))
    print("\n" + quality_table(rows))
    figures: list[Figure] = []
    for row in rows:
        sign = ">=" if row.case.higher_is_better else "<="
        value = "n/a" if row.score is None else f"{row.score:.4f}"
        figures.append(
            Figure(f"baseline {row.case.name}: held-out {row.case.metric}", value, f"{sign} {row.best:.4f}", row.met)
        )
        figures.append(at_most(f"baseline {row.case.name}: agent wall time", row.seconds, WALL_LIMIT, " s", digits=1))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated dataset names (default: all four)")
    parser.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(",") if name]
    report("baseline agent quality", measure(only, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
