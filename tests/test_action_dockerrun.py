"""The action's docker command lines: --gpus exactly when asked, env by name only, same-path mounts, the image."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT

from mle_ci.action.dockerrun import (
    SHM_SIZE,
    forwarded_names,
    gpus_option,
    image_tag,
    mount_folders,
    plan_invocation,
)
from mle_ci.errors import ConfigError

SECRET = "sk-ant-api03-very-secret-value"


def runner_env(**extra: str) -> dict[str, str]:
    """The variables a hosted runner gives the composite step, plus the step's mapped inputs."""
    temp = "/home/runner/work/_temp"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/runner",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": "/home/runner/work/repo/repo",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_ACTION_PATH": "/home/runner/work/_actions/org/mle-gpu-agent/v1",
        "GITHUB_ACTION_REF": "v1",
        "GITHUB_OUTPUT": f"{temp}/_runner_file_commands/set_output_1",
        "GITHUB_STEP_SUMMARY": f"{temp}/_runner_file_commands/step_summary_1",
        "GITHUB_ENV": f"{temp}/_runner_file_commands/set_env_1",
        "GITHUB_EVENT_PATH": "/home/runner/work/_temp/_github_workflow/event.json",
        "GITHUB_TOKEN": "ghs_not_for_the_container",
        "ACTIONS_RUNTIME_TOKEN": "runtime-token-value",
        "RUNNER_TEMP": temp,
        "INPUT_GPUS": "all",
        "INPUT_TIMEOUT-MINUTES": "30",
        "INPUT_ANTHROPIC-API-KEY": SECRET,
        "INPUT_IMAGE": "",
        "PYTHONPATH": "/home/runner/work/_actions/org/mle-gpu-agent/v1",
    }
    env.update(extra)
    return env


def plan(**extra: str) -> tuple[str, ...]:
    env = runner_env(**extra)
    return plan_invocation(env, action_path=env["GITHUB_ACTION_PATH"], user="1001:118", cidfile="/t/x.cid").run


def option_values(argv: tuple[str, ...], option: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == option]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("all", ("--gpus", "all")),
        ("", ("--gpus", "all")),
        ("ALL", ("--gpus", "all")),
        ("none", ()),
        (" None ", ()),
        ("2", ("--gpus", "2")),
        ("0,1", ("--gpus", '"device=0,1"')),
        ("device=0,1", ("--gpus", '"device=0,1"')),
        ("device=3", ("--gpus", '"device=3"')),
        ("GPU-3a7b-11cc", ("--gpus", '"device=GPU-3a7b-11cc"')),
    ],
)
def test_gpus_option_follows_the_input(value: str, expected: tuple[str, ...]) -> None:
    """all/count/device list become --gpus (device lists quoted for docker's CSV parser); none leaves it out."""
    assert gpus_option(value) == expected


@pytest.mark.parametrize("value", ["0", "fast", "0;rm -rf /", "device=", "1,,2"])
def test_gpus_option_refuses_what_docker_would_misread(value: str) -> None:
    """A zero count, junk or an empty device is a usage error that names the input."""
    with pytest.raises(ConfigError, match="input gpus"):
        gpus_option(value)


def test_docker_csv_reads_the_quoted_device_list_as_one_field() -> None:
    """docker parses --gpus with a CSV reader: the quoted value is one field, ``device=0,1``."""
    (_, value) = gpus_option("0,1")
    assert next(csv.reader([value])) == ["device=0,1"]


def test_run_line_has_gpus_only_when_asked() -> None:
    """--gpus appears once with gpus: all, and not at all with gpus: none."""
    assert option_values(plan(), "--gpus") == ["all"]
    assert "--gpus" not in plan(INPUT_GPUS="none")
    assert option_values(plan(INPUT_GPUS="0,1"), "--gpus") == ['"device=0,1"']


def test_run_line_shape() -> None:
    """--rm --init, the cidfile, the runner's user, shm, the workspace as workdir, then the image last."""
    argv = plan()
    assert argv[:4] == ("docker", "run", "--rm", "--init")
    assert option_values(argv, "--cidfile") == ["/t/x.cid"]
    assert option_values(argv, "--user") == ["1001:118"]
    assert option_values(argv, "--shm-size") == [SHM_SIZE]
    assert option_values(argv, "--workdir") == ["/home/runner/work/repo/repo"]
    assert argv[-1] == "mle-gpu-agent:v1"


def test_env_is_forwarded_by_name_only() -> None:
    """Every --env is a bare name: no value, and so no secret, ever lands on the command line."""
    argv = plan()
    names = option_values(argv, "--env")
    assert all("=" not in name for name in names)
    assert "INPUT_ANTHROPIC-API-KEY" in names
    assert "INPUT_TIMEOUT-MINUTES" in names
    assert {"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE", "RUNNER_TEMP", "CI"} <= set(names)
    assert not any(SECRET in word or "ghs_" in word or "runtime-token" in word for word in argv)


def test_tokens_and_host_variables_stay_out() -> None:
    """GITHUB_TOKEN, ACTIONS_* tokens, the host's PATH/HOME/PYTHONPATH and the image input are not forwarded."""
    names = forwarded_names(runner_env())
    for withheld in ("GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "PATH", "HOME", "PYTHONPATH", "INPUT_IMAGE"):
        assert withheld not in names
    assert list(names) == sorted(names)


def test_mounts_are_the_same_paths_and_nested_folders_fold_into_one() -> None:
    """Workspace and RUNNER_TEMP are mounted; the file-command folders under RUNNER_TEMP need no mount of their own."""
    assert mount_folders(runner_env()) == ("/home/runner/work/_temp", "/home/runner/work/repo/repo")
    argv = plan()
    mounts = option_values(argv, "--mount")
    assert mounts == [
        "type=bind,source=/home/runner/work/_temp,target=/home/runner/work/_temp",
        "type=bind,source=/home/runner/work/repo/repo,target=/home/runner/work/repo/repo",
    ]


def test_file_commands_outside_runner_temp_get_their_folder_mounted() -> None:
    """act (or a custom runner) may keep GITHUB_OUTPUT elsewhere: its folder is mounted too."""
    env = runner_env(GITHUB_OUTPUT="/var/run/act/workflow/outputs.txt", RUNNER_TEMP="/tmp")
    assert "/var/run/act/workflow" in mount_folders(env)


def test_a_comma_in_a_path_is_quoted_for_dockers_csv() -> None:
    """docker reads --mount as CSV: a comma in the workspace path stays inside one field."""
    argv = plan(GITHUB_WORKSPACE="/w/a,b")
    mount = next(m for m in option_values(argv, "--mount") if "a,b" in m)
    assert next(csv.reader([mount])) == ["type=bind", "source=/w/a,b", "target=/w/a,b"]


def test_missing_or_relative_workspace_is_a_usage_error() -> None:
    """Outside a job there is no workspace; a relative one cannot be mounted at the same path."""
    with pytest.raises(ConfigError, match="GITHUB_WORKSPACE is not set"):
        mount_folders({"RUNNER_TEMP": "/tmp"})
    with pytest.raises(ConfigError, match="absolute"):
        mount_folders({"GITHUB_WORKSPACE": "repo"})
    with pytest.raises(ConfigError, match="root folder"):
        mount_folders({"GITHUB_WORKSPACE": "/w", "GITHUB_OUTPUT": "/out"})


def test_image_is_built_from_the_actions_dockerfile_unless_named() -> None:
    """No image input: docker build of the action's folder, tagged by the action's ref; a named image: no build."""
    env = runner_env()
    built = plan_invocation(env, action_path=env["GITHUB_ACTION_PATH"], user="0:0", cidfile="/c")
    root = env["GITHUB_ACTION_PATH"]
    assert built.build == ("docker", "build", "--tag", "mle-gpu-agent:v1", "--file", f"{root}/Dockerfile", root)
    assert built.image == built.run[-1] == "mle-gpu-agent:v1"
    env["INPUT_IMAGE"] = "ghcr.io/org/mle-gpu-agent:v1"
    named = plan_invocation(env, action_path=root, user="0:0", cidfile="/c")
    assert named.build == ()
    assert named.run[-1] == "ghcr.io/org/mle-gpu-agent:v1"


def test_image_tag_falls_back_to_the_commit_and_is_a_valid_docker_tag() -> None:
    """`uses: ./` has no action ref: the commit names the image; refs with slashes become valid tags."""
    assert image_tag({"GITHUB_SHA": "abc123"}) == "mle-gpu-agent:abc123"
    assert image_tag({"GITHUB_ACTION_REF": "feature/x y", "GITHUB_SHA": "abc"}) == "mle-gpu-agent:feature-x-y"
    assert image_tag({}) == "mle-gpu-agent:local"


def test_gpu_requested_follows_the_option() -> None:
    """The launcher needs to know whether a docker failure could be the GPU's."""
    env = runner_env(INPUT_GPUS="none")
    assert not plan_invocation(env, action_path="/a", user="0:0", cidfile="/c").gpu_requested
    env["INPUT_GPUS"] = "1"
    assert plan_invocation(env, action_path="/a", user="0:0", cidfile="/c").gpu_requested


def test_a_relay_mounts_only_the_workspace_and_points_the_file_variables_into_it() -> None:
    """Under act: no runner folders mounted, GITHUB_OUTPUT/GITHUB_STEP_SUMMARY given as relay paths."""
    env = runner_env()
    relay = "/home/runner/work/repo/repo/.mle-ci-relay-1"
    argv = plan_invocation(env, action_path="/a", user="0:0", cidfile="/c", relay=relay).run
    mounts = option_values(argv, "--mount")
    assert mounts == ["type=bind,source=/home/runner/work/repo/repo,target=/home/runner/work/repo/repo"]
    envs = option_values(argv, "--env")
    assert f"GITHUB_OUTPUT={relay}/github_output" in envs
    assert f"GITHUB_STEP_SUMMARY={relay}/github_step_summary" in envs
    assert "GITHUB_OUTPUT" not in envs and "GITHUB_STEP_SUMMARY" not in envs
    assert "INPUT_ANTHROPIC-API-KEY" in envs


def test_a_relay_outside_the_workspace_is_a_bug() -> None:
    """The relay must be visible to the container, so it has to be inside the mounted workspace."""
    with pytest.raises(ValueError, match="not inside the workspace"):
        plan_invocation(runner_env(), action_path="/a", user="0:0", cidfile="/c", relay="/tmp/relay")


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client here")
@pytest.mark.parametrize("gpus", ["all", "none", "2", "0,1", "device=GPU-3a7b-11cc"])
def test_the_real_docker_client_accepts_the_run_line(tmp_path: Path, gpus: str) -> None:
    """docker parses --gpus and --mount before it connects: with no daemon reachable, only the connection fails."""
    env = runner_env(INPUT_GPUS=gpus, GITHUB_WORKSPACE=str(tmp_path / "a,b"), RUNNER_TEMP=str(tmp_path / "t"))
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_EVENT_PATH"):
        env[name] = str(tmp_path / "t" / "files" / name.lower())
    cidfile = str(tmp_path / "c.cid")
    invocation = plan_invocation(env, action_path=str(ROOT), user="1001:118", cidfile=cidfile)
    client = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
    for argv in (invocation.build, invocation.run):
        proc = subprocess.run(argv, env=client, capture_output=True, text=True, timeout=60, check=False)
        said = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert "invalid argument" not in said and "unknown flag" not in said, said
        assert "Cannot connect to the Docker daemon" in said or "no.sock" in said, said
