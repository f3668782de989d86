"""Pure renderers that turn a :class:`~mle_ci.result.RunResult` into summary, JUnit, annotations and outputs."""

from __future__ import annotations

from mle_ci.report._text import verdict_line
from mle_ci.report.annotations import Annotation, decide_annotations
from mle_ci.report.junit import render_junit
from mle_ci.report.outputs import decide_outputs
from mle_ci.report.summary import render_summary
from mle_ci.report.traceback import find_crash_site

__all__ = [
    "Annotation",
    "decide_annotations",
    "decide_outputs",
    "find_crash_site",
    "render_junit",
    "render_summary",
    "verdict_line",
]
