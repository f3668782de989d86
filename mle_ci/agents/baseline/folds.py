"""One fold's work, shared by the agent's one-after-another loop and its fold workers: each candidate model
trained on the fold's rows and scored on the rest (networks by ``train_fold``, trees by ``trees.fit_trees``), its
checkpoint saved, then the fold recorded into the submission.

Imported by :mod:`mle_ci.agents.baseline.agent` and :mod:`mle_ci.agents.baseline.parallel`, never the other way.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from mle_ci import progress
from mle_ci.agents.baseline.data import Dataset
from mle_ci.agents.baseline.deadline import StopSignal
from mle_ci.agents.baseline.metrics import classification_score, multilabel_score, regression_score
from mle_ci.agents.baseline.models import IMAGE_CANDIDATES, TABULAR_CANDIDATES, TEXT_CANDIDATES, build_model
from mle_ci.agents.baseline.options import AgentOptions
from mle_ci.agents.baseline.selection import CandidateFit, Candidates
from mle_ci.agents.baseline.submission import Ensemble, render, write_atomic
from mle_ci.agents.baseline.task import Competition, Task
from mle_ci.agents.baseline.text import l2_strength, starting_bias
from mle_ci.agents.baseline.train import CUT_SHORT, FoldOutcome, TrainConfig, predict, train_fold
from mle_ci.agents.baseline.trees import TREE_CANDIDATES, fit_trees, trees_fit


def candidate_config(config: TrainConfig, candidate: str) -> TrainConfig:
    """The task's training settings for one candidate: images train differently from feature rows (one step per
    batch, shifted copies, lighter weight decay) when a competition has both."""
    images = candidate in IMAGE_CANDIDATES
    if images == config.images:
        return config
    return dataclasses.replace(config, images=images, weight_decay=weight_decay_for(images))


def weight_decay_for(images: bool) -> float:
    """AdamW's decay: lighter for a CNN, whose shifted copies already regularise, than for feature rows."""
    return 1e-2 if images else 5e-2


def _outputs(model: torch.nn.Module, x: NDArray[Any], dataset: Dataset, config: TrainConfig) -> NDArray[np.float64]:
    """Model outputs: class probabilities, or regression values on the model's (scaled) target scale."""
    raw = predict(model, x, config)
    if dataset.multilabel:
        return torch.sigmoid(torch.from_numpy(raw)).numpy()
    return torch.softmax(torch.from_numpy(raw), dim=1).numpy() if dataset.y_class is not None else raw


def _submission_scale(outputs: NDArray[np.float64], dataset: Dataset) -> NDArray[np.float64]:
    """Probabilities as they are; regression values back in the target's units."""
    return outputs if dataset.scaler is None else dataset.scaler.inverse(outputs)


def scorer(task: Task, dataset: Dataset, rows: NDArray[np.int64]) -> Callable[[NDArray[np.float64]], float]:
    """Score the model outputs of the rows ``rows`` in the competition metric."""
    if dataset.y_class is not None:
        labels = dataset.y_class[rows]
        return lambda proba: classification_score(task.metric, labels, proba)
    if dataset.multilabel:
        assert dataset.y_value is not None
        answers = dataset.y_value[rows].astype(np.float64)
        return lambda proba: multilabel_score(task.metric, answers, proba)
    scaler, truth = dataset.scaler, dataset.y_value
    assert scaler is not None
    assert truth is not None
    target = scaler.inverse(truth[rows].astype(np.float64))
    return lambda out: regression_score(task.metric, target, scaler.inverse(out))


def write_submission(options: AgentOptions, task: Task, dataset: Dataset, ensemble: Ensemble, sample: Any) -> None:
    values = _submission_scale(ensemble.mean(), dataset)
    write_atomic(options.submission_path, render(task, sample, dataset.test_ids, values))
    progress.submission(options.submission_path, rows=len(dataset.test_ids), folds=ensemble.folds)


def _fit_fold(
    fold: int,
    val_rows: NDArray[np.int64],
    *,
    task: Task,
    dataset: Dataset,
    config: TrainConfig,
    seed: int,
    stop: StopSignal,
    candidate: str = "mlp",
    report: bool = True,
) -> tuple[torch.nn.Module, FoldOutcome]:
    """A fresh model trained on every row outside ``val_rows``, with the best validation state loaded."""
    y = dataset.y_class if dataset.y_class is not None else dataset.y_value
    assert y is not None
    images = candidate in IMAGE_CANDIDATES
    x, _ = dataset.inputs(images)
    train_rows = np.setdiff1d(np.arange(len(y)), val_rows)
    torch.manual_seed(seed)
    model = build_model(
        torch.Size(x.shape[1:]),
        dataset.outputs,
        images=images,
        regression=dataset.y_class is None,
        **_image_stats(dataset) if images else {"candidate": candidate, "text_width": dataset.text_width},
        **_text_start(dataset, y[train_rows]) if candidate in TEXT_CANDIDATES else {},
    )
    outcome = train_fold(
        model,
        fold=fold,
        x=x,
        y=y,
        train_rows=train_rows,
        val_rows=val_rows,
        classification=dataset.y_class is not None,
        multilabel=dataset.multilabel,
        score=scorer(task, dataset, val_rows),
        higher_is_better=task.higher_is_better,
        config=candidate_config(config, candidate),
        seed=seed,
        stop=stop.is_set,
        report=report,
    )
    return model, outcome


def candidate_names(task: Task, *, trees: bool = True) -> tuple[str, ...]:
    """The models each fold trains for this task, the default first: feature rows train the MLPs, the linear model
    and (with ``trees``, see ``trees.trees_fit``) boosted trees; with images and feature columns both, the CNN and
    the feature models, in the order ``Task.features_first`` gives; free text its own models."""
    if task.text_columns and not task.images:
        return tuple(TEXT_CANDIDATES)
    features = (*TABULAR_CANDIDATES, *(TREE_CANDIDATES if trees else ()))
    if not task.images:
        return features
    if not task.feature_columns:
        return tuple(IMAGE_CANDIDATES)
    cnn = tuple(IMAGE_CANDIDATES)
    return features + cnn if task.features_first else cnn + features


def _fit_trees(
    fold: int, val_rows: NDArray[np.int64], *, options: AgentOptions, task: Task, dataset: Dataset, seed: int
) -> CandidateFit | None:
    """The fold's boosted trees, scored on its validation rows; None when the deadline leaves no time for them (a
    fit cannot be cut midway). No checkpoint: they are not a network."""
    if progress.should_stop(options.margin):
        progress.message(f"fold {fold}: the gbdt model was cut short (deadline)")
        return None
    train_rows = np.setdiff1d(np.arange(len(dataset.x_train)), val_rows)
    tree = fit_trees(dataset, train_rows=train_rows, val_rows=val_rows, seed=seed)
    score = scorer(task, dataset, val_rows)(tree.val_outputs)
    return CandidateFit("gbdt", tree.rounds, score, tree.val_outputs, tree.test_outputs)


@dataclasses.dataclass(frozen=True)
class FoldWork:
    """One fold's training: how its first candidate ended, the usable fits, the candidates cut short."""

    outcome: FoldOutcome
    fits: tuple[CandidateFit, ...]
    cut: tuple[str, ...]


def fit_fold_models(
    fold: int,
    val_rows: NDArray[np.int64],
    *,
    options: AgentOptions,
    task: Task,
    dataset: Dataset,
    config: TrainConfig,
    seed: int,
    stop: StopSignal,
) -> FoldWork:
    """Every candidate model of the fold, trained in turn on the same rows: how the first one ended, the usable
    fits, and the candidates cut short.

    The first candidate reports its epochs; the others train silently. A later candidate cut short (deadline or
    stop request) is left out: it would be compared on a model that did not finish. Each fit's best state is saved
    as the fold's checkpoint (``fold-N.pt`` for the first candidate, ``fold-N-NAME.pt`` for the others).
    """
    first: FoldOutcome | None = None
    fits: list[CandidateFit] = []
    cut: list[str] = []
    for index, name in enumerate(candidate_names(task, trees=trees_fit(dataset))):
        if index and stop.is_set():
            break
        if name in TREE_CANDIDATES:
            tree = _fit_trees(fold, val_rows, options=options, task=task, dataset=dataset, seed=seed)
            if tree is None:
                cut.append(name)
            else:
                fits.append(tree)
            continue
        model, outcome = _fit_fold(
            fold, val_rows, task=task, dataset=dataset, config=config, seed=seed, stop=stop,
            candidate=name, report=index == 0,
        )  # fmt: skip
        first = first or outcome
        if outcome.ended in CUT_SHORT:
            cut.append(name)
        if outcome.state is None or outcome.best_score is None or (index and outcome.ended in CUT_SHORT):
            if index == 0:
                break
            progress.message(f"fold {fold}: the {name} model was cut short ({outcome.ended})")
            continue
        x_train, x_test = dataset.inputs(name in IMAGE_CANDIDATES)
        val = _outputs(model, x_train[val_rows], dataset, candidate_config(config, name))
        test = _outputs(model, x_test, dataset, candidate_config(config, name))
        fits.append(CandidateFit(name, outcome.best_epoch, outcome.best_score, val, test))
        suffix = "" if index == 0 else f"-{name}"
        _checkpoint(options, outcome.state, fold, outcome.best_epoch, outcome.best_score, suffix=suffix)
    assert first is not None
    return FoldWork(first, tuple(fits), tuple(cut))


def record_fold(
    fold: int,
    val_rows: NDArray[np.int64],
    fits: list[CandidateFit],
    seconds: float,
    *,
    total: int,
    options: AgentOptions,
    competition: Competition,
    dataset: Dataset,
    candidates: Candidates,
) -> None:
    """A finished fold into the submission: its models added, the choice made again, the fold (re)reported.

    When the choice changes, the earlier folds are reported again with the new choice's scores: the harness keeps
    a fold's last report, so the folds, the CV mean and the submission always describe the same models.
    """
    task = competition.task
    choice = candidates.add(fold, val_rows, fits, seconds)
    if choice.changed:
        scores = " · ".join(f"{name} {score:.5g}" for name, score in choice.scores.items())
        progress.message(
            f"out-of-fold {task.metric} after fold {fold}: {scores}; the submission uses the {choice.name}"
        )
    for index in choice.report:
        fit = candidates.fit(index)
        progress.fold(
            index,
            fit.best_score,
            total=total,
            best_epoch=fit.best_epoch,
            seconds=candidates.seconds[index],
            metric=task.metric,
            higher_is_better=task.higher_is_better,
            model=fit.name if len(candidates.names) > 1 else None,
        )
    write_submission(options, task, dataset, candidates.ensemble, competition.sample)


def _text_start(dataset: Dataset, y: NDArray[Any]) -> dict[str, Any]:
    """A text model's penalty and starting outputs from the fold's training targets: LogisticRegression's L2 at
    ``text.INVERSE_L2`` for that many rows, and the targets' prior as the bias, so that a rare label's n-gram
    weights are not spent learning that it is rare (bench/text_model.py measures both)."""
    return {
        "text_l2": l2_strength(len(y)),
        "text_bias": starting_bias(y, dataset.outputs, multilabel=dataset.multilabel),
    }


def _image_stats(dataset: Dataset) -> dict[str, torch.Tensor]:
    """Per-channel mean and deviation of the training images, in 0..1 units."""
    pixels = torch.from_numpy(dataset.x_train).float().div_(255.0).transpose(0, 1).flatten(1)
    return {"mean": pixels.mean(dim=1), "std": pixels.std(dim=1).clamp_min(1e-3)}


def _checkpoint(
    options: AgentOptions, state: dict[str, torch.Tensor], fold: int, epoch: int, score: float, *, suffix: str = ""
) -> None:
    if options.checkpoint_dir is None:
        return
    try:
        options.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = options.checkpoint_dir / f"fold-{fold}{suffix}.pt"
        temp = path.with_suffix(".pt.tmp")
        torch.save(state, temp)
        os.replace(temp, path)
    except OSError as exc:
        progress.message(f"cannot save the fold {fold} checkpoint: {exc}", "warning")
        return
    progress.checkpoint(path, fold=fold, epoch=epoch, score=score)
