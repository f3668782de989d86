"""A run under GITHUB_ACTIONS=true: the GitHub files, workflow commands and secrets, end to end."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import junitparser
from helpers import github_files, mle_ci, read_outputs, run_child

FAKE_KEY = "sk-ant-api03-FAKEFAKEFAKEFAKEFAKE-0123456789"
FAKE_TOKEN = "ghs_FAKEWORKFLOWTOKEN0123456789abcdef"


def _github_env(tmp_path: Path) -> dict[str, str]:
    return {
        **github_files(tmp_path / "gh"),
        "GITHUB_WORKSPACE": str(Path(__file__).resolve().parent.parent),
        "GITHUB_TOKEN": FAKE_TOKEN,
        "ACTIONS_RUNTIME_TOKEN": FAKE_TOKEN + "rt",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": FAKE_TOKEN + "id",
        "ANTHROPIC_API_KEY": FAKE_KEY,
    }


def _commands_obeyed(stdout: str) -> list[str]:
    """The workflow commands the runner would obey, honouring ::stop-commands:: as it does."""
    obeyed, paused_until = [], None
    for line in stdout.splitlines():
        if paused_until is not None:
            if line == f"::{paused_until}::":
                paused_until = None
            continue
        match = re.match(r"^::([a-z-]+)[ :]", line)
        if not match:
            continue
        if match.group(1) == "stop-commands":
            paused_until = line.split("::")[2]
            continue
        obeyed.append(line)
    return obeyed


def test_child_workflow_commands_are_not_obeyed_and_secrets_never_leak(tmp_path: Path) -> None:
    """Lines like ::error:: and ::add-mask:: from the child sit inside stop-commands; no secret reaches any file."""
    env = _github_env(tmp_path)
    run = run_child("workflow_commands", tmp_path / "out", env=env)
    assert run.returncode == 1
    obeyed = _commands_obeyed(run.stdout)
    assert all("injected" not in c and "hide-everything" not in c and "set-output" not in c for c in obeyed)
    assert any(c.startswith("::add-mask::") and FAKE_KEY in c for c in obeyed)  # masked before anything printed
    first_mask = run.stdout.index("::add-mask::")
    assert run.stdout.index("::stop-commands::") > first_mask
    assert any(c.startswith("::error") for c in obeyed)  # our own crash annotation, after the stop ended
    # The key printed by the child is redacted in every file and in the echoed log.
    produced = [*list((tmp_path / "out").iterdir()), tmp_path / "gh" / "output", tmp_path / "gh" / "summary"]
    for path in produced:
        data = path.read_bytes()
        for secret in (FAKE_KEY, FAKE_TOKEN):
            assert secret.encode() not in data, f"{secret} leaked into {path.name}"
    echoed = [line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert "leaking ***" in echoed
    assert not any(FAKE_KEY in line for line in echoed)


_THROUGH_THE_PARENT = """
import errno, os
# The step's stdout, reached through the harness's own descriptor (as a same-user child on a plain host can).
where = f"/proc/{os.getppid()}/fd/1"
stolen = b""
try:
    reader = os.open(where, os.O_RDONLY | os.O_NONBLOCK)
    try:
        stolen = os.read(reader, 65536)
    except OSError as exc:
        assert exc.errno == errno.EAGAIN
    os.close(reader)
except OSError:
    pass
writer = os.open(where, os.O_WRONLY)
os.write(writer, b"::error::forged through the parent\\n::set-output name=x::forged\\n")
os.close(writer)
print("stolen:", "add-mask" in stolen.decode(errors="replace") or "stop-commands" in stolen.decode(errors="replace"))
"""


def test_commands_are_off_before_the_child_starts_and_on_only_after_it_is_gone(tmp_path: Path) -> None:
    """The masks and the stop-commands line go out before the child exists, and the runner has read them before
    it starts: a command the child writes straight into the step's stdout (through ``/proc/<harness>/fd/1``)
    lands inside the block, and the child finds no mask or token left in the pipe to read."""
    env = _github_env(tmp_path)
    run = mle_ci(["--", sys.executable, "-c", _THROUGH_THE_PARENT], tmp_path / "out", env=env)
    assert run.returncode == 0, run.stdout
    obeyed = _commands_obeyed(run.stdout)
    assert not [c for c in obeyed if "forged" in c]
    assert "stolen: False" in run.stdout
    lines = run.stdout.splitlines()
    opened = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[opened].split("::")[2]
    closed = lines.index(f"::{token}::")
    assert max(i for i, line in enumerate(lines) if line.startswith("::add-mask::")) < opened
    assert opened < lines.index("::error::forged through the parent") < closed
    assert opened < next(i for i, line in enumerate(lines) if "] started " in line) < closed


def test_child_does_not_see_workflow_tokens_or_github_files(tmp_path: Path) -> None:
    """GITHUB_TOKEN, ACTIONS_* tokens, INPUT_* and the runner's file-command paths are not in the child's env."""
    env = _github_env(tmp_path) | {"INPUT_ANTHROPIC-API-KEY": FAKE_KEY}
    script = tmp_path / "env.py"
    script.write_text("import os\nprint(sorted(os.environ))\n")
    run = mle_ci(["--", sys.executable, str(script)], tmp_path / "out", env=env)
    seen = run.file("log.txt")
    for name in (
        "GITHUB_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "INPUT_ANTHROPIC-API-KEY",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
    ):
        assert f"'{name}'" not in seen
    for name in ("MLE_CI_EVENTS", "PYTHONUNBUFFERED", "LOGS_DIR", "GITHUB_WORKSPACE"):
        assert f"'{name}'" in seen


def test_outputs_summary_and_annotations_in_github(tmp_path: Path) -> None:
    """GITHUB_OUTPUT holds the documented keys, the summary is appended, the crash is annotated at file and line."""
    env = _github_env(tmp_path)
    run = run_child("crasher", tmp_path / "out", options=["--folds", "3", "--min-score", "0.5"], env=env)
    assert run.returncode == 1
    outputs = read_outputs(tmp_path / "gh" / "output")
    for key in (
        "status",
        "exit-code",
        "score",
        "score-std",
        "folds",
        "submission",
        "junit",
        "summary",
        "result",
        "gpu-name",
        "gpu-util-mean",
        "duration-seconds",
    ):
        assert key in outputs
    assert outputs["status"] == "crashed"
    assert outputs["exit-code"] == "1"
    assert outputs["folds"] == "1"
    assert float(outputs["score"]) == 0.71
    summary = (tmp_path / "gh" / "summary").read_text()
    assert summary == (tmp_path / "out" / "summary.md").read_text()
    errors = [c for c in _commands_obeyed(run.stdout) if c.startswith("::error")]
    assert any("file=tests/children/crasher.py" in c and "line=8" in c for c in errors)
    junitparser.JUnitXml.fromfile(outputs["junit"])
