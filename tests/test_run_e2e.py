"""End-to-end runs of the real harness against small fake children (tests/children)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import junitparser
import pytest
from helpers import ROOT, alive, base_env, child, run_child, wait_gone


def test_successful_run_writes_every_report(tmp_path: Path) -> None:
    """A child reporting through the API leaves result, summary, JUnit, events and log; exit 0."""
    run = run_child("events_api", tmp_path / "out")
    assert run.returncode == 0, run.stdout
    result = run.result
    assert result["status"] == "success" and result["exit_code"] == 0
    assert [f["score"] for f in result["folds"]] == pytest.approx([0.36, 0.37])
    assert result["metric"] == {"name": "rmse", "higher_is_better": False}
    assert result["submission"] == "submission.csv" and result["checkpoints"] == 2
    assert result["invalid_events"] == 0
    events = run.file("events.jsonl").splitlines()
    assert sum('"helper ' in line for line in events) == 150  # three writers at once, nothing lost
    suite = junitparser.JUnitXml.fromfile(str(run.out / "junit.xml"))
    names = [case.name for s in suite for case in s]
    assert names == ["fold-1", "fold-2"]
    assert "CV score" in run.file("summary.md") or "0.365" in run.file("summary.md")


def test_plain_lines_become_events_in_order(tmp_path: Path) -> None:
    """Printed progress lines are parsed into events.jsonl and into the folds of the result."""
    run = run_child("events_lines", tmp_path / "out")
    assert run.returncode == 0
    folds = run.result["folds"]
    assert [(f["index"], f["score"]) for f in folds] == [(1, 0.71), (2, 0.72), (3, 0.73)]
    assert [f["epochs"] for f in folds] == [2, 2, 2]
    assert folds[1]["early_stopped"] is True
    types = [line.split('"type":"')[1].split('"')[0] for line in run.file("events.jsonl").splitlines()]
    assert types == ["epoch", "epoch", "fold", "epoch", "epoch", "early_stop", "fold", "epoch", "epoch", "fold"]


def test_crash_names_file_and_line(tmp_path: Path) -> None:
    """A Python traceback gives status crashed, exit 1, the crash site, and an error for the unfinished fold."""
    run = run_child("crasher", tmp_path / "out", options=["--folds", "3"])
    assert run.returncode == 1
    result = run.result
    assert result["status"] == "crashed" and result["child"]["exit_code"] == 1
    assert result["crash"]["file"] == "tests/children/crasher.py"
    assert result["crash"]["line"] == 8
    assert "KeyError" in result["crash"]["exception"]
    statuses = [f["status"] for f in result["folds"]]
    assert statuses == ["completed", "incomplete", "not-reached"]
    xml = junitparser.JUnitXml.fromfile(str(run.out / "junit.xml"))
    assert xml.errors >= 1 and xml.skipped == 1


def test_segfault_is_a_crash_with_the_signal(tmp_path: Path) -> None:
    """A child killed by SIGSEGV is crashed, with the signal named."""
    run = run_child("segfault", tmp_path / "out")
    assert run.returncode == 1
    assert run.result["status"] == "crashed"
    assert run.result["child"]["signal"] == "SIGSEGV"
    assert run.result["crash"]["file"] == "tests/children/segfault.py"  # from the faulthandler dump
    assert run.result["crash"]["line"] == 6


def test_timeout_kills_a_sigterm_ignorer_after_grace(tmp_path: Path) -> None:
    """At the deadline the group gets SIGTERM, then SIGKILL after the grace; exit 124, status timeout."""
    run = run_child("ignore_term", tmp_path / "out", options=["--timeout", "1s", "--grace", "1s"])
    assert run.returncode == 124
    assert run.result["status"] == "timeout"
    assert run.result["child"]["signal"] == "SIGKILL"
    assert 2.0 <= run.seconds < 20


def test_stall_timeout_stops_a_silent_child(tmp_path: Path) -> None:
    """No output and no event for the stall timeout stops the run as stalled (exit 1)."""
    run = run_child("sleeper", tmp_path / "out", "60", options=["--stall-timeout", "1s", "--grace", "1s"])
    assert run.returncode == 1
    assert run.result["status"] == "stalled"


def test_heartbeat_speaks_while_the_child_is_silent(tmp_path: Path) -> None:
    """A silent child still produces timestamped heartbeat lines with elapsed and budget left."""
    run = run_child("sleeper", tmp_path / "out", "2.5", options=["--heartbeat", "0.5s", "--timeout", "1m"])
    assert run.returncode == 0
    beats = [line for line in run.stdout.splitlines() if "last output" in line]
    assert len(beats) >= 3
    assert "left" in beats[0] and beats[0].startswith("[mle-ci ")


@pytest.mark.parametrize("mode", ["plain", "setsid", "double"])
def test_no_grandchild_outlives_the_run(tmp_path: Path, mode: str) -> None:
    """Grandchildren in the group, in their own session, or double-forked are all killed at the end."""
    pid_file = tmp_path / "pid"
    run = run_child("spawner", tmp_path / "out", mode, str(pid_file), "--exit", options=["--grace", "1s"])
    assert run.returncode == 0, run.stdout
    grandchild = int(pid_file.read_text())
    assert wait_gone(grandchild), f"{mode} grandchild {grandchild} survived"
    assert "leftover" in run.stdout


@pytest.mark.parametrize("mode", ["plain", "setsid"])
def test_timeout_reaches_escaped_grandchildren(tmp_path: Path, mode: str) -> None:
    """At the deadline a grandchild that left the group is killed with the rest."""
    pid_file = tmp_path / "pid"
    run = run_child("spawner", tmp_path / "out", mode, str(pid_file), options=["--timeout", "1.5s", "--grace", "1s"])
    assert run.returncode == 124
    assert wait_gone(int(pid_file.read_text()))


def test_invalid_utf8_and_huge_lines_survive(tmp_path: Path) -> None:
    """Invalid UTF-8 and a 2 MiB line reach log.txt intact; the run still parses the next line."""
    run = run_child("noisy_bytes", tmp_path / "out")
    assert run.returncode == 0
    log = (run.out / "log.txt").read_bytes()
    assert b"invalid \xff\xfe utf-8 \xc3\x28 here\n" in log
    assert b"x" * (2 * 1024 * 1024) in log.replace(b"\n", b"")
    assert log.endswith(b"no newline at the end\n")
    assert run.result["folds"][0]["score"] == 0.5
    junitparser.JUnitXml.fromfile(str(run.out / "junit.xml"))


def _start_harness(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(tmp_path / "out"), *args],
        env=base_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(path: Path, seconds: float = 10) -> None:
    end = time.monotonic() + seconds
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_to_harness_ends_tree_and_writes_reports(tmp_path: Path, sig: signal.Signals) -> None:
    """A cancelled workflow: SIGTERM to the group, short grace, reports written, exit 130, within ~5 s."""
    pid_file = tmp_path / "pid"
    harness = _start_harness(tmp_path, "--grace", "30s", "--", *child("spawner", "setsid", str(pid_file)))
    _wait_for(pid_file)
    started = time.monotonic()
    harness.send_signal(sig)
    harness.communicate(timeout=15)
    elapsed = time.monotonic() - started
    assert harness.returncode == 130
    assert elapsed < 5
    assert wait_gone(int(pid_file.read_text()))
    out = tmp_path / "out"
    assert '"status": "interrupted"' in (out / "result.json").read_text()
    assert (out / "summary.md").exists() and (out / "junit.xml").exists()


def test_sigkilled_harness_takes_its_child_along(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: when the harness is SIGKILLed the child dies too, and result.json holds the last state."""
    pid_file = tmp_path / "pid"
    harness = _start_harness(tmp_path, "--", *child("spawner", "plain", str(pid_file)))
    _wait_for(pid_file)
    _wait_for(tmp_path / "out" / "result.json")
    child_pid = json.loads((tmp_path / "out" / "result.json").read_text())["child"]["pid"]
    assert alive(child_pid)
    harness.kill()
    harness.communicate()
    # The grandchild is nobody's to end once the harness is gone (a known limit): the test ends it.
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert wait_gone(child_pid)
    assert json.loads((tmp_path / "out" / "result.json").read_text())["status"] == "running"


def test_a_child_that_never_stops_printing_still_meets_its_deadline(tmp_path: Path) -> None:
    """Reading output never starves the clock: a flooding child is stopped at --timeout."""
    run = run_child("flooder", tmp_path / "out", options=["--timeout", "1s", "--grace", "1s"])
    assert run.returncode == 124
    assert run.result["status"] == "timeout"
    assert run.seconds < 15
