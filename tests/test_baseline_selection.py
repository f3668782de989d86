"""The choice between the fold models' candidates: best out-of-fold score, ties to the default, re-reporting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mle_ci.agents.baseline.selection import CandidateFit, Candidates, choose


def _fit(name: str, val: list[float], test: float = 0.0, score: float = 0.5) -> CandidateFit:
    return CandidateFit(name, best_epoch=3, best_score=score, val_outputs=np.array(val)[:, None],
                        test_outputs=np.full((2, 1), test))  # fmt: skip


def _candidates(names: tuple[str, ...] = ("mlp", "linear"), *, higher: bool = False) -> Candidates:
    """Six train rows whose truth is 0: a candidate's score is its mean absolute output on the rows given."""

    def score_rows(rows: np.ndarray) -> object:
        return lambda outputs: float(np.abs(outputs).mean())

    return Candidates(names, rows=6, outputs=1, prior=np.zeros((2, 1)), score_rows=score_rows, higher_is_better=higher)  # type: ignore[arg-type]


def test_choose_takes_the_best_score_in_either_direction() -> None:
    assert choose({"mlp": 0.9, "linear": 0.95}, higher_is_better=True) == "linear"
    assert choose({"mlp": 0.9, "linear": 0.95}, higher_is_better=False) == "mlp"


def test_a_tie_goes_to_the_candidate_listed_first() -> None:
    assert choose({"mlp": 0.5, "linear": 0.5}, higher_is_better=True) == "mlp"
    assert choose({"linear": 0.5, "mlp": 0.5}, higher_is_better=False) == "linear"


def test_nan_never_wins() -> None:
    assert choose({"mlp": 0.5, "linear": float("nan")}, higher_is_better=True) == "mlp"


def test_no_candidate_is_an_error() -> None:
    with pytest.raises(ValueError, match="no candidate"):
        choose({}, higher_is_better=True)


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.floats(-1e6, 1e6), min_size=1), st.booleans())
def test_the_chosen_score_is_never_beaten(scores: dict[str, float], higher: bool) -> None:
    chosen = choose(scores, higher_is_better=higher)
    best = max(scores.values()) if higher else min(scores.values())
    assert scores[chosen] == best
    # and it is the first of those with the best score
    assert chosen == next(name for name, score in scores.items() if score == best)


def test_the_choice_is_made_on_every_out_of_fold_row_so_far_and_earlier_folds_are_reported_again() -> None:
    candidates = _candidates()
    rows_1, rows_2 = np.array([0, 1, 2]), np.array([3, 4, 5])
    # fold 1: the MLPs are closer to the truth (0.1 against 0.2): they stay the choice, only fold 1 is reported
    first = candidates.add(1, rows_1, [_fit("mlp", [0.1] * 3, test=1.0), _fit("linear", [0.2] * 3, test=2.0)], 1.5)
    assert (first.name, first.report, first.changed) == ("mlp", (1,), False)
    assert candidates.ensemble.mean()[0, 0] == 1.0
    # fold 2: the linear model is far better there (0.0 against 0.5): over all six rows 0.1 < 0.3, so it takes over
    second = candidates.add(2, rows_2, [_fit("mlp", [0.5] * 3, test=3.0), _fit("linear", [0.0] * 3, test=4.0)], 2.5)
    assert (second.name, second.report, second.changed) == ("linear", (1, 2), True)
    assert candidates.scores() == pytest.approx({"mlp": 0.3, "linear": 0.1})
    assert candidates.ensemble.mean()[0, 0] == pytest.approx(3.0)  # the linear models' mean: (2 + 4) / 2
    assert candidates.fit(1).name == "linear"
    assert candidates.folds == 2
    assert candidates.seconds == {1: 1.5, 2: 2.5}


def test_a_candidate_missing_a_fold_drops_out_and_cannot_be_chosen() -> None:
    candidates = _candidates()
    candidates.add(1, np.array([0, 1, 2]), [_fit("mlp", [0.3] * 3), _fit("linear", [0.0] * 3)], 1.0)
    assert candidates.chosen == "linear"
    choice = candidates.add(2, np.array([3, 4, 5]), [_fit("mlp", [0.3] * 3)], 1.0)  # linear cut short
    assert (choice.name, choice.changed, choice.report) == ("mlp", True, (1, 2))
    assert candidates.dropped == {"linear"}
    assert list(candidates.scores()) == ["mlp"]


def test_a_fold_the_clock_cut_is_used_only_as_the_first() -> None:
    """The first fold counts as far as it got (a cut candidate then drops out); once folds are in, a fold with any
    candidate cut short stays out whole, so the clock never takes the chosen candidate out of the race."""
    candidates = _candidates()
    both = [_fit("mlp", [0.3] * 3), _fit("linear", [0.0] * 3)]
    assert candidates.refusal([], ()) == "no usable model"
    assert candidates.refusal(both[:1], ("linear",)) is None
    candidates.add(1, np.array([0, 1, 2]), both, 1.0)
    assert candidates.chosen == "linear"
    assert candidates.refusal(both[:1], ("linear",)) == "cut short (linear)"
    assert candidates.refusal(both, ("mlp",)) == "cut short (mlp)"
    assert candidates.refusal(both, ()) is None
    assert candidates.refusal(both[:1], ()) is None  # a candidate that failed, not cut: it drops out as before


def test_a_fold_without_the_first_candidate_is_refused() -> None:
    candidates = _candidates()
    with pytest.raises(ValueError, match="has no mlp model"):
        candidates.add(1, np.array([0, 1, 2]), [_fit("linear", [0.0] * 3)], 1.0)


def test_one_candidate_is_always_its_own_choice() -> None:
    candidates = _candidates(("cnn",), higher=True)
    choice = candidates.add(1, np.array([0, 1]), [_fit("cnn", [0.5, 0.5])], 1.0)
    assert (choice.name, choice.report, choice.changed) == ("cnn", (1,), False)
