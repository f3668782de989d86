"""Line assembly: output cut into lines, a line redrawn with carriage returns folded into its last state."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from mle_ci.linesplit import LineSplitter, last_state

# Bytes that matter to the assembly, and the sequences that are easy to get wrong when cut: CRLF, CR CR LF.
_TOKENS = st.sampled_from([b"a", b"b", b"\xc3\xa9", b"\r", b"\n", b"\r\n", b"\r\r\n", b" 42%|###"])
_STREAM = st.lists(_TOKENS, max_size=60).map(b"".join)
_CUTS = st.lists(st.integers(min_value=0, max_value=400), max_size=12)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    return [data[a:b] for a, b in pairwise(points)]


def _model_lines(data: bytes) -> list[bytes]:
    """What a terminal last showed of each line: the last non-empty state between carriage returns."""
    *finished, unfinished = data.split(b"\n")
    lines = [last_state(line.split(b"\r"), b"") for line in finished]
    rest = last_state(unfinished.split(b"\r"), b"")
    return lines + ([rest] if rest else [])


def _model_redraw(before: bytes, after: bytes) -> bytes | None:
    """The newest state completed (ended by a CR) in the unfinished line between two points of the stream."""
    unfinished = after.split(b"\n")[-1]
    complete = unfinished.split(b"\r")[:-1]
    if b"\n" not in after[len(before) :]:
        complete = complete[len(before.split(b"\n")[-1].split(b"\r")) - 1 :]
    states = [s for s in complete if s]
    return states[-1] if states else None


@settings(max_examples=500)
@given(data=_STREAM, cuts=_CUTS)
def test_lines_are_each_lines_last_state_however_the_stream_is_cut(data: bytes, cuts: list[int]) -> None:
    """Any stream of text, CR, LF and CRLF, cut anywhere (a CRLF split in two included), gives one line per
    newline holding what a terminal last showed there, and the redraw reported after each read is the newest
    state of the line still being drawn."""
    splitter = LineSplitter()
    lines: list[bytes] = []
    fed = b""
    for chunk in _chunks(data, cuts):
        split = splitter.feed(chunk)
        lines += split.lines
        assert split.redraw == _model_redraw(fed, fed + chunk)
        fed += chunk
    lines += splitter.close()
    assert lines == _model_lines(data)
    assert not any(b"\r" in line or b"\n" in line for line in lines)


@settings(max_examples=300)
@given(data=st.binary(max_size=300), cuts=_CUTS, limit=st.integers(min_value=1, max_value=16))
def test_memory_stays_bounded_for_any_bytes(data: bytes, cuts: list[int], limit: int) -> None:
    """Whatever the bytes (CRs in over-long lines included), no line, piece or redraw is longer than the limit,
    and nothing is held beyond two states of the unfinished line."""
    splitter = LineSplitter(max_line=limit)
    for chunk in _chunks(data, cuts):
        split = splitter.feed(chunk)
        assert all(len(line) <= limit for line in split.lines)
        assert split.redraw is None or len(split.redraw) <= limit
        assert len(splitter._drawing) <= limit and len(splitter._state) <= limit
    assert all(len(line) <= limit for line in splitter.close())


def test_a_bar_redrawn_a_thousand_times_is_one_line_in_its_last_state() -> None:
    """tqdm's way (CR before each state, a newline when done): 1,000 redraws, one line, the 100% state."""
    splitter = LineSplitter()
    lines: list[bytes] = []
    redraws = []
    for n in range(1001):
        split = splitter.feed(f"\rtrain: {n / 10:5.1f}%|{n}/1000".encode())
        lines += split.lines
        redraws.append(split.redraw)
    lines += splitter.feed(b"\nnext line\n").lines
    assert lines == [b"train: 100.0%|1000/1000", b"next line"]
    assert redraws[0] is None  # the first state is only complete when the next one begins
    assert redraws[-1] == b"train:  99.9%|999/1000"


def test_trailing_cr_states_are_complete_at_once_and_crlf_split_across_reads_is_one_newline() -> None:
    """``print(..., end="\\r")`` states are reported when drawn; a CR that turns out to begin CRLF ends the line."""
    splitter = LineSplitter()
    split = splitter.feed(b"epoch 1 10%\r")
    assert split.lines == () and split.redraw == b"epoch 1 10%"
    assert splitter.feed(b"").redraw is None  # nothing new drawn
    split = splitter.feed(b"epoch 1 20%\r")
    assert split.lines == () and split.redraw == b"epoch 1 20%"
    split = splitter.feed(b"\nepoch 2 done\r")
    assert split.lines == (b"epoch 1 20%",) and split.redraw == b"epoch 2 done"
    assert splitter.feed(b"\n").lines == (b"epoch 2 done",)
    assert splitter.close() == []


def test_an_unfinished_bar_is_its_last_state_at_the_end() -> None:
    """A bar the child never finished (it hung or was killed) leaves its newest state as the last line."""
    splitter = LineSplitter()
    splitter.feed(b"\r 10%\r 20%\r 30")
    assert splitter.close() == [b" 30"]
    splitter.feed(b"\r 40%\r")
    assert splitter.close() == [b" 40%"]


def test_an_over_long_state_goes_out_in_pieces_and_the_line_then_goes_on() -> None:
    """A state longer than the limit is logged in pieces, not held; the states after it fold as usual."""
    splitter = LineSplitter(max_line=4)
    split = splitter.feed(b"abcdefghij\rxy\rz")
    assert split.lines == (b"abcd", b"efgh", b"ij") and split.redraw == b"xy"
    assert splitter.feed(b"\n").lines == (b"z",)
