"""Faults of the supervised child, end to end: the documented exit code, valid reports, no orphan, nothing lost.

Every run here is the real harness (``python -m mle_ci run``) supervising ``tests/children/faulty.py``, which first
does real work (three lines, fold 1 through the progress API, a submission) and then meets its fault. Every
process of the run carries a marker in its environment, so a survivor is found in ``/proc`` whatever it did to
its process group, session or parent.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import junitparser
import pytest
from helpers import ROOT, Run, base_env, child, end_hopper, hopper_gone, mle_ci

from mle_ci.hardware.nvml import FakeNvml, fake_gpu
from mle_ci.pipeline import execute
from mle_ci.result import RunResult
from mle_ci.settings import load_settings

MARKER_VAR = "MLE_CI_FAULT_SUITE_MARKER"
SUBMISSION = "id,target\n1,0\n2,1\n"


# ---------------------------------------------------------------------------------------------------------
# What every fault test checks
# ---------------------------------------------------------------------------------------------------------


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] in (b"Z", b"X")


def marked(marker: str) -> list[int]:
    """Living processes (not zombies) whose environment carries ``marker``."""
    needle = f"{MARKER_VAR}={marker}".encode()
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me and needle in _environ(int(name)) and not _zombie(int(name)):
            found.append(int(name))
    return found


def assert_no_survivors(marker: str, seconds: float = 3.0) -> None:
    """No process of the run is left; any that is gets SIGKILL (this machine is shared) and fails the test."""
    end = time.monotonic() + seconds
    left = marked(marker)
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = marked(marker)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} process(es) of the run outlived the harness: {left[:10]}"


def assert_reports(out: Path, status: str) -> RunResult:
    """result.json reads back as a RunResult with ``status``; junit.xml parses; summary.md is there."""
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    result = RunResult.from_dict(data)
    assert result.status.value == status, (result.status, result.errors)
    junitparser.JUnitXml.fromfile(str(out / "junit.xml"))
    assert (out / "summary.md").read_text(encoding="utf-8").strip()
    return result


def _events(out: Path) -> list[dict[str, object]]:
    events = []
    for raw in (out / "events.jsonl").read_bytes().splitlines():
        with contextlib.suppress(ValueError):
            item = json.loads(raw)
            if isinstance(item, dict):
                events.append(item)
    return events


def assert_nothing_lost(out: Path, result: RunResult) -> None:
    """What the child did before its fault is all still there: lines, events, fold 1 and the submission."""
    log = (out / "log.txt").read_bytes()
    for n in (1, 2, 3):
        assert f"before the fault: line {n}\n".encode() in log
    folds = [e for e in _events(out) if e.get("type") == "fold"]
    assert any(e.get("fold") == 1 and e.get("score") == 0.81 for e in folds)
    assert any(e.get("type") == "submission" for e in _events(out))
    assert (out / "submission.csv").read_text() == SUBMISSION
    assert result.folds[0].index == 1
    assert result.folds[0].score == pytest.approx(0.81)


@dataclass
class FaultRun:
    run: Run
    marker: str

    @property
    def out(self) -> Path:
        return self.run.out


def _marker_env(marker: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {MARKER_VAR: marker, **(extra or {})}


def run_fault(
    tmp_path: Path,
    mode: str,
    *args: str,
    options: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    folds: bool = True,
) -> FaultRun:
    marker = uuid.uuid4().hex
    ready = tmp_path / "ready"
    argv = [*(["--folds", "3"] if folds else []), *(options or []), "--", *child("faulty", mode, str(ready), *args)]
    run = mle_ci(argv, tmp_path / "out", env=_marker_env(marker, env), timeout=timeout)
    return FaultRun(run, marker)


def start_harness(
    tmp_path: Path, mode: str, *args: str, options: list[str] | None = None, stdout: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The harness in the background, its child running ``mode``; returns it and the run's marker."""
    marker = uuid.uuid4().hex
    argv = [*(options or []), "--", *child("faulty", mode, str(tmp_path / "ready"), *args)]
    harness = subprocess.Popen(
        [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(tmp_path / "out"), "--folds", "3", *argv],
        env=base_env(_marker_env(marker)),
        cwd=ROOT,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.STDOUT,
    )
    return harness, marker


def wait_ready(tmp_path: Path, seconds: float = 20) -> int:
    """The child's pid, once it has done its work before the fault."""
    path = tmp_path / "ready"
    end = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < end, "the child never got ready"
        time.sleep(0.02)
    return int(path.read_text())


# ---------------------------------------------------------------------------------------------------------
# The child dies
# ---------------------------------------------------------------------------------------------------------


def test_crash_after_a_fold_keeps_the_fold_the_lines_and_the_submission(tmp_path: Path) -> None:
    """A Python exception after fold 1: exit 1, crashed, crash site named, fold 1 and the submission kept."""
    fault = run_fault(tmp_path, "crash")
    assert fault.run.returncode == 1, fault.run.stdout
    result = assert_reports(fault.out, "crashed")
    assert_nothing_lost(fault.out, result)
    assert result.crash is not None and result.crash.file == "tests/children/faulty.py"
    assert "RuntimeError" in (result.crash.exception or "")
    assert_no_survivors(fault.marker)


def test_segfault_after_a_fold_keeps_everything(tmp_path: Path) -> None:
    """SIGSEGV in native code: exit 1, crashed with the signal named, nothing of before lost."""
    fault = run_fault(tmp_path, "segfault")
    assert fault.run.returncode == 1, fault.run.stdout
    result = assert_reports(fault.out, "crashed")
    assert result.child_signal == "SIGSEGV"
    assert_nothing_lost(fault.out, result)
    assert_no_survivors(fault.marker)


def test_sigkill_from_outside_as_the_oom_killer_does(tmp_path: Path) -> None:
    """The child SIGKILLed by someone else (the OOM killer): exit 1, crashed by SIGKILL, nothing lost."""
    harness, marker = start_harness(tmp_path, "wait")
    pid = wait_ready(tmp_path)
    os.kill(pid, signal.SIGKILL)
    output, _ = harness.communicate(timeout=30)
    assert harness.returncode == 1, output.decode(errors="replace")
    result = assert_reports(tmp_path / "out", "crashed")
    assert result.child_signal == "SIGKILL"
    assert not any("SIGKILL after the grace" in line for line in output.decode().splitlines())
    assert_nothing_lost(tmp_path / "out", result)
    assert_no_survivors(marker)


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    """At --timeout a SIGTERM-ignoring child gets SIGKILL after the grace: exit 124, work before kept."""
    fault = run_fault(tmp_path, "ignore-term", options=["--timeout", "2s", "--grace", "0.5s"])
    assert fault.run.returncode == 124, fault.run.stdout
    result = assert_reports(fault.out, "timeout")
    assert result.child_signal == "SIGKILL"
    assert_nothing_lost(fault.out, result)
    assert_no_survivors(fault.marker)


# ---------------------------------------------------------------------------------------------------------
# The child leaves processes behind
# ---------------------------------------------------------------------------------------------------------


def test_a_bounded_fork_bomb_is_ended_whole(tmp_path: Path) -> None:
    """200 forked sleepers, some in their own session: at --timeout every one of them is gone; exit 124."""
    fault = run_fault(tmp_path, "fork-bomb", "200", options=["--timeout", "4s", "--grace", "1s"])
    assert fault.run.returncode == 124, fault.run.stdout
    assert "fork bomb: 200 processes started" in fault.run.file("log.txt")
    result = assert_reports(fault.out, "timeout")
    assert_nothing_lost(fault.out, result)
    assert_no_survivors(fault.marker)


def test_a_daemonised_grandchild_is_found_and_ended(tmp_path: Path) -> None:
    """A double-forked, setsid grandchild with its own stdio outlives its parent: the harness ends it; exit 0."""
    fault = run_fault(tmp_path, "daemon", options=["--grace", "1s"])
    assert fault.run.returncode == 0, fault.run.stdout
    result = assert_reports(fault.out, "success")
    assert any("left 1 process" in w for w in result.warnings), result.warnings
    assert_nothing_lost(fault.out, result)
    assert_no_survivors(fault.marker)


def test_a_daemon_that_keeps_changing_its_pid_is_ended_and_reported(tmp_path: Path) -> None:
    """A daemon that re-forks as fast as it can, each self in a new session and deaf to SIGTERM: the harness
    ends whichever self is current, reports the leftovers and says how the run's processes end; exit 0."""
    hops = tmp_path / "hops"
    try:
        fault = run_fault(tmp_path, "pid-hopper", str(hops), options=["--grace", "1s"])
        assert fault.run.returncode == 0, fault.run.stdout
        result = assert_reports(fault.out, "success")
        assert any("running; they were killed" in w for w in result.warnings), result.warnings
        assert "leftover process(es) ended" in fault.run.stdout
        cgroup = "its processes end with cgroup.kill" in fault.run.stdout
        assert cgroup != ("processes end by freeze (SIGSTOP), rescan and SIGKILL" in fault.run.stdout)
        assert_nothing_lost(fault.out, result)
        assert hopper_gone(hops)
        assert_no_survivors(fault.marker)
    finally:
        end_hopper(hops)


def test_a_child_that_closes_stdout_is_still_followed_to_its_end(tmp_path: Path) -> None:
    """Closing stdout is not the end: events written afterwards count, the run ends when the child does."""
    fault = run_fault(tmp_path, "close-stdout", "1.5")
    assert fault.run.returncode == 0, fault.run.stdout
    result = assert_reports(fault.out, "success")
    assert_nothing_lost(fault.out, result)
    assert [f.score for f in result.folds[:2]] == pytest.approx([0.81, 0.82])
    later = [e for e in _events(fault.out) if str(e.get("text", "")).startswith("still running after")]
    assert len(later) >= 3
    assert result.duration_s is not None and result.duration_s >= 1.5
    assert_no_survivors(fault.marker)


# ---------------------------------------------------------------------------------------------------------
# Bad data from the child
# ---------------------------------------------------------------------------------------------------------


def test_corrupt_lines_in_the_events_file_are_skipped_and_counted(tmp_path: Path) -> None:
    """Garbage, binary, a half line, a 1 MiB line and wrongly typed events: counted, never fatal; folds kept."""
    fault = run_fault(tmp_path, "corrupt-events")
    assert fault.run.returncode == 0, fault.run.stdout
    result = assert_reports(fault.out, "success")
    assert_nothing_lost(fault.out, result)
    # Seven lines are not events: text, binary, the joined half line (an unknown key), wrong types (2),
    # an unknown version and type, a list, a string, NaN, the huge line; fold 2 and 3 still count.
    assert result.invalid_events >= 9
    assert [(f.index, f.score) for f in result.folds] == [(1, 0.81), (2, 0.82), (3, 0.84)]


def test_absurd_fold_counts_and_scores_still_give_small_valid_reports(tmp_path: Path) -> None:
    """A child claiming 100000000 folds with scores near the float limit: exit 0 soon, result.json finite JSON,
    the claims past 1,000 folds skipped as invalid events, JUnit and summary written."""
    fault = run_fault(tmp_path, "absurd", folds=False)
    assert fault.run.returncode == 0, fault.run.stdout
    result = assert_reports(fault.out, "success")
    assert_nothing_lost(fault.out, result)
    assert result.total_folds is None or result.total_folds <= 1000
    assert result.invalid_events >= 2  # the fold line's and the fold event's claims of 100,000,000
    assert 1 <= len(result.folds) <= 1000
    assert (fault.out / "result.json").stat().st_size < 1024 * 1024
    assert_no_survivors(fault.marker)


def test_lines_crafted_to_make_the_parser_backtrack_do_not_delay_the_deadline(tmp_path: Path) -> None:
    """300 lines built against the line parser's regular expressions (a 4 KiB key-like run, a digit run,
    "INFO " forty times) before --timeout 1s: the run still ends at its deadline (exit 124), not minutes later."""
    fault = run_fault(tmp_path, "costly-lines", options=["--timeout", "1s", "--grace", "0.5s"])
    assert fault.run.returncode == 124, fault.run.stdout[-2000:]
    assert fault.run.seconds < 20  # before the fix: over a minute, and forever for the INFO lines
    result = assert_reports(fault.out, "timeout")
    assert_nothing_lost(fault.out, result)
    assert_no_survivors(fault.marker)


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def flood_run(tmp_path: Path, total: int) -> tuple[int, float, int]:
    """Harness exit code, wall seconds and peak RSS (KiB) for a child printing ``total`` bytes."""
    harness, marker = start_harness(tmp_path, "flood", str(total), stdout=subprocess.DEVNULL)
    peak = 0
    started = time.monotonic()
    while harness.poll() is None:
        peak = max(peak, _vm_hwm_kib(harness.pid) or 0)
        time.sleep(0.02)
    seconds = time.monotonic() - started
    assert_no_survivors(marker)
    return harness.returncode, seconds, peak


def _check_flood(tmp_path: Path, total: int) -> tuple[float, int]:
    code, seconds, peak = flood_run(tmp_path, total)
    assert code == 0
    out = tmp_path / "out"
    result = assert_reports(out, "success")
    assert_nothing_lost(out, result)
    assert result.folds[1].score == pytest.approx(0.83)  # the line after the flood was still parsed
    assert (out / "log.txt").stat().st_size > total
    return seconds, peak


@pytest.mark.parametrize("megabytes", [50])
def test_a_flood_of_output_passes_in_flat_memory(tmp_path: Path, megabytes: int) -> None:
    """50 MiB of output, all logged, in the same peak memory as 5 MiB (within 16 MiB): memory is flat."""
    _, small = _check_flood(tmp_path / "small", 5 * 1024 * 1024)
    seconds, large = _check_flood(tmp_path / "large", megabytes * 1024 * 1024)
    print(f"flood {megabytes} MiB: {megabytes / seconds:.0f} MiB/s, harness peak RSS {large / 1024:.1f} MiB", end="")
    print(f" (5 MiB: {small / 1024:.1f} MiB)")
    assert large - small < 16 * 1024, (small, large)


@pytest.mark.slow
def test_a_flood_of_one_gigabyte_passes_in_flat_memory(tmp_path: Path) -> None:
    """1 GiB of output in bounded time (the subprocess limit) and the peak memory of a 5 MiB flood."""
    _, small = _check_flood(tmp_path / "small", 5 * 1024 * 1024)
    seconds, large = _check_flood(tmp_path / "large", 1024 * 1024 * 1024)
    print(f"flood 1 GiB: {1024 / seconds:.0f} MiB/s in {seconds:.1f} s", end="")
    print(f", harness peak RSS {large / 1024:.1f} MiB (5 MiB: {small / 1024:.1f} MiB)")
    assert large - small < 16 * 1024, (small, large)


# ---------------------------------------------------------------------------------------------------------
# NVML fails mid-run (the fake backend; the harness in this process)
# ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _no_threads_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    end = time.monotonic() + 3
    while set(threading.enumerate()) - before and time.monotonic() < end:
        time.sleep(0.05)
    assert not set(threading.enumerate()) - before


def test_nvml_lost_mid_run_keeps_the_samples_before_and_the_run(tmp_path: Path) -> None:
    """The GPU is lost after a few samples: errors recorded, samples before kept in gpu.csv, the run succeeds."""
    marker = uuid.uuid4().hex
    nvml = FakeNvml([fake_gpu(0, load=lambda _ts: 60.0)], fail_samples_after=3)
    env = {"PATH": os.environ["PATH"], "NVIDIA_VISIBLE_DEVICES": "all", "PYTHONPATH": str(ROOT), MARKER_VAR: marker}
    command = (*child("faulty", "close-stdout", str(tmp_path / "ready"), "1"),)
    cli = {"output_dir": str(tmp_path / "out"), "display": "plain", "gpu_interval": "0.1s", "command": command}
    settings = load_settings(cli | {"folds": "3"}, env, ROOT)
    with _no_threads_left():
        result = execute(settings, stream=io.StringIO(), nvml=nvml)
    assert result.exit_code == 0
    assert result.gpu_errors
    saved = assert_reports(tmp_path / "out", "success")
    assert saved.gpu_errors
    assert_nothing_lost(tmp_path / "out", saved)
    rows = (tmp_path / "out" / "gpu.csv").read_text().splitlines()
    good = [row for row in rows[1:] if row.split(",")[2] == "60"]
    assert len(good) == 3  # the samples taken before the fault
    assert all(row.endswith("fake NVML sample failure: unknown") for row in rows[4:])
    assert_no_survivors(marker)


def test_a_child_that_deletes_the_output_folder_still_gets_a_final_result(tmp_path: Path) -> None:
    """The output folder removed under the harness: the final reports are written into it again, agreeing."""
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(out), "--heartbeat", "0", "--"]
    code = "import os, shutil, sys; shutil.rmtree(os.path.dirname(os.environ['MLE_CI_EVENTS'])); sys.exit(0)"
    done = subprocess.run([*argv, sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "success" and result["exit_code"] == done.returncode == 0
