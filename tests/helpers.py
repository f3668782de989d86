"""Helpers for end-to-end tests: run the real `mle-ci` in a subprocess and inspect what it left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import child

ROOT = Path(__file__).resolve().parent.parent


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
