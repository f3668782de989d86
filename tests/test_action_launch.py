"""The host-side launcher against a fake ``docker`` on PATH: exit codes, signals forwarded, no container left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, alive
from test_github import parse_output_file

SECRET = "sk-ant-api03-launcher-secret"
RUNNER_FILES = {
    "set_output": "",
    "step_summary": "# An earlier summary\n",
    "set_env": "EARLIER=1\n",
    "add_path": "/earlier/bin\n",
    "save_state": "",
}

FAKE_DOCKER = """\
#!{python}
# A fake docker client: records each call; `run` writes its cidfile and waits like an attached client, and acts
# as the container would: it sees only the variables given with --env and the folders given with --mount.
import csv, json, os, signal, sys, time
log = os.environ["FAKE_DOCKER_LOG"]
def record(**extra):
    with open(log, "a") as f:
        f.write(json.dumps({{"argv": sys.argv[1:], **extra}}) + "\\n")
command = sys.argv[1]
if command == "kill":
    record()
    cid = sys.argv[2]
    if cid.startswith("fake-"):
        try:
            os.kill(int(cid[5:]), signal.SIGKILL)
        except ProcessLookupError:
            print("Error response from daemon: No such container", file=sys.stderr)
            sys.exit(1)
    sys.exit(0)
if command in ("build", "pull"):
    def on_fetch_signal(signum, frame):
        record(**{{command + "_signal": signum}})
        sys.exit(2)
    signal.signal(signal.SIGINT, on_fetch_signal)
    record()
    time.sleep(float(os.environ.get(f"FAKE_{{command.upper()}}_SLEEP", "0")))
    if os.environ.get(f"FAKE_{{command.upper()}}_RC", "0") != "0":
        print(f"fake docker {{command}} failed", file=sys.stderr)
    sys.exit(int(os.environ.get(f"FAKE_{{command.upper()}}_RC", "0")))
assert command == "run"
cidfile = sys.argv[sys.argv.index("--cidfile") + 1]
with open(cidfile, "w") as f:
    f.write(f"fake-{{os.getpid()}}")
record(secret_in_env=os.environ.get("INPUT_ANTHROPIC-API-KEY") == {secret!r})
options = [(a, sys.argv[i + 1]) for i, a in enumerate(sys.argv[:-1]) if a in ("--env", "--mount")]
container = {{}}
for name in (value for option, value in options if option == "--env"):
    if "=" in name:
        container.update([name.split("=", 1)])
    elif name in os.environ:
        container[name] = os.environ[name]
mounts = [dict(f.partition("=")[::2] for f in next(csv.reader([v]))) for o, v in options if o == "--mount"]
writable = [m["source"].rstrip("/") for m in mounts if m.get("type") == "bind" and "readonly" not in m]
def reachable(path):
    return any(path == w or path.startswith(w + "/") for w in writable)
if os.environ.get("FAKE_HUNT"):
    found = set()
    for value in container.values():
        for part in value.split(os.pathsep):
            if not (os.path.isabs(part) and reachable(part)):
                continue
            if os.path.isfile(part):
                found.add(part)
            for root, _, names in os.walk(part):
                found.update(os.path.join(root, n) for n in names)
    temp = container.get("RUNNER_TEMP")
    if temp and reachable(temp):
        for root, _, names in os.walk(temp):
            found.update(os.path.join(root, n) for n in names)
    for path in sorted(found):
        with open(path, "a") as f:
            f.write("MLE_CI_INJECTED=1\\n/injected/bin\\ninjected<<EOF\\n")
    runner = ("RUNNER_TEMP", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")
    record(hunted=sorted(found), seen=sorted(n for n in runner if n in container))
if os.environ.get("FAKE_WRITE_OUTPUT"):
    with open(container["GITHUB_OUTPUT"], "a") as f:
        f.write(os.environ.get("FAKE_OUTPUTS", "status=success\\n"))
    with open(container["GITHUB_STEP_SUMMARY"], "a") as f:
        f.write("# summary\\n")
    if os.environ.get("FAKE_LINK_SUMMARY"):
        os.unlink(container["GITHUB_STEP_SUMMARY"])
        os.symlink(os.environ["FAKE_LINK_SUMMARY"], container["GITHUB_STEP_SUMMARY"])
if os.environ.get("FAKE_STDERR"):
    sys.stderr.write(os.environ["FAKE_STDERR"] + "\\n")
    sys.exit(int(os.environ["FAKE_RC"]))
def on_signal(signum, frame):
    record(signal=signum)
    if not os.environ.get("FAKE_IGNORE"):
        sys.exit(130)
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)
print("container: running", flush=True)
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
sys.exit(int(os.environ.get("FAKE_RC", "0")))
"""


@pytest.fixture
def runner(tmp_path: Path) -> dict[str, str]:
    """A runner-like environment whose PATH finds the fake docker first."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable, secret=SECRET))
    docker.chmod(0o755)
    temp = tmp_path / "runner_temp"
    commands = temp / "_runner_file_commands"
    commands.mkdir(parents=True)
    for name, text in RUNNER_FILES.items():
        (commands / name).write_text(text)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "train.py").write_text("print('hello')\n")
    (temp / "_github_workflow").mkdir()
    (temp / "_github_workflow" / "event.json").write_text("{}\n")
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "FAKE_DOCKER_LOG": str(tmp_path / "docker.log"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_SHA": "abc123",
        "GITHUB_OUTPUT": str(commands / "set_output"),
        "GITHUB_STEP_SUMMARY": str(commands / "step_summary"),
        "GITHUB_ENV": str(commands / "set_env"),
        "GITHUB_PATH": str(commands / "add_path"),
        "GITHUB_STATE": str(commands / "save_state"),
        "GITHUB_EVENT_PATH": str(temp / "_github_workflow" / "event.json"),
        "RUNNER_TEMP": str(temp),
        "INPUT_GPUS": "all",
        "INPUT_ANTHROPIC-API-KEY": SECRET,
    }


def calls(env: dict[str, str]) -> list[dict[str, Any]]:
    path = Path(env["FAKE_DOCKER_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def launch(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mle_ci.action.launch", *args],
        env=env,
        cwd=env["GITHUB_WORKSPACE"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_run(env: dict[str, str], seconds: float = 10) -> dict[str, Any]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        runs = [c for c in calls(env) if c["argv"][0] == "run"]
        if runs:
            return runs[0]
        time.sleep(0.05)
    raise AssertionError("the fake docker run never started")


def cid_folder(env: dict[str, str]) -> Path:
    return Path(env["RUNNER_TEMP"]) / "mle-gpu-agent-cid"


def test_build_then_run_and_the_containers_exit_code(runner: dict[str, str]) -> None:
    """An action whose release is unknown (its folder a plain checkout): docker build, then docker run; the
    container's exit code is the step's."""
    runner["FAKE_RC"] = "124"
    proc = launch(runner)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 124, stderr
    commands = [c["argv"][0] for c in calls(runner)]
    assert commands[:2] == ["build", "run"]
    assert "::group::Build the image mle-gpu-agent:abc123" in stdout
    assert list(cid_folder(runner).glob("*.cid")) == []


def released(runner: dict[str, str], tmp_path: Path, ref: str = "v1") -> dict[str, str]:
    """The runner's variables for `uses: Org/MLE-GPU-Agent@REF`: the action's folder as the runner lays it out."""
    runner["GITHUB_ACTION_PATH"] = str(tmp_path / "_work" / "_actions" / "Org" / "MLE-GPU-Agent" / ref)
    return runner


def commands_and_images(env: dict[str, str]) -> list[tuple[str, str]]:
    """Each docker call's command and the image it names (pull's, build's --tag, run's last word)."""
    images = {"pull": -1, "run": -1}
    return [
        (argv[0], argv[images[argv[0]]] if argv[0] in images else argv[argv.index("--tag") + 1])
        for argv in (c["argv"] for c in calls(env))
        if argv[0] in ("pull", "build", "run")
    ]


@pytest.mark.parametrize(("gpus", "suffix"), [("all", ""), ("none", "-cpu")])
def test_the_image_released_for_the_actions_ref_is_pulled_and_run(
    runner: dict[str, str], tmp_path: Path, gpus: str, suffix: str
) -> None:
    """`uses: Org/MLE-GPU-Agent@v1` with no image input: pull ghcr.io/org/mle-gpu-agent:v1 (-cpu for gpus none),
    run it, build nothing."""
    runner = released(runner, tmp_path)
    runner["INPUT_GPUS"] = gpus
    proc = launch(runner)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    image = f"ghcr.io/org/mle-gpu-agent:v1{suffix}"
    assert commands_and_images(runner) == [("pull", image), ("run", image)]
    assert f"::group::Pull the image {image} (released for v1)" in stdout
    assert "::notice" not in stdout


def test_the_mapped_action_context_names_the_image_where_the_folder_does_not(runner: dict[str, str]) -> None:
    """act keeps the action elsewhere: github.action_repository/ref, as the step maps them, name the release."""
    runner.update(MLE_GPU_AGENT_ACTION_REPOSITORY="org/mle-gpu-agent", MLE_GPU_AGENT_ACTION_REF="v1.2.3")
    proc = launch(runner)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    image = "ghcr.io/org/mle-gpu-agent:v1.2.3"
    assert commands_and_images(runner) == [("pull", image), ("run", image)]


@pytest.mark.parametrize(("gpus", "variant"), [("all", "cuda"), ("none", "cpu")])
def test_a_failed_pull_builds_the_dockerfile_with_a_notice_and_runs_that(
    runner: dict[str, str], tmp_path: Path, gpus: str, variant: str
) -> None:
    """A branch or commit has no released image (or the registry is out of reach): a notice, then the build of
    the action's Dockerfile (its variant for the gpus input), and the run of what was built."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    runner = released(runner, tmp_path, sha)
    runner.update(INPUT_GPUS=gpus, FAKE_PULL_RC="1")
    proc = launch(runner)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    suffix = "-cpu" if variant == "cpu" else ""
    pulled, built = f"ghcr.io/org/mle-gpu-agent:{sha}{suffix}", f"mle-gpu-agent:{sha}{suffix}"
    assert commands_and_images(runner) == [("pull", pulled), ("build", built), ("run", built)]
    build = next(c["argv"] for c in calls(runner) if c["argv"][0] == "build")
    assert build[build.index("--build-arg") + 1] == f"VARIANT={variant}"
    assert build[-1] == runner["GITHUB_ACTION_PATH"]
    notice = f"::notice title=mle-gpu-agent::could not pull {pulled} (exit 1): building the action's Dockerfile"
    assert notice in stdout
    assert stdout.index("::notice") < stdout.index(f"::group::Build the image {built}")
    assert "fake docker pull failed" in stderr  # docker's own words still reach the log


def test_a_failed_pull_and_a_failed_build_run_nothing(runner: dict[str, str], tmp_path: Path) -> None:
    """Neither a released image nor a build: exit 2, nothing ran."""
    runner = released(runner, tmp_path)
    runner.update(FAKE_PULL_RC="1", FAKE_BUILD_RC="1")
    proc = launch(runner)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert [command for command, _ in commands_and_images(runner)] == ["pull", "build"]
    assert "docker build failed (exit 1); nothing was run" in stdout


def test_the_image_input_build_builds_even_a_released_action(runner: dict[str, str], tmp_path: Path) -> None:
    """`image: build`: no pull, the Dockerfile built and run."""
    runner = released(runner, tmp_path)
    runner["INPUT_IMAGE"] = "build"
    proc = launch(runner)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert commands_and_images(runner) == [("build", "mle-gpu-agent:v1"), ("run", "mle-gpu-agent:v1")]


def test_secret_is_masked_first_and_reaches_docker_only_through_the_environment(runner: dict[str, str]) -> None:
    """The key is masked before any other line, is never in docker's argv, and docker's env still has it."""
    runner["INPUT_IMAGE"] = "ghcr.io/org/mle-gpu-agent:v1"
    proc = launch(runner)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    lines = stdout.splitlines()
    masks = [index for index, line in enumerate(lines) if line.startswith("::add-mask::")]
    assert masks == list(range(len(masks))) and f"::add-mask::{SECRET}" in lines[: len(masks)]
    run = wait_for_run(runner)
    assert not any(SECRET in word for word in run["argv"])
    assert run["secret_in_env"] is True
    assert calls(runner)[0]["argv"][0] == "run"  # named image: no build


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_is_forwarded_and_no_container_is_left(runner: dict[str, str], sig: signal.Signals) -> None:
    """The runner's signal reaches the docker client; after it ends, the cidfile's container is killed."""
    runner["FAKE_SLEEP"] = "60"
    runner["INPUT_IMAGE"] = "img"
    proc = launch(runner)
    run = wait_for_run(runner)
    proc.send_signal(sig)
    proc.communicate(timeout=20)
    assert proc.returncode == 130
    recorded = calls(runner)
    assert {"argv": run["argv"], "signal": int(sig)} in [
        {"argv": c["argv"], "signal": c.get("signal")} for c in recorded if "signal" in c
    ]
    kills = [c["argv"] for c in recorded if c["argv"][0] == "kill"]
    assert kills, "the launcher never asked docker to kill the container"
    assert list(cid_folder(runner).glob("*.cid")) == []


def test_a_container_that_ignores_signals_is_killed_through_its_cidfile(runner: dict[str, str]) -> None:
    """SIGINT then SIGTERM (the runner's cancel sequence) and the client still runs: docker kill ends it."""
    runner.update(FAKE_SLEEP="60", FAKE_IGNORE="1", INPUT_IMAGE="img")
    proc = launch(runner)
    wait_for_run(runner)
    cidfile = next(cid_folder(runner).glob("*.cid"))
    client = int(cidfile.read_text().removeprefix("fake-"))
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert not alive(client)
    assert any(c["argv"] == ["kill", f"fake-{client}"] for c in calls(runner))
    assert not cidfile.exists()


def test_docker_without_gpu_support_is_exit_3_with_the_cause(runner: dict[str, str]) -> None:
    """docker's own 'could not select device driver' (no NVIDIA toolkit) becomes the documented exit 3."""
    runner.update(
        INPUT_IMAGE="img",
        FAKE_RC="125",
        FAKE_STDERR='docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].',
    )
    proc = launch(runner)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert "::error title=mle-gpu-agent::docker could not give the container a GPU" in stdout
    assert "could not select device driver" in stderr  # docker's own words still reach the log


def test_other_docker_failures_are_exit_2(runner: dict[str, str]) -> None:
    """Exit 125 for another reason (a bad image): nothing was run, exit 2; a failed build likewise."""
    runner.update(INPUT_IMAGE="img", FAKE_RC="125", FAKE_STDERR="docker: invalid reference format.")
    proc = launch(runner)
    proc.communicate(timeout=30)
    assert proc.returncode == 2
    del runner["INPUT_IMAGE"]
    runner["FAKE_BUILD_RC"] = "1"
    proc = launch(runner)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "docker build failed (exit 1); nothing was run" in stdout


def test_no_docker_on_the_runner_is_a_usage_error(runner: dict[str, str]) -> None:
    """A runner without docker gets exit 2 and a pointer to the other recipes."""
    runner["PATH"] = "/nonexistent"
    proc = subprocess.run(
        [sys.executable, "-m", "mle_ci.action.launch"], env=runner, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "not installed on this runner" in proc.stderr


def test_cleanup_kills_what_a_hard_killed_launcher_left(runner: dict[str, str]) -> None:
    """SIGKILL to the launcher leaves the client and cidfile; the action's always() step kills it."""
    runner.update(FAKE_SLEEP="60", INPUT_IMAGE="img")
    proc = launch(runner)
    wait_for_run(runner)
    cidfile = next(cid_folder(runner).glob("*.cid"))
    client = int(cidfile.read_text().removeprefix("fake-"))
    proc.kill()
    proc.wait(timeout=10)
    assert alive(client)
    done = subprocess.run(
        [sys.executable, "-m", "mle_ci.action.launch", "--cleanup"], env=runner, capture_output=True, check=False
    )
    assert done.returncode == 0
    deadline = time.monotonic() + 5
    while alive(client) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(client)
    assert not cidfile.exists()
    proc.communicate(timeout=10)  # the client held the pipes; now they close


def test_the_launcher_needs_only_the_standard_library() -> None:
    """It runs with the runner host's bare python3: importing it loads none of the package's dependencies."""
    code = textwrap.dedent(
        """
        import sys
        import mle_ci.action.launch
        third_party = {"yaml", "click", "numpy", "rich", "pynvml", "sklearn", "PIL", "torch"}
        print(sorted(third_party & {name.split(".")[0] for name in sys.modules}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code], env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


def runner_files(env: dict[str, str]) -> dict[str, str]:
    folder = Path(env["GITHUB_OUTPUT"]).parent
    return {path.name: path.read_text() for path in sorted(folder.iterdir())}


def test_outputs_and_summary_reach_the_runner_only_through_the_relay(runner: dict[str, str]) -> None:
    """The container writes into a relay under RUNNER_TEMP (mounted alone); the launcher hands it on, and drops it."""
    runner.update(INPUT_IMAGE="img", FAKE_WRITE_OUTPUT="1")
    proc = launch(runner)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    argv = wait_for_run(runner)["argv"]
    relay = next(a.split("=", 1)[1] for a in argv if a.startswith("GITHUB_OUTPUT="))
    event = runner["GITHUB_EVENT_PATH"]
    assert f"type=bind,source={event},target={event},readonly" in argv
    assert relay.startswith(runner["RUNNER_TEMP"] + "/mle-gpu-agent-relay-")
    assert not any(a.endswith(("_runner_file_commands", f"target={runner['RUNNER_TEMP']}")) for a in argv)
    assert Path(runner["GITHUB_OUTPUT"]).read_text() == "status=success\n"
    assert Path(runner["GITHUB_STEP_SUMMARY"]).read_text() == "# An earlier summary\n# summary\n"
    assert not list(Path(runner["RUNNER_TEMP"]).glob("mle-gpu-agent-relay-*"))


def test_under_act_outputs_and_summary_are_relayed_through_the_workspace(runner: dict[str, str]) -> None:
    """act's runner files are not on the host: the container writes a relay in the workspace, handed on after."""
    runner.update(INPUT_IMAGE="img", FAKE_WRITE_OUTPUT="1", ACT="true")
    proc = launch(runner)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    argv = wait_for_run(runner)["argv"]
    assert any(a.startswith("GITHUB_OUTPUT=" + runner["GITHUB_WORKSPACE"]) for a in argv)
    assert not any(a.endswith("readonly") for a in argv)  # act's event file is not on the daemon's host
    assert Path(runner["GITHUB_OUTPUT"]).read_text() == "status=success\n"
    assert Path(runner["GITHUB_STEP_SUMMARY"]).read_text() == "# An earlier summary\n# summary\n"
    assert not list(Path(runner["GITHUB_WORKSPACE"]).glob(".mle-gpu-agent-relay-*"))


@pytest.mark.parametrize("act", [False, True])
def test_the_container_reaches_no_runner_file_through_its_variables_or_mounts(
    runner: dict[str, str], act: bool
) -> None:
    """Appending to every file any of its variables leads to (RUNNER_TEMP included) leaves GITHUB_ENV, GITHUB_PATH
    and GITHUB_STATE as they were; what it did to its own relay reaches GITHUB_OUTPUT only as well-formed
    outputs, with the malformed rest left out and said."""
    runner.update(INPUT_IMAGE="img", FAKE_HUNT="1", FAKE_WRITE_OUTPUT="1", **({"ACT": "true"} if act else {}))
    before = runner_files(runner)
    proc = launch(runner)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    (hunt,) = [c for c in calls(runner) if "hunted" in c]
    assert hunt["seen"] == []
    assert any(path.endswith("train.py") for path in hunt["hunted"])  # it did reach what it was given
    assert not any("_runner_file_commands" in path for path in hunt["hunted"])
    after = runner_files(runner)
    for name in ("set_env", "add_path", "save_state"):
        assert after[name] == before[name], name
    assert Path(runner["GITHUB_EVENT_PATH"]).read_text() == "{}\n"  # read-only in the container
    outputs = parse_output_file(after["set_output"])  # the runner's own reading: it must not fail
    assert dict(outputs) == {"MLE_CI_INJECTED": "1", "status": "success"}
    assert "::warning title=mle-gpu-agent::step outputs: heredoc 'injected' is never closed: left out" in stdout


def test_relayed_outputs_are_written_anew_with_a_fresh_delimiter(runner: dict[str, str]) -> None:
    """A value holding delimiter-like lines reads back exactly; the runner never sees the relay's delimiters."""
    value = "line one\nghadelimiter_2\nEOF\nstatus=forged"
    runner.update(
        INPUT_IMAGE="img",
        FAKE_WRITE_OUTPUT="1",
        FAKE_OUTPUTS=f"status=success\nreport<<ghadelimiter_1\n{value}\nghadelimiter_1\n",
    )
    proc = launch(runner)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    text = Path(runner["GITHUB_OUTPUT"]).read_text()
    assert dict(parse_output_file(text)) == {"status": "success", "report": value}
    assert "ghadelimiter_1" not in text.splitlines()  # the fresh one may begin with these characters


def test_a_relay_file_swapped_for_a_link_is_not_followed(runner: dict[str, str], tmp_path: Path) -> None:
    """The container cannot make the launcher copy a host file into the job summary through a link."""
    host_secret = tmp_path / "host-secret"
    host_secret.write_text("not for the summary\n")
    runner.update(INPUT_IMAGE="img", FAKE_WRITE_OUTPUT="1", FAKE_LINK_SUMMARY=str(host_secret))
    proc = launch(runner)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "not for the summary" not in Path(runner["GITHUB_STEP_SUMMARY"]).read_text()
    assert "::warning title=mle-gpu-agent::job summary not handed on" in stdout
    assert Path(runner["GITHUB_OUTPUT"]).read_text() == "status=success\n"


def test_an_unwritable_job_summary_does_not_cost_the_outputs(runner: dict[str, str], tmp_path: Path) -> None:
    """The runner's summary cannot be appended to: the outputs are handed on all the same."""
    summary = tmp_path / "summary-folder"
    summary.mkdir()
    runner.update(INPUT_IMAGE="img", FAKE_WRITE_OUTPUT="1", GITHUB_STEP_SUMMARY=str(summary))
    proc = launch(runner)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert Path(runner["GITHUB_OUTPUT"]).read_text() == "status=success\n"
    assert "::warning title=mle-gpu-agent::job summary not handed on" in stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("stage", ["build", "pull"])
def test_a_cancel_while_the_image_is_got_stops_it_and_runs_nothing(
    runner: dict[str, str], tmp_path: Path, stage: str, sig: signal.Signals
) -> None:
    """A build or a pull of several GB can take minutes: the runner's signal cancels it (SIGINT to docker), exit
    130, and nothing after it (no build after a pull, no run)."""
    if stage == "pull":
        runner = released(runner, tmp_path)
    runner[f"FAKE_{stage.upper()}_SLEEP"] = "60"
    proc = launch(runner)
    deadline = time.monotonic() + 10
    while not calls(runner) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    doing = "building" if stage == "build" else "pulling"
    assert f"cancelled while {doing} the image; nothing was run" in stdout
    recorded = calls(runner)
    assert any(c.get(f"{stage}_signal") == signal.SIGINT for c in recorded)
    assert [c["argv"][0] for c in recorded if f"{stage}_signal" not in c] == [stage]
