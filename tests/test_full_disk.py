"""Reports survive a full disk: no `running` record outlives the harness, result.json agrees with the exit code,
and the step outputs do not depend on the job summary."""

from __future__ import annotations

import errno
import io
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, base_env, child, github_files, read_outputs, run_child
from test_faults_harness import CAN_MOUNT, _tmpfs

from mle_ci.commands.report import republish
from mle_ci.files import RESERVE_NAME, SpaceReserve, write_atomic
from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus
from mle_ci.stages.record import MINIMAL_NOTE, result_json, write_result_file

needs_tmpfs = pytest.mark.skipif(not CAN_MOUNT, reason="needs root and tmpfs mounts for a small full disk")


def no_space(_fd: int, _size: int) -> None:
    """A probe of free space that finds none."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fill(folder: Path) -> None:
    """Write into ``folder`` until its disk is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)


def assert_final(out: Path, returncode: int) -> dict[str, Any]:
    """result.json is there, says how the run ended (never `running`), and its exit code is the harness's."""
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    RunResult.from_dict(data)
    assert data["status"] != "running"
    assert data["exit_code"] == returncode, data
    return data


# ---------------------------------------------------------------------------------------------------------
# The pieces
# ---------------------------------------------------------------------------------------------------------


def test_a_reserve_that_cannot_be_taken_says_why_and_leaves_no_file(tmp_path: Path) -> None:
    """The free-space probe finds no room: nothing held, the reason kept for the run to report, no file left."""
    reserve = SpaceReserve(tmp_path, allocate=no_space)
    assert not reserve.held
    assert reserve.problem is not None and "No space left on device" in reserve.problem
    assert not (tmp_path / RESERVE_NAME).exists()
    assert SpaceReserve(tmp_path, size=4096).problem is None


@needs_tmpfs
def test_the_minimal_record_replaces_a_running_one_even_when_the_disk_is_full(tmp_path: Path) -> None:
    """Neither record fits beside the old one: the old `running` record goes first, the minimal one takes its place."""
    running = result_json(RunResult(status=RunStatus.RUNNING, log_tail=("x" * 200,) * 50))
    final = RunResult(status=RunStatus.SUCCESS, command=("python", "train.py"))
    with _tmpfs(tmp_path / "disk", "size=64k") as disk:
        path = disk / "result.json"
        write_atomic(path, running)
        fill(disk)
        problem = write_result_file(path, result_json(final) + " " * 100_000, result_json(final))
        assert problem == "cannot write result.json in full (No space left on device): it holds the minimal record"
        assert json.loads(path.read_text())["status"] == "success"
        assert not [p.name for p in disk.iterdir() if p.name.startswith(".result.json.")]


@needs_tmpfs
def test_when_nothing_fits_no_running_record_is_left(tmp_path: Path) -> None:
    """Not even the minimal record fits once the old one is gone: then there is no result.json, not a stale one."""
    with _tmpfs(tmp_path / "disk", "size=64k") as disk:
        path = disk / "result.json"
        write_atomic(path, result_json(RunResult(status=RunStatus.RUNNING)))
        fill(disk)
        problem = write_result_file(path, "x" * 200_000, "y" * 100_000)
        assert (
            problem == "cannot write result.json (No space left on device): no record of the run is left in the folder"
        )
        assert not path.exists()


def test_an_unwritable_job_summary_loses_no_step_output(tmp_path: Path) -> None:
    """The runner's summary file cannot be appended to: the outputs are written all the same, and the reason said."""
    folder = tmp_path / "results"
    folder.mkdir()
    write_atomic(folder / "result.json", result_json(RunResult(status=RunStatus.SUCCESS, reported_score=0.75)))
    output = tmp_path / "output"
    output.touch()
    summary = tmp_path / "summary"
    summary.mkdir()  # no file can be appended to at this path, for root too
    stream = io.StringIO()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    republish(folder, env=env, stream=stream)
    outputs = read_outputs(output)
    assert outputs["status"] == "success" and outputs["exit-code"] == "0" and outputs["score"] == "0.75"
    assert f"cannot read {summary}: Is a directory" in stream.getvalue()


# ---------------------------------------------------------------------------------------------------------
# The real harness
# ---------------------------------------------------------------------------------------------------------


def _limit_file_size(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_no_room_for_the_reserve_is_said_and_the_result_is_final(tmp_path: Path) -> None:
    """The reserve cannot be taken (files may not pass 512 KiB here): the harness says so at the start and in
    the result, which is final and agrees with the exit code."""
    out = tmp_path / "out"
    command = [sys.executable, "-c", "print('Fold 1/1 complete: Score=0.9')"]
    proc = subprocess.run(
        [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(out), "--", *command],
        env=base_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: _limit_file_size(512 * 1024),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "could not hold 1024 KiB of disk back for the final reports (File too large)" in proc.stdout
    data = assert_final(out, 0)
    assert any("could not hold 1024 KiB" in w for w in data["warnings"])
    assert data["status"] == "success" and data["score"] == 0.9
    assert not (out / RESERVE_NAME).exists()


def test_an_unwritable_job_summary_in_a_run_keeps_the_outputs(tmp_path: Path) -> None:
    """A whole run whose GITHUB_STEP_SUMMARY cannot be written: exit 0, every output there, the problem said."""
    env = github_files(tmp_path / "gh", names=("output",))
    (tmp_path / "gh" / "summary").mkdir()
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "gh" / "summary")
    run = run_child("events_lines", tmp_path / "out", env=env)
    assert run.returncode == 0, run.stdout
    outputs = read_outputs(tmp_path / "gh" / "output")
    assert outputs["status"] == "success" and outputs["exit-code"] == "0"
    assert outputs["result"] == str(tmp_path / "out" / "result.json")
    assert f"cannot read {tmp_path / 'gh' / 'summary'}" in run.stdout
    assert_final(tmp_path / "out", 0)


@needs_tmpfs
def test_a_disk_too_full_for_the_reserve_still_ends_with_a_final_result(tmp_path: Path) -> None:
    """Less than the reserve free at the start, then the child fills the disk: the harness says so, and the
    result.json left is the final one (the minimal record), never `running`, with the exit code of the run."""
    with _tmpfs(tmp_path / "small", "size=512k") as disk:
        out = disk / "out"
        argv = ["--folds", "3", "--", *child("faulty", "flood", str(tmp_path / "ready"), str(4 << 20))]
        proc = subprocess.run(
            [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(out), *argv],
            env=base_env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
        assert "could not hold 1024 KiB of disk back for the final reports (No space left on device)" in proc.stdout
        data = assert_final(out, 0)
        assert data["status"] == "success"
        warnings = data["warnings"]
        assert MINIMAL_NOTE in warnings and any("could not hold 1024 KiB" in w for w in warnings)
        assert any("stopped writing log.txt: No space left on device" in w for w in warnings)
        assert [f["score"] for f in data["folds"]] == pytest.approx([0.81, 0.83])


def test_a_harness_that_fails_after_the_command_leaves_a_failed_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while reporting (the JUnit renderer raises): the uncaught error exits 1, and result.json says failed."""
    from mle_ci.cli import main
    from mle_ci.stages import publish

    def broken(_result: RunResult) -> str:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(publish, "render_junit", broken)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="renderer bug"):
        main(["run", "--output-dir", str(out), "--", sys.executable, "-c", "print('Fold 1/1 complete: Score=0.9')"])
    data = assert_final(out, 1)
    assert data["status"] == "failed"
    assert any("the harness failed while concluding the run" in e for e in data["errors"])
