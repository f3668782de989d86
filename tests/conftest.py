"""Shared fixtures: no GitHub or action variables leak from the machine into a test."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without GITHUB_*, INPUT_*, MLE_CI_* or CI variables of the machine running them."""
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "INPUT_", "MLE_CI_", "ACTIONS_", "RUNNER_")) or name in ("CI", "ACT"):
            monkeypatch.delenv(name, raising=False)
