"""Solvers of the competitions that are not a table to learn: text normalisation, page denoising, birds, whale calls.

``solve_special(public, scratch, seed=..., deadline=...)`` recognises a layout from its files alone (never from a
competition id) and returns a :class:`SpecialResult` with the whole submission, or ``None`` when the folder is none
of these layouts. A recognised layout whose inputs are broken still gives a submission where the sample and test
files can be read (the solver's fallback, with a note saying so); otherwise ``None``, with a warning through
:mod:`mle_ci.progress`, and the caller goes on with its general learner. Solvers read zips in place and write
nothing, so ``scratch`` is left untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from mle_ci import progress
from mle_ci.agents.baseline.special import birds, denoise, textnorm, whale
from mle_ci.agents.baseline.special.budget import Budget
from mle_ci.agents.baseline.special.result import READ_ERRORS, SpecialInputError, SpecialResult

__all__ = ["SpecialInputError", "SpecialResult", "solve_special"]


@dataclass(frozen=True)
class Solver:
    """A layout's recogniser (its files, or ``None``) and the solver that takes those files."""

    name: str
    recognise: Callable[[Path], Any]
    solve: Callable[..., SpecialResult]


SOLVERS = (
    Solver("text normalisation", textnorm.recognise, textnorm.solve),
    Solver("document denoising", denoise.recognise, denoise.solve),
    Solver("bird species", birds.recognise, birds.solve),
    Solver("whale calls", whale.recognise, whale.solve),
)


def solve_special(public: Path, scratch: Path, *, seed: int, deadline: float | None) -> SpecialResult | None:
    """The submission of the first special solver that recognises ``public``, or ``None`` (see the module doc)."""
    del scratch  # every input is read in place, zips included
    if not public.is_dir():
        return None
    budget = Budget(deadline)
    for solver in SOLVERS:
        try:
            files = solver.recognise(public)
        except READ_ERRORS:
            continue
        if files is None:
            continue
        try:
            # One BLAS thread: the fits here are small, and two threads on two busy cores made them 100× slower.
            with threadpool_limits(limits=1):
                return solver.solve(files, seed=seed, budget=budget)
        except READ_ERRORS as exc:
            progress.message(f"{solver.name}: recognised, but its files cannot be read ({exc})", "warning")
            return None
    return None
