"""Secrets, end to end in simulated GitHub Actions: planted credentials never reach a byte the run produced,
and the workflow's tokens never reach the child.

The child (``tests/children/leaky.py``) prints its whole environment and every secret it can see, sends the API
key in events, checkpoint and submission names and an exception, and reads its parent's environment. Every byte
the run produced is then scanned: stdout, stderr, each file in the output folder and each GitHub file.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, base_env, child, github_files

GITHUB_FILES = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")
WORKFLOW_ONLY = (
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
)


def planted() -> dict[str, str]:
    """Fresh fake credentials in the shapes the real ones have, so that a match can only be a leak."""
    return {
        "ANTHROPIC_API_KEY": f"sk-ant-api03-{secrets.token_urlsafe(70)}-{secrets.token_hex(4)}AA",
        "GITHUB_TOKEN": f"ghs_{secrets.token_hex(18)}",
        "ACTIONS_RUNTIME_TOKEN": f"eyJ0eXAiOiJKV1Qi.{secrets.token_urlsafe(60)}.{secrets.token_urlsafe(20)}",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": f"eyJhbGciOi.{secrets.token_urlsafe(60)}",
        "ACTIONS_ID_TOKEN_REQUEST_URL": (
            f"https://pipelines.actions.githubusercontent.com/{secrets.token_hex(20)}/idtoken?api-version=2.0"
        ),
        "DATABASE_PASSWORD": f"pw-{secrets.token_hex(12)}",
        "MY_SERVICE_TOKEN": f"svc_{secrets.token_hex(16)}",
    }


def _github_env(tmp_path: Path) -> dict[str, str]:
    files = github_files(tmp_path / "github", ("output", "summary", "env", "path", "state"))
    return {**files, "CI": "true", "GITHUB_WORKSPACE": str(ROOT)}


def leaks_in(data: bytes, where: str, values: dict[str, str]) -> list[str]:
    """Every planted value, or a 16-character piece of one, found in ``data``."""
    found = []
    for name, value in values.items():
        pieces = {value} | {value[i : i + 16] for i in range(0, len(value) - 15, 8)}
        if any(piece.encode() in data for piece in pieces):
            found.append(f"{name} in {where}")
    return found


def test_no_planted_secret_reaches_any_byte_the_run_produced(tmp_path: Path) -> None:
    """Fake API key and workflow tokens planted: zero leaks in stdout, stderr, the output folder and GitHub files;
    the child saw none of the workflow's tokens, and its own secrets only where it needs them."""
    values = planted()
    env = _github_env(tmp_path) | values | {"INPUT_ANTHROPIC-API-KEY": values["ANTHROPIC_API_KEY"]}
    seen_file = tmp_path / "seen.json"
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(out), "--", *child("leaky", str(seen_file))],
        env=base_env(env),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout.decode(errors="replace")
    lines = proc.stdout.split(b"\n")
    masks = [line for line in lines if line.startswith(b"::add-mask::")]
    # The runner hides masked values in later lines; masks come first, before anything else is printed.
    assert lines[: len(masks)] == masks
    assert {m.removeprefix(b"::add-mask::").decode() for m in masks} >= {
        values[name] for name in ("ANTHROPIC_API_KEY", "GITHUB_TOKEN", "DATABASE_PASSWORD", "MY_SERVICE_TOKEN")
    }
    leaks = leaks_in(b"\n".join(lines[len(masks) :]), "stdout", values)
    leaks += leaks_in(proc.stderr, "stderr", values)
    scanned = 2
    for path in sorted(out.rglob("*")):
        if path.is_file():
            leaks += leaks_in(path.read_bytes(), f"output folder {path.name}", values)
            scanned += 1
    for name in GITHUB_FILES:
        leaks += leaks_in(Path(env[name]).read_bytes(), name, values)
        scanned += 1
    assert scanned >= 12  # the run's files were really there to scan
    assert not leaks, leaks
    # The output folder holds what the child tried to leak, redacted.
    assert b"the key is ***" in (out / "events.jsonl").read_bytes()
    assert "***" in json.loads((out / "result.json").read_text())["crash"]["exception"]
    # What the child saw: none of the workflow's tokens or GitHub files, its own secrets as given.
    seen = json.loads(seen_file.read_text())["env"]
    for name in (*WORKFLOW_ONLY, *GITHUB_FILES, "INPUT_ANTHROPIC-API-KEY"):
        assert name not in seen, name
    for name in WORKFLOW_ONLY:
        assert not any(values[name] in value for value in seen.values()), name
    assert seen["ANTHROPIC_API_KEY"] == values["ANTHROPIC_API_KEY"]  # a user command may need its own key


def _as_another_user() -> dict[str, object] | None:
    """How to run the harness as a non-root user: as it is, or (for root) as nobody where nobody can run it."""
    if os.geteuid() != 0:
        return {}
    nobody: dict[str, object] = {"user": 65534, "group": 65534, "extra_groups": []}
    try:
        argv = [sys.executable, "-c", "import mle_ci.cli"]
        probe = subprocess.run(argv, cwd=ROOT, env=base_env(), capture_output=True, check=False, **nobody)
    except OSError:
        return None
    return nobody if probe.returncode == 0 else None


def test_the_child_cannot_read_the_harness_environment_from_proc(tmp_path: Path) -> None:
    """The harness is not dumpable: a child of the same non-root user cannot read /proc/<harness>/environ,
    where the workflow's tokens still are."""
    how = _as_another_user()
    if how is None:
        pytest.skip("root, and this interpreter cannot be run by another user: nothing to test as non-root")
    values = planted()
    tmp_path.chmod(0o777)
    seen_file = tmp_path / "seen.json"
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(out), "--", *child("leaky", str(seen_file))],
        env=base_env(values | {"HOME": str(tmp_path)}),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
        **how,  # type: ignore[arg-type]
    )
    assert proc.returncode == 1, proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    parent = json.loads(seen_file.read_text())["parent_environ"]
    assert parent.startswith("unreadable"), "the child read the harness's environment"
    assert not leaks_in(proc.stdout, "stdout", {k: values[k] for k in WORKFLOW_ONLY})
