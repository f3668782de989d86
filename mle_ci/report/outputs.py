"""Deciding the step outputs of a run (the values the GitHub adapter writes to ``GITHUB_OUTPUT``)."""

from __future__ import annotations

from collections.abc import Mapping

from mle_ci.report._text import clean_text, completed_folds, exact_number
from mle_ci.result import RunResult

FILE_KEYS = ("junit", "summary", "result")
"""Outputs that name a written file; their paths come from the caller, which wrote the files."""


def decide_outputs(result: RunResult, *, files: Mapping[str, str]) -> dict[str, str]:
    """The step outputs for ``result``: every value a string, numbers exact, empty when unknown."""
    outputs = {
        "status": result.status.value,
        "exit-code": str(int(result.exit_code)),
        "score": exact_number(result.score),
        "score-std": exact_number(result.cv_std),
        "cv-mean": exact_number(result.cv_mean),
        "metric": clean_text(result.metric.name or ""),
        "direction": "higher" if result.metric.higher_is_better else "lower",
        "folds": str(completed_folds(result)),
        "submission": result.submission or "",
    }
    outputs.update({key: files.get(key, "") for key in FILE_KEYS})
    # no GPU statistics in the result yet; the keys exist so that workflows can already refer to them
    outputs["gpu-name"] = ""
    outputs["gpu-util-mean"] = ""
    outputs["duration-seconds"] = exact_number(result.duration_s)
    return outputs
