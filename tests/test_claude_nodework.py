"""A search node's place and what it measured: its variables and device, the relay of its lines, its fold scores,
its code, and which of its commands was its training run."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from mle_ci.agents.claude.jobs import Jobs
from mle_ci.agents.claude.journal import CodeFile
from mle_ci.agents.claude.noderun import copy_code, main_command
from mle_ci.agents.claude.nodework import NodePlace, NodeScores, Relay, code_snapshot, device_label, node_devices
from mle_ci.agents.claude.tools import CommandRun
from mle_ci.eventlog import append_event
from mle_ci.events import FoldEvent, MetricEvent


def test_a_node_s_commands_get_its_id_folder_and_device() -> None:
    place = NodePlace(3, Path("ws/node-3"), device="1")
    env = place.env({"PATH": "/bin", "SUBMISSION_DIR": "out", "MLE_CI_GPU_COUNT": "2"})
    assert env["MLE_CI_NODE"] == "3" and env["SUBMISSION_DIR"] == str(Path("ws/node-3/submission"))
    assert (env["CUDA_VISIBLE_DEVICES"], env["MLE_CI_GPU_COUNT"], env["PATH"]) == ("1", "1", "/bin")
    assert "CUDA_VISIBLE_DEVICES" not in NodePlace(1, Path("x")).env({})
    assert (device_label("1", "cuda"), device_label(None, "cuda"), device_label(None, None)) == (
        "cuda:1",
        "cuda",
        "cpu",
    )


@pytest.mark.parametrize(
    ("plan", "environ", "slots"),
    [
        ({"MLE_CI_DEVICE": "cpu", "MLE_CI_GPU_COUNT": "0"}, {}, (None,)),
        ({"MLE_CI_DEVICE": "cuda", "MLE_CI_GPU_COUNT": "1"}, {}, (None,)),
        ({"MLE_CI_DEVICE": "cuda", "MLE_CI_GPU_COUNT": "2"}, {}, ("0", "1")),
        ({"MLE_CI_DEVICE": "cuda", "MLE_CI_GPU_COUNT": "2"}, {"CUDA_VISIBLE_DEVICES": "4, 6,7"}, ("4", "6")),
        ({"MLE_CI_DEVICE": "cuda", "MLE_CI_GPU_COUNT": "many"}, {}, (None,)),
    ],
)
def test_nodes_run_one_per_gpu_only_where_there_are_several(
    plan: dict[str, str], environ: dict[str, str], slots: tuple[str | None, ...]
) -> None:
    assert node_devices(plan, environ) == slots


def test_the_relay_echoes_as_the_node_s_and_reports_its_progress_lines_tagged(tmp_path: Path) -> None:
    events, echo = tmp_path / "events.jsonl", io.StringIO()
    relay = Relay(2, events, echo)
    relay.lines("job-1 train!", "loading\nFold 1/2 complete: Score=0.7\n[progress] fold 2/2 complete: score=0.8")
    assert echo.getvalue().splitlines()[1] == "[node-2 job-1-train-] Fold 1/2 complete: Score=0.7"
    written = [json.loads(line) for line in events.read_text().splitlines()]
    # the progress API's own line is not reported twice: its event is in the file already
    assert [(e["type"], e["fold"], e["node"], e["source"]) for e in written] == [("fold", 1, 2, "agent")]


def test_fold_scores_and_the_reported_cv_score_are_read_per_node(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    scores = NodeScores(events)
    assert scores.of(1) == ((), None)
    for event in (
        FoldEvent(ts=10, fold=2, score=0.6, node=1),
        FoldEvent(ts=11, fold=1, score=0.5, node=1),
        FoldEvent(ts=12, fold=1, score=0.9, node=2),
        FoldEvent(ts=13, fold=1, score=0.1),
        MetricEvent(ts=14, name="auc", value=0.55, node=1),
    ):
        append_event(events, event)
    assert scores.of(1) == ((0.5, 0.6), 0.55) and scores.of(2) == ((0.9,), None)
    assert scores.reported_between(1, 9, 10.5) and not scores.reported_between(1, 15, 20)


def test_the_code_snapshot_holds_the_sources_not_the_submission_or_data(tmp_path: Path) -> None:
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "make.py").write_text("no")
    (tmp_path / "lib").mkdir()
    (tmp_path / "train.py").write_text("print(1)")
    (tmp_path / "lib" / "cfg.yaml").write_text("lr: 0.1")
    (tmp_path / "big.py").write_text("x" * 200_000)
    (tmp_path / "features.npy").write_bytes(b"\x00" * 10)
    assert code_snapshot(tmp_path) == (("lib/cfg.yaml", "lr: 0.1"), ("train.py", "print(1)"))


def test_a_parent_s_code_is_copied_in_and_never_out_of_the_node_s_folder(tmp_path: Path) -> None:
    folder = tmp_path / "node-2"
    folder.mkdir()
    copy_code((CodeFile("src/train.py", "ok"), CodeFile("../escape.py", "no"), CodeFile("/etc/x.py", "no")), folder)
    assert (folder / "src" / "train.py").read_text() == "ok"
    assert not (tmp_path / "escape.py").exists() and sorted(p.name for p in folder.rglob("*")) == ["src", "train.py"]


def _jobs(tmp_path: Path) -> Jobs:
    return Jobs(
        folder=tmp_path / "jobs",
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        events=None,
        redact=str,
        echo=io.StringIO(),
    )


def test_the_node_s_training_run_is_its_last_command_that_reported_else_its_last_failure(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    scores = NodeScores(events)
    explore = CommandRun("ls data", 1.0, 2.0, 0, "train.csv")
    train = CommandRun("python train.py", 3.0, 9.0, 0, "Fold 1/2 complete")
    crash = CommandRun("python more.py", 10.0, 11.0, 1, "Traceback ...\nValueError: x")
    append_event(events, FoldEvent(ts=5.0, fold=1, score=0.5, node=4))
    assert main_command([explore, train, crash], [], scores, 4) == ("python train.py", "Fold 1/2 complete", 0)
    assert main_command([explore, crash], [], scores, 5) == ("python more.py", "Traceback ...\nValueError: x", 1)
    assert main_command([explore], [], scores, 5) == ("ls data", "train.csv", 0)
    assert main_command([], [], scores, 5) == (None, "", None)
    jobs = _jobs(tmp_path)
    job = jobs.start(f"{sys.executable} -c \"import sys; print('boom'); sys.exit(3)\"", "j", node=5, cwd=tmp_path)
    job.process.wait(timeout=30)
    jobs.stop_all()  # joins the job's pump: its log is complete
    command, output, code = main_command([explore], jobs.of_node(5), scores, 5)
    assert (command, code) == (job.command, 3) and "boom" in output
