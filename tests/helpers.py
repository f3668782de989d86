"""Helpers for end-to-end tests: run the real `mle-ci` in a subprocess and inspect what it left."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHILDREN = Path(__file__).parent / "children"


def child(name: str, *args: str) -> list[str]:
    """The argv that runs one of the fake children in tests/children with this interpreter."""
    return [sys.executable, str(CHILDREN / f"{name}.py"), *args]


@dataclass
class Run:
    returncode: int
    stdout: str
    out: Path
    seconds: float

    @property
    def result(self) -> dict[str, Any]:
        return json.loads((self.out / "result.json").read_text())

    def file(self, name: str) -> str:
        return (self.out / name).read_text(encoding="utf-8", errors="replace")


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "INPUT_", "MLE_CI_", "ACTIONS_", "RUNNER_")) and k not in ("CI", "ACT")
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def mle_ci(args: list[str], out: Path, *, env: Mapping[str, str] | None = None, timeout: float = 60) -> Run:
    """Run `python -m mle_ci run --output-dir OUT ARGS` to completion."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mle_ci", "run", "--output-dir", str(out), *args],
        env=base_env(env),
        cwd=ROOT,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout.decode("utf-8", "replace"), out, time.monotonic() - started)


def run_child(name: str, out: Path, *child_args: str, options: list[str] | None = None, **kw: Any) -> Run:
    return mle_ci([*(options or []), "--", *child(name, *child_args)], out, **kw)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] not in (b"Z", b"X")


def wait_gone(pid: int, seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def github_files(folder: Path, names: tuple[str, ...] = ("output", "summary")) -> dict[str, str]:
    """A simulated GitHub Actions step: ``GITHUB_ACTIONS=true`` and empty file-command files under ``folder``."""
    folder.mkdir()
    variables = {"output": "GITHUB_OUTPUT", "summary": "GITHUB_STEP_SUMMARY", "env": "GITHUB_ENV"}
    variables |= {"path": "GITHUB_PATH", "state": "GITHUB_STATE"}
    env = {"GITHUB_ACTIONS": "true"}
    for name in names:
        (folder / name).touch()
        env[variables[name]] = str(folder / name)
    return env


def read_outputs(path: Path) -> dict[str, str]:
    """Parse GITHUB_OUTPUT as the runner does: name=value lines and name<<DELIM heredocs."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def hopper_gone(pid_file: Path, seconds: float = 0.5) -> bool:
    """Whether the PID-changing daemon of ``tests/children/pid_hopper.py`` is dead: it writes its pid at every
    hop, so it is gone when the file stops changing and names no running process (one look at ``/proc`` could
    miss it in the middle of a hop)."""
    first = pid_file.read_text()
    time.sleep(seconds)
    last = pid_file.read_text()
    return first == last and not (last and alive(int(last)))


def end_hopper(pid_file: Path, seconds: float = 5.0) -> None:
    """Stop and kill a PID-changing daemon a failed test left behind (this machine is shared)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        text = pid_file.read_text() if pid_file.exists() else ""
        if text:
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                with contextlib.suppress(OSError):
                    os.kill(int(text), sig)
        if not pid_file.exists() or hopper_gone(pid_file, 0.05):
            return
