"""Deciding the step outputs of a run (the values the GitHub adapter writes to ``GITHUB_OUTPUT``)."""

from __future__ import annotations

from collections.abc import Mapping

from mle_ci.report._text import clean_text, completed_folds, exact_number
from mle_ci.report.submission import medal_of
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
    grade = result.grade
    outputs["valid-submission"] = "" if result.validation is None else str(result.validation.valid).lower()
    outputs["grade-score"] = exact_number(grade.score) if grade is not None else ""
    outputs["medal"] = medal_of(grade) if grade is not None else ""
    outputs["gpu-name"] = _gpu_names(result)
    means = [u.util_mean for u in result.gpu_usage if u.util_mean is not None]
    outputs["gpu-util-mean"] = exact_number(sum(means) / len(means)) if means else ""
    outputs["gpu-idle"] = "true" if result.gpu_idle else "false"
    outputs["duration-seconds"] = exact_number(result.duration_s)
    baseline = result.baseline
    outputs["baseline-score"] = exact_number(baseline.baseline_score) if baseline is not None else ""
    outputs["score-delta"] = exact_number(baseline.delta) if baseline is not None else ""
    usage = result.agent_usage
    outputs["model"] = clean_text(usage.model) if usage is not None else ""
    outputs["input-tokens"] = str(usage.input_tokens) if usage is not None else ""
    outputs["output-tokens"] = str(usage.output_tokens) if usage is not None else ""
    outputs["cost-usd"] = exact_number(usage.cost_usd) if usage is not None else ""
    outputs["submission-producer"] = clean_text(result.submission_producer or "")
    # "0" like folds when the agent reported no search; the handed-in node's id, else empty
    outputs["nodes"] = str(len(result.nodes))
    outputs["best-node"] = "" if result.best_node is None else str(result.best_node)
    return outputs


def _gpu_names(result: RunResult) -> str:
    """The GPUs used (or, before a run, seen), e.g. ``NVIDIA H100 80GB HBM3`` or ``2× NVIDIA A10G``."""
    names = [u.name for u in result.gpu_usage] or [g.name for g in (result.hardware.gpus if result.hardware else ())]
    if not names:
        return ""
    distinct = sorted(set(names))
    return ", ".join(f"{names.count(n)}× {n}" if names.count(n) > 1 else n for n in distinct)
