"""One contract, four places: action.yml's inputs and outputs = what the settings read and the outputs renderer
writes = the README's tables = what the composite step maps and passes on."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml
from helpers import ROOT

from mle_ci.action.imageref import REF_VARIABLE, REPOSITORY_VARIABLE, Variant
from mle_ci.report.outputs import decide_outputs
from mle_ci.result import RunResult
from mle_ci.resultparts import RunStatus
from mle_ci.settinglayers import ACTION_INPUTS, RENAMED_INPUTS

LAUNCHER_INPUTS = {"image"}
"""Inputs the host-side launcher reads itself; the container's settings never see them."""


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return loaded


def readme_table(heading: str) -> list[str]:
    """The first column (a `code` name) of the Markdown table under ``### heading`` in the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n### {heading}\n", 1)[1]
    names: list[str] = []
    for line in section.splitlines()[1:]:
        if not line.strip():
            if names:
                break
            continue
        if not line.startswith("|"):
            break
        match = re.match(r"\| `([^`]+)` \|", line)
        if match:
            names.append(match.group(1))
    return names


def run_step() -> dict[str, Any]:
    steps = action()["runs"]["steps"]
    step: dict[str, Any] = next(s for s in steps if s.get("id") == "run")
    return step


def test_action_is_composite_with_name_description_and_branding() -> None:
    """A composite action (a docker action never gets a GPU), presentable on the Marketplace."""
    meta = action()
    assert meta["runs"]["using"] == "composite"
    assert meta["name"] and meta["description"]
    assert set(meta["branding"]) == {"icon", "color"}


def test_description_fits_the_marketplace_and_the_author_is_the_owner() -> None:
    """The Marketplace refuses a description of 125 characters or more; the author is the repository's owner, as
    the examples' ``uses:`` names it (the project names no person)."""
    meta = action()
    assert len(meta["description"]) < 125
    uses = next(
        line.split("uses:", 1)[1].strip()
        for line in (ROOT / "examples" / "gpu-runner.yml").read_text(encoding="utf-8").splitlines()
        if "mle-gpu-agent@" in line
    )
    assert meta["author"] == uses.split("/", 1)[0]


def test_no_input_is_named_like_a_step_keyword() -> None:
    """A step's own keys (``timeout-minutes``, ...) are not input names, except old ones kept as deprecated."""
    step_keys = {"id", "if", "name", "uses", "run", "shell", "with", "env", "continue-on-error", "timeout-minutes",
                 "working-directory"}  # fmt: skip
    assert step_keys & set(action()["inputs"]) <= set(RENAMED_INPUTS)


def test_each_old_input_is_declared_deprecated_and_its_replacement_is_an_input() -> None:
    """An old name stays an input (a workflow using it keeps working), described as deprecated, naming its successor."""
    inputs = action()["inputs"]
    for old, renamed in RENAMED_INPUTS.items():
        assert renamed.new in inputs, renamed.new
        assert inputs[old]["description"].startswith("Deprecated"), old
        assert f"use {renamed.new}." in inputs[old]["description"], old
        assert f"A plain number is {renamed.unit}" in inputs[old]["description"], old


def test_inputs_are_the_settings_action_inputs_plus_the_launchers() -> None:
    """Every input the settings read is declared, and nothing else except the launcher's own."""
    assert set(action()["inputs"]) == set(ACTION_INPUTS) | LAUNCHER_INPUTS


def test_every_input_has_a_description_and_a_string_default() -> None:
    """Defaults are strings (the runner passes text); empty leaves mle-ci.yml and the harness's defaults in charge."""
    for name, spec in action()["inputs"].items():
        assert spec["description"].strip(), name
        assert isinstance(spec["default"], str), name
        assert spec.get("required", False) is False, name
    assert action()["inputs"]["gpus"]["default"] == "all"


def test_readme_inputs_table_lists_the_same_inputs_in_the_same_order() -> None:
    """The README's inputs table is action.yml's inputs, one row each."""
    assert readme_table("Inputs") == list(action()["inputs"])


def test_outputs_are_what_the_outputs_renderer_writes() -> None:
    """action.yml's outputs are exactly the keys the GitHub outputs renderer writes to GITHUB_OUTPUT."""
    written = decide_outputs(RunResult(status=RunStatus.SUCCESS), files={})
    assert set(action()["outputs"]) == set(written)


def test_every_output_mirrors_the_run_steps_output_of_the_same_name() -> None:
    """The composite step's outputs (the container's GITHUB_OUTPUT) become the action's, name for name."""
    for name, spec in action()["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}", name
        assert spec["description"].strip(), name


def test_readme_outputs_table_lists_the_same_outputs() -> None:
    """The README's outputs table is action.yml's outputs."""
    assert readme_table("Outputs") == list(action()["outputs"])


def test_the_step_maps_every_input_to_its_runner_name() -> None:
    """Composite steps get no INPUT_* of their own: each input is mapped as the runner names it, hyphens kept."""
    env = run_step()["env"]
    for name in action()["inputs"]:
        assert env[f"INPUT_{name.upper()}"] == f"${{{{ inputs.{name} }}}}", name
    mapped = {key for key in env if key.startswith("INPUT_")}
    assert mapped == {f"INPUT_{name.upper()}" for name in action()["inputs"]}


def test_the_step_execs_the_launcher_and_a_cleanup_always_follows() -> None:
    """`exec` so the runner's SIGINT reaches the launcher; an always() step kills a container a hard kill left."""
    steps = action()["runs"]["steps"]
    assert run_step()["run"].strip() == "exec python3 -m mle_ci.action.launch"
    assert run_step()["env"]["PYTHONPATH"] == "${{ github.action_path }}"
    cleanup = steps[-1]
    assert cleanup["if"] == "always()"
    assert cleanup["run"].strip() == "exec python3 -m mle_ci.action.launch --cleanup"


def test_no_input_value_is_interpolated_into_a_script() -> None:
    """Inputs reach the step only through env (no `${{ inputs.x }}` inside `run:`: no injection, no key in argv)."""
    for step in action()["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_design_inputs_and_outputs_are_all_there() -> None:
    """The inputs and outputs DESIGN.md promises exist (more may be added)."""
    design_inputs = {
        "gpus", "agent", "command", "competition", "data-dir", "timeout-minutes", "grace-seconds",
        "heartbeat-seconds", "stall-minutes", "folds", "min-score", "model", "anthropic-api-key", "output-dir",
        "config", "image",
    }  # fmt: skip
    design_outputs = {
        "status", "exit-code", "score", "score-std", "folds", "submission", "junit", "summary", "result",
        "gpu-name", "gpu-util-mean", "duration-seconds",
    }  # fmt: skip
    assert design_inputs <= set(action()["inputs"])
    assert design_outputs <= set(action()["outputs"])


def test_the_dockerfile_pins_its_base_and_installs_only_the_lock() -> None:
    """The base by tag and digest; every Python package from the variant's lock, hashes required; the package
    itself without dependencies; an entry point, no CMD; only what it installs is sent to the daemon."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM (\S+)", text, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:[\d.]+-slim-\w+@sha256:[0-9a-f]{64}", base.group(1))
    assert "ARG VARIANT=cuda" in text
    assert "COPY requirements/image-${VARIANT}.txt" in text
    assert "pip install --no-cache-dir --require-hashes -r " in text
    assert "pip install --no-cache-dir --no-deps --no-build-isolation /opt/mle-gpu-agent" in text
    assert 'ENTRYPOINT ["python", "/opt/mle-gpu-agent/entrypoint.py"]' in text
    assert "CMD" not in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignored[1] == "*"  # only what the image installs is sent to the daemon
    for path in ("pyproject.toml", "README.md", "LICENSE", "entrypoint.py", "mle_ci/", "requirements/image-*.txt"):
        assert f"!{path}" in ignored
        assert list(ROOT.glob(path.rstrip("/"))), path


def lock(variant: str) -> dict[str, list[str]]:
    """A lock file's requirements: each pinned name==version with its hashes."""
    text = (ROOT / "requirements" / f"image-{variant}.txt").read_text(encoding="utf-8")
    pinned: dict[str, list[str]] = {}
    for entry in re.split(r"\n(?=[^\s#])", text.split("\n", 2)[2]):
        lines = [line.strip(" \\") for line in entry.splitlines() if not line.strip().startswith("#")]
        pinned[lines[0]] = [line for line in lines[1:] if line]
    return pinned


@pytest.mark.parametrize("variant", [v.value for v in Variant])
def test_every_package_of_the_image_is_pinned_with_its_hashes(variant: str) -> None:
    """`make lock` output: name==version and sha256 hashes only; torch the version the tests run (the Makefile's
    TORCH), CUDA's build from PyPI or the CPU wheel; the package's dependencies and its build backend all there."""
    pinned = lock(variant)
    assert pinned and all(re.fullmatch(r"[a-z0-9._-]+==[\w.+]+", requirement) for requirement in pinned)
    for requirement, hashes in pinned.items():
        assert hashes and all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", h) for h in hashes), requirement
    names = {requirement.split("==")[0]: requirement.split("==")[1] for requirement in pinned}
    torch = re.search(r"^TORCH \?= (\S+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert torch is not None
    assert names["torch"] == (f"{torch.group(1)}+cpu" if variant == "cpu" else torch.group(1))
    assert ("nvidia-cuda-runtime" in names) == (variant == "cuda")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"]["optional-dependencies"]
    wanted = [*project["project"]["dependencies"], *extras["grading"], *extras["agents"], *extras["claude"]]
    wanted += project["build-system"]["requires"]
    for requirement in wanted:
        if requirement.startswith(f"{project['project']['name']}["):
            continue  # an extra that includes another: that one's requirements are in `wanted` already
        assert re.split(r"[<>=!~;\[ ]", requirement)[0].lower() in names, requirement


def test_the_lock_is_for_the_images_python_and_make_lock_regenerates_it() -> None:
    """The Makefile compiles for the Python of the Dockerfile's base, with hashes, on its own target."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    python = re.search(r"^IMAGE_PYTHON \?= (\S+)$", makefile, re.MULTILINE)
    base = re.search(r"^FROM python:(\d+\.\d+)\.", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    assert python is not None and base is not None
    assert python.group(1) == base.group(1)
    target = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "requirements/image-cuda.txt" in target and "requirements/image-cpu.txt" in target
    assert "--generate-hashes" in makefile
    for variant in Variant:
        assert "#    make lock" in (ROOT / "requirements" / f"image-{variant.value}.txt").read_text(encoding="utf-8")


def test_the_step_maps_the_actions_repository_and_ref_for_its_image() -> None:
    """A composite's own GITHUB_ACTION_REF is empty: the context is mapped into the variables the launcher reads."""
    env = run_step()["env"]
    assert env[REPOSITORY_VARIABLE] == "${{ github.action_repository }}"
    assert env[REF_VARIABLE] == "${{ github.action_ref }}"


def test_no_machine_path_is_committed_in_the_action_files() -> None:
    """Nothing from a developer's machine in the files users run."""
    for path in [
        ROOT / "action.yml",
        ROOT / "Dockerfile",
        *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
        *sorted((ROOT / "integrations").rglob("*")),
    ]:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "/work/" not in text and "/tmp/pytest" not in text, path
