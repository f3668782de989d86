"""Faults that strike the harness itself: signals at random moments, and an output folder it cannot write.

The child and the checks are those of ``test_faults.py``: every run leaves its documented exit code, reports
that read back, no process of the run alive, and what the child did before the fault.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, base_env, child
from test_faults import (
    MARKER_VAR,
    assert_no_survivors,
    assert_nothing_lost,
    assert_reports,
    run_fault,
    start_harness,
    wait_ready,
)

from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus

HARNESS_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


# ---------------------------------------------------------------------------------------------------------
# Signals to the harness at random moments (a cancelled workflow)
# ---------------------------------------------------------------------------------------------------------


def interrupt_once(folder: Path, rng: random.Random, mode: str = "steady") -> str:
    """Start a run, signal the harness after a random delay, check what it left; returns the outcome's kind."""
    folder.mkdir()
    harness, marker = start_harness(folder, mode, options=["--grace", "30s"])
    delay = rng.uniform(0.0, 1.5)
    sig = rng.choice(HARNESS_SIGNALS)
    time.sleep(delay)
    sent = time.monotonic()
    harness.send_signal(sig)
    try:
        output, _ = harness.communicate(timeout=30)
    except subprocess.TimeoutExpired as exc:
        harness.kill()
        rest, _ = harness.communicate()
        tail = ((exc.output or b"") + (rest or b"")).decode(errors="replace")[-3000:]
        raise AssertionError(f"{sig.name} after {delay:.3f}s: still running 30 s later; output ends\n{tail}") from None
    took = time.monotonic() - sent
    seen = f"{sig.name} after {delay:.3f}s: exit {harness.returncode} in {took:.2f}s\n{output.decode(errors='replace')}"
    assert_no_survivors(marker)
    out = folder / "out"
    if not (out / "result.json").exists():
        # The signal came before the harness had made its result folder: nothing was started, nothing is owed.
        assert not (folder / "ready").exists(), seen
        if harness.returncode == 1 and b"Fatal Python error: init_import_site" in output:
            # so early that the interpreter itself was still starting (importing `site`): no Python code can
            # handle a signal there, and CPython ends with 1
            return "before the start"
        assert harness.returncode in (130, -sig), seen
        return "before the start"
    assert harness.returncode == 130, seen
    assert took < 5, seen
    result = assert_reports(out, "interrupted")
    if (folder / "ready").exists():
        assert_nothing_lost(out, result)
        return "while the child ran"
    return "before the child's work"


def _interrupt_loop(tmp_path: Path, runs: int) -> dict[str, int]:
    seed = secrets.randbits(32)
    rng = random.Random(seed)
    kinds: dict[str, int] = {}
    for n in range(runs):
        try:
            kind = interrupt_once(tmp_path / f"run{n}", rng)
        except AssertionError as exc:
            raise AssertionError(f"run {n} of seed {seed}: {exc}") from None
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"{runs} interrupted runs (seed {seed}): {kinds}")
    return kinds


def test_signals_at_random_moments_always_end_in_130_with_reports(tmp_path: Path) -> None:
    """A few runs, each signalled (SIGINT, SIGTERM or SIGHUP) at a random moment: 130, reports, no survivor."""
    _interrupt_loop(tmp_path, 5)


@pytest.mark.slow
def test_signals_at_random_moments_many_times(tmp_path: Path) -> None:
    """The same, a hundred times."""
    kinds = _interrupt_loop(tmp_path, 100)
    assert kinds.get("while the child ran", 0) > 50


def test_a_signal_while_the_child_ignores_sigterm_still_ends_in_time(tmp_path: Path) -> None:
    """Cancelled while the child ignores SIGTERM: SIGKILL after the short interrupt grace; 130 within ~3 s."""
    harness, marker = start_harness(tmp_path, "ignore-term", options=["--grace", "60s"])
    wait_ready(tmp_path)
    time.sleep(0.2)
    sent = time.monotonic()
    harness.send_signal(signal.SIGINT)
    output, _ = harness.communicate(timeout=30)
    assert harness.returncode == 130, output.decode(errors="replace")
    assert time.monotonic() - sent < 5
    result = assert_reports(tmp_path / "out", "interrupted")
    assert result.child_signal == "SIGKILL"
    assert_nothing_lost(tmp_path / "out", result)
    assert_no_survivors(marker)


def test_a_second_signal_kills_at_once(tmp_path: Path) -> None:
    """SIGINT then SIGTERM to the harness of a SIGTERM-ignoring child: no waiting for the grace; 130."""
    harness, marker = start_harness(tmp_path, "ignore-term", options=["--grace", "60s"])
    wait_ready(tmp_path)
    time.sleep(0.2)
    harness.send_signal(signal.SIGINT)
    time.sleep(0.1)
    sent = time.monotonic()
    harness.send_signal(signal.SIGTERM)
    output, _ = harness.communicate(timeout=30)
    assert harness.returncode == 130, output.decode(errors="replace")
    assert time.monotonic() - sent < 2.0
    assert_reports(tmp_path / "out", "interrupted")
    assert_no_survivors(marker)


def test_sigquit_ends_the_run_like_sigterm_with_reports_and_no_process_left(tmp_path: Path) -> None:
    """SIGQUIT to the harness of a child with 20 forked sleepers (some setsid): 130, reports, the whole tree gone."""
    harness, marker = start_harness(tmp_path, "fork-bomb", "20", options=["--grace", "30s"])
    wait_ready(tmp_path)
    log = tmp_path / "out" / "log.txt"
    end = time.monotonic() + 20
    while b"fork bomb: 20 processes started" not in (log.read_bytes() if log.exists() else b""):
        assert time.monotonic() < end, "the fork bomb never reported"
        time.sleep(0.02)
    harness.send_signal(signal.SIGQUIT)
    output, _ = harness.communicate(timeout=30)
    assert harness.returncode == 130, output.decode(errors="replace")
    result = assert_reports(tmp_path / "out", "interrupted")
    assert_nothing_lost(tmp_path / "out", result)
    assert_no_survivors(marker)


def strike(folder: Path, sig: signal.Signals, delay: float, *, after_reports: bool) -> str:
    """A whole quick run, ``sig`` sent ``delay`` s after its start (or after its last report was written):
    whatever the moment, result.json and the exit code agree. Returns the status result.json gives."""
    folder.mkdir()
    harness, marker = start_harness(folder, "quick")
    out = folder / "out"
    if after_reports:
        end = time.monotonic() + 30
        while not (out / "junit.xml").exists() and harness.poll() is None:
            assert time.monotonic() < end, "the run never wrote its reports"
            time.sleep(0.001)
    time.sleep(delay)
    harness.send_signal(sig)
    output, _ = harness.communicate(timeout=30)
    code = harness.returncode
    seen = f"{sig.name} {'after the reports' if after_reports else 'after'} +{delay:.3f}s: exit {code}\n"
    seen += output.decode(errors="replace")[-3000:]
    assert_no_survivors(marker)
    if not (out / "result.json").exists():
        # Before the result folder was made nothing had started: the run is interrupted and owes no report.
        assert not (folder / "ready").exists(), seen
        if code == 1 and (b"init_import_site" in output or b"Could not import runpy module" in output):
            return "before the start"  # the interpreter itself was still starting; see the known limits
        assert code in (130, -sig), seen
        return "before the start"
    result = RunResult.from_dict(json.loads((out / "result.json").read_text(encoding="utf-8")))
    assert result.status is not RunStatus.RUNNING, seen
    assert int(result.exit_code) == code, seen
    assert code in (0, 130), seen
    return result.status.value


def _strike_loop(tmp_path: Path, runs: int) -> dict[str, int]:
    seed = secrets.randbits(32)
    rng = random.Random(seed)
    (tmp_path / "unstruck").mkdir()
    started = time.monotonic()
    harness, _ = start_harness(tmp_path / "unstruck", "quick")
    harness.communicate(timeout=60)
    lifetime = time.monotonic() - started  # how long a whole run takes here, to strike anywhere within it
    outcomes: dict[str, int] = {}
    for n in range(runs):
        sig = HARNESS_SIGNALS[n % len(HARNESS_SIGNALS)]
        after_reports = n % 2 == 1
        # the others spread evenly over a whole run's life, each at a random point of its own stretch
        stretch = lifetime / ((runs + 1) // 2)
        delay = rng.uniform(0.0, 0.01) if after_reports else stretch * (n // 2 + rng.random())
        try:
            outcome = strike(tmp_path / f"run{n}", sig, delay, after_reports=after_reports)
        except AssertionError as exc:
            raise AssertionError(f"run {n} of seed {seed}: {exc}") from None
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(f"{runs} struck runs (seed {seed}, a run lasts {lifetime:.2f}s): {outcomes}")
    return outcomes


def test_a_signal_at_any_moment_leaves_result_json_and_the_exit_code_agreeing(tmp_path: Path) -> None:
    """SIGINT, SIGTERM, SIGHUP or SIGQUIT at random moments of a whole run, half of them in its last
    milliseconds: the exit code is always the one result.json gives, and no process is left."""
    outcomes = _strike_loop(tmp_path, 12)
    assert outcomes.get("success", 0) >= 1  # the signals after the verdict changed nothing


@pytest.mark.slow
def test_a_signal_at_any_moment_many_times(tmp_path: Path) -> None:
    """The same, a hundred times."""
    outcomes = _strike_loop(tmp_path, 100)
    assert outcomes.get("interrupted", 0) >= 5
    assert outcomes.get("success", 0) >= 50


# ---------------------------------------------------------------------------------------------------------
# The output folder cannot be written, or fills up
# ---------------------------------------------------------------------------------------------------------


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/mle-ci-mount-probe-{uuid.uuid4().hex}")
    probe.mkdir()
    try:
        mount = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)]
        done = subprocess.run(mount, check=False, capture_output=True)
        if done.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=True)
        return True
    finally:
        probe.rmdir()


CAN_MOUNT = _can_mount()


@contextlib.contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def _read_only_folder(path: Path) -> Iterator[Path]:
    """A folder nobody can write into: a read-only tmpfs for root (who ignores modes), mode 0555 otherwise."""
    if os.geteuid() == 0:
        if not CAN_MOUNT:
            pytest.skip("root without mount: no folder is read-only to root here")
        with _tmpfs(path, "size=64k,ro") as folder:
            yield folder
        return
    path.mkdir()
    path.chmod(0o555)
    try:
        yield path
    finally:
        path.chmod(0o755)


def test_an_unwritable_output_folder_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """A read-only output folder: exit 2 with the folder named, and the command never started."""
    marker = uuid.uuid4().hex
    command = child("faulty", "crash", str(tmp_path / "ready"))
    with _read_only_folder(tmp_path / "ro") as folder:
        proc = subprocess.run(
            [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(folder / "out"), "--", *command],
            check=False,
            env=base_env({MARKER_VAR: marker}),
            cwd=ROOT,
            capture_output=True,
            timeout=60,
        )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert b"Error: output-dir: cannot use" in proc.stderr
    assert not (tmp_path / "ready").exists()
    assert_no_survivors(marker)


def _limit_file_size(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_file_size_limit_stops_the_log_not_the_run(tmp_path: Path) -> None:
    """RLIMIT_FSIZE of 1 MiB on the harness, 4 MiB of output: log.txt stops at the limit with a warning;
    the run, its fold lines and every report still complete (exit 0)."""
    marker = uuid.uuid4().hex
    out = tmp_path / "out"
    argv = ["--folds", "3", "--", *child("faulty", "flood", str(tmp_path / "ready"), str(4 * 1024 * 1024))]
    proc = subprocess.run(
        [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(out), *argv],
        check=False,
        env=base_env({MARKER_VAR: marker}),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
        preexec_fn=lambda: _limit_file_size(1024 * 1024),
    )
    assert proc.returncode == 0, proc.stderr
    result = assert_reports(out, "success")
    assert any("stopped writing log.txt" in w for w in result.warnings), result.warnings
    assert (out / "log.txt").stat().st_size <= 1024 * 1024
    assert [f.score for f in result.folds[:2]] == pytest.approx([0.81, 0.83])  # the line after the flood
    assert (out / "submission.csv").exists()
    assert_no_survivors(marker)


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root and tmpfs mounts for a small full disk")
def test_a_full_disk_mid_run_still_ends_with_the_childs_exit_code(tmp_path: Path) -> None:
    """A 3 MiB tmpfs filled by the child's output: log.txt stops with a warning, the space held back for the
    reports is released at the end, so result.json, summary.md and junit.xml are all written; exit 0."""
    with _tmpfs(tmp_path / "small", "size=3m") as disk:
        fault = run_fault(disk, "flood", str(8 * 1024 * 1024))
        out = disk / "out"
        assert fault.run.returncode == 0, fault.run.stdout
        result = assert_reports(out, "success")
        assert any("stopped writing log.txt: No space left on device" in w for w in result.warnings)
        assert_nothing_lost(out, result)
        assert [f.score for f in result.folds[:2]] == pytest.approx([0.81, 0.83])
        assert not (out / ".mle-ci-reserve").exists()
    assert_no_survivors(fault.marker)
