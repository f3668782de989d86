"""The action's docker command lines: --gpus exactly when asked, env by name only, same-path mounts of the workspace
and the relay only (never the runner's file commands), the image."""

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
    mount_options,
    plan_invocation,
)
from mle_ci.errors import ConfigError

SECRET = "sk-ant-api03-very-secret-value"
RELAY = "/home/runner/work/_temp/mle-gpu-agent-relay-1"


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
        "GITHUB_PATH": f"{temp}/_runner_file_commands/add_path_1",
        "GITHUB_STATE": f"{temp}/_runner_file_commands/save_state_1",
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
    return plan_invocation(
        env, action_path=env["GITHUB_ACTION_PATH"], user="1001:118", cidfile="/t/x.cid", relay=RELAY
    ).run


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
    assert argv[-1] == "ghcr.io/org/mle-gpu-agent:v1"


def test_env_is_forwarded_by_name_only() -> None:
    """Every --env is a bare name, but the relay's two paths: no value, and so no secret, lands on the command line."""
    argv = plan()
    names = option_values(argv, "--env")
    assert [n for n in names if "=" in n] == [
        f"GITHUB_OUTPUT={RELAY}/github_output",
        f"GITHUB_STEP_SUMMARY={RELAY}/github_step_summary",
    ]
    assert "INPUT_ANTHROPIC-API-KEY" in names
    assert "INPUT_TIMEOUT-MINUTES" in names
    assert {"GITHUB_WORKSPACE", "GITHUB_EVENT_PATH", "CI"} <= set(names)
    assert not any(SECRET in word or "ghs_" in word or "runtime-token" in word for word in argv)


def test_tokens_host_variables_and_the_runners_files_stay_out() -> None:
    """GITHUB_TOKEN, ACTIONS_* tokens, the host's PATH/HOME/PYTHONPATH, the image input, the runner's
    file-command files and RUNNER_TEMP are not forwarded."""
    names = forwarded_names(runner_env())
    withheld = ("GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "PATH", "HOME", "PYTHONPATH", "INPUT_IMAGE", "RUNNER_TEMP")
    for name in (*withheld, "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
        assert name not in names
    assert list(names) == sorted(names)


def test_only_the_workspace_and_the_relay_are_mounted() -> None:
    """The workspace and the relay at the same paths: never RUNNER_TEMP nor the file commands' folder."""
    assert mount_options(runner_env(), RELAY) == (
        "type=bind,source=/home/runner/work/repo/repo,target=/home/runner/work/repo/repo",
        f"type=bind,source={RELAY},target={RELAY}",
    )
    mounts = option_values(plan(), "--mount")
    assert mounts == list(mount_options(runner_env(), RELAY))
    assert not any(m.endswith(("target=/home/runner/work/_temp", "_runner_file_commands")) for m in mounts)


def test_the_event_file_is_mounted_read_only_when_the_host_has_it() -> None:
    """GITHUB_EVENT_PATH stays readable in the container, never writable."""
    event = "/home/runner/work/_temp/_github_workflow/event.json"
    mounts = mount_options(runner_env(), RELAY, event_file=event)
    assert mounts[-1] == f"type=bind,source={event},target={event},readonly"


def test_runner_folders_inside_the_workspace_are_hidden() -> None:
    """A custom runner that keeps its temp folder in the workspace: an empty tmpfs covers it; a relay inside it
    is bound on top."""
    workspace = "/w"
    env = runner_env(GITHUB_WORKSPACE=workspace, RUNNER_TEMP="/w/_temp")
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
        env[name] = f"/w/_temp/_runner_file_commands/{name.lower()}"
    mounts = mount_options(env, "/w/_temp/relay")
    assert mounts == (
        "type=bind,source=/w,target=/w",
        "type=bind,source=/w/_temp/relay,target=/w/_temp/relay",
        "type=tmpfs,destination=/w/_temp",
        "type=tmpfs,destination=/w/_temp/_runner_file_commands",
    )
    with pytest.raises(ConfigError, match="runner's own folder"):
        mount_options(runner_env(GITHUB_WORKSPACE="/w", RUNNER_TEMP="/w"), "/r")


def test_a_relay_that_holds_the_runners_files_is_a_bug() -> None:
    """The relay is the launcher's own fresh folder: one that would expose the runner's files is refused."""
    with pytest.raises(ValueError, match="holds the runner's own files"):
        mount_options(runner_env(), "/home/runner/work/_temp")


def test_a_comma_in_a_path_is_quoted_for_dockers_csv() -> None:
    """docker reads --mount as CSV: a comma in the workspace path stays inside one field."""
    argv = plan(GITHUB_WORKSPACE="/w/a,b")
    mount = next(m for m in option_values(argv, "--mount") if "a,b" in m)
    assert next(csv.reader([mount])) == ["type=bind", "source=/w/a,b", "target=/w/a,b"]


def test_missing_or_relative_workspace_is_a_usage_error() -> None:
    """Outside a job there is no workspace; a relative one cannot be mounted at the same path."""
    with pytest.raises(ConfigError, match="GITHUB_WORKSPACE is not set"):
        mount_options({"RUNNER_TEMP": "/tmp"}, RELAY)
    with pytest.raises(ConfigError, match="absolute"):
        mount_options({"GITHUB_WORKSPACE": "repo"}, RELAY)
    with pytest.raises(ConfigError, match="root folder"):
        mount_options({"GITHUB_WORKSPACE": "/"}, RELAY)


def test_the_released_image_is_pulled_with_a_build_of_the_dockerfile_to_fall_back_on() -> None:
    """No image input: docker pull of the action's release; the build of its folder, tagged by its ref, is what
    the launcher runs when the pull fails; the run line ends with whichever image it got."""
    env = runner_env()
    plan = plan_invocation(env, action_path=env["GITHUB_ACTION_PATH"], user="0:0", cidfile="/c", relay=RELAY)
    root = env["GITHUB_ACTION_PATH"]
    assert plan.pull == ("docker", "pull", "ghcr.io/org/mle-gpu-agent:v1")
    assert plan.build == (
        "docker", "build", "--tag", "mle-gpu-agent:v1", "--build-arg", "VARIANT=cuda", "--file", f"{root}/Dockerfile",
        root,
    )  # fmt: skip
    assert plan.run[-1] == "ghcr.io/org/mle-gpu-agent:v1"
    assert plan.run_line("mle-gpu-agent:v1") == (*plan.run[:-1], "mle-gpu-agent:v1")


def test_gpus_none_pulls_and_builds_the_cpu_variant() -> None:
    """gpus: none: the -cpu image, and the Dockerfile's CPU variant when it must be built."""
    env = runner_env(INPUT_GPUS="none")
    plan = plan_invocation(env, action_path=env["GITHUB_ACTION_PATH"], user="0:0", cidfile="/c", relay=RELAY)
    assert plan.pull[-1] == "ghcr.io/org/mle-gpu-agent:v1-cpu"
    assert plan.build[2:6] == ("--tag", "mle-gpu-agent:v1-cpu", "--build-arg", "VARIANT=cpu")


def test_a_local_action_or_image_build_only_builds_and_a_named_image_neither() -> None:
    """`uses: ./` and `image: build`: a build, no pull; a named image: run as it is."""
    env = runner_env(GITHUB_ACTION_PATH="/home/runner/work/repo/repo")
    local = plan_invocation(env, action_path=env["GITHUB_ACTION_PATH"], user="0:0", cidfile="/c", relay=RELAY)
    assert local.pull == ()
    assert local.build[:4] == ("docker", "build", "--tag", f"mle-gpu-agent:{env['GITHUB_SHA']}")
    assert local.run[-1] == f"mle-gpu-agent:{env['GITHUB_SHA']}"
    env = runner_env(INPUT_IMAGE="build")
    asked = plan_invocation(env, action_path=env["GITHUB_ACTION_PATH"], user="0:0", cidfile="/c", relay=RELAY)
    assert (asked.pull, asked.build[3], asked.run[-1]) == ((), "mle-gpu-agent:v1", "mle-gpu-agent:v1")
    env = runner_env(INPUT_IMAGE="ghcr.io/org/mle-gpu-agent:v2")
    named = plan_invocation(env, action_path=env["GITHUB_ACTION_PATH"], user="0:0", cidfile="/c", relay=RELAY)
    assert (named.pull, named.build, named.run[-1]) == ((), (), "ghcr.io/org/mle-gpu-agent:v2")


def test_without_the_actions_folder_only_a_named_image_can_run() -> None:
    """No GITHUB_ACTION_PATH: no Dockerfile to build or fall back on, so a usage error unless an image is named."""
    with pytest.raises(ConfigError, match="GITHUB_ACTION_PATH is not set"):
        plan_invocation(runner_env(), action_path="", user="0:0", cidfile="/c", relay=RELAY)
    named = runner_env(INPUT_IMAGE="img")
    assert plan_invocation(named, action_path="", user="0:0", cidfile="/c", relay=RELAY).run[-1] == "img"


def test_the_mapped_action_context_stays_out_of_the_container() -> None:
    """The action's repository and ref are the launcher's: never forwarded."""
    names = forwarded_names(runner_env(MLE_GPU_AGENT_ACTION_REPOSITORY="org/x", MLE_GPU_AGENT_ACTION_REF="v1"))
    assert not any(name.startswith("MLE_GPU_AGENT_") for name in names)


def test_gpu_requested_follows_the_option() -> None:
    """The launcher needs to know whether a docker failure could be the GPU's."""
    env = runner_env(INPUT_GPUS="none")
    assert not plan_invocation(env, action_path="/a", user="0:0", cidfile="/c", relay=RELAY).gpu_requested
    env["INPUT_GPUS"] = "1"
    assert plan_invocation(env, action_path="/a", user="0:0", cidfile="/c", relay=RELAY).gpu_requested


def test_under_act_the_relay_in_the_workspace_needs_no_mount_of_its_own() -> None:
    """act's runner files are not on the host: the relay is a folder in the workspace, which is mounted anyway."""
    env = runner_env()
    relay = "/home/runner/work/repo/repo/.mle-gpu-agent-relay-1"
    argv = plan_invocation(env, action_path="/a", user="0:0", cidfile="/c", relay=relay).run
    mounts = option_values(argv, "--mount")
    assert mounts == ["type=bind,source=/home/runner/work/repo/repo,target=/home/runner/work/repo/repo"]
    envs = option_values(argv, "--env")
    assert f"GITHUB_OUTPUT={relay}/github_output" in envs
    assert f"GITHUB_STEP_SUMMARY={relay}/github_step_summary" in envs
    assert "GITHUB_OUTPUT" not in envs and "GITHUB_STEP_SUMMARY" not in envs
    assert "INPUT_ANTHROPIC-API-KEY" in envs


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client here")
@pytest.mark.parametrize("gpus", ["all", "none", "2", "0,1", "device=GPU-3a7b-11cc"])
def test_the_real_docker_client_accepts_the_run_line(tmp_path: Path, gpus: str) -> None:
    """docker parses --gpus and --mount before it connects: with no daemon reachable, only the connection fails.
    The runner's temp folder sits in the workspace here, so the tmpfs over it and the read-only event file are
    parsed too."""
    workspace = tmp_path / "a,b"
    env = runner_env(INPUT_GPUS=gpus, GITHUB_WORKSPACE=str(workspace), RUNNER_TEMP=str(workspace / "t"))
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_EVENT_PATH"):
        env[name] = str(workspace / "t" / "files" / name.lower())
    cidfile = str(tmp_path / "c.cid")
    relay = str(workspace / "t" / "relay")
    invocation = plan_invocation(
        env, action_path=str(ROOT), user="1001:118", cidfile=cidfile, relay=relay, event_file=env["GITHUB_EVENT_PATH"]
    )
    assert any(m.startswith("type=tmpfs") for m in option_values(invocation.run, "--mount"))
    client = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
    released = plan_invocation(
        env, action_path=f"{tmp_path}/_actions/org/mle-gpu-agent/v1", user="0:0", cidfile=cidfile, relay=relay
    )
    for argv in (released.pull, invocation.build, invocation.run):
        proc = subprocess.run(argv, env=client, capture_output=True, text=True, timeout=60, check=False)
        said = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert "invalid argument" not in said and "unknown flag" not in said, said
        assert "Cannot connect to the Docker daemon" in said or "no.sock" in said, said
