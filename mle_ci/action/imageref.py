"""Which image the action runs: the one released for its own ref, one the ``image`` input names, or a build of
its Dockerfile (pure).

A release publishes ``ghcr.io/<owner>/<repo>:<ref>`` for its tag ``vX.Y.Z``, its major tag ``vX`` and its commit,
and the same tags with ``-cpu`` for the CPU-only variant that ``gpus: none`` runs (``.github/workflows/release.yml``).
The action's own repository and ref come from its folder, which the runner lays out as
``…/_actions/<owner>/<repo>/<ref>``, else from ``github.action_repository``/``github.action_ref`` as the step maps
them (empty in a composite's own variables; in a nested composite they name the outer action, so the folder wins).
A local ``uses: ./`` (its folder inside the workspace) has no release: its Dockerfile is built.
Standard library only: this runs with the runner host's plain ``python3``.
"""

from __future__ import annotations

import enum
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from mle_ci.errors import ConfigError

__all__ = [
    "BUILD",
    "CPU_SUFFIX",
    "LOCAL_REPOSITORY",
    "REF_VARIABLE",
    "REGISTRY",
    "REPOSITORY_VARIABLE",
    "ActionRelease",
    "ImageChoice",
    "ImageSource",
    "Variant",
    "action_release",
    "choose_image",
    "local_image",
    "release_image",
]

REGISTRY = "ghcr.io"
"""Where the release workflow publishes the action's images."""

CPU_SUFFIX = "-cpu"
"""Tag suffix of the CPU-only variant (a slim image with torch's CPU wheel), the one ``gpus: none`` runs."""

BUILD = "build"
"""The ``image`` input's word for "build the action's Dockerfile", whatever was released."""

LOCAL_REPOSITORY = "mle-gpu-agent"
"""The local repository name of an image built from the action's own Dockerfile."""

REPOSITORY_VARIABLE = "MLE_GPU_AGENT_ACTION_REPOSITORY"
"""The step's variable that holds ``github.action_repository`` (never forwarded to the container)."""

REF_VARIABLE = "MLE_GPU_AGENT_ACTION_REF"
"""The step's variable that holds ``github.action_ref`` (never forwarded to the container)."""

_TAG_LENGTH = 128
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# A registry path component as Docker's reference grammar has it; GitHub allows names Docker does not.
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


class Variant(enum.Enum):
    """The image's two builds, chosen by the Dockerfile's ``VARIANT`` build argument."""

    CUDA = "cuda"
    CPU = "cpu"

    @property
    def suffix(self) -> str:
        """What this variant adds to an image tag."""
        return CPU_SUFFIX if self is Variant.CPU else ""


class ImageSource(enum.Enum):
    """How the launcher gets the image."""

    RELEASED = "released"  # pull the action's release; build the Dockerfile when the pull fails
    NAMED = "named"  # the image input names it: run it as it is
    BUILT = "built"  # build the Dockerfile


@dataclass(frozen=True)
class ActionRelease:
    """The action's own repository (``owner/name``) and the ref a workflow uses it at (a tag, branch or SHA)."""

    repository: str
    ref: str


@dataclass(frozen=True)
class ImageChoice:
    """The image this step runs: ``reference`` to pull or run, and ``local``, the tag of a build of the Dockerfile
    (the plan itself, or the fallback when a pull fails; empty for a named image)."""

    source: ImageSource
    reference: str
    local: str
    variant: Variant
    why: str


def action_release(env: Mapping[str, str], action_path: str) -> ActionRelease | None:
    """The action's repository and ref, from its folder or else the step's mapped context; None when neither says.

    A folder inside the workspace is a local ``uses: ./``: None, whatever the context holds (an outer action's).
    """
    if _is_local(env, action_path):
        return None
    parts = PurePosixPath(posixpath.normpath(action_path.strip() or ".")).parts
    if "_actions" in parts:
        at = len(parts) - 1 - parts[::-1].index("_actions")
        owner_repo_ref = parts[at + 1 :]
        if len(owner_repo_ref) >= 3:
            return ActionRelease("/".join(owner_repo_ref[:2]), "/".join(owner_repo_ref[2:]))
    repository, ref = env.get(REPOSITORY_VARIABLE, "").strip(), env.get(REF_VARIABLE, "").strip()
    if repository.count("/") == 1 and ref:
        return ActionRelease(repository, ref)
    return None


def release_image(release: ActionRelease, variant: Variant) -> str | None:
    """The image the release workflow publishes for ``release``; None when its name cannot be an image's."""
    repository = release.repository.lower()  # GHCR names are lower case; tags keep theirs
    if not all(_COMPONENT.fullmatch(part) for part in repository.split("/")):
        return None
    tag = _tag(release.ref, variant)
    return f"{REGISTRY}/{repository}:{tag}" if tag else None


def local_image(env: Mapping[str, str], variant: Variant, release: ActionRelease | None = None) -> str:
    """The tag of a build of the action's Dockerfile: by the action's ref when known, else the workflow's commit
    (a local ``uses: ./``), else ``local``."""
    for ref in (release.ref if release is not None else "", env.get("GITHUB_SHA", "")):
        tag = _tag(ref, variant)
        if tag:
            return f"{LOCAL_REPOSITORY}:{tag}"
    return f"{LOCAL_REPOSITORY}:local{variant.suffix}"


def choose_image(env: Mapping[str, str], *, action_path: str, gpu: bool) -> ImageChoice:
    """The image for this step: the ``image`` input's, a build when it says ``build`` or the action is local,
    else the action's release (the ``-cpu`` variant when no GPU is wanted)."""
    variant = Variant.CUDA if gpu else Variant.CPU
    named = env.get("INPUT_IMAGE", "").strip()
    release = action_release(env, action_path)
    local = local_image(env, variant, release)
    if named.lower() == BUILD:
        return ImageChoice(ImageSource.BUILT, local, local, variant, "the image input asks for a build")
    if named:
        if named.startswith("-"):
            # The image is the run line's last word: docker would read this one as an option.
            raise ConfigError(f"input image: {named!r} is not an image name")
        return ImageChoice(ImageSource.NAMED, named, "", variant, "the image input names it")
    if _is_local(env, action_path):
        return ImageChoice(ImageSource.BUILT, local, local, variant, "a local action (uses: ./)")
    reference = release_image(release, variant) if release is not None else None
    if release is None or reference is None:
        return ImageChoice(ImageSource.BUILT, local, local, variant, "the action's repository and ref are unknown")
    return ImageChoice(ImageSource.RELEASED, reference, local, variant, f"released for {release.ref}")


def _tag(ref: str, variant: Variant) -> str:
    """``ref`` as a Docker tag with the variant's suffix; empty when nothing of it is usable."""
    usable = _TAG_UNSAFE.sub("-", ref.strip()).strip(".-")
    if not usable:
        return ""
    return usable[: _TAG_LENGTH - len(variant.suffix)] + variant.suffix


def _is_local(env: Mapping[str, str], action_path: str) -> bool:
    """Whether the action's folder lies in the workspace, as a ``uses: ./`` action's does."""
    workspace, path = env.get("GITHUB_WORKSPACE", "").strip(), action_path.strip()
    if not (posixpath.isabs(workspace) and posixpath.isabs(path)):
        return False
    return PurePosixPath(posixpath.normpath(path)).is_relative_to(posixpath.normpath(workspace))
