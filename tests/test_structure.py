"""No module of the package is over 400 lines (issue 16): a module that long has more than one job."""

from __future__ import annotations

from helpers import ROOT

MAX_LINES = 400


def test_no_module_is_over_the_line_limit() -> None:
    """Every module under ``mle_ci/`` has at most 400 lines; the offenders are named with their length."""
    over = [
        f"{path.relative_to(ROOT).as_posix()} ({count} lines)"
        for path in sorted((ROOT / "mle_ci").rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert over == [], f"over {MAX_LINES} lines: {', '.join(over)}; split each by job"
