"""One fold's training: batches, mixed precision, early stopping on the competition metric, best-state keeping."""

from __future__ import annotations

import contextlib
import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler
from torch.utils.data import Dataset as TorchDataset

from mle_ci import progress
from mle_ci.agents.baseline.metrics import better
from mle_ci.agents.baseline.models import TabularEnsemble

MIN_STEPS_PER_EPOCH = 40
"""A tabular epoch is at least this many optimizer steps (several passes over a tiny fold), so that early stopping
judges progress rather than the noise of a handful of updates. An image epoch is one pass: the CNN's steps cost
more, and it learned as well that way in measurements (bench/baseline_quality.py)."""


CUT_SHORT = frozenset({"deadline", "stop request"})
"""How a fold's training ends when it did not finish on its own terms (early stopping or the epoch limit)."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train: the plan (device, batch, precision, workers) and the schedule (epochs, patience, optimizer)."""

    device: torch.device
    batch_size: int
    amp: str
    num_workers: int
    max_epochs: int
    patience: int
    lr: float
    weight_decay: float
    margin: float
    images: bool
    text: bool = False
    """Rows end in a text block: an epoch is one pass, as for images (each step updates a large n-gram table)."""


@dataclass
class EarlyStopping:
    """Tracks the best epoch; ties on a coarse metric (accuracy) go to the lower validation loss."""

    higher_is_better: bool
    patience: int
    best_score: float | None = None
    best_loss: float = math.inf
    best_epoch: int = 0
    waited: int = 0

    def update(self, epoch: int, score: float, loss: float) -> bool:
        """Record an epoch's validation score and loss; True when it is the best so far."""
        improved = not math.isnan(score) and (
            self.best_score is None
            or better(score, self.best_score, self.higher_is_better)
            or (score == self.best_score and loss < self.best_loss)
        )
        if improved:
            self.best_score, self.best_loss, self.best_epoch, self.waited = score, loss, epoch, 0
        else:
            self.waited += 1
        return improved

    @property
    def exhausted(self) -> bool:
        return self.waited >= self.patience


@dataclass(frozen=True)
class FoldOutcome:
    """A fold's best model (None when no epoch finished), its epoch and score, and why training ended."""

    state: dict[str, Tensor] | None
    best_epoch: int
    best_score: float | None
    epochs: int
    ended: str


class _Batches(TorchDataset[tuple[Tensor, Tensor]]):
    """Whole batches by a list of positions: one fetch per batch, none of the per-row collation cost."""

    def __init__(self, x: NDArray[Any], y: NDArray[Any], rows: NDArray[np.int64]) -> None:
        self.x, self.y, self.rows = x, y, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, positions: list[int]) -> tuple[Tensor, Tensor]:
        picked = self.rows[np.asarray(positions)]
        return torch.from_numpy(self.x[picked]), torch.from_numpy(self.y[picked])


def autocast(config: TrainConfig, *, inference: bool = False) -> contextlib.AbstractContextManager[Any]:
    """bf16 or fp16 autocast on CUDA as the plan says; full precision elsewhere.

    ``inference``: a table's predictions are made in full precision even on CUDA. bf16 keeps 8 bits of mantissa,
    so outputs near each other round to the same value: ties that cost AUC and blur the early-stopping score, for
    a forward pass over tabular rows that costs next to nothing. A CNN's predictions keep the plan's precision.
    """
    if inference and not config.images:
        return contextlib.nullcontext()
    if config.device.type == "cuda" and config.amp in ("bf16", "fp16"):
        return torch.autocast("cuda", dtype=torch.bfloat16 if config.amp == "bf16" else torch.float16)
    return contextlib.nullcontext()


def _ignore_stop_signals(worker: int) -> None:
    """DataLoader workers leave SIGTERM/SIGINT to the main process, which stops them in order.

    The harness signals the whole process group; a worker killed by it would make the main process raise.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _loader(
    x: NDArray[Any], y: NDArray[Any], rows: NDArray[np.int64], config: TrainConfig, seed: int
) -> DataLoader[Any]:
    generator = torch.Generator().manual_seed(seed)
    sampler = BatchSampler(RandomSampler(range(len(rows)), generator=generator), config.batch_size, drop_last=False)
    cuda = config.device.type == "cuda"
    # Workers only feed a GPU; on CPU they would compete with the training threads for the same cores.
    workers = config.num_workers if cuda else 0
    return DataLoader(
        _Batches(x, y, rows),
        batch_size=None,
        sampler=sampler,
        num_workers=workers,
        pin_memory=cuda,
        persistent_workers=workers > 0,
        worker_init_fn=_ignore_stop_signals if workers else None,
    )


def shift_images(x: Tensor, pixels: int) -> Tensor:
    """Translate each image by up to ``pixels`` in each direction (zero fill): cheap augmentation on any device."""
    batch, _, height, width = x.shape
    padded = nn.functional.pad(x, (pixels, pixels, pixels, pixels))
    dy = torch.randint(0, 2 * pixels + 1, (batch, 1), device=x.device)
    dx = torch.randint(0, 2 * pixels + 1, (batch, 1), device=x.device)
    rows = (dy + torch.arange(height, device=x.device)).unsqueeze(2)
    cols = (dx + torch.arange(width, device=x.device)).unsqueeze(1)
    picked = padded[torch.arange(batch, device=x.device)[:, None, None], :, rows, cols]
    return picked.permute(0, 3, 1, 2).contiguous()


def predict(model: nn.Module, x: NDArray[Any], config: TrainConfig) -> NDArray[np.float64]:
    """The model's outputs on ``x``: class probabilities for classification, raw values for regression."""
    model.eval()
    outputs: list[Tensor] = []
    step = max(256, config.batch_size * 4)
    with torch.inference_mode(), autocast(config, inference=True):
        for start in range(0, len(x), step):
            batch = torch.from_numpy(x[start : start + step]).to(config.device, non_blocking=True)
            outputs.append(model(batch).float().cpu())
    return torch.cat(outputs).double().numpy() if outputs else np.zeros((0, 0))


@dataclass
class _Trainer:
    """One fold's moving parts: model, optimizer, loss, batches, and the gradient scaler for fp16."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: nn.Module
    loader: DataLoader[Any]
    passes: int
    shift: int
    scaler: torch.amp.GradScaler | None
    config: TrainConfig

    def step(self, xb: Tensor, yb: Tensor) -> float:
        """One optimizer step on a batch; its loss times its rows."""
        inputs = xb.to(self.config.device, non_blocking=True)
        target = yb.to(self.config.device, non_blocking=True)
        if self.shift:
            inputs = shift_images(inputs, self.shift)
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.config):
            if isinstance(self.model, TabularEnsemble):
                # each member learns on its own loss: the mean of theirs, not the loss of their average
                # (members × rows stacked as rows; the same batch's targets for each member)
                members = self.model.member_outputs(inputs).float()
                repeats = (len(members),) + (1,) * (target.dim() - 1)
                loss = self.loss_fn(members.flatten(0, 1), target.repeat(repeats))
            else:
                loss = self.loss_fn(self.model(inputs).float(), target)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        return float(loss.detach()) * len(yb)

    def epoch(self, stop: Callable[[], bool]) -> float | None:
        """Mean training loss of one epoch, or None when a stop request cut it short."""
        self.model.train()
        total, count = 0.0, 0
        for _ in range(self.passes):
            for xb, yb in self.loader:
                if stop():
                    return None
                if len(yb) < 2:
                    continue  # batch norm cannot train on a single row
                total += self.step(xb, yb)
                count += len(yb)
        return total / max(1, count)


def train_fold(
    model: nn.Module,
    *,
    fold: int,
    x: NDArray[Any],
    y: NDArray[Any],
    train_rows: NDArray[np.int64],
    val_rows: NDArray[np.int64],
    classification: bool,
    score: Callable[[NDArray[np.float64]], float],
    multilabel: bool = False,
    higher_is_better: bool,
    config: TrainConfig,
    seed: int,
    stop: Callable[[], bool],
    report: bool = True,
) -> FoldOutcome:
    """Train until early stopping, the epoch limit, the deadline or a stop request; keep the best state.

    ``report`` False trains silently (no epoch or early-stop events): a second model of the same fold, whose
    epochs would read as a restart of the first one's.
    """
    model.to(config.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    loader = _loader(x, y, train_rows, config, seed)
    min_steps = 1 if config.images or config.text else MIN_STEPS_PER_EPOCH
    trainer = _Trainer(
        model=model,
        optimizer=optimizer,
        loss_fn=nn.CrossEntropyLoss() if classification else nn.BCEWithLogitsLoss() if multilabel else nn.MSELoss(),
        loader=loader,
        passes=max(1, math.ceil(min_steps / max(1, len(loader)))),
        shift=max(1, min(x.shape[-2:]) // 16) if config.images else 0,
        scaler=torch.amp.GradScaler("cuda") if config.device.type == "cuda" and config.amp == "fp16" else None,
        config=config,
    )
    y_val = torch.from_numpy(y[val_rows])
    stopper = EarlyStopping(higher_is_better, config.patience)
    best: dict[str, Tensor] | None = None
    last_seconds = 0.0
    epoch = 0
    ended = "epoch limit"
    for epoch in range(1, config.max_epochs + 1):
        if progress.should_stop(config.margin + last_seconds):
            ended = "deadline"
            if report:
                progress.message(
                    f"fold {fold}: stopping before epoch {epoch}, the time budget is nearly spent", "warning"
                )
            break
        started = time.perf_counter()
        loss = None if stop() else trainer.epoch(stop)
        if loss is None:
            ended = "stop request"  # an interrupted epoch is not evaluated: the best state so far stands
            break
        out = torch.from_numpy(predict(model, x[val_rows], config))
        val_loss = float(trainer.loss_fn(out.float(), y_val))
        val_score = score(
            torch.softmax(out, dim=1).numpy()
            if classification
            else torch.sigmoid(out).numpy()
            if multilabel
            else out.numpy()
        )
        scheduler.step(val_loss)
        last_seconds = time.perf_counter() - started
        if report:
            progress.epoch(
                epoch,
                config.max_epochs,
                loss=loss,
                val_score=val_score,
                seconds=last_seconds,
                fold=fold,
                val_loss=val_loss,
            )
        if stopper.update(epoch, val_score, val_loss):
            best = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if stopper.exhausted:
            ended = "early stopping"
            if report:
                progress.early_stop(stopper.best_score, fold=fold, epoch=epoch)
            break
    if best is not None:
        model.load_state_dict(best)
    return FoldOutcome(best, stopper.best_epoch, stopper.best_score, epoch, ended)
