"""Which image the action runs: the one released for its own repository and ref (a tag, a branch or a commit), the
``-cpu`` variant for ``gpus: none``, a build of the Dockerfile for a local action or when asked, a named one as is."""

from __future__ import annotations

import pytest

from mle_ci.action.imageref import (
    REF_VARIABLE,
    REPOSITORY_VARIABLE,
    ActionRelease,
    ImageSource,
    Variant,
    action_release,
    choose_image,
    local_image,
    release_image,
)
from mle_ci.errors import ConfigError

WORKSPACE = "/home/runner/work/repo/repo"
ACTIONS = "/home/runner/work/_actions"
SHA = "0123456789abcdef0123456789abcdef01234567"


def env(**extra: str) -> dict[str, str]:
    """A hosted runner's variables for the composite step, the mapped context empty as in a composite's own."""
    return {"GITHUB_WORKSPACE": WORKSPACE, "GITHUB_SHA": SHA, "INPUT_IMAGE": "", **extra}


@pytest.mark.parametrize(
    ("ref", "image"),
    [
        ("v1.2.3", "ghcr.io/org/mle-gpu-agent:v1.2.3"),
        ("v1", "ghcr.io/org/mle-gpu-agent:v1"),
        (SHA, f"ghcr.io/org/mle-gpu-agent:{SHA}"),
        ("main", "ghcr.io/org/mle-gpu-agent:main"),
        ("feature/x", "ghcr.io/org/mle-gpu-agent:feature-x"),
    ],
)
def test_the_default_image_is_the_one_released_for_the_actions_ref(ref: str, image: str) -> None:
    """`uses: org/mle-gpu-agent@REF` runs ghcr.io/org/mle-gpu-agent:REF, pulled; a tag or a commit the release
    published, a branch (no image) as a valid tag whose pull fails and falls back to a build."""
    choice = choose_image(env(), action_path=f"{ACTIONS}/org/mle-gpu-agent/{ref}", gpu=True)
    assert choice.source is ImageSource.RELEASED
    assert choice.reference == image
    assert choice.local == f"mle-gpu-agent:{image.rsplit(':', 1)[1]}"
    assert choice.variant is Variant.CUDA


def test_gpus_none_runs_the_cpu_variant() -> None:
    """No GPU wanted: the `-cpu` tag, and a fallback build of the CPU variant."""
    choice = choose_image(env(), action_path=f"{ACTIONS}/org/mle-gpu-agent/v1", gpu=False)
    assert (choice.reference, choice.local) == ("ghcr.io/org/mle-gpu-agent:v1-cpu", "mle-gpu-agent:v1-cpu")
    assert choice.variant is Variant.CPU


def test_the_registrys_name_is_lower_case_and_the_tag_keeps_its_own() -> None:
    """GHCR names must be lower case; Docker tags may hold capitals."""
    choice = choose_image(env(), action_path=f"{ACTIONS}/My-Org/MLE-GPU-Agent/V1-Beta", gpu=True)
    assert choice.reference == "ghcr.io/my-org/mle-gpu-agent:V1-Beta"


def test_the_actions_folder_wins_over_the_mapped_context() -> None:
    """Nested in another composite, github.action_repository/ref name the outer action: the folder is ours."""
    outer = {REPOSITORY_VARIABLE: "other/wrapper", REF_VARIABLE: "v9"}
    release = action_release(env(**outer), f"{ACTIONS}/org/mle-gpu-agent/v1")
    assert release == ActionRelease("org/mle-gpu-agent", "v1")


def test_the_mapped_context_is_used_where_the_folder_does_not_say() -> None:
    """act keeps remote actions elsewhere and fills github.action_repository/ref: those name the image."""
    context = {REPOSITORY_VARIABLE: "Org/mle-gpu-agent", REF_VARIABLE: "v1.2.3"}
    choice = choose_image(env(**context), action_path="/var/run/act/actions/org-mle-gpu-agent@v1.2.3", gpu=True)
    assert choice.source is ImageSource.RELEASED
    assert choice.reference == "ghcr.io/org/mle-gpu-agent:v1.2.3"


def test_a_local_action_builds_its_dockerfile_whatever_the_context_says() -> None:
    """`uses: ./` (the folder in the workspace) has no release: build, tagged by the workflow's commit."""
    outer = {REPOSITORY_VARIABLE: "other/wrapper", REF_VARIABLE: "v9"}
    for variables in ({}, outer):
        choice = choose_image(env(**variables), action_path=WORKSPACE, gpu=True)
        assert choice.source is ImageSource.BUILT
        assert choice.reference == choice.local == f"mle-gpu-agent:{SHA}"
        assert "uses: ./" in choice.why
    assert choose_image(env(), action_path=f"{WORKSPACE}/sub", gpu=False).local == f"mle-gpu-agent:{SHA}-cpu"


def test_an_action_whose_release_is_unknown_is_built() -> None:
    """Neither the folder nor the context names the action's repository and ref: build, and say why."""
    choice = choose_image(env(), action_path="/opt/actions/mle-gpu-agent", gpu=True)
    assert choice.source is ImageSource.BUILT
    assert "unknown" in choice.why


def test_a_repository_docker_cannot_name_is_built_instead() -> None:
    """GitHub allows `a.-b`; Docker's reference grammar does not: no pull of an invalid name, a build."""
    assert release_image(ActionRelease("org/a.-b", "v1"), Variant.CUDA) is None
    choice = choose_image(env(), action_path=f"{ACTIONS}/org/a.-b/v1", gpu=True)
    assert choice.source is ImageSource.BUILT


def test_the_image_input_build_always_builds() -> None:
    """`image: build` builds the Dockerfile even for a released action."""
    choice = choose_image(env(INPUT_IMAGE="build"), action_path=f"{ACTIONS}/org/mle-gpu-agent/v1", gpu=True)
    assert choice.source is ImageSource.BUILT
    assert choice.reference == choice.local == "mle-gpu-agent:v1"


def test_a_named_image_is_run_as_it_is() -> None:
    """A named image is neither pulled first nor built: docker run pulls it when it is missing."""
    choice = choose_image(env(INPUT_IMAGE=" registry.example/mle:2 "), action_path=WORKSPACE, gpu=False)
    assert (choice.source, choice.reference, choice.local) == (ImageSource.NAMED, "registry.example/mle:2", "")
    with pytest.raises(ConfigError, match="input image"):
        choose_image(env(INPUT_IMAGE="--privileged"), action_path=WORKSPACE, gpu=True)


def test_tags_are_valid_docker_tags_at_most_128_characters() -> None:
    """Characters Docker refuses become '-', and a long ref is cut so that the variant's suffix still fits."""
    long_ref = "x" * 200
    for variant in Variant:
        image = release_image(ActionRelease("org/repo", long_ref), variant)
        assert image is not None
        tag = image.rsplit(":", 1)[1]
        assert len(tag) == 128
        assert tag.endswith(variant.suffix)
    assert local_image({"GITHUB_SHA": "abc123"}, Variant.CUDA) == "mle-gpu-agent:abc123"
    assert local_image({}, Variant.CUDA, ActionRelease("o/r", "feature/x y")) == "mle-gpu-agent:feature-x-y"
    assert local_image({}, Variant.CPU) == "mle-gpu-agent:local-cpu"
