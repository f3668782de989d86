"""examples/matrix.yml: competitions × seeds through the action, every result uploaded, one leaderboard job."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "examples" / "matrix.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def _steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    steps = workflow["jobs"][job]["steps"]
    assert isinstance(steps, list)
    return steps


def _uses(workflow: dict[Any, Any], job: str, action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(workflow, job) if str(s.get("uses", "")).split("@")[0] == action]


def test_every_third_party_action_is_pinned_to_a_commit(workflow: dict[Any, Any]) -> None:
    """actions/* by full SHA; the action itself by its release tag, as users write it."""
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            uses = step.get("uses")
            if uses is None:
                continue
            if uses.startswith("org/mle-gpu-agent@"):
                assert uses == "org/mle-gpu-agent@v1"
            else:
                assert PINNED.match(uses), f"{name}: {uses} is not pinned to a commit"


def test_the_matrix_runs_the_action_with_its_own_inputs(workflow: dict[Any, Any]) -> None:
    """competition × seed, fail-fast off, the seed passed to the agent, only inputs action.yml declares."""
    job = workflow["jobs"]["run"]
    assert job["strategy"]["fail-fast"] is False
    assert set(job["strategy"]["matrix"]) == {"competition", "seed"}
    (step,) = _uses(workflow, "run", "org/mle-gpu-agent")
    declared = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    assert set(step["with"]) <= declared
    assert step["with"]["competition"] == "${{ matrix.competition }}"
    assert step["env"]["MLE_CI_SEED"] == "${{ matrix.seed }}"


def test_each_run_uploads_its_results_under_a_unique_name_even_when_it_failed(workflow: dict[Any, Any]) -> None:
    """upload-artifact with if: always() and a name made of the competition and the seed."""
    (upload,) = _uses(workflow, "run", "actions/upload-artifact")
    assert upload["if"] == "always()"
    name = upload["with"]["name"]
    assert "${{ matrix.competition }}" in name
    assert "${{ matrix.seed }}" in name
    assert name.startswith("mle-ci-")
    (agent,) = _uses(workflow, "run", "org/mle-gpu-agent")
    assert upload["with"]["path"].rstrip("/") == agent["with"]["output-dir"]


def test_the_leaderboard_job_downloads_every_run_and_expects_them_all(workflow: dict[Any, Any]) -> None:
    """Runs after the matrix whatever happened, one folder per artifact, mle-ci aggregate --expect N."""
    job = workflow["jobs"]["leaderboard"]
    assert "run" in job["needs"]
    assert "always()" in job["if"]
    (download,) = _uses(workflow, "leaderboard", "actions/download-artifact")
    assert download["with"]["merge-multiple"] is False
    assert download["with"]["pattern"] == "mle-ci-*"
    folder = download["with"]["path"]
    script = next(s["run"] for s in _steps(workflow, "leaderboard") if "mle-ci aggregate" in s.get("run", ""))
    assert f"mle-ci aggregate {folder} --expect" in script
    assert job["steps"][-1]["if"] == "always()"  # the leaderboard files are kept even when it fails


def test_the_plan_step_counts_competitions_times_seeds(workflow: dict[Any, Any], tmp_path: Path) -> None:
    """The plan job's script, run here: two competitions × three seeds → 6 expected runs, as JSON lists."""
    (step,) = _steps(workflow, "plan")
    script = step["run"].split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]
    env = {**os.environ, "COMPETITIONS": "spaceship-titanic leaf-classification", "SEEDS": "1 2 3"}
    done = subprocess.run([sys.executable, "-"], input=script, env=env, capture_output=True, text=True, check=True)
    outputs = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert outputs == {
        "competitions": '["spaceship-titanic", "leaf-classification"]',
        "seeds": "[1, 2, 3]",
        "expected": "6",
    }
    assert set(workflow["jobs"]["plan"]["outputs"]) == set(outputs)


def test_actionlint_accepts_it() -> None:
    """actionlint, where it is installed (CI installs it; this machine may not have it)."""
    venv = ROOT / ".venv" / "bin" / "actionlint"
    found = str(venv) if venv.exists() else shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is not installed here")
    config = ROOT / ".github" / "actionlint.yaml"
    args = [found, *(["-config-file", str(config)] if config.exists() else []), str(WORKFLOW)]
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
