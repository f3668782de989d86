"""The harness's signal trap: the signals that interrupt a run are recorded, never fatal, and wake the poll loop.

A cancelled workflow, a terminal or a container runtime signals the harness; the run acts on what the trap
recorded (:mod:`mle_ci.supervisor` stops the child, the pipeline ends with its reports), and once the exit code
is decided no late signal can change it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from types import FrameType

HARNESS_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
"""What a cancelled workflow, a terminal or a container runtime sends the harness: each one interrupts the run."""


class SignalTrap:
    """Catches the :data:`HARNESS_SIGNALS`, records them for the run to act on, and wakes the poll loop.

    A process's own trap (``for_process=True``) is never given back: when it is left, every harness signal is
    ignored until the process exits, so that no late signal can change the exit code the reports name.
    """

    def __init__(self, *, for_process: bool = False) -> None:
        self.received: list[int] = []
        self.handled = 0
        self.read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._previous: dict[int, object] = {}
        self._previous_wakeup = -1
        self.installed = False
        self._for_process = for_process
        self._settled = False

    def _handler(self, signum: int, _frame: FrameType | None) -> None:
        # Only recorded: an exception raised here could land anywhere (CPython even turns one raised inside a
        # class being built into a RuntimeError, or into death by SIGINT at exit).
        self.received.append(signum)

    def install(self) -> None:
        try:
            self._previous_wakeup = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        except ValueError:
            return  # not the main thread: the caller's own handling applies
        for sig in HARNESS_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handler)
        self.installed = True

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self.read_fd, 512):
                pass

    def __enter__(self) -> SignalTrap:
        self.install()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._for_process:
            self.settle()
        else:
            self.close()

    @property
    def first(self) -> int | None:
        """The first signal received, if any."""
        return self.received[0] if self.received else None

    def settle(self) -> None:
        """Ignore every harness signal from now until the process exits: its exit code is decided."""
        if self.installed and not self._settled:
            for sig in HARNESS_SIGNALS:
                # SIG_IGN, not a Python handler: the interpreter puts its handlers back to the default (death by
                # the signal) while it shuts down, but leaves an ignored signal ignored.
                signal.signal(sig, signal.SIG_IGN)
        self._settled = True

    def close(self) -> None:
        if self._settled:
            return  # the process is ending: its signals stay ignored, and its wake-up pipe open
        if self.installed:
            for sig, previous in self._previous.items():
                signal.signal(sig, previous)  # type: ignore[arg-type]
            signal.set_wakeup_fd(self._previous_wakeup)
        os.close(self.read_fd)
        os.close(self._write_fd)
