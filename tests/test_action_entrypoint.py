"""entrypoint.py in a simulated action container: the runner's inputs in, a real run's reports and exit code out."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, base_env, child, read_outputs

from mle_ci.action.entrypoint import input_environment

ENTRYPOINT = ROOT / "entrypoint.py"


def container_env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    """What the container sees: the launcher's relay files as GITHUB_OUTPUT/GITHUB_STEP_SUMMARY (no RUNNER_TEMP,
    no other file command), hyphenated INPUT_* as forwarded."""
    commands = tmp_path / "runner_temp" / "mle-gpu-agent-relay-1"
    commands.mkdir(parents=True)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (commands / "github_output").touch()
    (commands / "github_step_summary").touch()
    env = base_env(
        {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(commands / "github_output"),
            "GITHUB_STEP_SUMMARY": str(commands / "github_step_summary"),
            "HOME": str(tmp_path / "home"),
            "INPUT_GPUS": "none",
            # Inputs the user left out arrive empty: empty means unset.
            "INPUT_COMPETITION": "",
            "INPUT_STALL-MINUTES": "",
            "INPUT_STALL-TIMEOUT": "",
            "INPUT_ANTHROPIC-API-KEY": "",
        }
    )
    env.update(inputs)
    return env


def run_entrypoint(env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # cwd is not the workspace on purpose: the entry point must find it through $GITHUB_WORKSPACE.
    return subprocess.run(
        [sys.executable, str(ENTRYPOINT)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


FOLDS_COMMAND = f"{sys.executable} -c \"print('Fold 1/2 complete: Score=0.5'); print('Fold 2/2 complete: Score=0.75')\""


def test_a_user_command_produces_the_summary_outputs_and_exit_code_of_a_real_run(tmp_path: Path) -> None:
    """Hyphenated inputs become settings; the summary, the outputs and the exit code are those of `mle-ci run`."""
    env = container_env(
        tmp_path,
        **{
            "INPUT_COMMAND": FOLDS_COMMAND,
            "INPUT_FOLDS": "2",
            "INPUT_TIMEOUT": "2m",
            "INPUT_MIN-SCORE": "0.6",
            "INPUT_OUTPUT-DIR": "results",
        },
    )
    proc = run_entrypoint(env)
    assert proc.returncode == 0, proc.stderr
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert outputs["status"] == "success"
    assert outputs["exit-code"] == "0"
    assert outputs["folds"] == "2"
    assert float(outputs["score"]) == pytest.approx(0.625)
    results = Path(env["GITHUB_WORKSPACE"]) / "results"
    assert outputs["summary"] == str(results / "summary.md")
    assert (results / "junit.xml").is_file() and (results / "result.json").is_file()
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.strip() and "0.625" in summary
    assert "::stop-commands::" in proc.stdout  # the child's output was echoed with commands off
    assert "timeout 2m00s" in proc.stdout
    assert "deprecated" not in proc.stdout + proc.stderr  # empty old inputs are not given


def test_an_old_input_name_works_with_one_deprecation_warning(tmp_path: Path) -> None:
    """timeout-minutes still reads a plain number as minutes; the run says once, as a ::warning, to use timeout."""
    env = container_env(tmp_path, **{"INPUT_COMMAND": FOLDS_COMMAND, "INPUT_TIMEOUT-MINUTES": "2"})
    proc = run_entrypoint(env)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stdout.splitlines() if "deprecated" in line]
    assert warnings == [
        "::warning title=mle-gpu-agent deprecated input::input timeout-minutes is deprecated: use timeout, a duration "
        "such as 30m or 90s (a plain number there counts seconds; timeout-minutes still reads one as minutes)"
    ]
    assert "timeout 2m00s" in proc.stdout


def test_an_old_input_name_outside_actions_is_a_warning_line_on_stderr(tmp_path: Path) -> None:
    """Without GitHub Actions (``docker run`` by hand) the notice is a plain ``Warning:`` line."""
    env = container_env(tmp_path, **{"INPUT_COMMAND": FOLDS_COMMAND, "INPUT_GRACE-SECONDS": "5"})
    del env["GITHUB_ACTIONS"]
    proc = run_entrypoint(env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Warning: input grace-seconds is deprecated: use grace") == 1
    assert "::warning" not in proc.stdout


def test_an_old_input_and_its_new_name_together_are_exit_2(tmp_path: Path) -> None:
    """timeout and timeout-minutes at once: exit 2, an ::error annotation naming both, and nothing is run."""
    env = container_env(
        tmp_path, **{"INPUT_COMMAND": FOLDS_COMMAND, "INPUT_TIMEOUT": "30m", "INPUT_TIMEOUT-MINUTES": "30"}
    )
    proc = run_entrypoint(env)
    assert proc.returncode == 2
    assert "inputs timeout and timeout-minutes are both given" in proc.stderr
    assert "::error title=mle-gpu-agent::" in proc.stdout
    assert not (Path(env["GITHUB_WORKSPACE"]) / "mle-ci-results" / "log.txt").exists()


def test_a_gate_failure_is_exit_1_with_the_outputs_still_written(tmp_path: Path) -> None:
    """min-score above the score: exit 1, status failed, every output present."""
    env = container_env(tmp_path, **{"INPUT_COMMAND": FOLDS_COMMAND, "INPUT_MIN-SCORE": "0.9"})
    proc = run_entrypoint(env)
    assert proc.returncode == 1, proc.stderr
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert outputs["exit-code"] == "1"
    assert outputs["status"] == "failed"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("INPUT_REQUIRE-GPU", "yes", "input require-gpu: expected true or false"),
        ("INPUT_TIMEOUT", "soon", "input timeout: 'soon' is not a duration"),
        ("INPUT_TIMEOUT-MINUTES", "soon", "input timeout-minutes: expected a duration"),
        ("INPUT_AGENT", "gpt", "input agent"),
    ],
)
def test_bad_input_is_exit_2_with_an_error_annotation(tmp_path: Path, name: str, value: str, message: str) -> None:
    """Strict booleans and typed inputs: a mistake is exit 2, an ::error annotation, and nothing is run."""
    env = container_env(tmp_path, **{"INPUT_COMMAND": FOLDS_COMMAND, name: value})
    proc = run_entrypoint(env)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "::error title=mle-gpu-agent::" in proc.stdout
    assert not (Path(env["GITHUB_WORKSPACE"]) / "mle-ci-results" / "log.txt").exists()


def gpu_here() -> bool:
    return any(Path("/dev").glob("nvidia[0-9]*")) or shutil.which("nvidia-smi") is not None


@pytest.mark.skipif(gpu_here(), reason="a GPU may be present here")
def test_gpus_all_without_a_gpu_is_exit_3_before_the_command_runs(tmp_path: Path) -> None:
    """Anything but gpus: none requires a GPU: exit 3, reported, and the command never started."""
    marker = tmp_path / "ran"
    command = f"{sys.executable} -c \"open({str(marker)!r}, 'w')\""
    env = container_env(tmp_path, INPUT_GPUS="all", INPUT_COMMAND=command)
    env["CUDA_VISIBLE_DEVICES"] = ""
    proc = run_entrypoint(env)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert not marker.exists()
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert outputs["exit-code"] == "3"
    assert outputs["status"] == "gpu-unavailable"


def test_sigint_mid_run_writes_the_reports_and_exits_130_within_the_runners_window(tmp_path: Path) -> None:
    """The runner's cancel: SIGINT to the entry point; reports, outputs and summary are written, exit 130, < 7.5 s."""
    command = " ".join(child("sleeper", "60"))
    env = container_env(tmp_path, INPUT_COMMAND=command, INPUT_GRACE="5s")
    proc = subprocess.Popen(
        [sys.executable, str(ENTRYPOINT)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "sleeper: going quiet" in line:
            break
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=30)
    elapsed = time.monotonic() - sent
    assert proc.returncode == 130, rest
    assert elapsed < 7.5, f"took {elapsed:.1f}s; the runner sends SIGTERM after 7.5s"
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert outputs["status"] == "interrupted"
    assert outputs["exit-code"] == "130"
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8").strip()
    assert (Path(env["GITHUB_WORKSPACE"]) / "mle-ci-results" / "junit.xml").is_file()


def test_plain_names_fill_in_missing_inputs_and_empty_is_unset() -> None:
    """INPUT_X wins; else X (hyphens or underscores); an empty INPUT_X counts as missing; DISPLAY is never read."""
    env = {
        "INPUT_FOLDS": "",
        "FOLDS": "4",
        "TIMEOUT_MINUTES": "30",
        "STALL_TIMEOUT": "10m",
        "INPUT_AGENT": "claude",
        "AGENT": "baseline",
        "DISPLAY": ":0",
        "GPUS": "none",
    }
    merged = input_environment(env)
    assert merged["INPUT_FOLDS"] == "4"
    assert merged["INPUT_TIMEOUT-MINUTES"] == "30"
    assert merged["INPUT_STALL-TIMEOUT"] == "10m"
    assert merged["INPUT_AGENT"] == "claude"
    assert merged["INPUT_GPUS"] == "none"
    assert "INPUT_DISPLAY" not in merged


def test_entrypoint_uses_the_workspace_variable_never_a_literal_path() -> None:
    """The container contract: no /github/workspace or other runner path is written into the code."""
    sources = [ENTRYPOINT, *sorted((ROOT / "mle_ci" / "action").glob("*.py"))]
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert "/github/workspace" not in text and "/home/runner" not in text, source


def test_sigterm_before_the_run_starts_ends_it_before_its_command_with_130_and_reports(tmp_path: Path) -> None:
    """SIGTERM while settings load: not a silent death; the command never starts, exit 130, interrupted reports."""
    env = container_env(tmp_path, INPUT_COMMAND=" ".join(child("sleeper", "60")))
    code = (
        "import os, signal, sys\n"
        f"sys.argv = [{str(ENTRYPOINT)!r}]\n"
        "from mle_ci.action import entrypoint\n"
        "import mle_ci.action.entrypoint as e\n"
        "real = e.load_settings\n"
        "def slow(*a, **k):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return real(*a, **k)\n"
        "e.load_settings = slow\n"
        "raise SystemExit(entrypoint.process_main())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 130, proc.stderr
    result = json.loads((tmp_path / "workspace" / "mle-ci-results" / "result.json").read_text(encoding="utf-8"))
    assert (result["status"], result["exit_code"]) == ("interrupted", 130)
    assert result["child"]["pid"] is None  # the command never started
    assert "status=interrupted" in Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")


@pytest.mark.gpu
def test_gpus_all_on_a_gpu_machine_runs_and_reports_the_gpu(tmp_path: Path) -> None:
    """Where CUDA works, gpus: all passes the fail-fast check, the command runs, and gpu-name names the GPU."""
    if not gpu_here():
        pytest.skip("no NVIDIA GPU here")
    probe = subprocess.run(
        [sys.executable, "-c", "import torch; raise SystemExit(0 if torch.cuda.is_available() else 1)"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("no CUDA build of torch here")
    env = container_env(tmp_path, **{"INPUT_GPUS": "all", "INPUT_COMMAND": FOLDS_COMMAND, "INPUT_GPU-INTERVAL": "1s"})
    proc = run_entrypoint(env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert outputs["status"] == "success"
    assert outputs["gpu-name"]


def test_the_users_command_gets_neither_the_inputs_nor_the_api_key(tmp_path: Path) -> None:
    """The inputs (the API key among them) are the harness's: a user's command sees no INPUT_* and no key."""
    key = "sk-ant-api03-entrypoint-secret-value"
    probe = (
        f"{sys.executable} -c \"import os; print('inputs:', sorted(k for k in os.environ if k.startswith('INPUT_')), "
        "'key' if os.environ.get('ANTHROPIC_API_KEY') else 'nokey')\""
    )
    env = container_env(tmp_path, **{"INPUT_COMMAND": probe, "INPUT_ANTHROPIC-API-KEY": key})
    proc = run_entrypoint(env)
    assert proc.returncode == 0, proc.stderr
    assert "inputs: [] nokey" in proc.stdout
    # The one place the key is printed is the mask command itself, before anything else, which the runner never
    # shows (the masks come first: the key, and the runner's file-command paths, which are never shown either).
    lines = proc.stdout.splitlines()
    masks = [index for index, line in enumerate(lines) if line.startswith("::add-mask::")]
    assert masks == list(range(len(masks))) and f"::add-mask::{key}" in lines[: len(masks)]
    assert key not in "\n".join(lines[len(masks) :]) + proc.stderr
