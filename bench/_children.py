"""The programs the benchmarks supervise; run as ``python bench/_children.py MODE [ARG]...``.

- ``busy CPU_SECONDS``: a pure Python busy loop until the process has used that much CPU, a line every 0.5 s of
  CPU, then ``child-cpu total=... user=... sys=... rusage=...`` (its own CPU seconds from ``os.times()`` and
  ``getrusage(RUSAGE_SELF)``).
- ``silent SECONDS``: prints nothing and sleeps.
- ``tree INFO_FILE``: ignores SIGTERM, forks a grandchild that ignores it too, writes
  ``{"child": pid, "grandchild": pid, "started": time.time()}`` to INFO_FILE, then waits for SIGKILL.
- ``sleeper READY_FILE [--ignore-term]``: writes READY_FILE once started, then sleeps (optionally ignoring
  SIGTERM).
- ``flood LINES LONG_EVERY``: prints LINES short lines as fast as it can, every LONG_EVERY-th one 1 MiB long.
"""

from __future__ import annotations

import time

STARTED = time.time()

import json  # noqa: E402 - the start time is taken before anything else
import os  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

FOREVER = 600.0
"""Upper bound on any wait here, in case the harness never ends us."""


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def busy(cpu_seconds: float) -> None:
    next_line = 0.5
    counter = 0
    while True:
        for _ in range(20_000):
            counter = (counter * 7 + 3) % 1_000_003
        used = time.process_time()
        if used >= next_line:
            print(f"busy: {used:.2f} s of CPU (counter {counter})", flush=True)
            next_line += 0.5
        if used >= cpu_seconds:
            break
    times = os.times()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = times.user + times.system
    rusage = usage.ru_utime + usage.ru_stime
    print(f"child-cpu total={total:.4f} user={times.user:.4f} sys={times.system:.4f} rusage={rusage:.4f}", flush=True)


def silent(seconds: float) -> None:
    time.sleep(seconds)


def tree(info_file: Path) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    grandchild = os.fork()
    if grandchild == 0:  # the SIG_IGN disposition is inherited through fork
        time.sleep(FOREVER)
        os._exit(0)
    _write_atomic(info_file, json.dumps({"child": os.getpid(), "grandchild": grandchild, "started": STARTED}))
    print(f"ignoring SIGTERM; grandchild {grandchild} too", flush=True)
    time.sleep(FOREVER)


def sleeper(ready_file: Path, ignore_term: bool) -> None:
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _write_atomic(ready_file, json.dumps({"pid": os.getpid(), "started": STARTED}))
    print("sleeping" + (", ignoring SIGTERM" if ignore_term else ""), flush=True)
    time.sleep(FOREVER)


def flood(lines: int, long_every: int) -> None:
    write = sys.stdout.write
    long_line = "y" * (1024 * 1024)
    for i in range(lines):
        if long_every and i % long_every == long_every - 1:
            write(long_line + "\n")
        else:
            write(f"step {i} loss=0.{i % 1000:03d} lr=3e-4 grad_norm=1.{i % 97:02d} tokens/s=12345\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    mode, args = argv[0], argv[1:]
    if mode == "busy":
        busy(float(args[0]))
    elif mode == "silent":
        silent(float(args[0]))
    elif mode == "tree":
        tree(Path(args[0]))
    elif mode == "flood":
        flood(int(args[0]), int(args[1]))
    elif mode == "sleeper":
        sleeper(Path(args[0]), "--ignore-term" in args)
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
