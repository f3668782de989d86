"""Pull requests from forks and the workflows' secrets: no workflow or example runs a fork's code with secrets
or a write token, and no checkout leaves a token behind for the code it checked out."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT
from test_action_workflows import load, steps

FILES = [
    *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
    *sorted((ROOT / "examples").glob("*.yml")),
]
# Events that run in the base repository's context, with its secrets, on behalf of a fork.
PRIVILEGED_EVENTS = {"pull_request_target", "workflow_run", "issue_comment"}


def _events(data: dict[str, object]) -> set[str]:
    on = data["on"]
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    assert isinstance(on, dict)
    return set(on)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_workflow_runs_in_the_base_context_for_a_fork(path: Path) -> None:
    """pull_request_target, workflow_run and issue_comment give a fork's change the base's secrets: none is used."""
    assert not _events(load(path)) & PRIVILEGED_EVENTS, path.name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_checkout_drops_its_credentials(path: Path) -> None:
    """actions/checkout writes the token into .git/config unless told not to; the agent's code could read it.
    Only the release (our own code, on a published release) keeps it, to push the moved major tag."""
    data = load(path)
    if _events(data) == {"release"}:
        return
    for job_id, step in steps(data):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, (path.name, job_id)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_secrets_reach_only_the_steps_that_name_them(path: Path) -> None:
    """No secret is set for a whole job or workflow (every step, checkout of untrusted code included, would see it)."""
    data = load(path)
    assert "secrets." not in str(data.get("env", {})), path.name
    for job_id, job in data["jobs"].items():
        assert "secrets." not in str(job.get("env", {})), (path.name, job_id)
