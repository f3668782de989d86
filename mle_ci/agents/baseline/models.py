"""The networks: MLPs with a linear skip, or linear models, averaged as one ensemble for tables; a CNN for images."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from mle_ci.agents.baseline.text import TextNet

CLIP = 6.0
"""The networks clip standardised features to this many deviations as they take them in, so one outlier cannot
dominate a batch; the trees take the features unclipped (to them a far value is just further along, and clipping
would merge it with every other far one). Without the clip (breast cancer's largest tumours reach 10.5 deviations)
the MLPs alone met the goal on one development split more, but with the linear model beside them on three fewer
(bench/baseline_quality.py --split-seeds 1-16)."""


class TabularNet(nn.Module):
    """A linear model plus an MLP's correction: on small or nearly linear data the linear part carries the fit.

    No batch norm: on a few hundred rows its batch statistics add noise that cost log loss and RMSE in
    measurements (bench/baseline_quality.py), while dropout regularises the hidden layers well enough.
    """

    def __init__(self, inputs: int, outputs: int, *, hidden: tuple[int, ...] = (256, 128), dropout: float = 0.3):
        super().__init__()
        layers: list[nn.Module] = []
        width = inputs
        for size in hidden:
            layers += [nn.Linear(width, size), nn.SiLU(), nn.Dropout(dropout)]
            width = size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, outputs)
        self.linear = nn.Linear(inputs, outputs)

    def forward(self, x: Tensor) -> Tensor:
        x = x.clamp(-CLIP, CLIP)
        out: Tensor = self.head(self.body(x)) + self.linear(x)
        return out


class TabularEnsemble(nn.Module):
    """Several MLPs trained side by side; their outputs averaged (probabilities for classification, else values).

    The members differ by initialisation and dropout masks; each is trained on its own loss (see ``member_outputs``),
    and averaging them removes much of the variance a single small-data MLP has. ``forward`` gives what a single
    network would: logits (the log of the members' mean probabilities, whose softmax is that mean) for
    classification, values for regression.
    """

    def __init__(
        self,
        inputs: int,
        outputs: int,
        *,
        members: int,
        classification: bool,
        dropout: float = 0.3,
        hidden: tuple[int, ...] = (256, 128),
    ):
        super().__init__()
        if members < 1:
            raise ValueError(f"an ensemble needs at least one member, not {members}")
        self.classification = classification
        self.members = nn.ModuleList(
            TabularNet(inputs, outputs, hidden=hidden, dropout=dropout) for _ in range(members)
        )

    def member_outputs(self, x: Tensor) -> Tensor:
        """Each MLP's raw outputs, stacked: members × rows × outputs."""
        return torch.stack([member(x) for member in self.members])

    def forward(self, x: Tensor) -> Tensor:
        raw = self.member_outputs(x).float()
        if not self.classification:
            mean: Tensor = raw.mean(dim=0)
            return mean
        proba = torch.softmax(raw, dim=-1).mean(dim=0)
        return torch.log(proba.clamp_min(torch.finfo(torch.float32).tiny))


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ConvNet(nn.Module):
    """Stages of two 3×3 convolutions; a stage halves the image only while it is at least 8 pixels on a side."""

    def __init__(
        self,
        channels: int,
        height: int,
        width: int,
        outputs: int,
        *,
        mean: Tensor,
        std: Tensor,
        widths: tuple[int, ...] = (16, 32, 64, 128),
        dropout: float = 0.3,
    ):
        super().__init__()
        # uint8 images go in; normalising here keeps the stored data four times smaller than float32.
        self.mean: Tensor
        self.std: Tensor
        self.register_buffer("mean", mean.reshape(1, channels, 1, 1).float())
        self.register_buffer("std", std.reshape(1, channels, 1, 1).float())
        stages: list[nn.Module] = []
        side = min(height, width)
        cin = channels
        for cout in widths:
            stages += [_conv(cin, cout), _conv(cout, cout)]
            cin = cout
            if side < 8:
                break
            stages.append(nn.MaxPool2d(2))
            side //= 2
        self.features = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, outputs))
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: Tensor) -> Tensor:
        z = (x.float() / 255.0 - self.mean) / self.std
        out: Tensor = self.head(self.pool(self.features(z)))
        return out


MEMBERS = 3
"""MLPs per tabular fold model. Measured on the tabular demos' splits (seeds 2024, 1, 2, 3; bench/baseline_quality.py
``--split-seed``): their average met the goal 9 times of 12 where one MLP did 7 times, and it beat blending in an
exactly fitted L2 linear model (softmax regression or ridge) weighted on each fold's few validation rows; five
members did no better than three."""

TABULAR_CANDIDATES: dict[str, tuple[int, ...]] = {"mlp": (256, 128), "linear": ()}
"""The tabular models every fold trains, by name, and their hidden layers: the MLPs first (the default, and the one
whose epochs are reported), then the same ensemble without hidden layers, a linear model. The run keeps the one
with the better out-of-fold score (:mod:`mle_ci.agents.baseline.selection`): on small, nearly linear data (breast
cancer) the linear model often ranks better, elsewhere the MLPs win, and only out-of-fold rows can tell which. On
sixteen development splits of the tabular demos (bench/baseline_quality.py --split-seeds 1-16) the choice met the
goal 33 times of 48 where the MLPs alone did 29; averaging the two instead also did 33, with a worse wine."""

IMAGE_CANDIDATES: dict[str, tuple[int, ...]] = {"cnn": ()}
"""Images train one kind of model: the CNN (its layers are fixed by the image size, not by this table); beside
feature columns, the tabular candidates train on those and compete with it (``agent.candidate_names``)."""

REGRESSION_DROPOUT = 0.5
"""Regression targets are noisier than labels: more dropout keeps the MLP's correction to the linear part small."""


TEXT_CANDIDATES: dict[str, tuple[int, int]] = {"text-linear": (0, 20), "text-mlp": (64, 16)}
"""Rows with free text train two models on its n-grams: (hidden width, hashed slots as a power of two). A linear
model (logistic or ridge regression on TF-IDF, the features beside it linear too) over the encoder's 2**20 slots,
and an MLP head over the slots folded to 2**16, whose 64-wide table would cost 64 times more per step at 2**20."""


def build_model(
    x: torch.Size,
    outputs: int,
    *,
    images: bool,
    regression: bool = False,
    mean: Tensor | None = None,
    std: Tensor | None = None,
    candidate: str = "mlp",
    text_width: int = 0,
    text_l2: float = 0.0,
    text_bias: NDArray[np.float32] | None = None,
) -> nn.Module:
    """The network for inputs of shape ``x`` (one row, without the batch dimension); tables: of a named candidate;
    rows ending in a text block of ``text_width`` values: a text model, with LogisticRegression's penalty
    ``text_l2`` (:func:`~mle_ci.agents.baseline.text.l2_strength`) and its outputs starting at ``text_bias``
    (:func:`~mle_ci.agents.baseline.text.starting_bias`)."""
    if images:
        channels, height, width = x
        assert mean is not None
        assert std is not None
        return ConvNet(channels, height, width, outputs, mean=mean, std=std)
    if candidate in TEXT_CANDIDATES:
        if not text_width:
            raise ValueError(f"{candidate!r} needs rows with a text block")
        hidden, buckets = TEXT_CANDIDATES[candidate]
        return TextNet(
            x[0] - text_width,
            outputs,
            buckets=buckets,
            length=text_width // 2,
            hidden=hidden,
            l2=text_l2,
            bias=text_bias,
            clip=CLIP,
        )
    if candidate not in TABULAR_CANDIDATES:
        raise ValueError(f"{candidate!r} is not a tabular model (known: {', '.join(TABULAR_CANDIDATES)})")
    return TabularEnsemble(
        x[0],
        outputs,
        members=MEMBERS,
        classification=not regression,
        dropout=REGRESSION_DROPOUT if regression else 0.3,
        hidden=TABULAR_CANDIDATES[candidate],
    )
