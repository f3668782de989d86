"""Cancellation: how soon after SIGINT the harness has exited and left complete reports.

The harness runs a child that writes a file once started and then sleeps; in a second variant the child also
ignores SIGTERM (so the harness must wait out its interrupt grace and SIGKILL it). Once the file exists the
benchmark sends SIGINT to the harness alone, then checks every 5 ms until the harness has exited AND result.json
says ``"status": "interrupted"``, summary.md is non-empty and junit.xml parses as XML. Goal: <= 3 s; the exit
code should be 130. Repeated 3 times per variant.

Run: ``.venv/bin/python bench/sigint_exit.py [--repeat 3]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import signal
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from _common import Figure, at_most, child_argv, harness_argv, kill_quietly, median, report, start, stop, temp_dir

POLL = 0.005
VARIANTS = {"sleeping child": (), "child ignoring SIGTERM": ("--ignore-term",)}


def _reports_complete(out: Path) -> bool:
    """result.json with status interrupted, a non-empty summary.md and a well-formed junit.xml."""
    try:
        result = json.loads((out / "result.json").read_text(encoding="utf-8"))
        summary = (out / "summary.md").read_text(encoding="utf-8")
        ET.parse(out / "junit.xml")
    except (OSError, ValueError, ET.ParseError):
        return False
    return result.get("status") == "interrupted" and bool(summary.strip())


def _one(out: Path, ready: Path, flags: Sequence[str]) -> tuple[float, float, int] | None:
    """Seconds from SIGINT to the harness's exit, to exit and complete reports; and the exit code."""
    argv = harness_argv(out, child_argv("sleeper", str(ready), *flags))
    child_pid = 0
    with (out.parent / f"{out.name}.stdout").open("wb") as stdout:
        proc = start(argv, stdout=stdout.fileno())
        try:
            end = time.monotonic() + 20
            while not ready.exists() and proc.poll() is None and time.monotonic() < end:
                time.sleep(POLL)
            if not ready.exists():
                print(f"  the child never started; harness exit code {proc.poll()}")
                return None
            child_pid = int(json.loads(ready.read_text(encoding="utf-8"))["pid"])
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            exited: float | None = None
            end = sent + 20
            while time.monotonic() < end:
                now = time.monotonic()
                if exited is None and proc.poll() is not None:
                    exited = now
                if exited is not None and _reports_complete(out):
                    return exited - sent, now - sent, proc.returncode
                time.sleep(POLL)
            print(f"  not done 20 s after SIGINT: harness exit code {proc.poll()}")
            return None
        finally:
            stop(proc)
            kill_quietly([child_pid])


def measure(repeat: int = 3) -> list[Figure]:
    figures: list[Figure] = []
    codes: list[int] = []
    with temp_dir() as tmp:
        for variant, flags in VARIANTS.items():
            done: list[float] = []
            for index in range(repeat):
                name = f"{'ignore' if flags else 'sleep'}-{index}"
                got = _one(tmp / name, tmp / f"{name}.ready", flags)
                if got is None:
                    continue
                exited, complete, code = got
                done.append(complete)
                codes.append(code)
                print(
                    f"  {variant}, run {index + 1}/{repeat}: harness exited {exited:.3f} s after SIGINT, reports "
                    f"complete at {complete:.3f} s, exit code {code}",
                    flush=True,
                )
            figures.append(
                at_most(f"sigint: exit + reports, {variant} (worst of {repeat})", max(done, default=None), 3.0, " s")
            )
            if done:
                figures.append(Figure(f"sigint: exit + reports, {variant}, median (info)", f"{median(done):.3f} s"))
    figures.append(
        Figure("sigint: exit codes", ",".join(map(str, codes)) or "n/a", "130", bool(codes) and set(codes) == {130})
    )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (default 3)")
    args = parser.parse_args(argv)
    print(f"sigint: {args.repeat} runs per variant, SIGINT to the harness once the child has started", flush=True)
    report("sigint exit", measure(args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
