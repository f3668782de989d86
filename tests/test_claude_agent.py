"""The claude agent end to end: the real SDK against the local Messages API server, scripted conversations."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anthropic_server import AnthropicServer, Drop, Error, Step, overloaded, rate_limited, reply, text, tool_use

from mle_ci.competitions.demos import demo_competition

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-ant-api03-PLANTEDkey0123456789abcdefghijklmnopqrstuvwxyzABCDEF"

TRAIN = """\
import csv, os, sys, time
from pathlib import Path
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from mle_ci import progress

data = Path(os.environ["MLE_CI_DATA_DIR"])
def read(name):
    with open(data / name) as f:
        rows = list(csv.DictReader(f))
    return rows
train, test = read("train.csv"), read("test.csv")
features = [c for c in train[0] if c not in ("id", "target")]
x = np.array([[float(r[c]) for c in features] for r in train])
y = np.array([int(float(r["target"])) for r in train])
xt = np.array([[float(r[c]) for c in features] for r in test])
mu, sd = x.mean(0), x.std(0) + 1e-9
x, xt = (x - mu) / sd, (xt - mu) / sd
folds = int(os.environ.get("MLE_CI_FOLDS", "2"))
pred = np.zeros(len(xt))
for k, (a, b) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y), start=1):
    model = LogisticRegression(max_iter=500).fit(x[a], y[a])
    score = roc_auc_score(y[b], model.predict_proba(x[b])[:, 1])
    print(f"Epoch 1/1: Loss=0.1, Val_Score={score:.4f} (1s)", flush=True)
    progress.fold(k, score, total=folds, metric="auc", higher_is_better=True)
    pred += model.predict_proba(xt)[:, 1] / folds
out = Path(os.environ["SUBMISSION_DIR"]) / "submission.csv"
tmp = out.with_suffix(".tmp")
with open(tmp, "w") as f:
    f.write("id,target\\n" + "".join(f"{r['id']},{p:.6f}\\n" for r, p in zip(test, pred)))
os.replace(tmp, out)
print("secret seen by the job:", os.environ.get("ANTHROPIC_API_KEY", "none"), flush=True)
"""

WAIT_FOR_SUBMISSION = (
    'for i in $(seq 100); do test -f "$SUBMISSION_DIR/submission.csv" && break; sleep 0.1; done; ls "$SUBMISSION_DIR"'
)


@pytest.fixture(scope="session")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The breast-cancer demo's public folder, built once into a temporary cache."""
    return demo_competition("breast-cancer", tmp_path_factory.mktemp("cache")).public


@dataclass
class AgentRun:
    returncode: int
    stdout: str
    stderr: str
    out: Path
    seconds: float

    @property
    def submission(self) -> Path:
        return self.out / "submission.csv"

    def events(self) -> list[dict[str, Any]]:
        path = self.out / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def transcript(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.out / "transcript.jsonl").read_text().splitlines()]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("type") == kind]


def agent_env(
    out: Path,
    public: Path,
    server: AnthropicServer | None,
    *,
    budget: float | None,
    extra: Mapping[str, str] | None,
) -> dict[str, str]:
    """The environment ``mle-ci run`` gives the agent (the result folder created, an empty events file)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "events.jsonl").touch()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLE_CI_", "ANTHROPIC_", "GITHUB_")) and not k.endswith(("_KEY", "_TOKEN"))
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "ANTHROPIC_API_KEY": KEY,
            "GITHUB_TOKEN": "ghp_" + "T" * 36,
            "MLE_CI_MODEL": "claude-sonnet-test",
            "MLE_CI_EVENTS": str(out / "events.jsonl"),
            "COMPETITION_ID": "breast-cancer",
            "MLE_CI_DATA_DIR": str(public),
            "SUBMISSION_DIR": str(out),
            "LOGS_DIR": str(out),
            "MLE_CI_METRIC": "auc",
            "MLE_CI_HIGHER_IS_BETTER": "true",
            "MLE_CI_FOLDS": "2",
            "MLE_CI_DEVICE": "cpu",
            "MLE_CI_AMP": "off",
            "MLE_CI_API_MAX_RETRIES": "2",
            "MLE_CI_API_PAUSE_SECS": "0.1",
            "MLE_CI_API_RESERVE_SECS": "5",
            "MLE_CI_FALLBACK_MIN_SECS": "15",
            # The baseline fallback trains briefly: these tests check who leaves the file, not its quality.
            "MLE_CI_MAX_EPOCHS": "2",
        }
    )
    if server is not None:
        env["ANTHROPIC_BASE_URL"] = server.url
    if budget is not None:
        env["MLE_CI_DEADLINE"] = f"{time.time() + budget:.3f}"
    env.update(extra or {})
    return env


AGENT = [sys.executable, "-m", "mle_ci.agents.claude"]


def run_agent(
    out: Path,
    public: Path,
    server: AnthropicServer | None,
    *,
    budget: float | None = 120,
    extra: Mapping[str, str] | None = None,
    timeout: float = 90,
) -> AgentRun:
    """Run ``python -m mle_ci.agents.claude`` as the harness would, with the run's contract in its environment."""
    env = agent_env(out, public, server, budget=budget, extra=extra)
    started = time.monotonic()
    done = subprocess.run(
        AGENT,
        env=env,
        cwd=out,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return AgentRun(done.returncode, done.stdout, done.stderr, out, time.monotonic() - started)


def solve_script() -> list[Step]:
    return [
        reply(
            text("Looking at the data."),
            tool_use("bash", command="ls -la $MLE_CI_DATA_DIR && head -2 $MLE_CI_DATA_DIR/train.csv"),
        ),
        reply(tool_use("write_file", path="train.py", content=TRAIN)),
        # Plain `python`: the agent puts its own interpreter (with mle_ci) first on the commands' PATH.
        reply(tool_use("start_job", command="python train.py", name="train-logreg")),
        reply(tool_use("bash", command=WAIT_FOR_SUBMISSION, timeout_s=30)),
        reply(tool_use("job_status", job_id="job-1")),
        reply(tool_use("validate_submission")),
        reply(tool_use("finish", summary="logistic regression, 2-fold CV auc ~0.99")),
    ]


def test_a_full_solve_leaves_a_valid_submission_and_fold_events(tmp_path: Path, public: Path) -> None:
    """Write a script, run it as a job, poll it, validate, finish: exit 0, fold events, claude's submission."""
    with AnthropicServer(solve_script(), api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server)
    assert run.returncode == 0, run.stderr + run.stdout
    assert server.steps_played == 7
    folds = run.of_type("fold")
    assert [f["fold"] for f in folds] == [1, 2] and all(f["score"] > 0.9 for f in folds)
    submissions = run.of_type("submission")
    assert submissions[-1]["producer"] == "claude"
    usage = run.of_type("usage")
    assert len(usage) == 7 and usage[-1]["requests"] == 7 and usage[-1]["cost_usd"] > 0
    assert usage[-1]["cache_read_input_tokens"] > 0
    # The job's plain lines reached the agent's stdout as its node's, and their progress the events file, tagged.
    assert "[node-1 job-1 train-logreg] Epoch 1/1: Loss=0.1, Val_Score=" in run.stdout
    assert {e.get("node") for e in run.of_type("epoch")} == {1}
    # What the agent sent: tools declared and cached, the system prompt cached, tool results with the time left.
    first = server.received[0].body
    assert [t["name"] for t in first["tools"]] == [
        "bash",
        "write_file",
        "read_file",
        "start_job",
        "job_status",
        "stop_job",
        "validate_submission",
        "end_node",
        "finish",
    ]
    assert first["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert first["system"][0]["cache_control"] == {"type": "ephemeral"}
    later = server.received[3].body["messages"]
    assert later[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in json.dumps(later[:-1])
    assert "breast" in first["system"][0]["text"].lower() and "MLE_CI_DEVICE=cpu" in first["system"][0]["text"]
    status = server.received[5].tool_results()[0]
    assert "job-1 (train-logreg)" in status["content"] and "fold=2" in status["content"]
    assert "no GPU" in status["content"] or "GPU 0" in status["content"]
    for received in server.received[1:]:
        results = received.tool_results()
        assert results and all("s left before the deadline" in r["content"] for r in results)
    valid = server.received[6].tool_results()[0]
    assert "Submission is valid: 142 rows" in valid["content"] and not valid.get("is_error")


def test_the_api_key_reaches_no_file_output_or_command(tmp_path: Path, public: Path) -> None:
    """The planted key is in no transcript, log, event, stdout, and the job's environment lacks it."""
    with AnthropicServer(solve_script(), api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server)
    assert run.returncode == 0, run.stderr
    assert "secret seen by the job: none" in run.stdout
    leaked = [p for p in run.out.rglob("*") if p.is_file() and KEY in p.read_text(errors="replace")]
    assert leaked == []
    assert KEY not in run.stdout + run.stderr
    assert "ghp_TTTT" not in (run.out / "transcript.jsonl").read_text()


def test_a_model_that_never_submits_gets_the_baseline_fallback(tmp_path: Path, public: Path) -> None:
    """The model finishes without a submission: the baseline runs and its file is the final one."""
    script = [reply(tool_use("finish", summary="nothing done"))]
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, budget=90)
    assert run.returncode == 0, run.stderr + run.stdout
    assert run.of_type("submission")[-1]["producer"] == "baseline"
    assert "running the baseline agent" in run.stdout


def test_rate_limit_then_overload_are_retried(tmp_path: Path, public: Path) -> None:
    """429 and 529 with retry-after are retried by the loop; the conversation goes on to the finish."""
    script: list[Step] = [rate_limited(), overloaded(), *solve_script()]
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server)
    assert run.returncode == 0, run.stderr + run.stdout
    assert server.steps_played == 9
    # The retried request is the same request.
    assert server.received[0].body == server.received[2].body
    assert run.of_type("submission")[-1]["producer"] == "claude"


def test_an_auth_error_ends_with_a_clear_message_and_the_baseline_still_submits(tmp_path: Path, public: Path) -> None:
    """401 is not retried: one clear line, exit 1, and the baseline fallback still leaves a submission."""
    with AnthropicServer([Error(401, "invalid x-api-key")], api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, budget=90)
    assert run.returncode == 1
    assert len(server.received) == 1
    assert "Error: the Anthropic API refused the run: authentication failed (HTTP 401)" in run.stderr
    assert run.of_type("submission")[-1]["producer"] == "baseline"


def test_a_bad_request_ends_the_run_without_retrying(tmp_path: Path, public: Path) -> None:
    """400 is not retried; with no time for the fallback the run ends with exit 1 and no file."""
    with AnthropicServer([Error(400, "messages.0.content: field required")], api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, budget=90, extra={"MLE_CI_FALLBACK_MIN_SECS": "1000"})
    assert run.returncode == 1 and len(server.received) == 1
    assert "refused the run: bad request (HTTP 400): invalid_request_error: messages.0.content" in run.stderr
    assert "under the 1000s the baseline needs: no fallback" in run.stdout
    assert not run.submission.exists()


def test_a_wrong_key_is_refused_by_the_server(tmp_path: Path, public: Path) -> None:
    """A key the server does not know is an authentication error, not retried."""
    with AnthropicServer([], api_key="sk-ant-api03-another-key-entirely-0000000000") as server:
        run = run_agent(tmp_path / "out", public, server, budget=10)
    assert run.returncode == 1
    assert "authentication failed (HTTP 401)" in run.stderr and len(server.received) == 1


def test_a_dropped_connection_keeps_the_submission_made_so_far(tmp_path: Path, public: Path) -> None:
    """The server hangs up for good mid-run: the loop retries, then the submission the model's job wrote stays final."""
    with AnthropicServer(solve_script()[:4], after=Drop(), api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server)
    assert run.returncode == 0, run.stderr + run.stdout
    # 3 attempts (2 quick retries), and no more rounds: a network failure is not an API outage.
    assert len(server.received) == 4 + 3
    assert run.of_type("submission")[-1]["producer"] == "claude"
    errors = [r for r in run.transcript() if r["kind"] == "error"]
    assert len(errors) == 3 and all("connection failed" in e["error"] for e in errors)
    assert [e.get("retry_in") for e in errors] == [0.5, 1.0, None] and "attempts failed" in errors[-1]["gave_up"]


def test_an_overload_that_outlasts_the_sdk_retries_is_waited_out(tmp_path: Path, public: Path) -> None:
    """Without quick retries, two 529s are asked again after the wait they name, and the conversation goes on."""
    script: list[Step] = [overloaded(), overloaded(), *solve_script()]
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, extra={"MLE_CI_API_MAX_RETRIES": "0"})
    assert run.returncode == 0, run.stderr + run.stdout
    assert run.stdout.count("overloaded (HTTP 529): overloaded_error: Overloaded; asking again in 0.05s") == 2
    assert server.steps_played == 9


def test_max_turns_stops_the_conversation(tmp_path: Path, public: Path) -> None:
    """With a maximum of 2 turns the third request is never sent."""
    script = [reply(tool_use("bash", command="echo one")), reply(tool_use("bash", command="echo two"))]
    with AnthropicServer(script, api_key=KEY) as server:
        extra = {"MLE_CI_MAX_TURNS": "2", "MLE_CI_FALLBACK_MIN_SECS": "1000"}
        run = run_agent(tmp_path / "out", public, server, budget=90, extra=extra)
    assert len(server.received) == 2
    assert "the maximum of 2 turns was reached" in run.stdout
    assert run.returncode == 1 and not run.submission.exists()


def test_max_cost_stops_the_conversation(tmp_path: Path, public: Path) -> None:
    """A spending cap below one request's price stops after the first response."""
    script = [reply(tool_use("bash", command="echo one"), output_tokens=2000)]
    prices = json.dumps({"claude-sonnet-test": {"input": 3, "output": 15}})
    extra = {"MLE_CI_MAX_COST_USD": "0.01", "MLE_CI_PRICES": prices, "MLE_CI_FALLBACK_MIN_SECS": "1000"}
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, budget=60, extra=extra)
    assert len(server.received) == 1
    usage = run.of_type("usage")[-1]
    assert usage["output_tokens"] == 2000 and usage["cost_usd"] >= 0.03
    assert "spent, the maximum is $0.01" in run.stdout
    # No fallback was allowed (1000 s needed) and the model wrote nothing: exit 1.
    assert run.returncode == 1 and not run.submission.exists()


def think_past_the_reserve(body: dict[str, Any]) -> Step:
    """The model takes until just past the reserve (read from the time left in the last tool result) to answer."""
    content = body["messages"][-1]["content"][0]["content"]
    left = float(re.search(r"(\d+)s left before the deadline", content)[1])  # type: ignore[index]
    time.sleep(max(0.0, left - RESERVE + 1))
    return reply(tool_use("bash", command="echo still here"))


RESERVE = 4


def test_the_deadline_stops_a_running_job_and_keeps_the_submission(tmp_path: Path, public: Path) -> None:
    """A job still running at the reserve is stopped (its whole group); the valid submission is kept; exit 124."""
    long_job = f"{sys.executable} train.py && sleep 600"
    script = [
        reply(tool_use("write_file", path="train.py", content=TRAIN)),
        reply(tool_use("start_job", command=long_job, name="train-then-hang")),
        reply(tool_use("bash", command=WAIT_FOR_SUBMISSION, timeout_s=30)),
        think_past_the_reserve,
    ]
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, budget=16, extra={"MLE_CI_API_RESERVE_SECS": str(RESERVE)})
    assert run.returncode == 124, run.stderr + run.stdout
    assert "stopped job(s) still running: job-1" in run.stdout
    assert run.of_type("submission")[-1]["producer"] == "claude"
    assert run.seconds < 16
    assert subprocess.run(["pgrep", "-f", "sleep 600"], capture_output=True, check=False).returncode == 1


def test_sigterm_mid_request_stops_the_job_and_keeps_the_submission(tmp_path: Path, public: Path) -> None:
    """The harness's SIGTERM while the model thinks: the job's group is stopped, the valid file kept, exit 124."""
    script = [
        reply(tool_use("write_file", path="train.py", content=TRAIN)),
        reply(tool_use("start_job", command=f"{sys.executable} train.py && sleep 600", name="hang")),
        reply(tool_use("bash", command=WAIT_FOR_SUBMISSION, timeout_s=30)),
        reply(text("thinking"), delay=60),
    ]
    with AnthropicServer(script, api_key=KEY) as server:
        env = agent_env(tmp_path / "out", public, server, budget=120, extra=None)
        agent = subprocess.Popen(
            AGENT, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while len(server.received) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        agent.send_signal(signal.SIGTERM)
        stdout, stderr = agent.communicate(timeout=30)
    assert agent.returncode == 124, stderr + stdout
    assert "SIGTERM: stopping" in stdout and "stopped job(s) still running: job-1" in stdout
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    assert [e["producer"] for e in events if e["type"] == "submission"] == ["claude"]


def test_a_path_outside_the_workspace_is_refused(tmp_path: Path, public: Path) -> None:
    """Reads and writes outside the workspace, via .. or a symlink, and writes into the data are tool errors."""
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    script = [
        reply(tool_use("read_file", path="../../outside.txt")),
        reply(tool_use("bash", command=f"ln -s {outside} link.txt")),
        reply(tool_use("read_file", path="link.txt")),
        reply(tool_use("write_file", path=str(public / "train.csv"), content="x")),
        reply(tool_use("write_file", path="/etc/mle-ci-escape", content="x")),
        reply(tool_use("read_file", path=str(public / "sample_submission.csv"), limit=2)),
        reply(tool_use("finish", summary="done")),
    ]
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, budget=10)
    results = [server.received[i].tool_results()[0] for i in (1, 3, 4, 5, 6)]
    assert [bool(r.get("is_error")) for r in results] == [True, True, True, True, False]
    assert "outside the workspace" in results[0]["content"] and "private" not in results[1]["content"]
    assert "read-only" in results[2]["content"]
    assert results[4]["content"].startswith("id,target\n")
    assert "more lines" in results[4]["content"]
    assert run.returncode == 1


def test_missing_key_is_a_configuration_error(tmp_path: Path, public: Path) -> None:
    """Without ANTHROPIC_API_KEY nothing runs: exit 2 and a line naming the variable."""
    run = run_agent(tmp_path / "out", public, None, extra={"ANTHROPIC_API_KEY": ""})
    assert run.returncode == 2
    assert "ANTHROPIC_API_KEY is not set" in run.stderr
    assert not (run.out / "transcript.jsonl").exists()


GPU_TRAIN = """\
import os, shutil, time
from pathlib import Path
import torch
from mle_ci import progress

device = torch.device(os.environ["MLE_CI_DEVICE"])
x = torch.randn(4096, 4096, device=device)
for epoch in range(1, 4):
    started = time.time()
    while time.time() - started < 2:
        x = torch.tanh(x @ x / 64)
    torch.cuda.synchronize()
    progress.epoch(epoch, 3, loss=float(x.abs().mean()), val_score=0.5 + epoch / 10, fold=1)
progress.fold(1, 0.8, total=1, metric="auc")
data = Path(os.environ["MLE_CI_DATA_DIR"])
shutil.copy(data / "sample_submission.csv", Path(os.environ["SUBMISSION_DIR"]) / "submission.csv")
"""


@pytest.mark.gpu
def test_on_a_gpu_a_job_trains_on_cuda_and_its_status_shows_the_gpu_busy(tmp_path: Path, public: Path) -> None:
    """A job on the plan's cuda device: job_status while it runs reports the GPU's use from nvidia-smi."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available() or shutil.which("nvidia-smi") is None:
        pytest.skip("no CUDA GPU")
    script = [
        reply(tool_use("write_file", path="gpu_train.py", content=GPU_TRAIN)),
        reply(tool_use("start_job", command=f"{sys.executable} gpu_train.py", name="gpu")),
        reply(tool_use("bash", command="sleep 3")),
        reply(tool_use("job_status", job_id="job-1")),
        reply(tool_use("bash", command=WAIT_FOR_SUBMISSION, timeout_s=60)),
        reply(tool_use("finish", summary="gpu job")),
    ]
    with AnthropicServer(script, api_key=KEY) as server:
        run = run_agent(tmp_path / "out", public, server, budget=180, extra={"MLE_CI_DEVICE": "cuda"}, timeout=170)
    assert run.returncode == 0, run.stderr + run.stdout
    status = server.received[4].tool_results()[0]["content"]
    assert "job-1 (gpu): running" in status
    assert re.search(r"GPU 0: \d+% busy, \d+/\d+ MiB", status), status
    assert [e["epoch"] for e in run.of_type("epoch")] == [1, 2, 3]
