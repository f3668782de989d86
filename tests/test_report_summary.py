"""Tests for the Markdown job summary of a run."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mle_ci.report._curves import MAX_POINTS
from mle_ci.report.summary import render_summary
from mle_ci.result import RunResult
from mle_ci.resultparts import CrashSite, EpochRecord, FoldResult, FoldStatus, Gate, Metric, RunStatus

FIVE_FOLDS = tuple(
    FoldResult(i, FoldStatus.COMPLETED, score=s, best_epoch=3, epochs=5, seconds=60.0 + i)
    for i, s in enumerate((0.687, 0.701, 0.695, 0.672, 0.690), start=1)
)
EPOCHS = tuple(
    EpochRecord(epoch=e, fold=f, total_epochs=3, loss=1.0 / e, val_score=0.6 + 0.01 * e + 0.001 * f)
    for f in (1, 2)
    for e in (1, 2, 3)
)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _mermaid_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line == "```mermaid":
            end = lines.index("```", i + 1)
            blocks.append(lines[i + 1 : end])
    return blocks


def _assert_valid_xychart(block: list[str]) -> tuple[list[str], list[list[float]]]:
    """Check the block against mermaid's xychart grammar; return the categories and line series."""
    assert block[0] == "xychart-beta"
    categories: list[str] = []
    series: list[list[float]] = []
    for line in block[1:]:
        stripped = line.strip()
        assert "%%" not in stripped
        assert ";" not in stripped
        if stripped.startswith("title "):
            assert re.fullmatch(r'title "[^"]*"', stripped)
        elif stripped.startswith("x-axis "):
            match = re.fullmatch(r'x-axis "[^"]*" \[([^\]]*)\]', stripped)
            assert match
            categories = [c.strip() for c in match.group(1).split(",")]
            assert all(c.isdigit() for c in categories)
        elif stripped.startswith("y-axis "):
            assert re.fullmatch(r'y-axis "[^"]*"', stripped)
        else:
            match = re.fullmatch(r"line \[([^\]]*)\]", stripped)
            assert match, stripped
            values = [v.strip() for v in match.group(1).split(",")]
            assert all(_NUMBER.match(v) for v in values), values
            series.append([float(v) for v in values])
    assert categories
    assert series
    assert all(len(s) == len(categories) for s in series)  # mermaid maps every category to a value
    assert all(math.isfinite(v) for s in series for v in s)
    return categories, series


def test_verdict_line_has_emoji_status_cv_score_metric_and_direction() -> None:
    """The first line is a heading with the status emoji, status, CV mean ± std, metric and direction."""
    result = RunResult(status=RunStatus.SUCCESS, competition="titanic", folds=FIVE_FOLDS, metric=Metric("auc"))
    first = render_summary(result).splitlines()[0]
    assert first == "## ✅ titanic: success · CV score **0.689** ± 0.0097 over 5 folds · auc, higher is better"


def test_verdict_with_reported_score_shows_it_and_the_cv() -> None:
    """A score reported for the whole run leads the verdict, the CV follows."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS, reported_score=0.7)
    first = render_summary(result).splitlines()[0]
    assert "score **0.7** (CV 0.689 ± 0.0097 over 5 folds)" in first


def test_verdict_without_score_says_so() -> None:
    """A crash with no score says ``no score``, with its own emoji."""
    first = render_summary(RunResult(status=RunStatus.CRASHED)).splitlines()[0]
    assert first.startswith("## 💥 mle-ci run: crashed · no score")


def test_every_status_has_an_emoji_heading() -> None:
    """All statuses render a heading line."""
    for status in RunStatus:
        assert render_summary(RunResult(status=status)).startswith("## ")


def test_fold_table_marks_the_best_fold() -> None:
    """The best fold gets a trophy and a bold score; the table has one row per fold."""
    text = render_summary(RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS))
    assert "| Fold | Status | Score | Best epoch | Epochs | Time |" in text
    assert "| 2 🏆 | ✅ completed | **0.701** | 3 | 5 | 1m02s |" in text
    assert "| 1 | ✅ completed | 0.687 | 3 | 5 | 1m01s |" in text
    assert text.count("🏆") == 1


def test_best_fold_follows_a_lower_is_better_metric() -> None:
    """With a loss metric, the lowest fold score is the best."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS, metric=Metric("rmse", higher_is_better=False))
    assert "| 4 🏆 |" in render_summary(result)


def test_fold_statuses_show_min_score_failures_and_unfinished_folds() -> None:
    """Below min-score, cut-short and unreached folds are labelled as such."""
    folds = (*FIVE_FOLDS[3:4], FoldResult(5, FoldStatus.INCOMPLETE, epochs=2), FoldResult(6, FoldStatus.NOT_REACHED))
    result = RunResult(status=RunStatus.CRASHED, folds=folds, min_score=0.68)
    text = render_summary(result)
    assert "| 4 🏆 | ❌ below min-score |" in text
    assert "| 5 | 💥 cut short (crashed) | – | – | 2 | – |" in text
    assert "| 6 | ⏭️ not reached |" in text


def test_cv_line_gives_mean_std_and_folds_completed() -> None:
    """Under the table, the CV mean ± std and the number of completed folds."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS, total_folds=5, metric=Metric("auc"))
    assert "**CV** 0.689 ± 0.0097 over 5 folds · 5 of 5 folds completed · auc, higher is better" in render_summary(
        result
    )


def test_chart_has_one_line_per_fold_of_val_score() -> None:
    """Each fold's validation scores become one line series over the epoch axis."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS[:2], epochs=EPOCHS, metric=Metric("auc"))
    text = render_summary(result)
    (block,) = _mermaid_blocks(text)
    categories, series = _assert_valid_xychart(block)
    assert categories == ["1", "2", "3"]
    assert series == [[0.611, 0.621, 0.631], [0.612, 0.622, 0.632]]
    assert 'y-axis "auc"' in block[3]
    assert "Lines, in order: fold 1, fold 2." in text


def test_chart_falls_back_to_loss_without_val_scores() -> None:
    """Without any validation score the curves show the loss."""
    epochs = tuple(EpochRecord(epoch=e, loss=1.0 / e) for e in (1, 2, 4))
    (block,) = _mermaid_blocks(render_summary(RunResult(status=RunStatus.SUCCESS, epochs=epochs)))
    categories, series = _assert_valid_xychart(block)
    assert categories == ["1", "2", "4"]
    assert series == [[1.0, 0.5, 0.25]]
    assert '    y-axis "loss"' in block


def test_chart_without_folds_is_one_curve_for_the_run() -> None:
    """Epochs of a run without folds are one curve, whatever fold they name."""
    epochs = tuple(EpochRecord(epoch=e, fold=e % 2, val_score=0.1 * e) for e in (1, 2, 3))
    (block,) = _mermaid_blocks(render_summary(RunResult(status=RunStatus.SUCCESS, epochs=epochs)))
    _, series = _assert_valid_xychart(block)
    assert len(series) == 1


def test_chart_skips_non_finite_values_and_fills_gaps() -> None:
    """NaN and infinite scores are left out; a gap or a shorter fold repeats the value before it."""
    epochs = (
        EpochRecord(epoch=1, fold=1, val_score=0.5),
        EpochRecord(epoch=2, fold=1, val_score=math.nan),
        EpochRecord(epoch=3, fold=1, val_score=0.7),
        EpochRecord(epoch=1, fold=2, val_score=math.inf),
        EpochRecord(epoch=2, fold=2, val_score=-0.25),
    )
    result = RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS[:2], epochs=epochs)
    text = render_summary(result)
    (block,) = _mermaid_blocks(text)
    categories, series = _assert_valid_xychart(block)
    assert categories == ["1", "2", "3"]
    assert series == [[0.5, 0.5, 0.7], [-0.25, -0.25, -0.25]]
    assert "keeps its last value" in text


def test_no_chart_when_nothing_to_plot() -> None:
    """No epochs, only non-finite values, or a single epoch: no mermaid block."""
    single = (EpochRecord(epoch=1, val_score=0.5),)
    nan_only = (EpochRecord(epoch=1, val_score=math.nan), EpochRecord(epoch=2, loss=math.nan))
    for epochs in ((), single, nan_only):
        assert "mermaid" not in render_summary(RunResult(status=RunStatus.SUCCESS, epochs=epochs))


def test_long_runs_are_thinned_to_a_bounded_number_of_points() -> None:
    """A thousand epochs are drawn with at most MAX_POINTS points, the last epoch kept."""
    epochs = tuple(EpochRecord(epoch=e, loss=1.0 / e) for e in range(1, 1001))
    (block,) = _mermaid_blocks(render_summary(RunResult(status=RunStatus.SUCCESS, epochs=epochs)))
    categories, series = _assert_valid_xychart(block)
    assert len(categories) <= MAX_POINTS
    assert categories[-1] == "1000"
    assert len(series[0]) == len(categories)


def test_chart_title_cannot_be_broken_by_the_metric_name() -> None:
    """Quotes, comment markers and fences in the metric name do not reach the chart."""
    result = RunResult(status=RunStatus.SUCCESS, epochs=EPOCHS[:3], metric=Metric('a"uc%%;```\nx'))
    (block,) = _mermaid_blocks(render_summary(result))
    _assert_valid_xychart(block)


def test_timing_shows_start_duration_and_budget_used() -> None:
    """Start and end in UTC, the duration and the share of the time budget used."""
    result = RunResult(
        status=RunStatus.SUCCESS,
        started_at=1714564800.0,
        finished_at=1714565700.0,
        duration_s=900.0,
        timeout_s=3600.0,
    )
    assert "| 2024-05-01 12:00:00 UTC | 2024-05-01 12:15:00 UTC | 15m00s | 1h00m (25% used) |" in render_summary(result)


def test_gates_table_shows_pass_and_fail() -> None:
    """Each gate is a row with its verdict and message."""
    gates = (Gate("min-score", True, "0.689 >= 0.65"), Gate("submission", False, "missing"))
    text = render_summary(RunResult(status=RunStatus.FAILED, gates=gates))
    assert "| min-score | ✅ passed | 0.689 &gt;= 0.65 |" in text
    assert "| submission | ❌ failed | missing |" in text


def test_child_text_cannot_break_a_table_row_or_inject_html() -> None:
    """Pipes, tags, ampersands and newlines in a cell are escaped; the row keeps four pipes."""
    message = "a | b <script>alert(1)</script> & c\nnext line ![img](http://x/y.png) [link](http://x)"
    text = render_summary(RunResult(status=RunStatus.FAILED, gates=(Gate("g|ate", False, message),)))
    (row,) = [line for line in text.splitlines() if line.startswith("| g")]
    assert len(_UNESCAPED_PIPE.findall(row)) == 4
    assert "<script>" not in text
    assert "&lt;script&gt;" in row
    assert "&amp; c<br>next line" in row
    assert "![img](" not in row
    assert "[link](" not in row


def test_errors_warnings_and_crash_site_are_listed() -> None:
    """Errors and warnings are bullet lists; the crash shows exception, file:line and function."""
    result = RunResult(
        status=RunStatus.CRASHED,
        errors=("child exited with code 1",),
        warnings=("GPU idle *80%* of the time",),
        crash=CrashSite("src/model.py", 42, "forward", "ValueError: `x` is bad"),
    )
    text = render_summary(result)
    assert "### Errors\n\n- child exited with code 1" in text
    assert "- GPU idle \\*80%\\* of the time" in text
    assert "Raised ``ValueError: `x` is bad`` at `src/model.py:42` in `forward`" in text


def test_log_tail_is_folded_in_a_fence_it_cannot_close() -> None:
    """Output lines holding backtick fences sit inside a longer fence within ``<details>``."""
    tail = ("epoch 1", "```", "`````", "</details>", "done")
    text = render_summary(RunResult(status=RunStatus.SUCCESS, log_tail=tail))
    start = text.index("<details><summary>Last 5 lines of output</summary>")
    body = text[start:].splitlines()
    assert body[2] == "``````text"
    assert body[3:8] == list(tail)
    assert body[8] == "``````"
    assert body[10] == "</details>"


def test_log_tail_control_characters_and_carriage_returns_are_cleaned() -> None:
    """Progress bars keep their last state; escapes and NUL are removed or replaced."""
    tail = ("10%\r50%\r100%", "\x1b[32mgreen\x1b[0m\x00")
    text = render_summary(RunResult(status=RunStatus.SUCCESS, log_tail=tail))
    assert "\n100%\n" in text
    assert "\ngreen\ufffd\n" in text


def test_lone_surrogates_still_give_encodable_text() -> None:
    """Text the child decoded badly (lone surrogates) is replaced, so the summary encodes as UTF-8."""
    result = RunResult(status=RunStatus.FAILED, competition="c\ud800", errors=("\udcff",), log_tail=("\ud83d",))
    render_summary(result).encode("utf-8")


def test_huge_output_keeps_the_last_lines_within_the_limit() -> None:
    """Over the limit, the oldest output lines go first and the newest stay."""
    tail = tuple(f"line {i} " + "x" * 100 for i in range(20_000))
    text = render_summary(RunResult(status=RunStatus.CRASHED, log_tail=tail), limit_bytes=100_000)
    assert len(text.encode("utf-8")) <= 100_000
    assert "line 19999 " in text
    assert "line 0 " not in text
    assert "earlier lines left out" in text
    assert text.rstrip().endswith("</details>")


def test_default_limit_is_under_github_summary_limit() -> None:
    """With the default limit, a run with megabytes of output stays under 1 MiB."""
    tail = tuple("y" * 1000 for _ in range(3000))
    text = render_summary(RunResult(status=RunStatus.SUCCESS, log_tail=tail))
    assert len(text.encode("utf-8")) <= 1_000_000


def test_cut_at_a_line_boundary_with_a_note_when_even_without_output_too_big() -> None:
    """Too many errors for the limit: the text is cut at a line, open blocks closed, and a note added."""
    result = RunResult(status=RunStatus.FAILED, errors=tuple(f"error {i}" for i in range(40)), log_tail=("a",))
    text = render_summary(result, limit_bytes=600)
    assert len(text.encode("utf-8")) <= 600
    assert "This summary was cut" in text
    assert text.endswith("\n")
    assert text.count("<details>") == text.count("</details>")


def test_cut_inside_the_chart_closes_the_fence() -> None:
    """A cut that falls inside a fenced block closes it before the note."""
    epochs = tuple(EpochRecord(epoch=e, loss=1.0 / e) for e in range(1, 150))
    full = render_summary(RunResult(status=RunStatus.SUCCESS, epochs=epochs))
    limit = full.index("    line [") + 300
    text = render_summary(RunResult(status=RunStatus.SUCCESS, epochs=epochs), limit_bytes=limit)
    assert len(text.encode("utf-8")) <= limit
    assert text.count("```") % 2 == 0
    assert text.rstrip().endswith("result.json holds everything._")


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(min_value=0, max_value=4000),
    lines=st.lists(st.text(st.characters(categories=["Cs", "Cc", "L", "P", "S", "Z"]), max_size=200), max_size=30),
)
def test_output_never_exceeds_the_limit(limit: int, lines: list[str]) -> None:
    """For any limit and any output, the summary fits in ``limit_bytes`` of UTF-8."""
    result = RunResult(
        status=RunStatus.CRASHED,
        folds=FIVE_FOLDS,
        epochs=EPOCHS,
        errors=tuple(lines[:5]),
        log_tail=tuple(lines),
    )
    text = render_summary(result, limit_bytes=limit)
    assert len(text.encode("utf-8")) <= limit


def test_rendering_is_pure() -> None:
    """The same result renders to the same text every time."""
    result = RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS, epochs=EPOCHS, log_tail=("a",))
    assert render_summary(result) == render_summary(result)


_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")
_ALLOWED_TAGS = {"<details>", "<summary>", "</summary>", "</details>", "<br>"}
_NASTY = st.sampled_from(["|", "<script>", "</details>", "```", "&", "\n", "\r", "\x00", "\ud800", "[a](b)", "\\"])
_CHILD_TEXT = st.lists(st.one_of(_NASTY, st.text(max_size=20)), max_size=6).map("".join)


def _outside_fences(text: str) -> list[str]:
    kept: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opener = line[: len(line) - len(line.lstrip("`"))]
        if fence is None and len(opener) >= 3 and "`" not in line[len(opener) :]:
            fence = opener
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            kept.append(line)
    return kept


@settings(max_examples=100, deadline=None)
@given(name=_CHILD_TEXT, message=_CHILD_TEXT, lines=st.lists(_CHILD_TEXT, max_size=5))
@example(name="", message="0\u20280", lines=["a\u2029b"])  # Unicode's line separators: found by this test
def test_child_text_never_adds_html_or_table_cells(name: str, message: str, lines: list[str]) -> None:
    """Whatever the child wrote, only our own tags appear outside code, and every table row keeps its cells."""
    result = RunResult(
        status=RunStatus.CRASHED,
        competition=name,
        command=("python", name),
        metric=Metric(name),
        folds=FIVE_FOLDS[:2],
        epochs=EPOCHS,
        gates=(Gate(name, False, message),),
        crash=CrashSite(name or "x.py", 3, name, message),
        errors=(message,),
        warnings=(name,),
        log_tail=tuple(lines),
    )
    text = render_summary(result)
    text.encode("utf-8")
    outside = _outside_fences(text)
    assert "</details>" in outside or not lines
    for line in outside:
        prose = _CODE_SPAN.sub("", line)
        assert set(re.findall(r"<[^>]*>", prose)) <= _ALLOWED_TAGS, line
        if line.startswith("| "):
            assert len(_UNESCAPED_PIPE.findall(line)) in (4, 5, 7), line


def test_fold_models_get_a_column_and_a_note_only_when_a_fold_names_one() -> None:
    folds = tuple(replace(f, model="linear" if f.index % 2 else "mlp") for f in FIVE_FOLDS)
    text = render_summary(RunResult(status=RunStatus.SUCCESS, folds=folds))
    assert "| Fold | Status | Score | Model | Best epoch | Epochs | Time |" in text
    assert "| 2 🏆 | ✅ completed | **0.701** | mlp | 3 | 5 | 1m02s |" in text
    assert "| 1 | ✅ completed | 0.687 | linear | 3 | 5 | 1m01s |" in text
    assert "a fold's score and best epoch are those of its model" in text
    plain = render_summary(RunResult(status=RunStatus.SUCCESS, folds=FIVE_FOLDS))
    assert "Model" not in plain
