"""The agent's run: read the competition, keep a valid submission on disk, train fold by fold, report the CV score."""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from mle_ci import progress
from mle_ci.agents.baseline.data import Dataset, build_dataset
from mle_ci.agents.baseline.deadline import StopSignal, decide_fold
from mle_ci.agents.baseline.folds import (
    candidate_names,
    fit_fold_models,
    record_fold,
    scorer,
    weight_decay_for,
    write_submission,
)
from mle_ci.agents.baseline.layout import LayoutError, sample_submission
from mle_ci.agents.baseline.metrics import fold_indices
from mle_ci.agents.baseline.options import AgentOptions, OptionsError, load_options
from mle_ci.agents.baseline.parallel import fold_workers, train_in_parallel
from mle_ci.agents.baseline.reading import read_competition
from mle_ci.agents.baseline.selection import Candidates
from mle_ci.agents.baseline.special import SpecialResult, solve_special
from mle_ci.agents.baseline.submission import Ensemble, render_rows, write_atomic
from mle_ci.agents.baseline.task import Competition, Kind, Task, TaskError
from mle_ci.agents.baseline.train import TrainConfig
from mle_ci.agents.baseline.trees import trees_fit
from mle_ci.contract import ExitCode

DEFAULT_MAX_EPOCHS = 100


def _device(options: AgentOptions) -> torch.device:
    wanted = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        progress.message(f"the plan says {wanted} but CUDA is unusable here: training on the CPU", "warning")
        return torch.device("cpu")
    return torch.device(wanted)


def _amp(options: AgentOptions, device: torch.device) -> str:
    if device.type != "cuda":
        return "off"
    bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    if options.amp is None:
        return "bf16" if bf16 else "fp16"
    if options.amp == "bf16" and not bf16:
        progress.message("bf16 was planned but this GPU lacks it: using fp16 with a gradient scaler", "warning")
        return "fp16"
    return options.amp


def batch_size(planned: int | None, rows: int, *, cuda: bool) -> int:
    """The plan's batch size, at most half a fold's rows (rounded down to a power of two, at least 2)."""
    batch = planned or (256 if cuda else 64)
    cap = 1 << max(1, (rows // 2).bit_length() - 1)
    return max(2, min(batch, cap))


TEXT_BATCH = 256
"""Rows per step of a text model: each step updates the whole n-gram table, so fewer, larger steps."""
TEXT_LR = 2e-2
"""A linear model over sparse TF-IDF rows wants larger steps than an MLP on standardised features."""


def _config(options: AgentOptions, task: Task, rows: int) -> TrainConfig:
    device = _device(options)
    cuda = device.type == "cuda"
    text = bool(task.text_columns)
    planned = max(options.batch_size or 0, TEXT_BATCH) if text else options.batch_size
    return TrainConfig(
        device=device,
        batch_size=batch_size(planned, rows, cuda=cuda),
        amp=_amp(options, device),
        num_workers=options.num_workers if options.num_workers is not None else min(4, (os.cpu_count() or 1) - 1),
        max_epochs=options.max_epochs or DEFAULT_MAX_EPOCHS,
        patience=options.patience,
        # Measured on the demo data: regression on a few hundred rows wants smaller steps than classification.
        lr=TEXT_LR if text else 1e-3 if task.kind is Kind.REGRESSION else 3e-3,
        weight_decay=weight_decay_for(task.images),
        margin=options.margin,
        images=task.images,
        text=text,
    )


def _prior(dataset: Dataset) -> NDArray[np.float64]:
    """Test outputs that need no model: class frequencies, or the mean target (zero on the model's scale)."""
    rows = len(dataset.test_ids)
    if dataset.y_class is not None:
        counts = np.bincount(dataset.y_class, minlength=dataset.outputs) + 1.0
        return np.tile(counts / counts.sum(), (rows, 1))
    if dataset.multilabel:
        assert dataset.y_value is not None
        share = (dataset.y_value.sum(axis=0) + 1.0) / (len(dataset.y_value) + 2.0)
        return np.tile(share.astype(np.float64), (rows, 1))
    return np.zeros((rows, dataset.outputs))


def _describe(task: Task, dataset: Dataset, config: TrainConfig) -> str:
    features, _ = dataset.inputs(images=False)
    encoded = f"{features.shape[1] - dataset.text_width} encoded features from {len(task.feature_columns)} columns" + (
        f", n-grams of {', '.join(task.text_columns)}" if task.text_columns else ""
    )
    images = "images " + "×".join(map(str, dataset.x_train.shape[1:]))
    if not task.images:
        inputs = encoded
    elif dataset.features_train is None:
        inputs = images
    else:
        inputs = f"{images} and {encoded}"
    return (
        f"task: {task.kind.value} of {', '.join(task.target_columns)} (id {task.id_column}), metric {task.metric} "
        f"({'higher' if task.higher_is_better else 'lower'} is better); {len(dataset.x_train)} train rows, "
        f"{len(dataset.test_ids)} test rows, {inputs}; {config.device.type}, batch {config.batch_size}, "
        f"amp {config.amp}"
    )


BUDGET_EXHAUSTED = ExitCode.TIMEOUT
"""The agent's exit when its budget rule cut the run short (as GNU timeout's)."""


def _hand_in_sample(options: AgentOptions, scratch: Path) -> None:
    """The sample submission on disk before anything else: whatever the data turn out to be, a file is handed in."""
    try:
        sample = sample_submission(options.data_dir, scratch)
        text = sample.read_text(encoding="utf-8-sig")
    except (LayoutError, OSError, UnicodeDecodeError) as exc:
        progress.message(f"no sample submission to hand in first: {exc}", "warning")
        return
    write_atomic(options.submission_path, text)
    rows = max(0, len(text.splitlines()) - 1)
    progress.submission(options.submission_path, rows=rows, producer="the sample submission")
    progress.message(f"the sample submission ({sample.name}) stands until a model replaces it")


def _hand_in_special(options: AgentOptions, solved: SpecialResult) -> None:
    """A special solver's submission, its score beside the floor it beat, in the log and the events."""
    for note in solved.notes:
        progress.message(note)
    write_atomic(options.submission_path, render_rows(solved.header, solved.rows))
    progress.submission(options.submission_path, rows=len(solved.rows), producer=f"baseline {solved.model}")
    floor = "" if solved.fallback_score is None else f" (its floor: {solved.fallback_score:.5g})"
    if solved.cv_score is None:
        progress.message(f"{solved.kind}: {solved.model}, not scored on held-out rows{floor}", "warning")
        progress.metric(solved.metric, higher_is_better=solved.higher_is_better)
        return
    progress.message(f"{solved.kind}: {solved.model}, held-out {solved.metric} {solved.cv_score:.5g}{floor}")
    progress.metric(solved.metric, solved.cv_score, higher_is_better=solved.higher_is_better)


def run(options: AgentOptions, stop: StopSignal, *, workers: int = 1) -> int:
    """Train and write the submission; 0 when every fold ran, 124 when the time budget cut the run short."""
    with tempfile.TemporaryDirectory(prefix="mle-ci-baseline-") as scratch:
        _hand_in_sample(options, Path(scratch))
        remaining = progress.remaining()
        deadline = None if math.isinf(remaining) else time.monotonic() + max(0.0, remaining - options.margin)
        solved = solve_special(options.data_dir, Path(scratch), seed=options.seed, deadline=deadline)
        if solved is not None:
            _hand_in_special(options, solved)
            return 0
        competition = read_competition(
            options.data_dir,
            metric=options.metric,
            higher_is_better=options.higher_is_better,
            scratch=Path(scratch),
        )
        return _learn(options, stop, competition, workers)


def _learn(options: AgentOptions, stop: StopSignal, competition: Competition, workers: int) -> int:
    """The general learner: folds of the task's candidate models, the submission rewritten after each fold."""
    task = competition.task
    for note in (*competition.notes, *task.notes):
        progress.message(note)
    progress.metric(task.metric, higher_is_better=task.higher_is_better)
    dataset = build_dataset(competition, threads=max(1, options.num_workers or (os.cpu_count() or 1)), stop=stop.is_set)
    prior = _prior(dataset)
    # A valid file from the start: whatever happens next, something gradable is on disk.
    write_submission(options, task, dataset, Ensemble(prior=prior), competition.sample)

    count = len(dataset.x_train)
    folds = min(options.folds, count)
    config = _config(options, task, count - count // folds)
    _announce(task, dataset, config, options, workers)
    candidates = Candidates(
        candidate_names(task, trees=trees_fit(dataset)),
        rows=count,
        outputs=dataset.outputs,
        prior=prior,
        score_rows=lambda rows: scorer(task, dataset, rows),
        higher_is_better=task.higher_is_better,
    )
    durations: list[float] = []
    splits = list(enumerate(fold_indices(count, folds, options.seed, dataset.y_class), start=1))
    # Several workers train every fold (mle_ci.agents.baseline.parallel); the loop is the one-after-another way.
    budget_cut = workers > 1 and _in_parallel(
        splits, workers, options=options, competition=competition, dataset=dataset, config=config,
        candidates=candidates, stop=stop,
    )  # fmt: skip
    for fold, val_rows in splits if workers == 1 else ():
        if stop.is_set():
            break
        decision = decide_fold(durations, progress.remaining(), margin=options.margin)
        if not decision.start:
            progress.message(f"not starting fold {fold}/{folds}: {decision.reason}", "warning")
            budget_cut = True
            break
        progress.fold_start(fold, folds)
        started = time.perf_counter()
        seed = options.seed * 1000 + fold
        work = fit_fold_models(
            fold, val_rows, options=options, task=task, dataset=dataset, config=config, seed=seed, stop=stop
        )
        budget_cut = budget_cut or bool(work.cut)  # the clock's doing, unless a stop request (handled below)
        refusal = candidates.refusal(work.fits, work.cut)
        if refusal is not None:
            progress.message(f"fold {fold}: {refusal}, its models are not used", "warning")
            break
        seconds = time.perf_counter() - started
        durations.append(seconds)
        record_fold(
            fold, val_rows, list(work.fits), seconds, total=folds, options=options, competition=competition,
            dataset=dataset, candidates=candidates,
        )  # fmt: skip
        if work.cut:
            break
    if candidates.folds:
        _report_choice(task, candidates)
    if stop.is_set():
        progress.message(f"{stop.name()}: stopped with a submission from {candidates.folds} fold model(s)", "warning")
        return 0
    if budget_cut:
        # As GNU timeout does: the budget ran out (the submission on disk is still valid, from the folds done).
        progress.message(f"the time budget ran out: submission from {candidates.folds} of {folds} folds", "warning")
        return BUDGET_EXHAUSTED
    return 0


def _report_choice(task: Task, candidates: Candidates) -> None:
    """The run's score: the chosen model's over every out-of-fold row; beside it, what the others scored."""
    scores = candidates.scores()
    if len(candidates.names) > 1:
        listed = " · ".join(f"{name} {score:.5g}" for name, score in scores.items())
        dropped = f" ({', '.join(sorted(candidates.dropped))} dropped out)" if candidates.dropped else ""
        progress.message(
            f"out-of-fold {task.metric}: {listed}{dropped}; the submission is the {candidates.chosen}'s fold mean"
        )
    progress.metric(task.metric, scores[candidates.chosen], higher_is_better=task.higher_is_better)


def _in_parallel(splits: list[tuple[int, NDArray[np.int64]]], workers: int, **context: Any) -> bool:
    """The folds on ``workers`` processes; True when the time budget cut the run short."""
    return train_in_parallel(splits, workers=workers, **context)


def _announce(task: Task, dataset: Dataset, config: TrainConfig, options: AgentOptions, workers: int) -> None:
    """Say what will be trained, and what was left aside."""
    progress.message(_describe(task, dataset, config))
    if dataset.dropped:
        progress.message(f"{dataset.dropped} train row(s) without a target or image left out", "warning")
    if config.device.type == "cuda" and (options.gpu_count or 1) > 1 and workers == 1:
        progress.message(f"the plan has {options.gpu_count} GPUs; the baseline trains on one", "warning")


def main(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, *, stop: StopSignal | None = None
) -> int:
    """Exit codes: 0 with a valid submission, 1 when the task cannot be handled, 2 for bad flags or variables."""
    if stop is None:
        stop = StopSignal()
        stop.install()
    try:
        options = load_options(argv, os.environ if environ is None else environ)
        workers = fold_workers(os.environ if environ is None else environ, options)
    except OptionsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    try:
        return run(options, stop, workers=workers)
    except TaskError as exc:
        progress.message(str(exc), level="error")
        print(f"Error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except InterruptedError:
        progress.message(f"{stop.name()} while loading the data: no submission written", "error")
        return 1
