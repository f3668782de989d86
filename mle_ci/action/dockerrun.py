"""The ``docker build`` and ``docker run`` command lines of the action, decided from its environment (pure).

The composite step maps every input onto ``INPUT_<NAME>`` (hyphens kept) in its environment; ``docker run``
forwards those and the runner's variables by name only (``--env NAME``), so no value, the API key least of
all, ever lands on a command line. The workspace and the runner's file-command and temp folders are mounted
at the same paths, so ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` are the runner's real files.
Standard library only: this runs with the runner host's plain ``python3``.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mle_ci.errors import ConfigError

__all__ = [
    "IMAGE_REPOSITORY",
    "RELAYED",
    "SHM_SIZE",
    "DockerInvocation",
    "forwarded_names",
    "gpus_option",
    "image_tag",
    "mount_folders",
    "plan_invocation",
    "relay_files",
]

IMAGE_REPOSITORY = "mle-gpu-agent"
"""The local repository name of an image built from the action's own Dockerfile."""

SHM_SIZE = "8g"
"""``/dev/shm`` for PyTorch data-loader workers; docker's 64 MB default makes them die with a bus error."""

_FORWARDED_PREFIXES = ("INPUT_", "GITHUB_", "RUNNER_", "MLE_CI_")
_FORWARDED_NAMES = frozenset({"CI", "ACT", "ANTHROPIC_API_KEY"})
# The container needs no token of the workflow: the run reports through files, not the API.
_WITHHELD = frozenset({"GITHUB_TOKEN", "INPUT_IMAGE"})
_FOLDER_VARIABLES = ("GITHUB_WORKSPACE", "RUNNER_TEMP")
_FILE_VARIABLES = (
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_STATE",
    "GITHUB_EVENT_PATH",
)
RELAYED = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
"""The runner files the launcher relays when the container cannot mount them (act)."""

_DEVICE = re.compile(r"[0-9]+|GPU-[0-9A-Fa-f-]+|MIG-[0-9A-Za-z/-]+")
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class DockerInvocation:
    """What the launcher runs: the image build (empty when an image was named), then the container."""

    build: tuple[str, ...]
    run: tuple[str, ...]
    image: str
    gpu_requested: bool


def gpus_option(value: str) -> tuple[str, ...]:
    """``--gpus`` for the ``gpus`` input: ``all`` (the default), a count, a device list, or nothing for ``none``."""
    word = value.strip()
    if word.lower() in ("", "all"):
        return ("--gpus", "all")
    if word.lower() == "none":
        return ()
    if word.isdigit() and word.isascii():  # '²' is a digit to isdigit() but no number to int()
        if int(word) == 0:
            raise ConfigError(
                "input gpus: 0 asks for no GPU at all; write none to run without one, or device=0 for the first GPU"
            )
        return ("--gpus", str(int(word)))
    listed = word[len("device=") :] if word.lower().startswith("device=") else word
    devices = [device.strip() for device in listed.strip("\"'").split(",")]
    if not devices or not all(_DEVICE.fullmatch(device) for device in devices):
        raise ConfigError(
            f"input gpus: expected all, none, a GPU count, or devices such as 0,1 or device=GPU-<uuid>, got {word!r}"
        )
    # docker reads --gpus as CSV: without the quotes, "device=0,1" would be the device 0 and an option "1".
    return ("--gpus", f'"device={",".join(devices)}"')


def forwarded_names(env: Mapping[str, str]) -> tuple[str, ...]:
    """The variables the container gets, by name: the inputs, the runner's ``GITHUB_*``/``RUNNER_*``, ``CI``."""
    names = {
        name
        for name in env
        if (name.startswith(_FORWARDED_PREFIXES) or name in _FORWARDED_NAMES) and name not in _WITHHELD
    }
    return tuple(sorted(names))


def mount_folders(env: Mapping[str, str]) -> tuple[str, ...]:
    """The host folders mounted at the same paths: workspace, runner temp, the folders of the file commands."""
    workspace = env.get("GITHUB_WORKSPACE", "").strip()
    if not workspace:
        raise ConfigError("GITHUB_WORKSPACE is not set: the action runs inside a GitHub Actions job (or act)")
    wanted: list[str] = []
    for name in _FOLDER_VARIABLES:
        if env.get(name, "").strip():
            wanted.append(_absolute(name, env[name].strip()))
    for name in _FILE_VARIABLES:
        if env.get(name, "").strip():
            wanted.append(posixpath.dirname(_absolute(name, env[name].strip())))
    if "/" in wanted:
        raise ConfigError("refusing to mount the host's root folder: a GITHUB_* file or folder variable points at /")
    kept: list[str] = []
    for folder in sorted(set(wanted), key=lambda path: (path.count("/"), path)):
        if not any(_inside(folder, outer) for outer in kept):
            kept.append(folder)
    return tuple(sorted(kept))


def image_tag(env: Mapping[str, str]) -> str:
    """The tag of the image built from the action's Dockerfile: the action's ref, else the commit, else ``local``."""
    for name in ("GITHUB_ACTION_REF", "GITHUB_SHA"):
        ref = _TAG_UNSAFE.sub("-", env.get(name, "").strip()).strip(".-")
        if ref:
            return f"{IMAGE_REPOSITORY}:{ref[:128]}"
    return f"{IMAGE_REPOSITORY}:local"


def plan_invocation(
    env: Mapping[str, str],
    *,
    action_path: str,
    user: str,
    cidfile: str,
    docker: str = "docker",
    relay: str | None = None,
) -> DockerInvocation:
    """The build and run command lines for this step; ``user`` is ``UID:GID`` of the runner's process.

    With ``relay`` (a folder in the workspace; under act, whose runner folders the host's daemon cannot mount)
    only the workspace is mounted and the container writes its outputs and summary into ``relay`` instead.
    """
    gpus = gpus_option(env.get("INPUT_GPUS", ""))
    folders = mount_folders(env)
    workspace = _absolute("GITHUB_WORKSPACE", env["GITHUB_WORKSPACE"].strip())
    named = env.get("INPUT_IMAGE", "").strip()
    if named.startswith("-"):
        # The image is the run line's last word: docker would read this one as an option.
        raise ConfigError(f"input image: {named!r} is not an image name")
    image = named or image_tag(env)
    build: tuple[str, ...] = ()
    if not named:
        if not action_path.strip():
            raise ConfigError("GITHUB_ACTION_PATH is not set: cannot find the action's Dockerfile; name an image")
        root = action_path.strip()
        build = (docker, "build", "--tag", image, "--file", posixpath.join(root, "Dockerfile"), root)
    run = [docker, "run", "--rm", "--init", "--cidfile", cidfile, "--user", user, *gpus]
    run += ["--shm-size", SHM_SIZE, "--workdir", workspace]
    if relay is not None:
        if not _inside(_absolute("relay", relay), workspace):
            raise ValueError(f"plan_invocation: the relay folder {relay!r} is not inside the workspace")
        folders = (workspace,)
    for folder in folders:
        run += ["--mount", _bind(folder)]
    relayed = relay_files(relay) if relay is not None else {}
    for name in forwarded_names(env):
        if name not in relayed:
            run += ["--env", name]
    for name, path in relayed.items():
        run += ["--env", f"{name}={path}"]  # a path in the workspace, never a secret
    run.append(image)
    return DockerInvocation(build=build, run=tuple(run), image=image, gpu_requested=bool(gpus))


def relay_files(relay: str) -> dict[str, str]:
    """The container's output and summary files inside a relay folder, by the variable that names them."""
    return {name: posixpath.join(relay, name.lower()) for name in RELAYED}


def _absolute(name: str, path: str) -> str:
    if not posixpath.isabs(path):
        raise ConfigError(f"{name} must be an absolute path, got {path!r}")
    return posixpath.normpath(path)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _bind(folder: str) -> str:
    """A ``--mount`` value; docker reads it as CSV, so a comma or quote in the path is quoted, not split."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(["type=bind", f"source={folder}", f"target={folder}"])
    return out.getvalue()
