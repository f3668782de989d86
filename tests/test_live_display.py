"""On a terminal the harness shows a live status line (rich) instead of heartbeat lines."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from helpers import ROOT, base_env, child


def test_live_display_on_a_terminal(tmp_path: Path) -> None:
    """Under a pseudo-terminal the run ends normally, echoes the child and shows fold progress live."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mle_ci",
            "run",
            "--output-dir",
            str(tmp_path / "out"),
            "--heartbeat",
            "0.2s",
            "--",
            *child("sleeper", "1"),
        ],
        env=base_env({"TERM": "xterm-256color", "COLUMNS": "120"}),
        cwd=ROOT,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    output = b""
    end = time.monotonic() + 30
    while time.monotonic() < end:
        ready, _, _ = select.select([primary], [], [], 0.2)
        if ready:
            try:
                data = os.read(primary, 65536)
            except OSError:
                break
            if not data:
                break
            output += data
        elif proc.poll() is not None:
            break
    os.close(primary)
    assert proc.wait(timeout=10) == 0
    text = output.decode("utf-8", "replace")
    assert "sleeper: awake" in text
    assert "\x1b[?25l" in text  # rich's live display hides the cursor while it draws
    assert "running" in text  # the live status line
    assert "] running " not in text  # no plain heartbeat lines on a terminal
    assert (tmp_path / "out" / "result.json").exists()
