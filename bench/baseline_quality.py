"""Baseline agent quality: its held-out score beside HistGradientBoosting and a linear model on the same split.

Two tables, each with the references trained in the same run on the same training rows:

- **demos** (the goal): each embedded demo competition as ``mle-ci run --competition ID`` runs it (the harness, the
  baseline agent, the demo's own public/private split, seed 2024); the agent's ``submission.csv`` and the
  references' predictions, written as submissions, are all scored by the competition's own grader
  (``mle_ci.competitions.grade``) against the private answers. The references learn from the public training rows
  as ``demo_split`` gives them (the features exactly as the files hold them).
- **raw** (a second view): scikit-learn's raw data split 75/25 (stratified for classification, seed 0), written in
  the MLE-bench layout; the agent runs as the harness starts it, without being told the metric, and is scored with
  scikit-learn's metrics on the held-out quarter.

The goal: at least as good as the better of HistGradientBoosting and LogisticRegression (Ridge for regression) on
every demo, within about a minute of wall time per demo on a 2-core CPU. ``--split-seed`` rebuilds the demos with
the same procedure and another seed: an exploratory check that the agent does not fit one split by luck.
``--split-seeds 1-16`` does that for each seed of a range and counts, per demo, the splits on which the goal was met:
the development set on which changes to the agent are judged, so that the demos' own split (the test) is looked at
once per change, not tuned on. It also prints, per demo, the means over those splits of the agent and of each
reference, and on how many splits the agent was at least as good as each reference: the per-split goal compares
with the better of two noisy scores, which no single model matches every time even where it is better on average.

Run: ``.venv/bin/python bench/baseline_quality.py [--tables demos,raw] [--only breast-cancer,wine] [--split-seed N]``
or ``.venv/bin/python bench/baseline_quality.py --split-seeds 1-16 [--only ...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import Figure, at_most, columns, python, report, run_to_end, temp_dir
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mle_ci.competitions import demos
from mle_ci.competitions.grade import aligned_predictions, grade_submission, typed_cells
from mle_ci.competitions.validate import inspect_submission
from mle_ci.metrics import get_metric
from mle_ci.metrics import score as metric_score

RESAMPLES = 2000
"""Bootstrap resamples of a demo's test rows for the interval of the agent's difference to the best reference."""

WALL_LIMIT = 60.0
"""Seconds of agent wall time per demo (5 folds) that the goal allows on a 2-core CPU."""

_EVALUATION = {
    "accuracy": "Submissions are evaluated on classification accuracy: the share of test images whose label is right.",
    "auc": "Submissions are evaluated on area under the ROC curve between the predicted probability and the target.",
    "log_loss": "Submissions are evaluated using the multi-class logarithmic loss of the predicted probabilities.",
    "rmse": "Submissions are scored on the root mean squared error between predictions and the target.",
}


@dataclass(frozen=True)
class Paired:
    """The agent's score minus the best reference's on bootstrap resamples of the same test rows.

    Signed so that a positive difference means the agent is better, whatever the metric's direction: a 95%
    percentile interval and the share of resamples on which the agent is at least as good. On a split of a few
    dozen or hundred rows a verdict inside the interval's width is a matter of which rows the test happened to get.
    """

    low: float
    high: float
    at_least: float
    resamples: int


def paired_bootstrap(
    metric: str,
    higher_is_better: bool,
    truth: Sequence[Any],
    ours: Sequence[Any],
    theirs: Sequence[Any],
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Paired:
    """Resample the test rows with replacement; score both on each resample (one where the metric is undefined,
    such as AUC on a single class, is drawn again)."""
    y_true, a, b = (typed_cells(values, get_metric(metric)) for values in (truth, ours, theirs))
    rng = np.random.default_rng(seed)
    diffs: list[float] = []
    draws = 0
    while len(diffs) < resamples and draws < 10 * resamples:
        draws += 1
        rows = rng.integers(0, len(y_true), len(y_true))
        try:
            mine, other = metric_score(metric, y_true[rows], a[rows]), metric_score(metric, y_true[rows], b[rows])
        except ValueError:
            continue
        diffs.append(mine - other if higher_is_better else other - mine)
    if not diffs:
        raise ValueError(f"{metric} is undefined on every resample of these {len(y_true)} rows")
    low, high = np.percentile(diffs, [2.5, 97.5])
    return Paired(float(low), float(high), float(np.mean(np.asarray(diffs) >= 0)), len(diffs))


def at_least(score: float | None, other: float, higher_is_better: bool) -> bool:
    """``score`` at least as good as ``other`` in the metric's direction; no score is never as good."""
    return score is not None and (score >= other if higher_is_better else score <= other)


@dataclass(frozen=True)
class Row:
    """One data set's outcome: the agent's score and wall time, each reference's score and fit seconds."""

    name: str
    metric: str
    higher_is_better: bool
    score: float | None
    seconds: float
    refs: dict[str, tuple[float, float]]
    exit_code: int
    paired: Paired | None = None
    """The agent against the best reference on resamples of the test rows (the demos' table only)."""

    @property
    def best_name(self) -> str:
        pick = max if self.higher_is_better else min
        return pick(self.refs, key=lambda name: self.refs[name][0])

    @property
    def best(self) -> float:
        return self.refs[self.best_name][0]

    @property
    def met(self) -> bool:
        return at_least(self.score, self.best, self.higher_is_better)


def reference_models(classification: bool) -> dict[str, Any]:
    """The references, fresh: HistGradientBoosting and a standardised linear model, scikit-learn's defaults."""
    if classification:
        return {
            "HGB": HistGradientBoostingClassifier(random_state=0),
            "LogReg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
        }
    return {
        "HGB": HistGradientBoostingRegressor(random_state=0),
        "Ridge": make_pipeline(StandardScaler(), Ridge()),
    }


def _fit(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    started = time.perf_counter()
    model.fit(x, y)
    return time.perf_counter() - started


def _paired(row: Row) -> str:
    if row.paired is None:
        return "-"
    p = row.paired
    return f"{p.low:+.5f} .. {p.high:+.5f}, {p.at_least:.0%}"


def quality_table(rows: Sequence[Row]) -> str:
    """Data set, metric, the baseline's score and wall time, each reference's score and fit time, best, verdict;
    with resampled test rows (the demos), the interval of the difference to the best reference and how often the
    baseline is at least as good."""
    header: tuple[str, ...] = ("data set", "metric", "baseline", "wall s", "HGB (fit s)", "linear (fit s)", "best ref")
    header += ("verdict",)
    paired = any(row.paired is not None for row in rows)
    if paired:
        header += ("vs best ref: 95% interval, share >= 0",)
    lines = [header]
    for row in rows:
        hgb, linear = (f"{name} {s:.4f} ({t:.2f})" for name, (s, t) in row.refs.items())
        verdict = "at least as good" if row.met else "WORSE"
        line = (
            row.name,
            row.metric,
            "n/a" if row.score is None else f"{row.score:.5g}",
            f"{row.seconds:.1f}",
            hgb.removeprefix("HGB "),
            linear,
            f"{row.best_name} {row.best:.5g}",
            verdict + ("" if row.exit_code == 0 else f" (exit {row.exit_code})"),
        )
        lines.append(line + ((_paired(row),) if paired else ()))
    return columns(lines)


# --- the demos, as `mle-ci run --competition ID` runs them ----------------------------------------------------


@contextlib.contextmanager
def split_seed(seed: int | None) -> Iterator[None]:
    """Build (and split) the demos with another seed while inside; the demos' own seed when ``seed`` is None."""
    saved = demos.DEMO_SEED
    demos.DEMO_SEED = saved if seed is None else seed
    try:
        yield
    finally:
        demos.DEMO_SEED = saved


def _submission_rows(metric: str, ids: Sequence[str], model: Any, x: np.ndarray) -> list[list[Any]]:
    """A reference's predictions in the demo's submission layout (the sample submission's columns)."""
    if metric == "accuracy":
        return [[i, int(v)] for i, v in zip(ids, model.predict(x), strict=True)]
    if metric == "auc":
        return [[i, float(p)] for i, p in zip(ids, model.predict_proba(x)[:, 1], strict=True)]
    if metric == "log_loss":
        return [[i, *map(float, p)] for i, p in zip(ids, model.predict_proba(x), strict=True)]
    return [[i, float(v)] for i, v in zip(ids, model.predict(x), strict=True)]


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def run_demo(competition_id: str, work: Path, *, resample: bool = True) -> Row:
    """The agent through the harness on one demo, then the references on its public rows; all graded alike.

    ``resample``: also the bootstrap interval of the agent's difference to the best reference (:class:`Paired`).
    """
    cache = work / "cache"
    competition = demos.demo_competition(competition_id, cache)
    spec = competition.spec
    assert spec.metric is not None
    out = work / "runs" / competition_id
    argv = [python(), "-m", "mle_ci", "run", "--competition", competition_id, "--cache-dir", str(cache)]
    argv += ["--output-dir", str(out), "--display", "plain", "--heartbeat", "0"]
    finished = run_to_end(argv, timeout=600)
    if finished.returncode != 0:
        print(finished.stdout[-3000:])
    submission = out / "submission.csv"
    score = grade_submission(submission, competition).score if submission.exists() else None
    split = demos.demo_split(competition_id)
    refs: dict[str, tuple[float, float]] = {}
    paths: dict[str, Path] = {}
    for name, model in reference_models(spec.metric != "rmse").items():
        seconds = _fit(model, split.x_train, split.y_train)
        paths[name] = path = work / "references" / competition_id / f"{name}.csv"
        rows = _submission_rows(spec.metric, split.test_ids, model, split.x_test)
        _write_csv(path, [spec.id_column, *spec.target_columns], rows)
        graded = grade_submission(path, competition)
        if graded.score is None:
            raise RuntimeError(f"the {name} reference's submission for {competition_id} is invalid: {graded.problems}")
        refs[name] = (graded.score, seconds)
    cv = [line for line in finished.stdout.splitlines() if "success" in line or "failed" in line]
    print(f"  {competition_id}: graded {score}, {finished.seconds:.1f} s; {cv[-1] if cv else ''}", flush=True)
    row = Row(competition_id, spec.metric, spec.higher_is_better, score, finished.seconds, refs, finished.returncode)
    if score is None or not resample:
        return row
    truth, ours = aligned_predictions(inspect_submission(submission, competition), competition)
    _, theirs = aligned_predictions(inspect_submission(paths[row.best_name], competition), competition)
    paired = paired_bootstrap(spec.metric, spec.higher_is_better, truth, ours, theirs)
    return dataclasses.replace(row, paired=paired)


# --- scikit-learn's raw data, 75/25 --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One raw data set: its loader, metric and direction."""

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


def run_case(case: Case, work: Path, seed: int) -> Row:
    """The agent (as the harness starts it) on a raw 75/25 split, then the references on the same split."""
    x, y = case.load()
    stratify = y if case.classification else None
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=stratify)
    data, out = work / case.name / "data", work / case.name / "submission"
    write_competition(case, data, x_train, y_train, x_test)
    argv = [python(), "-m", "mle_ci.agents.baseline", "--data-dir", str(data), "--submission-dir", str(out)]
    finished = run_to_end(argv, timeout=600)
    if finished.returncode != 0:
        print(finished.stdout[-3000:])
    submission = out / "submission.csv"
    score = score_submission(case, submission, y_test) if submission.exists() else None
    refs: dict[str, tuple[float, float]] = {}
    for name, model in reference_models(case.classification).items():
        seconds = _fit(model, x_train, y_train)
        refs[name] = (_metric(case, model, x_test, y_test), seconds)
    print(f"  {case.name}: held-out {score}, {finished.seconds:.1f} s, exit {finished.returncode}", flush=True)
    return Row(case.name, case.metric, case.higher_is_better, score, finished.seconds, refs, finished.returncode)


# --- both -----------------------------------------------------------------------------------------------------

TABLES = ("demos", "raw")


def _figures(rows: Sequence[Row], label: str) -> list[Figure]:
    figures: list[Figure] = []
    for row in rows:
        sign = ">=" if row.higher_is_better else "<="
        value = "n/a" if row.score is None else f"{row.score:.5g}"
        name = f"baseline {row.name} ({label}): {row.metric}"
        figures.append(Figure(name, value, f"{sign} {row.best:.5g} ({row.best_name})", row.met))
        figures.append(at_most(f"baseline {row.name} ({label}): wall time", row.seconds, WALL_LIMIT, " s", digits=1))
    return figures


def measure(
    only: Sequence[str] = (), seed: int = 0, *, tables: Sequence[str] = TABLES, split: int | None = None
) -> list[Figure]:
    """Both tables (or those named), printed; the figures: each score against its best reference, each wall time."""
    figures: list[Figure] = []
    with temp_dir("mle-ci-baseline-") as work:
        if "demos" in tables:
            with split_seed(split):
                label = f"demo split, seed {demos.DEMO_SEED}"
                print(f"-- the embedded demos ({label}), graded by their own grader", flush=True)
                rows = [run_demo(cid, work) for cid in demos.DEMO_SPECS if not only or cid in only]
            print(f"\n{label}:\n{quality_table(rows)}\n", flush=True)
            figures += _figures(rows, "demo")
        if "raw" in tables:
            label = f"raw data, 75/25 split, seed {seed}"
            print(f"-- scikit-learn's {label}", flush=True)
            cases = [run_case(case, work, seed) for case in CASES if not only or case.name in only]
            print(f"\n{label}:\n{quality_table(cases)}\n", flush=True)
            figures += _figures(cases, "raw")
    return figures


def seed_range(text: str) -> list[int]:
    """``1-16`` or ``1,2,5`` (or a mix, ``1-4,9``) as a list of seeds."""
    seeds: list[int] = []
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        seeds += range(int(low), int(high or low) + 1)
    if not seeds:
        raise ValueError(f"no seed in {text!r}")
    return seeds


def robustness_table(rows: dict[int, list[Row]]) -> str:
    """Per demo: on how many split seeds the goal was met, the median gap to the best reference, the misses."""
    header = ("demo", "met", "median gap", "worst gap", "missed on seeds")
    lines = [header]
    for name in dict.fromkeys(row.name for seed_rows in rows.values() for row in seed_rows):
        mine = [(seed, row) for seed, seed_rows in rows.items() for row in seed_rows if row.name == name]
        # the gap in the metric's units, positive when the agent is better than the best reference
        gaps = [
            (row.score - row.best if row.higher_is_better else row.best - row.score) if row.score is not None else None
            for _, row in mine
        ]
        known = sorted(gap for gap in gaps if gap is not None)
        lines.append(
            (
                name,
                f"{sum(row.met for _, row in mine)}/{len(mine)}",
                f"{known[len(known) // 2]:+.5f}" if known else "n/a",
                f"{known[0]:+.5f}" if known else "n/a",
                " ".join(str(seed) for seed, row in mine if not row.met) or "-",
            )
        )
    return columns(lines)


@dataclass(frozen=True)
class Averages:
    """One demo over the split seeds: the agent's mean score, each reference's, and the agent's head-to-head wins."""

    name: str
    higher_is_better: bool
    splits: int
    mean: float | None
    """None when a run on some split left no graded submission (a mean of the rest would flatter the agent)."""
    ref_means: dict[str, float]
    wins: dict[str, int]
    """Per reference: the splits on which the agent scored at least as well as it."""

    @property
    def best_name(self) -> str:
        pick = max if self.higher_is_better else min
        return pick(self.ref_means, key=lambda name: self.ref_means[name])

    @property
    def met(self) -> bool:
        """The agent's mean at least as good as every reference's mean."""
        return at_least(self.mean, self.ref_means[self.best_name], self.higher_is_better)


def averages(rows: dict[int, list[Row]]) -> list[Averages]:
    """Per demo, over every split seed: means and head-to-head counts (the per-split goal compares with the better
    of two references on each split, a maximum of two noisy scores; this compares with each reference model)."""
    result: list[Averages] = []
    for name in dict.fromkeys(row.name for seed_rows in rows.values() for row in seed_rows):
        mine = [row for seed_rows in rows.values() for row in seed_rows if row.name == name]
        higher = mine[0].higher_is_better
        scores = [row.score for row in mine]
        known = [score for score in scores if score is not None]
        refs = list(mine[0].refs)
        result.append(
            Averages(
                name,
                higher,
                len(mine),
                float(np.mean(known)) if known and len(known) == len(scores) else None,
                {ref: float(np.mean([row.refs[ref][0] for row in mine])) for ref in refs},
                {ref: sum(at_least(row.score, row.refs[ref][0], higher) for row in mine) for ref in refs},
            )
        )
    return result


def averages_table(summaries: Sequence[Averages]) -> str:
    """Per demo: the agent's mean over the splits, each reference's mean, and on how many splits it beat each."""
    header = ("demo", "baseline mean", "references' means", "baseline at least as good as", "mean verdict")
    lines = [header]
    for item in summaries:
        lines.append(
            (
                item.name,
                "n/a" if item.mean is None else f"{item.mean:.5f}",
                " · ".join(f"{ref} {mean:.5f}" for ref, mean in item.ref_means.items()),
                " · ".join(f"{ref} {wins}/{item.splits}" for ref, wins in item.wins.items()),
                "at least as good as each" if item.met else f"WORSE than {item.best_name}",
            )
        )
    return columns(lines)


def robustness(only: Sequence[str], seeds: Sequence[int]) -> list[Figure]:
    """The demos rebuilt with each split seed in turn; per demo, the count of splits where the goal was met."""
    rows: dict[int, list[Row]] = {}
    for seed in seeds:
        # a fresh folder per seed: a built demo is reused by the cache whatever seed built it
        with temp_dir(f"mle-ci-baseline-{seed}-") as work, split_seed(seed):
            print(f"-- split seed {seed}", flush=True)
            rows[seed] = [run_demo(cid, work, resample=False) for cid in demos.DEMO_SPECS if not only or cid in only]
    print(f"\nsplit seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}):\n{robustness_table(rows)}\n", flush=True)
    summaries = averages(rows)
    print(f"averages over the same splits:\n{averages_table(summaries)}\n", flush=True)
    names = dict.fromkeys(row.name for seed_rows in rows.values() for row in seed_rows)
    figures = [
        Figure(
            f"baseline {name}: splits where the goal was met",
            f"{sum(row.met for seed_rows in rows.values() for row in seed_rows if row.name == name)}/{len(seeds)}",
        )
        for name in names
    ]
    for item in summaries:
        sign = ">=" if item.higher_is_better else "<="
        best = item.ref_means[item.best_name]
        value = "n/a" if item.mean is None else f"{item.mean:.5g}"
        goal = f"{sign} {best:.5g} ({item.best_name} mean)"
        figures.append(Figure(f"baseline {item.name}: mean over the splits", value, goal, item.met))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES), help="demos, raw or both (default: both)")
    parser.add_argument("--only", default="", help="comma-separated demo ids or raw data set names (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="split seed of the raw-data table (default 0)")
    parser.add_argument(
        "--split-seed", type=int, default=None, help="rebuild the demos with this seed (exploratory; default: theirs)"
    )
    parser.add_argument(
        "--split-seeds", default="", help="rebuild the demos with each seed of a range (1-16) and count the verdicts"
    )
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(",") if name]
    if args.split_seeds:
        try:
            seeds = seed_range(args.split_seeds)
        except ValueError:
            parser.error(f"--split-seeds wants a range such as 1-16 or a list such as 1,2,5, not {args.split_seeds!r}")
        report("baseline agent quality over split seeds", robustness(only, seeds))
        return 0
    tables = [name for name in args.tables.split(",") if name]
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        parser.error(f"unknown table(s): {', '.join(unknown)} (known: {', '.join(TABLES)})")
    report("baseline agent quality", measure(only, args.seed, tables=tables, split=args.split_seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
