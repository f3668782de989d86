"""The workflows and example workflows, checked structurally (actionlint runs in CI; its PyPI build cannot
fetch its binary everywhere): known keys, minimal permissions, pinned actions, real inputs and outputs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT

from mle_ci.action.imageref import REGISTRY, ActionRelease, Variant, release_image

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = [ROOT / "examples" / name for name in ("gpu-runner.yml", "job-container.yml", "no-docker.yml")]
ALL = WORKFLOWS + EXAMPLES
OUR_ACTION = {"./", "org/mle-gpu-agent@v1"}
TOP_KEYS = {"name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs"}
JOB_KEYS = {
    "name", "needs", "if", "runs-on", "permissions", "environment", "concurrency", "outputs", "env", "defaults",
    "timeout-minutes", "strategy", "continue-on-error", "container", "services", "steps", "uses", "with", "secrets",
}  # fmt: skip
STEP_KEYS = {
    "id", "if", "name", "uses", "run", "shell", "with", "env", "continue-on-error", "timeout-minutes",
    "working-directory",
}  # fmt: skip
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in data["jobs"].items() for step in job.get("steps", [])]


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_known_keys_only(path: Path) -> None:
    """Top-level, job and step keys are ones GitHub Actions knows (a typo is a silently ignored key)."""
    data = load(path)
    assert set(data) <= TOP_KEYS, path
    for job_id, job in data["jobs"].items():
        assert set(job) <= JOB_KEYS, (path.name, job_id, set(job) - JOB_KEYS)
        assert "runs-on" in job and job.get("steps"), (path.name, job_id)
        assert isinstance(job.get("timeout-minutes"), int), (path.name, job_id, "every job bounds its time")
    for job_id, step in steps(data):
        assert set(step) <= STEP_KEYS, (path.name, job_id, set(step) - STEP_KEYS)
        assert ("uses" in step) != ("run" in step), (path.name, job_id, step)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_permissions_are_minimal(path: Path) -> None:
    """Read-only at the top; a job asks for more only where it writes (the release)."""
    data = load(path)
    assert data["permissions"] == {"contents": "read"}, path
    for job_id, job in data["jobs"].items():
        extra = job.get("permissions", {})
        if path.name == "release.yml":
            wanted = {"image": {"contents": "write", "packages": "write"}, "pypi": {"id-token": "write"}}
            assert extra == wanted.get(job_id, {}), job_id
        else:
            assert extra == {}, (path.name, job_id)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version_noted(path: Path) -> None:
    """Third-party actions by full commit SHA with a `# vX` comment; our own action by path or its major tag."""
    text = path.read_text(encoding="utf-8")
    for job_id, step in steps(load(path)):
        uses = step.get("uses")
        if uses is None or uses in OUR_ACTION:
            continue
        assert PINNED.match(uses), (path.name, job_id, uses)
        assert re.search(re.escape(uses) + r" # v\d", text), (path.name, uses, "note the version")


USERS_OF_THE_ACTION = [*ALL, *sorted(set((ROOT / "examples").glob("*.yml")) - set(ALL))]
"""Every workflow here that may use the action, examples/matrix.yml (another team's) included."""


@pytest.mark.parametrize("path", USERS_OF_THE_ACTION, ids=lambda p: p.name)
def test_uses_of_our_action_pass_real_inputs_and_read_real_outputs(path: Path) -> None:
    """`with:` keys are action.yml inputs; `steps.<id>.outputs.<name>` of our action's steps are its outputs."""
    meta = action()
    text = path.read_text(encoding="utf-8")
    ours = {step["id"] for _, step in steps(load(path)) if step.get("uses") in OUR_ACTION and "id" in step}
    for _, step in steps(load(path)):
        if step.get("uses") in OUR_ACTION:
            assert set(step.get("with", {})) <= set(meta["inputs"]), (path.name, step.get("with"))
            assert all(isinstance(v, str) for v in step.get("with", {}).values()), "inputs are text"
    for step_id, output in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", text):
        if step_id in ours:
            assert output in meta["outputs"], (path.name, step_id, output)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_untrusted_context_is_interpolated_into_a_script(path: Path) -> None:
    """Event data, inputs and step outputs reach scripts through env, never `${{ }}` inside `run:`."""
    for job_id, step in steps(load(path)):
        script = step.get("run", "")
        for expression in re.findall(r"\$\{\{(.*?)\}\}", script):
            assert not re.search(r"github\.event|inputs\.|steps\.|github\.head_ref", expression), (path.name, job_id)


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_script_is_valid_bash(path: Path) -> None:
    """`bash -n` on every `run:` (expressions replaced by a word) catches a broken script before a runner does."""
    for job_id, step in steps(load(path)):
        if "run" not in step:
            continue
        script = re.sub(r"\$\{\{.*?\}\}", "X", step["run"])
        proc = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False)
        assert proc.returncode == 0, (path.name, job_id, proc.stderr)


def test_ci_lints_everything_and_tests_both_pythons() -> None:
    """ci.yml: `make lint` (ruff, mypy, import layers, and actionlint, hadolint, shellcheck from the dev extras)
    and the tests on Python 3.11 and 3.12."""
    data = load(ROOT / ".github" / "workflows" / "ci.yml")
    lint = [step.get("run", "") for step in data["jobs"]["lint"]["steps"]]
    assert any(run.strip() == "make lint" for run in lint)
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert {"actionlint", "hadolint", "shellcheck"} <= {re.split(r"[-=<>;\[ ]", dep)[0] for dep in dev["dev"]}
    assert data["jobs"]["test"]["strategy"]["matrix"]["python"] == ["3.11", "3.12"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint_target = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    for tool in ("hadolint Dockerfile", "shellcheck integrations/mlebench/start.sh", "$(ACTIONLINT)"):
        assert tool in lint_target


def test_self_test_runs_the_action_on_itself_and_checks_its_outputs() -> None:
    """self-test.yml: `uses: ./` with gpus none on ubuntu-latest, outputs asserted after; a gated GPU job."""
    data = load(ROOT / ".github" / "workflows" / "self-test.yml")
    cpu = data["jobs"]["cpu"]
    assert cpu["runs-on"] == "ubuntu-latest"
    names = [step.get("uses") or step.get("name") for step in cpu["steps"]]
    run_at = names.index("./")
    assert cpu["steps"][run_at]["with"]["gpus"] == "none"
    check = cpu["steps"][run_at + 1]
    assert "steps.agent.outputs.status" in str(check["env"])
    assert 'test "$STATUS" = success' in check["run"]
    gpu = data["jobs"]["gpu"]
    assert gpu["if"] == "vars.GPU_RUNNER_LABEL != ''"
    assert gpu["runs-on"] == "${{ vars.GPU_RUNNER_LABEL }}"


def test_release_pushes_to_ghcr_with_the_workflow_token_and_moves_the_major_tag() -> None:
    """release.yml: ghcr.io login with GITHUB_TOKEN on stdin, push, and `git tag --force` of the major."""
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    assert "--password-stdin" in text and "secrets.GITHUB_TOKEN" in text
    assert f"{REGISTRY}/${{GITHUB_REPOSITORY,,}}" in text
    assert 'git tag --force "$MAJOR"' in text


FAKE_DOCKER = """#!/bin/sh
# Records each call; `image inspect` answers a size, as the real client's --format would.
printf '%s\\n' "$*" >> "$FAKE_DOCKER_LOG"
case "$1" in image) echo 7000000000 ;; esac
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_release_publishes_every_image_the_action_pulls_for_its_refs(tmp_path: Path) -> None:
    """The release's own script, run with a fake docker: it pushes, for vX.Y.Z, vX and the commit, exactly the
    images the action derives for those refs, in both variants, and reports their sizes in the job summary."""
    data = load(ROOT / ".github" / "workflows" / "release.yml")
    (step,) = [step for step in data["jobs"]["image"]["steps"] if "docker push" in step.get("run", "")]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    sha = "0123456789abcdef0123456789abcdef01234567"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_DOCKER_LOG": str(tmp_path / "docker.log"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_REPOSITORY": "Org/MLE-GPU-Agent",
        "GITHUB_SHA": sha,
        "GITHUB_ACTOR": "releaser",
        "GITHUB_SERVER_URL": "https://github.com",
        "VERSION": "v1.2.3",
        "MAJOR": "v1",
        "REGISTRY_TOKEN": "token",
    }
    proc = subprocess.run(["bash", "-c", step["run"]], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "docker.log").read_text().splitlines()
    pushed = {line.split()[1] for line in log if line.startswith("push ")}
    expected = {
        release_image(ActionRelease(env["GITHUB_REPOSITORY"], ref), variant)
        for ref in ("v1.2.3", "v1", sha)
        for variant in Variant
    }
    assert pushed == expected
    builds = [line for line in log if line.startswith("build ")]
    assert [re.findall(r"VARIANT=(\w+)", line) for line in builds] == [[v.value] for v in Variant]
    summary = (tmp_path / "summary.md").read_text()
    assert summary.count("7000 MB uncompressed") == len(Variant)


def test_job_container_example_passes_the_gpus_and_execs_the_harness() -> None:
    """The job-container recipe: `options: --gpus all`, then `exec mle-ci run` so the cancel signal reaches it."""
    job = load(ROOT / "examples" / "job-container.yml")["jobs"]["train"]
    assert "--gpus all" in job["container"]["options"]
    assert any(step.get("run", "").startswith("exec mle-ci run --require-gpu") for step in job["steps"])


def test_act_event_file_is_json() -> None:
    """The event file docs/github-actions.md's act command passes with -e."""
    import json

    event = json.loads((ROOT / "examples" / "act" / "workflow_dispatch.json").read_text(encoding="utf-8"))
    assert event["ref"].startswith("refs/heads/")


def test_dependabot_updates_actions_pip_and_docker_weekly() -> None:
    """.github/dependabot.yml parses as version 2 and updates the three things the project pins, each weekly."""
    data = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    assert data["version"] == 2
    updates = {update["package-ecosystem"]: update for update in data["updates"]}
    assert sorted(updates) == ["docker", "github-actions", "pip"]
    for ecosystem, update in updates.items():
        assert update["directory"] == "/", ecosystem
        assert update["schedule"]["interval"] == "weekly", ecosystem
    assert (ROOT / "Dockerfile").is_file() and (ROOT / "pyproject.toml").is_file()  # what docker and pip read at /
