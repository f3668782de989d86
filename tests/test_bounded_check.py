"""The run's submission is checked with its cost bounded: size, memory, time, and a cancel
(``mle_ci.competitions.isolated``)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from competitions_toy import make_competition

from mle_ci.competitions import isolated
from mle_ci.competitions.isolated import Cancel, check_submission, size_problem
from mle_ci.competitions.registry import discover
from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus
from mle_ci.signaltrap import SignalTrap
from mle_ci.stages.judge import judge_submission


@pytest.fixture
def toy(tmp_path: Path) -> object:
    make_competition(tmp_path / "data", config={"metric": "accuracy"})
    return discover("toy", tmp_path / "data")


def _submission(tmp_path: Path, text: str = "id,label\n1,a\n2,b\n3,a\n4,c\n") -> Path:
    path = tmp_path / "submission.csv"
    path.write_text(text)
    return path


def test_a_valid_submission_is_validated_and_graded_in_its_own_process(tmp_path: Path, toy: object) -> None:
    checked = check_submission(_submission(tmp_path), toy, seconds=60)  # type: ignore[arg-type]
    assert checked.problem is None and not checked.cancelled
    assert checked.validation is not None and checked.validation.valid and checked.validation.rows == 4
    assert checked.grade is not None and checked.grade.score == 1.0


def test_a_file_far_larger_than_any_submission_is_invalid_without_being_read(tmp_path: Path, toy: object) -> None:
    """A 4 GiB sparse file: refused by its size, in the harness, before any process reads a byte of it."""
    path = tmp_path / "submission.csv"
    with path.open("wb") as handle:
        handle.truncate(4 * 1024**3)
    problem = size_problem(path, toy)  # type: ignore[arg-type]
    assert problem is not None and "4096.0 MiB" in problem and "not read" in problem
    checked = check_submission(path, toy, seconds=60)  # type: ignore[arg-type]
    assert checked.validation is not None and not checked.validation.valid
    assert checked.validation.problems == (problem,)
    assert checked.grade is None


def test_the_check_runs_under_a_memory_bound(tmp_path: Path, toy: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the bound lowered below what reading the file takes, the check says so instead of taking the memory."""
    rows = "".join(f"{i},{'x' * 200}\n" for i in range(200_000))
    monkeypatch.setattr(isolated, "MEMORY", 16 * 1024 * 1024)
    checked = check_submission(_submission(tmp_path, "id,label\n" + rows), toy, seconds=120)  # type: ignore[arg-type]
    assert checked.validation is None and checked.problem is not None
    assert "memory" in checked.problem, checked.problem


def _slow(*_args: object) -> dict[str, object]:
    time.sleep(60)
    return {}


def test_a_check_past_its_time_is_killed_and_said(tmp_path: Path, toy: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolated, "_check_here", _slow)
    started = time.monotonic()
    checked = check_submission(_submission(tmp_path), toy, seconds=0.5)  # type: ignore[arg-type]
    assert checked.problem is not None and "took longer than" in checked.problem
    assert not checked.cancelled
    assert time.monotonic() - started < 60  # it did not wait for the check to finish


def test_a_cancel_stops_the_check_at_once(tmp_path: Path, toy: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolated, "_check_here", _slow)
    read, write = os.pipe()
    flag = threading.Event()

    def cancel_soon() -> None:
        time.sleep(0.3)
        flag.set()
        os.write(write, b"\x02")

    threading.Thread(target=cancel_soon, daemon=True).start()
    started = time.monotonic()
    try:
        checked = check_submission(_submission(tmp_path), toy, seconds=None, cancel=Cancel(read, flag.is_set))  # type: ignore[arg-type]
    finally:
        os.close(read)
        os.close(write)
    assert checked.cancelled and checked.validation is None
    assert time.monotonic() - started < 60


def test_a_signal_while_the_submission_is_checked_ends_the_run_as_interrupted(
    tmp_path: Path, toy: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGINT to the harness during the check: the check is killed, the run is interrupted (exit 130)."""
    monkeypatch.setattr(isolated, "_check_here", _slow)
    result = RunResult(status=RunStatus.SUCCESS)
    with SignalTrap() as trap:
        threading.Timer(0.3, os.kill, (os.getpid(), 2)).start()
        judged = judge_submission(result, _submission(tmp_path), toy, seconds=None, trap=trap)  # type: ignore[arg-type]
    assert judged.status is RunStatus.INTERRUPTED and int(judged.exit_code) == 130
    assert any("cancelled while the submission was checked" in error for error in judged.errors)


def test_a_check_that_cannot_be_made_fails_the_run_with_the_reason(
    tmp_path: Path, toy: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolated, "_check_here", _slow)
    judged = judge_submission(RunResult(status=RunStatus.SUCCESS), _submission(tmp_path), toy, seconds=0.3)  # type: ignore[arg-type]
    assert judged.status is RunStatus.FAILED
    gate = next(g for g in judged.gates if g.name == "submission-valid")
    assert not gate.passed and "took longer than" in gate.message
    assert replace(judged, gates=()).validation is not None
