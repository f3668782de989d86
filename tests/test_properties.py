"""Hostile input, property-based, where the module's own tests do not already cover it.

Already proved elsewhere (and referenced from SECURITY.md): workflow-command escaping round-trips through a
port of the runner's parser and yields one command (``test_github.py``), ``GITHUB_OUTPUT`` values never inject a
key (``test_github.py``), the line parser never crashes and gives a score to the fold named first
(``test_lineparser.py``), durations (``test_durations.py``, ``test_settings.py``), random CSVs never crash
validation (``test_competitions_validate.py``), and JUnit parses whatever the child wrote (``test_report_junit.py``).
Here: what the child's output does on its way through the harness, the config file, the events file and the
result built from whatever events a child sends.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import junitparser
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_github import crafted, obeyed_commands, runner_lines

from mle_ci.console import PlainConsole
from mle_ci.errors import ConfigError
from mle_ci.eventlog import BadLine, EventLogReader
from mle_ci.events import (
    EarlyStopEvent,
    EpochEvent,
    Event,
    FoldEvent,
    FoldStartEvent,
    MessageEvent,
    MetricEvent,
)
from mle_ci.files import PieceRedactor
from mle_ci.github import GitHub
from mle_ci.linesplit import LineSplitter, Piece
from mle_ci.redaction import MIN_SECRET, Redactor
from mle_ci.report import render_junit, render_summary
from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus
from mle_ci.settings import load_settings
from mle_ci.tracker import MAX_UNREACHED_FOLDS, RunTracker

# ---------------------------------------------------------------------------------------------------------
# Secrets in output that arrives in pieces
# ---------------------------------------------------------------------------------------------------------

_ALPHABET = st.sampled_from([b"a", b"b", b"c", b"-"])
_SECRET = st.text(alphabet="abc-Z", min_size=MIN_SECRET, max_size=40)


@settings(max_examples=400)
@given(
    secret=_SECRET,
    parts=st.lists(st.one_of(st.lists(_ALPHABET, max_size=60).map(b"".join), st.just(b"SECRET")), max_size=12),
    piece=st.integers(min_value=8, max_value=64),
    chunks=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=10),
)
def test_no_secret_survives_however_the_output_is_cut(
    secret: str, parts: list[bytes], piece: int, chunks: list[int]
) -> None:
    """A long line read in any chunks and cut into pieces anywhere never shows a secret, not even one split
    across two pieces; every other byte arrives, in order."""
    data = b"".join(secret.encode() if p == b"SECRET" else p for p in parts)
    splitter, redactor = LineSplitter(max_line=piece), Redactor([secret])
    pieces = PieceRedactor(redactor, piece, lambda line: isinstance(line, Piece))
    out: list[bytes] = []
    offset, n = 0, 0
    while offset < len(data):
        size = chunks[n % len(chunks)]
        out += pieces.lines(list(splitter.feed(data[offset : offset + size]).lines))
        offset, n = offset + size, n + 1
    out += pieces.lines(splitter.close()) + pieces.flush()
    for line in out:
        assert secret.encode() not in line
    assert secret.encode() not in b"".join(out)  # pieces glued back: a cut secret would reappear
    assert b"".join(out) == redactor.bytes(data)


# ---------------------------------------------------------------------------------------------------------
# The child's output, echoed inside stop-commands, obeyed by nothing
# ---------------------------------------------------------------------------------------------------------

_CHILD_LINES = st.lists(st.one_of(st.text(max_size=80), crafted, st.from_regex(r"::[0-9a-f]{1,32}::", fullmatch=True)))


@settings(max_examples=300)
@given(lines=_CHILD_LINES)
def test_child_output_echoed_by_the_harness_is_never_obeyed(lines: list[str]) -> None:
    """Whatever the child prints (commands, guessed tokens, CRs, half lines), the runner obeys only the
    harness's own stop-commands pair around it."""
    stream = io.StringIO()
    github = GitHub(stream)
    console = PlainConsole(stream)
    with github.stop_commands() as token:
        if lines:
            console.child_lines(lines)
    obeyed = obeyed_commands(stream.getvalue())
    assert [c.name for c in obeyed] == ["stop-commands", token]
    assert runner_lines(stream.getvalue())[-1] == f"::{token}::"


# ---------------------------------------------------------------------------------------------------------
# The config file
# ---------------------------------------------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        *("timeout", "grace", "heartbeat", "stall-timeout", "folds", "min-score", "metric", "direction", "command"),
        *("output-dir", "agent", "competition", "require-gpu", "patterns", "display", "gpu-interval"),
        *("idle-threshold", "timout", "", "x" * 300, "patterns.regex", "anthropic-api-key"),
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["30m", "1h30m", "-5", "1e999", "nan", "inf", "(?P<fold>", "(?P<score>[\\d.]+)", "true"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["regex", "event", "x"]), inner),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def config_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    document=st.one_of(
        st.dictionaries(_KEYS, _VALUES, max_size=5).map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
        st.text(max_size=200),
        st.lists(st.sampled_from(["a: 1\n", "- x\n", "  b: [\n", "&a x\n", "*a\n", "? k\n", "%YAML\n", "\t"])).map(
            "".join
        ),
    )
)
def test_any_config_file_gives_settings_or_a_config_error(config_dir: Path, document: str) -> None:
    """Whatever mle-ci.yml holds, loading gives valid settings or a ConfigError (exit 2), never anything else."""
    (config_dir / "mle-ci.yml").write_text(document, encoding="utf-8", errors="surrogatepass")
    try:
        loaded = load_settings({}, {}, config_dir)
    except ConfigError:
        return
    for value in (loaded.timeout, loaded.stall_timeout, loaded.grace, loaded.heartbeat):
        assert value is None or (math.isfinite(value) and value >= 0)
    assert loaded.folds is None or loaded.folds > 0


# ---------------------------------------------------------------------------------------------------------
# The events file, written in any pieces, with garbage between the events
# ---------------------------------------------------------------------------------------------------------

_GARBAGE = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"") + b"\n"),
    st.sampled_from(
        [
            b"{}\n",
            b"[]\n",
            b"null\n",
            b'{"v": 1}\n',
            b'{"v": 1, "type": "fold", "ts": 1, "fold": "x", "score": 1}\n',
            b'{"v": 1, "type": "fold", "ts": 1, "fold": 1, "score": NaN}\n',
            b'{"v": 2, "type": "fold", "ts": 1, "fold": 1, "score": 1}\n',
            b'{"v": 1, "type": "epoch", "ts": 1e999, "epoch": 1}\n',
            b'{"v": 1, "type": "epoch", "ts": 1, "epoch": true}\n',
        ]
    ),
)


@settings(max_examples=300)
@given(
    items=st.lists(st.one_of(st.integers(min_value=1, max_value=20), _GARBAGE), max_size=15),
    cuts=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=6),
)
def test_the_events_reader_keeps_every_event_whatever_surrounds_it(items: list[int | bytes], cuts: list[int]) -> None:
    """Valid events among garbage, appended in arbitrary pieces and read between them: every event comes out
    once and in order, every garbage line is one BadLine, nothing raises."""
    lines = [
        FoldEvent(ts=1.0, fold=i, score=i / 100).to_json().encode() + b"\n" if isinstance(i, int) else i for i in items
    ]
    data = b"".join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        path.touch()
        reader = EventLogReader(path)
        got: list[Event | BadLine] = []
        offset, n = 0, 0
        while offset < len(data):
            with path.open("ab") as handle:
                handle.write(data[offset : offset + cuts[n % len(cuts)]])
            got += reader.read_new()
            offset, n = offset + cuts[n % len(cuts)], n + 1
        got += reader.read_new()
    folds = [g.fold for g in got if isinstance(g, FoldEvent)]
    assert folds == [i for i in items if isinstance(i, int)]
    blank = sum(1 for i in items if isinstance(i, bytes) and not i.strip())
    assert sum(isinstance(g, BadLine) for g in got) == len(items) - len(folds) - blank


# ---------------------------------------------------------------------------------------------------------
# Whatever events the child sends, the result is small, serialisable and renders
# ---------------------------------------------------------------------------------------------------------

_INDEX = st.one_of(st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=10**18))
_SCORE = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)
_TEXT = st.text(max_size=40)
_EVENTS = st.lists(
    st.one_of(
        st.builds(FoldEvent, ts=st.just(1.0), fold=_INDEX, score=_SCORE, total_folds=st.none() | _INDEX),
        st.builds(FoldStartEvent, ts=st.just(1.0), fold=_INDEX, total_folds=st.none() | _INDEX),
        st.builds(EpochEvent, ts=st.just(1.0), epoch=_INDEX, fold=st.none() | _INDEX, val_score=st.none() | _SCORE),
        st.builds(EarlyStopEvent, ts=st.just(1.0), best_score=st.none() | _SCORE, fold=st.none() | _INDEX),
        st.builds(MetricEvent, ts=st.just(1.0), name=_TEXT, value=st.none() | _SCORE),
        st.builds(MessageEvent, ts=st.just(1.0), text=_TEXT, level=st.sampled_from(["info", "warning", "error"])),
    ),
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(events=_EVENTS, configured=st.none() | st.integers(min_value=1, max_value=10**9))
def test_any_events_give_a_small_result_that_reads_back_and_renders(
    events: list[Event], configured: int | None
) -> None:
    """Any fold indices and totals (``Fold 1/100000000`` included), scores and texts: result.json is finite
    JSON that reads back, the folds listed stay bounded, JUnit parses and the summary renders."""
    tracker = RunTracker(started_at=0.0, total_folds=configured)
    for event in events:
        tracker.apply(event)
    result = tracker.snapshot(RunResult(status=RunStatus.CRASHED, started_at=0.0, finished_at=2.0), final=True)
    assert len(result.folds) <= len(events) + MAX_UNREACHED_FOLDS
    text = json.dumps(result.to_dict(), allow_nan=False)
    again = RunResult.from_dict(json.loads(text))
    assert [f.index for f in again.folds] == [f.index for f in result.folds]
    junitparser.JUnitXml.fromstring(render_junit(again).encode())
    assert render_summary(again)


def test_a_line_whose_length_is_a_multiple_of_the_piece_keeps_the_next_line_whole() -> None:
    """A finished line of exactly two pieces holds nothing back: the line after it arrives as it was printed."""
    splitter = LineSplitter(max_line=8)
    pieces = PieceRedactor(Redactor(["a-secret-value"]), 8, lambda line: isinstance(line, Piece))
    out = pieces.lines(list(splitter.feed(b"x" * 16 + b"\nFold 1/1 complete: Score=0.5\n").lines))
    assert b"".join(out[:-1]) == b"x" * 16
    assert out[-1] == b"Fold 1/1 complete: Score=0.5"
