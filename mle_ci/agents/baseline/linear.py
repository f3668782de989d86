"""An L2-penalised linear model fitted to convergence: logistic (softmax) regression or ridge, by full-batch L-BFGS.

On a few hundred rows a well-regularised linear model is as strong as anything (scikit-learn's LogisticRegression
and Ridge are the references it is measured against in ``bench/baseline_quality.py``); the agent blends it with the
MLP. The penalty follows scikit-learn's scale: ``c`` is LogisticRegression's ``C`` (Ridge's ``1 / alpha``), so the
loss is the mean of the row losses plus ``‖W‖² / (2 · c · rows)``; the bias is not penalised.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
"""Inverse penalties tried, strongest first (each fit starts from the previous one's solution)."""

MAX_ITER = 100
"""L-BFGS iterations per penalty: small convex problems converge in far fewer."""


def _loss(model: nn.Linear, x: Tensor, y: Tensor, *, classification: bool, penalty: float) -> Tensor:
    out = model(x)
    data = nn.functional.cross_entropy(out, y) if classification else 0.5 * nn.functional.mse_loss(out, y)
    return data + 0.5 * penalty * model.weight.square().sum()


def fit_linear(
    x: Tensor,
    y: Tensor,
    *,
    classification: bool,
    outputs: int,
    c: float,
    start: nn.Linear | None = None,
    max_iter: int = MAX_ITER,
) -> nn.Linear:
    """A linear layer fitted on rows ``x`` (float32) to class indices or (scaled) values ``y`` with penalty ``c``.

    ``start`` (left untouched) gives the initial weights; without it they start at zero, so the fit is
    deterministic.
    """
    if c <= 0:
        raise ValueError(f"the inverse penalty must be positive, not {c}")
    model = nn.Linear(x.shape[1], outputs).to(device=x.device, dtype=torch.float32)
    with torch.no_grad():
        if start is None:
            model.weight.zero_()
            model.bias.zero_()
        else:
            model.load_state_dict(start.state_dict())
    penalty = 1.0 / (c * len(x))
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = _loss(model, x, y, classification=classification, penalty=penalty)
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    with torch.enable_grad():
        optimizer.step(closure)  # type: ignore[no-untyped-call]
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def fit_path(
    x: Tensor, y: Tensor, *, classification: bool, outputs: int, grid: tuple[float, ...] = C_GRID
) -> list[tuple[float, nn.Linear]]:
    """One fit per inverse penalty of ``grid`` (in its order), each warm-started from the one before."""
    fits: list[tuple[float, nn.Linear]] = []
    previous: nn.Linear | None = None
    for c in grid:
        previous = fit_linear(x, y, classification=classification, outputs=outputs, c=c, start=previous)
        fits.append((c, previous))
    return fits
