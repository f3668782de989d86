"""Folds in parallel: the scheduling decisions, and whole runs with two CPU worker processes (a GPU test for 2+)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_baseline_agent import agent_env, make_competition, read_rows

from mle_ci.agents.baseline.options import AgentOptions, OptionsError
from mle_ci.agents.baseline.parallel import Assignment, fold_workers, next_assignments, worker_devices


def _options(tmp_path: Path, **values: Any) -> AgentOptions:
    return AgentOptions(data_dir=tmp_path, submission_dir=tmp_path, **values)


def test_worker_count_follows_the_knob_else_the_gpus(tmp_path: Path) -> None:
    """MLE_CI_PARALLEL_FOLDS wins; by default one worker per GPU on CUDA, one on the CPU; never more than folds."""
    cuda4 = _options(tmp_path, device="cuda", gpu_count=4, folds=5)
    assert fold_workers({}, cuda4) == 4
    assert fold_workers({}, _options(tmp_path, device="cuda", gpu_count=8, folds=5)) == 5
    assert fold_workers({}, _options(tmp_path, device="cpu", gpu_count=0)) == 1
    assert fold_workers({}, _options(tmp_path)) == 1
    assert fold_workers({"MLE_CI_PARALLEL_FOLDS": "2"}, _options(tmp_path, device="cpu")) == 2
    assert fold_workers({"MLE_CI_PARALLEL_FOLDS": "1"}, cuda4) == 1
    for bad in ("0", "two", "-1"):
        with pytest.raises(OptionsError, match="parallel-folds"):
            fold_workers({"MLE_CI_PARALLEL_FOLDS": bad}, cuda4)


def test_each_worker_gets_one_visible_device() -> None:
    """Workers take the visible devices in turn (ids or UUIDs as given); CPU workers get none."""
    assert worker_devices(2, cuda=True, visible=None, gpu_count=2) == ("0", "1")
    assert worker_devices(3, cuda=True, visible="4, 6,GPU-abc", gpu_count=8) == ("4", "6", "GPU-abc")
    assert worker_devices(2, cuda=False, visible="0,1", gpu_count=2) == (None, None)


def test_first_wave_fills_every_idle_worker() -> None:
    """Before any fold has finished, each idle worker starts a fold while more than the margin is left."""
    assignments, reason = next_assignments([1, 2, 3, 4, 5], [1, 2], [], 600.0, margin=10.0)
    assert assignments == (Assignment(1, 1), Assignment(2, 2))
    assert reason is None
    assert next_assignments([5], [1, 2], [30.0], 600.0, margin=10.0)[0] == (Assignment(5, 1),)


def test_no_fold_starts_that_cannot_finish() -> None:
    """A fold as slow as the slowest so far (30 s) does not start with 39 s left and a 10 s margin."""
    assignments, reason = next_assignments([3, 4], [1, 2], [30.0, 28.0], 39.0, margin=10.0)
    assert assignments == ()
    assert reason == "a fold should take 30s but 39s are left (margin 10s)"
    assert next_assignments([3, 4], [1, 2], [30.0, 28.0], 60.0, margin=10.0)[0] == (Assignment(3, 1), Assignment(4, 2))
    assert next_assignments([1], [1], [], 5.0, margin=10.0)[0] == ()
    assert next_assignments([], [1], [], 600.0, margin=10.0) == ((), None)
    assert next_assignments([1], [], [], 600.0, margin=10.0) == ((), None)


def _run(
    tmp_path: Path, name: str, data: Path, extra: dict[str, str], timeout: float = 240
) -> tuple[list[dict[str, Any]], Path]:
    events = tmp_path / f"{name}.jsonl"
    out = tmp_path / name
    env = agent_env({"MLE_CI_EVENTS": str(events), "MLE_CI_MAX_EPOCHS": "4", "LOGS_DIR": str(out / "logs"), **extra})
    argv = [sys.executable, "-W", "error", "-m", "mle_ci.agents.baseline", "--data-dir", str(data)]
    done = subprocess.run(
        [*argv, "--submission-dir", str(out)], check=False, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in events.read_text().splitlines()], out


def _worker_pids(records: list[dict[str, Any]]) -> set[int]:
    return {
        int(r["text"].split("(pid ")[1].split(",")[0])
        for r in records
        if r["type"] == "message" and " on worker " in r["text"]
    }


def test_two_cpu_workers_train_every_fold_into_one_valid_submission(tmp_path: Path) -> None:
    """Two workers: all folds done (as many as one after another), events merged, a valid fold-averaged submission."""
    data = make_competition(tmp_path / "data", rows=160, kind="probabilities")
    # One torch thread, as each of the two workers gets on two cores (and quicker on a busy machine).
    serial, _ = _run(tmp_path, "serial", data, {"MLE_CI_FOLDS": "4", "OMP_NUM_THREADS": "1"})
    records, out = _run(tmp_path, "parallel", data, {"MLE_CI_FOLDS": "4", "MLE_CI_PARALLEL_FOLDS": "2"})

    def folds(rs: list[dict[str, Any]]) -> list[int]:
        return sorted({r["fold"] for r in rs if r["type"] == "fold"})  # a fold is reported again on a new choice

    assert folds(records) == folds(serial) == [1, 2, 3, 4]
    pids = _worker_pids(records)
    assert len(pids) == 2  # two worker processes wrote to the one events file
    assert {r["fold"] for r in records if r["type"] == "epoch"} == {1, 2, 3, 4}
    # The submission improved as folds finished: 0 (prior), then 1, 2, 3, 4 fold models.
    assert [r.get("folds") for r in records if r["type"] == "submission"] == [None, 0, 1, 2, 3, 4]  # the sample first
    rows = read_rows(out / "submission.csv")
    assert [r["id"] for r in rows] == [r["id"] for r in read_rows(data / "sample_submission.csv")]
    assert all(abs(sum(float(r[c]) for c in ("high", "low", "mid")) - 1.0) < 1e-6 for r in rows)
    final = [r for r in records if r["type"] == "metric"][-1]
    # The same folds with the same seeds give the same models: the fold-averaged CV score is the serial one.
    assert final["value"] == pytest.approx([r for r in serial if r["type"] == "metric"][-1]["value"], rel=1e-4)
    saved = sorted(p.name for p in (out / "logs" / "checkpoints").iterdir())
    assert saved == sorted(f"fold-{i}{model}.pt" for i in range(1, 5) for model in ("", "-linear"))
    assert not any(r["type"] == "message" and r.get("level") == "error" for r in records)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def test_sigterm_to_the_agent_stops_every_worker_and_leaves_a_valid_submission(tmp_path: Path) -> None:
    """SIGTERM to the agent alone: it passes it on, both workers end, the submission stays valid, exit 0."""
    data = make_competition(tmp_path / "data", rows=600, test_rows=50, kind="probabilities")
    events = tmp_path / "events.jsonl"
    env = agent_env(
        {
            "MLE_CI_EVENTS": str(events),
            "MLE_CI_PATIENCE": "1000",
            "MLE_CI_MAX_EPOCHS": "100000",
            "MLE_CI_PARALLEL_FOLDS": "2",
        }
    )
    argv = [sys.executable, "-m", "mle_ci.agents.baseline", "--data-dir", str(data), "--submission-dir", str(tmp_path)]
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        # A session of its own, so that the signal reaches the agent only, not its workers through the group.
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        records: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            records = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
            if len({r["fold"] for r in records if r["type"] == "epoch"}) == 2:
                break
            time.sleep(0.1)
        pids = _worker_pids(records)
        assert len(pids) == 2
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert code == 0, log.read_text()
    gone = time.monotonic() + 10
    while time.monotonic() < gone and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)
    rows = read_rows(tmp_path / "submission.csv")
    assert len(rows) == 50
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert any(r["type"] == "message" and "SIGTERM" in r["text"] for r in records)


def test_a_worker_killed_mid_fold_hands_its_fold_to_the_other(tmp_path: Path) -> None:
    """SIGKILL to one worker while it trains: its fold is trained again by the other, every fold ends, exit 0."""
    data = make_competition(tmp_path / "data", rows=300, kind="binary")
    events = tmp_path / "events.jsonl"
    extra = {"MLE_CI_PATIENCE": "1000", "MLE_CI_MAX_EPOCHS": "25", "MLE_CI_FOLDS": "3", "MLE_CI_PARALLEL_FOLDS": "2"}
    env = agent_env({"MLE_CI_EVENTS": str(events), "OMP_NUM_THREADS": "1", **extra})
    argv = [sys.executable, "-m", "mle_ci.agents.baseline", "--data-dir", str(data), "--submission-dir", str(tmp_path)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        records: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            records = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
            if any(r["type"] == "epoch" and r["fold"] == 2 for r in records):
                break
            time.sleep(0.05)
        (victim,) = [
            int(r["text"].split("(pid ")[1].split(",")[0])
            for r in records
            if r["type"] == "message" and r["text"].startswith("fold 2 on worker ")
        ]
        os.kill(victim, signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert sorted(r["fold"] for r in records if r["type"] == "fold") == [1, 2, 3]
    # Killed mid-fold 2 (25 epochs take seconds; the poll is every 50 ms), unless it had just moved on to fold 3.
    lost = [r["text"] for r in records if r["type"] == "message" and "ended without reporting fold" in r["text"]]
    assert len(lost) == 1
    assert lost[0].endswith("; the fold goes to another worker")
    assert [r.get("folds") for r in records if r["type"] == "submission"] == [None, 0, 1, 2, 3]  # the sample first
    assert len(read_rows(tmp_path / "submission.csv")) == 20


@pytest.mark.gpu
def test_on_two_gpus_each_worker_trains_on_its_own_device(tmp_path: Path) -> None:
    """With 2+ GPUs in the plan, the folds run on two workers, each with its own CUDA_VISIBLE_DEVICES."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available() or torch.cuda.device_count() < 2:
        pytest.skip("needs two CUDA GPUs")
    data = make_competition(tmp_path / "data", rows=200, kind="probabilities")
    plan = {"MLE_CI_DEVICE": "cuda", "MLE_CI_GPU_COUNT": "2", "MLE_CI_AMP": "bf16", "MLE_CI_FOLDS": "4"}
    records, out = _run(tmp_path, "gpus", data, plan, timeout=600)
    texts = [r["text"] for r in records if r["type"] == "message" and " on worker " in r["text"]]
    assert {t.rsplit("GPU ", 1)[1].rstrip(")") for t in texts} == {"0", "1"}
    assert sorted(r["fold"] for r in records if r["type"] == "fold") == [1, 2, 3, 4]
    assert len(read_rows(out / "submission.csv")) == 20
