"""Does real work first (lines, events, a submission), then meets the fault named in argv[1].

``faulty.py MODE READY [ARG]``: before the fault it prints three lines, reports fold 1 through the progress API,
writes ``submission.csv`` atomically into ``SUBMISSION_DIR`` (else ``LOGS_DIR``), then writes its pid to the file
READY so that a test can strike at the right moment. Modes:

- ``crash``: a Python exception; ``segfault``: SIGSEGV in native code; ``wait``: sleeps until killed from outside;
- ``ignore-term``: ignores SIGTERM and sleeps, so only SIGKILL ends it;
- ``fork-bomb N``: a tree of N forked sleepers (a few in their own session), bounded by N and, where the kernel
  applies it, by RLIMIT_NPROC; ``daemon``: a grandchild daemonised by double fork and ``setsid``, then exit 0;
- ``pid-hopper PIDFILE``: a daemon that keeps changing its PID as fast as it can fork, each new self in its own
  session and deaf to SIGTERM, writing its pid to PIDFILE (``pid_hopper.py``); then exit 0;
- ``close-stdout S``: closes stdout and stderr, goes on reporting events for S seconds, exits 0;
- ``flood BYTES``: prints BYTES of output as fast as it can, then a fold line, exits 0;
- ``corrupt-events``: appends garbage, a half line, a huge line and wrongly typed events, then a valid fold 2;
- ``costly-lines``: lines crafted to make a regular expression backtrack, then sleeps;
- ``absurd``: claims 100000000 folds and scores near the float limit;
- ``steady``: a fold line and an event every 50 ms for a minute (something to interrupt at any moment);
- ``quick``: nothing after the work, exit 0 at once (a whole run, its end included, to strike at any moment).
"""

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
import time

from mle_ci import progress

mode, ready = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else ""


def before_the_fault() -> None:
    for n in (1, 2, 3):
        print(f"before the fault: line {n}", flush=True)
    progress.fold_start(1, 3)
    progress.epoch(1, 2, fold=1, loss=0.9, val_score=0.75)
    progress.epoch(2, 2, fold=1, loss=0.5, val_score=0.81)
    progress.fold(1, 0.81, total=3, best_epoch=2)
    folder = os.environ.get("SUBMISSION_DIR") or os.environ["LOGS_DIR"]
    tmp = os.path.join(folder, ".submission.csv.tmp")
    with open(tmp, "w") as handle:
        handle.write("id,target\n1,0\n2,1\n")
    os.replace(tmp, os.path.join(folder, "submission.csv"))
    progress.submission("submission.csv", rows=2, folds=1)
    with open(ready + ".tmp", "w") as handle:
        handle.write(str(os.getpid()))
    os.replace(ready + ".tmp", ready)


def sleep_forever() -> None:
    while True:
        time.sleep(1)


def fork_bomb(total: int) -> None:
    """Forks until ``total`` processes exist below this one; every one of them then sleeps."""
    with contextlib.suppress(ValueError, OSError):
        # Root is exempt from RLIMIT_NPROC; the count bound below holds for everyone.
        resource.setrlimit(resource.RLIMIT_NPROC, (total + 64, total + 64))
    root = os.getpid()
    budget = total
    while budget > 0:
        share = budget // 2  # each new process gets half of what is left: a tree, not a line
        budget -= share + 1
        try:
            pid = os.fork()
        except OSError:
            print("fork refused", flush=True)
            break
        if pid == 0:
            if share % 7 == 3:
                os.setsid()  # a few try to escape the process group
            budget = share
    if os.getpid() == root:
        print(f"fork bomb: {total} processes started", flush=True)
    sleep_forever()


def daemonise() -> None:
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            os.chdir("/")
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            sleep_forever()
        os._exit(0)
    os.waitpid(first, 0)
    print("daemon started; the child exits", flush=True)


def close_stdout(seconds: float) -> None:
    print("closing stdout now", flush=True)
    # The pipe to the harness is closed; /dev/null takes its place so that later prints cannot fail.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        progress.message(f"still running after closing stdout {n}")
        n += 1
        time.sleep(0.2)
    progress.fold(2, 0.82, total=3)


def flood(total: int) -> None:
    line = b"flood " + b"x" * 1017 + b"\n"  # 1 KiB a line
    block = line * 1024
    out = sys.stdout.buffer
    written = 0
    while written < total:
        out.write(block)
        written += len(block)
    out.write(b"Fold 2/3 complete: Score=0.83\n")
    out.flush()


def corrupt_events() -> None:
    path = os.environ["MLE_CI_EVENTS"]
    valid = {"v": 1, "type": "fold", "ts": time.time(), "source": "api", "fold": 2, "score": 0.82, "total_folds": 3}
    lines = [
        b"garbage that is not json\n",
        b"\x00\xff\xfe binary \xc3\x28\n",
        b'{"v": 1, "type": "fold", "ts": 1, "fold": 2, "sco',  # half a line: the rest comes later
        b're": 0.5\n',
        b'{"v": 1, "type": "epoch", "ts": "yesterday", "epoch": "one"}\n',
        b'{"v": 1, "type": "fold", "ts": 1, "fold": -3, "score": "high"}\n',
        b'{"v": 99, "type": "teleport", "ts": 1}\n',
        b"[1, 2, 3]\n",
        b'"just a string"\n',
        b'{"v": 1, "type": "fold", "ts": 1, "fold": 2, "score": NaN}\n',
        b'{"v": 1, "type": "message", "ts": 1, "text": "' + b"y" * (1024 * 1024) + b'"}\n',
        json.dumps(valid).encode() + b"\n",
    ]
    for piece in lines:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.write(fd, piece)
        os.close(fd)
        time.sleep(0.01)
    print("Fold 3/3 complete: Score=0.84", flush=True)


def absurd() -> None:
    print("Fold 2/100000000 complete: Score=1e200", flush=True)
    progress.fold(3, 1e300, total=10**8)
    progress.epoch(10**15, 10**18, fold=3, loss=1e308, val_score=-1e308)


def costly_lines() -> None:
    """Lines built to make a backtracking parser slow (a long key-like run, a digit run, repeated log levels)."""
    for _ in range(100):
        print("Fold 1/5 complete: " + "x" * 4060)
        print("Epoch 1/10: " + "1" * 4060)
        print("INFO " * 40 + "epoch?")
    sys.stdout.flush()
    sleep_forever()


def steady() -> None:
    for n in range(1200):
        print(f"steady line {n}", flush=True)
        progress.message(f"steady {n}")
        time.sleep(0.05)


before_the_fault()
if mode == "crash":
    raise RuntimeError("the fault: a crash after fold 1")
if mode == "segfault":
    ctypes.string_at(0)
elif mode == "wait":
    sleep_forever()
elif mode == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ignoring SIGTERM", flush=True)
    sleep_forever()
elif mode == "fork-bomb":
    fork_bomb(int(arg))
elif mode == "daemon":
    daemonise()
elif mode == "pid-hopper":
    import pid_hopper

    pid_hopper.start(arg, 0.0)
    print("the daemon has changed its PID; the child exits", flush=True)
elif mode == "close-stdout":
    close_stdout(float(arg))
elif mode == "flood":
    flood(int(arg))
elif mode == "corrupt-events":
    corrupt_events()
elif mode == "absurd":
    absurd()
elif mode == "costly-lines":
    costly_lines()
elif mode == "steady":
    steady()
elif mode == "quick":
    pass
else:
    raise SystemExit(f"unknown mode {mode}")
