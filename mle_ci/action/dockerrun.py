"""The ``docker pull``, ``docker build`` and ``docker run`` command lines of the action, decided from its
environment (pure); which image, :mod:`mle_ci.action.imageref` decides.

The composite step maps every input onto ``INPUT_<NAME>`` (hyphens kept) in its environment; ``docker run``
forwards those and the runner's variables by name only (``--env NAME``), so no value, the API key least of
all, ever lands on a command line. Only the workspace is mounted (at the same path), with a relay folder of
the launcher's and the event file read-only: never ``RUNNER_TEMP`` nor the runner's file-command files, whose
variables the container does not get. ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` name files in the relay;
the launcher hands what the harness wrote there on to the runner once the container has ended.
Standard library only: this runs with the runner host's plain ``python3``.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mle_ci.action.imageref import ImageChoice, ImageSource, choose_image
from mle_ci.errors import ConfigError
from mle_ci.runnerfiles import FILE_COMMANDS, RELAYED, RUNNER_ONLY, RUNNER_TEMP

__all__ = [
    "RELAYED",
    "SHM_SIZE",
    "DockerInvocation",
    "forwarded_names",
    "gpus_option",
    "mount_options",
    "plan_invocation",
    "relay_files",
]

SHM_SIZE = "8g"
"""``/dev/shm`` for PyTorch data-loader workers; docker's 64 MB default makes them die with a bus error."""

_FORWARDED_PREFIXES = ("INPUT_", "GITHUB_", "RUNNER_", "MLE_CI_")
_FORWARDED_NAMES = frozenset({"CI", "ACT", "ANTHROPIC_API_KEY"})
# The container needs no token of the workflow (the run reports through files, not the API), and never the
# runner's file commands or their folder: only the launcher talks to the runner.
_WITHHELD = frozenset({"GITHUB_TOKEN", "INPUT_IMAGE", *RUNNER_ONLY})

_DEVICE = re.compile(r"[0-9]+|GPU-[0-9A-Fa-f-]+|MIG-[0-9A-Za-z/-]+")


@dataclass(frozen=True)
class DockerInvocation:
    """What the launcher runs: the pull of the released image (empty otherwise), the build of the Dockerfile (the
    plan, or the fallback when the pull fails; empty for a named image), then the container."""

    image: ImageChoice
    pull: tuple[str, ...]
    build: tuple[str, ...]
    options: tuple[str, ...]
    gpu_requested: bool

    @property
    def run(self) -> tuple[str, ...]:
        """The ``docker run`` line for the planned image: the released, named or built one."""
        return self.run_line(self.image.reference)

    def run_line(self, image: str) -> tuple[str, ...]:
        """The ``docker run`` line for ``image`` (the local build's, when the pull failed)."""
        return (*self.options, image)


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
    """The variables the container gets, by name: the inputs, the runner's ``GITHUB_*``/``RUNNER_*``, ``CI``.

    Not the workflow's token, nor the runner's file-command files and ``RUNNER_TEMP`` (the relayed two are set
    to files in the relay by :func:`plan_invocation`).
    """
    names = {
        name
        for name in env
        if (name.startswith(_FORWARDED_PREFIXES) or name in _FORWARDED_NAMES) and name not in _WITHHELD
    }
    return tuple(sorted(names))


def mount_options(env: Mapping[str, str], relay: str, *, event_file: str | None = None) -> tuple[str, ...]:
    """The ``--mount`` values: the workspace and ``relay`` at the same paths, ``event_file`` read-only, and an
    empty tmpfs over any runner folder that lies inside the workspace, so the container never reaches one."""
    workspace = env.get("GITHUB_WORKSPACE", "").strip()
    if not workspace:
        raise ConfigError("GITHUB_WORKSPACE is not set: the action runs inside a GitHub Actions job (or act)")
    workspace = _absolute("GITHUB_WORKSPACE", workspace)
    relay = _absolute("relay", relay)
    if "/" in (workspace, relay):
        raise ConfigError("refusing to mount the host's root folder: GITHUB_WORKSPACE or the relay is /")
    runner = _runner_paths(env)
    if any(_inside(path, relay) for path in runner.values()):
        raise ValueError(f"mount_options: the relay folder {relay!r} holds the runner's own files")
    # A runner folder inside the workspace (a custom runner's layout) is hidden behind an empty one; docker
    # mounts parents first, so a relay inside such a folder is still bound on top of it.
    folders = {posixpath.dirname(path) if name in FILE_COMMANDS else path for name, path in runner.items()}
    hidden = sorted(folder for folder in folders if _inside(folder, workspace))
    if workspace in hidden:
        raise ConfigError("GITHUB_WORKSPACE is the runner's own folder (RUNNER_TEMP or the file commands' folder)")
    mounts = [_csv(["type=bind", f"source={workspace}", f"target={workspace}"])]
    if not _inside(relay, workspace) or any(_inside(relay, folder) for folder in hidden):
        mounts.append(_csv(["type=bind", f"source={relay}", f"target={relay}"]))
    mounts += [_csv(["type=tmpfs", f"destination={folder}"]) for folder in hidden]
    if event_file:
        event = _absolute("GITHUB_EVENT_PATH", event_file)
        mounts.append(_csv(["type=bind", f"source={event}", f"target={event}", "readonly"]))
    return tuple(mounts)


def plan_invocation(
    env: Mapping[str, str],
    *,
    action_path: str,
    user: str,
    cidfile: str,
    relay: str,
    docker: str = "docker",
    event_file: str | None = None,
) -> DockerInvocation:
    """The pull, build and run command lines for this step; ``user`` is ``UID:GID`` of the runner's process.

    ``relay`` is a folder of the launcher's, mounted at the same path: the container writes its outputs and
    summary there (``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY`` name its files) and the launcher hands them on.
    ``event_file`` (the runner's ``GITHUB_EVENT_PATH``, when the host has it) is mounted read-only.
    """
    gpus = gpus_option(env.get("INPUT_GPUS", ""))
    mounts = mount_options(env, relay, event_file=event_file)
    workspace = _absolute("GITHUB_WORKSPACE", env["GITHUB_WORKSPACE"].strip())
    image = choose_image(env, action_path=action_path, gpu=bool(gpus))
    pull = (docker, "pull", image.reference) if image.source is ImageSource.RELEASED else ()
    build: tuple[str, ...] = ()
    if image.source is not ImageSource.NAMED:
        if not action_path.strip():
            raise ConfigError("GITHUB_ACTION_PATH is not set: cannot find the action's Dockerfile; name an image")
        root = action_path.strip()
        dockerfile = posixpath.join(root, "Dockerfile")
        variant = f"VARIANT={image.variant.value}"
        build = (docker, "build", "--tag", image.local, "--build-arg", variant, "--file", dockerfile, root)
    run = [docker, "run", "--rm", "--init", "--cidfile", cidfile, "--user", user, *gpus]
    run += ["--shm-size", SHM_SIZE, "--workdir", workspace]
    for mount in mounts:
        run += ["--mount", mount]
    for name in forwarded_names(env):
        run += ["--env", name]
    for name, path in relay_files(relay).items():
        run += ["--env", f"{name}={path}"]  # a path in the relay, never a secret
    return DockerInvocation(image=image, pull=pull, build=build, options=tuple(run), gpu_requested=bool(gpus))


def relay_files(relay: str) -> dict[str, str]:
    """The container's output and summary files inside a relay folder, by the variable that names them."""
    return {name: posixpath.join(relay, name.lower()) for name in RELAYED}


def _absolute(name: str, path: str) -> str:
    if not posixpath.isabs(path):
        raise ConfigError(f"{name} must be an absolute path, got {path!r}")
    return posixpath.normpath(path)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _runner_paths(env: Mapping[str, str]) -> dict[str, str]:
    """The runner's file-command files and ``RUNNER_TEMP`` that ``env`` names, as absolute paths."""
    paths = {}
    for name in (*FILE_COMMANDS, RUNNER_TEMP):
        value = env.get(name, "").strip()
        if value and posixpath.isabs(value):
            paths[name] = posixpath.normpath(value)
    return paths


def _csv(fields: list[str]) -> str:
    """A ``--mount`` value; docker reads it as CSV, so a comma or quote in a path is quoted, not split."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()
