"""Progress bars are output: a line redrawn with carriage returns keeps the run alive and logs its last state."""

from __future__ import annotations

from pathlib import Path

from helpers import run_child

from mle_ci.console import Progress as ProgressState
from mle_ci.files import LogFile, Redactor
from mle_ci.stages.clock import Clocks, heartbeat_due, stop_reason
from mle_ci.stages.outputwatch import OutputWatcher
from mle_ci.tracker import RunTracker


class RecordingConsole:
    """Keeps what the monitor echoes."""

    live = False

    def __init__(self) -> None:
        self.echoed: list[list[str]] = []

    def start(self) -> None:
        """Nothing to start."""

    def child_lines(self, texts: list[str]) -> None:
        self.echoed.append(texts)

    def note(self, text: str) -> None:
        """Harness notes are not under test here."""

    def progress(self, progress: ProgressState, status: str) -> None:
        """No live display."""

    def stop(self) -> None:
        """Nothing to stop."""


def _monitor(tmp_path: Path, console: RecordingConsole, secrets: tuple[str, ...] = ()) -> tuple[OutputWatcher, Path]:
    log = tmp_path / "log.txt"
    monitor = OutputWatcher(
        tracker=RunTracker(started_at=0.0),
        console=console,
        log=LogFile(log),
        events_path=tmp_path / "events.jsonl",
        redactor=Redactor(secrets),
        patterns=(),
        clocks=Clocks(
            started=0.0,
            deadline=None,
            last_activity=0.0,
            last_output=0.0,
            last_beat=0.0,
            stall_timeout=30.0,
            heartbeat=10.0,
        ),
        save=lambda: None,
    )
    return monitor, log


def test_a_redraw_is_output_for_the_stall_timer_and_the_heartbeat(tmp_path: Path) -> None:
    """A redrawn state resets the stall timer and the heartbeat, is echoed, and writes nothing to the log yet."""
    console = RecordingConsole()
    monitor, log = _monitor(tmp_path, console)
    assert stop_reason(monitor.clocks, 40.0) == "stalled"
    monitor.on_redraw(b"train:  45%|####      | 450/1000", 25.0)
    assert stop_reason(monitor.clocks, 40.0) is None
    assert not heartbeat_due(monitor.clocks, 30.0)
    assert console.echoed == [["train:  45%|####      | 450/1000"]]
    monitor.finish()
    assert log.read_bytes() == b""


def test_the_finished_line_is_logged_once_and_not_echoed_twice(tmp_path: Path) -> None:
    """When a line ends in the state last echoed, the log gets it and the console does not repeat it."""
    console = RecordingConsole()
    monitor, log = _monitor(tmp_path, console)
    monitor.on_redraw(b"epoch 1: 100%", 1.0)
    monitor.on_lines([b"epoch 1: 100%", b"validation done"], 2.0)
    monitor.on_redraw(b"epoch 2:  50%", 3.0)
    monitor.on_lines([b"epoch 2: 100%"], 4.0)
    monitor.finish()
    assert console.echoed == [["epoch 1: 100%"], ["validation done"], ["epoch 2:  50%"], ["epoch 2: 100%"]]
    assert log.read_bytes() == b"epoch 1: 100%\nvalidation done\nepoch 2: 100%\n"
    assert list(monitor.tail) == ["epoch 1: 100%", "validation done", "epoch 2: 100%"]


def test_a_secret_in_a_redrawn_state_is_redacted_before_it_is_echoed(tmp_path: Path) -> None:
    """A bar's postfix holding a secret is echoed with the secret masked."""
    console = RecordingConsole()
    monitor, _ = _monitor(tmp_path, console, secrets=("s3cr3t-token-value",))
    monitor.on_redraw(b" 10%| key=s3cr3t-token-value", 1.0)
    monitor.finish()
    assert console.echoed == [[" 10%| key=***"]]


def test_a_moving_bar_longer_than_the_stall_timeout_is_not_a_stall(tmp_path: Path) -> None:
    """A bar redrawn without a newline for three times the stall timeout: the run succeeds, and log.txt holds
    the bar once, in its last state."""
    run = run_child("progress_bar", tmp_path / "out", "1", "60", "0.05", options=["--stall-timeout", "1s"])
    assert run.returncode == 0, run.stdout
    assert run.result["status"] == "success"
    assert run.file("log.txt") == "bar 1: 100%|##########| 60/60\ndone\n"


def test_a_bar_that_stops_moving_is_a_stall(tmp_path: Path) -> None:
    """A bar that stops halfway and stays silent is stopped as stalled (exit 1); its last state is logged."""
    options = ["--stall-timeout", "1s", "--grace", "1s"]
    run = run_child("progress_bar", tmp_path / "out", "1", "20", "0.02", "--hang", options=options)
    assert run.returncode == 1, run.stdout
    assert run.result["status"] == "stalled"
    assert run.file("log.txt") == "bar 1:  50%|#####     | 10/20\n"


def test_a_bar_redrawn_a_thousand_times_leaves_one_line_per_bar(tmp_path: Path) -> None:
    """Two bars of 1,000 redraws each as fast as they come: two lines in log.txt, each the bar's last state."""
    run = run_child("progress_bar", tmp_path / "out", "2", "1000", "0")
    assert run.returncode == 0, run.stdout
    assert run.file("log.txt") == ("bar 1: 100%|##########| 1000/1000\nbar 2: 100%|##########| 1000/1000\ndone\n")
    assert "\r" not in run.stdout
