"""Starts a daemon that keeps changing its PID: double fork and ``setsid``, then it forks again and again, each
parent exiting at once, every new self in a session of its own and deaf to SIGTERM.

``pid_hopper.py PIDFILE [PAUSE]``: the daemon writes each new pid to PIDFILE and waits PAUSE seconds (default
0: as fast as it can fork) between hops. The starting process waits until the daemon has changed its PID a few
times, prints one line and exits 0 (with ``--wait``, it sleeps instead of exiting).
"""

import os
import signal
import sys
import time


def hop_forever(pid_file: str, pause: float) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        if os.fork() != 0:
            os._exit(0)
        os.setsid()
        fd = os.open(pid_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        if pause:
            time.sleep(pause)


def start(pid_file: str, pause: float) -> None:
    """Starts the daemon and returns once it has hopped to a third PID."""
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            hop_forever(pid_file, pause)
        os._exit(0)
    os.waitpid(first, 0)
    seen: set[str] = set()
    while len(seen) < 3:
        try:
            with open(pid_file) as handle:
                seen.add(handle.read().strip())
        except OSError:
            pass
        seen.discard("")
        time.sleep(0.001)


if __name__ == "__main__":
    start(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "--wait" else 0.0)
    print("the daemon has changed its PID; the child exits", flush=True)
    if "--wait" in sys.argv:
        time.sleep(300)
