"""Deadline enforcement: how soon after the time limit a SIGTERM-ignoring process tree is gone.

The child ignores SIGTERM and forks a grandchild that ignores it too; it writes both pids and its start time
(``time.time()``) to a file. It runs under ``mle-ci run --timeout 2s --grace 1s``. Every 5 ms the benchmark
checks ``/proc/<pid>/stat`` of both (gone or zombie counts as gone) and whether the harness has exited. Times are
taken from the deadline, child start + 2 s; they are also given from the harness's own deadline (``deadline`` in
result.json: the harness starts its clock just before it starts the child) and from the harness's launch.
Goal: the tree gone, and the harness exited, <= grace + 0.5 s = 1.5 s after the deadline. Repeated 3 times.

Run: ``.venv/bin/python bench/deadline_kill.py [--repeat 3]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import (
    Figure,
    alive,
    at_most,
    child_argv,
    harness_argv,
    kill_quietly,
    median,
    report,
    start,
    stop,
    temp_dir,
)

TIMEOUT = 2.0
GRACE = 1.0
POLL = 0.005


@dataclass(frozen=True)
class Timing:
    """Wall-clock (``time.time()``) instants of one run."""

    launched: float
    child_started: float
    harness_deadline: float | None
    tree_gone: float
    harness_exited: float
    exit_code: int


def _read_info(path: Path, proc: subprocess.Popen[bytes], limit: float) -> dict[str, float] | None:
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        try:
            info: dict[str, float] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            time.sleep(POLL)
            continue
        return info
    return None


def _one(out: Path, info_file: Path) -> Timing | None:
    argv = harness_argv(
        out, child_argv("tree", str(info_file)), ["--timeout", f"{TIMEOUT:g}s", "--grace", f"{GRACE:g}s"]
    )
    pids: list[int] = []
    with (out.parent / f"{out.name}.stdout").open("wb") as stdout:
        launched = time.time()
        proc = start(argv, stdout=stdout.fileno())
        try:
            info = _read_info(info_file, proc, 20.0)
            if info is None:
                print(f"  the child never wrote {info_file.name}; harness exit code {proc.poll()}")
                return None
            pids = [int(info["child"]), int(info["grandchild"])]
            tree_gone = harness_exited = None
            end = time.monotonic() + TIMEOUT + GRACE + 20
            while time.monotonic() < end and (tree_gone is None or harness_exited is None):
                now = time.time()
                if tree_gone is None and not any(alive(pid) for pid in pids):
                    tree_gone = now
                if harness_exited is None and proc.poll() is not None:
                    harness_exited = now
                time.sleep(POLL)
            if tree_gone is None or harness_exited is None:
                print(f"  not over in time: tree gone at {tree_gone}, harness exited at {harness_exited}")
                return None
        finally:
            stop(proc)
            kill_quietly(pids)
    try:
        deadline = json.loads((out / "result.json").read_text(encoding="utf-8")).get("deadline")
    except (OSError, ValueError):
        deadline = None
    return Timing(launched, float(info["started"]), deadline, tree_gone, harness_exited, proc.returncode)


def measure(repeat: int = 3) -> list[Figure]:
    tree_after: list[float] = []
    exit_after: list[float] = []
    tree_after_harness: list[float] = []
    tree_after_launch: list[float] = []
    codes: list[int] = []
    with temp_dir() as tmp:
        for index in range(repeat):
            timing = _one(tmp / f"out-{index}", tmp / f"tree-{index}.json")
            if timing is None:
                continue
            deadline = timing.child_started + TIMEOUT
            tree_after.append(timing.tree_gone - deadline)
            exit_after.append(timing.harness_exited - deadline)
            tree_after_launch.append(timing.tree_gone - timing.launched)
            codes.append(timing.exit_code)
            own = ""
            if timing.harness_deadline is not None:
                tree_after_harness.append(timing.tree_gone - timing.harness_deadline)
                own = f" ({tree_after_harness[-1]:.3f} s after the harness's own deadline)"
            print(
                f"  run {index + 1}/{repeat}: child started {timing.child_started - timing.launched:.3f} s after "
                f"launch; after the deadline: tree gone {tree_after[-1]:.3f} s{own}, harness exited "
                f"{exit_after[-1]:.3f} s; tree gone {tree_after_launch[-1]:.3f} s after launch; exit code "
                f"{timing.exit_code}",
                flush=True,
            )
    limit = GRACE + 0.5
    figures = [
        at_most(f"deadline: tree gone after deadline (worst of {repeat})", max(tree_after, default=None), limit, " s"),
        at_most(
            f"deadline: harness exit after deadline (worst of {repeat})", max(exit_after, default=None), limit, " s"
        ),
    ]
    if tree_after:
        figures.append(Figure("deadline: tree gone after deadline, median (info)", f"{median(tree_after):.3f} s"))
    if tree_after_harness:
        figures.append(
            Figure(
                "deadline: tree gone after harness's own deadline, median (info)", f"{median(tree_after_harness):.3f} s"
            )
        )
    if tree_after_launch:
        figures.append(
            Figure("deadline: tree gone after harness launch, median (info)", f"{median(tree_after_launch):.3f} s")
        )
    figures.append(
        Figure("deadline: exit codes", ",".join(map(str, codes)) or "n/a", "124", bool(codes) and set(codes) == {124})
    )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs (default 3)")
    args = parser.parse_args(argv)
    print(f"deadline: {args.repeat} runs of a SIGTERM-ignoring tree under --timeout 2s --grace 1s", flush=True)
    report("deadline kill", measure(args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
