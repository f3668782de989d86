"""``python3 -m mle_ci.action.launch``: the composite step that gets the image and runs the container.

It masks secrets first, runs ``docker pull`` of the action's released image (``docker build`` of its Dockerfile
instead for a local action, when asked, or with a notice when the pull fails) and ``docker run`` from
:mod:`mle_ci.action.dockerrun`, forwards the runner's SIGINT/SIGTERM/SIGHUP (and SIGQUIT) to the ``docker``
client (which proxies them to the container's init), kills the container through its ``--cidfile`` when the
client is slow to stop, and never leaves a container behind. ``--cleanup`` (the action's ``if: always()`` step)
kills any container a hard-killed launcher left. The container never sees the runner's file commands: the harness
in it writes its outputs and summary into a relay folder, and this launcher alone hands them on to the runner.
Standard library only: this runs with the runner host's ``python3``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import BinaryIO, TextIO

from mle_ci.action.dockerrun import DockerInvocation, plan_invocation, relay_files
from mle_ci.console import inert_line
from mle_ci.contract import ExitCode
from mle_ci.errors import ConfigError
from mle_ci.github import SUMMARY_LIMIT_BYTES, GitHub, GitHubFileError, parse_outputs
from mle_ci.redaction import Redactor
from mle_ci.signaltrap import HARNESS_SIGNALS

__all__ = ["CID_FOLDER", "RELAY_FOLDER", "ContainerRun", "cleanup", "deliver_relay", "main"]

CID_FOLDER = "mle-gpu-agent-cid"
"""Folder under ``RUNNER_TEMP`` that holds the cidfile of each running container of this job."""

RELAY_FOLDER = "mle-gpu-agent-relay"
"""Start of the name of each run's relay folder (under ``RUNNER_TEMP``; in the workspace under act)."""

OUTPUTS_LIMIT = 4 * 1024 * 1024
"""Most bytes of outputs taken from the relay (the runner keeps 1 MB of outputs per job)."""

STOP_AFTER = 1.5
"""Seconds after a second signal before the container is killed: the runner kills us 2.5 s after its SIGTERM."""

_GPU_FAILURES = (
    "could not select device driver",
    "nvidia-container-cli",
    "unknown or invalid runtime name: nvidia",
    "nvidia-container-runtime",
)
_DOCKER_FAILED = 125


class ContainerRun:
    """One ``docker run`` client process, its signals forwarded, its container killed if it outlives it."""

    def __init__(self, argv: Sequence[str], cidfile: Path, *, docker: str, stderr: BinaryIO) -> None:
        self._argv = list(argv)
        self._cidfile = cidfile
        self._docker = docker
        self._stderr = stderr
        self._signals: list[int] = []
        self._tail = bytearray()

    @property
    def stderr_tail(self) -> str:
        """The last few kilobytes the docker client wrote to stderr (its own errors land there)."""
        return self._tail.decode("utf-8", "replace")

    def run(self) -> int:
        """Run the client to its end and return its exit code (the container's, or docker's own 125-127)."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in HARNESS_SIGNALS}
        try:
            # Its own session: a terminal's Ctrl-C reaches the launcher alone, which forwards it exactly once.
            client = subprocess.Popen(self._argv, stderr=subprocess.PIPE, start_new_session=True)
            assert client.stderr is not None
            copier = threading.Thread(target=self._copy, args=(client.stderr,), daemon=True)
            copier.start()
            try:
                code = self._wait(client)
            finally:
                if client.poll() is None:
                    kill_container(self._cidfile, self._docker)
                    client.kill()
                    client.wait()
                copier.join(timeout=2)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            kill_container(self._cidfile, self._docker)
        return code

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals.append(signum)

    def _wait(self, client: subprocess.Popen[bytes]) -> int:
        forwarded = 0
        kill_at: float | None = None
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                return client.wait(timeout=0.1)
            while forwarded < len(self._signals):
                with contextlib.suppress(ProcessLookupError):
                    client.send_signal(self._signals[forwarded])
                forwarded += 1
                if forwarded == 2:
                    kill_at = time.monotonic() + STOP_AFTER
            if kill_at is not None and time.monotonic() >= kill_at:
                kill_container(self._cidfile, self._docker)
                kill_at = None

    def _copy(self, source: BinaryIO) -> None:
        for chunk in iter(lambda: os.read(source.fileno(), 65536), b""):
            self._stderr.write(chunk)
            self._stderr.flush()
            self._tail += chunk
            del self._tail[:-8192]


def fetch_image(argv: Sequence[str]) -> tuple[int, bool]:
    """Run ``docker pull`` or ``docker build``; a signal (a cancel, maybe minutes in) stops it.

    Returns (code, interrupted).
    """
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: received.append(signum)) for sig in HARNESS_SIGNALS}
    try:
        client = subprocess.Popen(list(argv), start_new_session=True)
        forwarded = 0
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = client.wait(timeout=0.1)
                break
            while forwarded < len(received):
                with contextlib.suppress(ProcessLookupError):
                    # SIGINT is how the docker client cancels a pull or build; a second signal ends it at once.
                    client.send_signal(signal.SIGINT if forwarded == 0 else signal.SIGKILL)
                forwarded += 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code, bool(received)


def kill_container(cidfile: Path, docker: str) -> None:
    """Kill (and so, with ``--rm``, remove) the container named in ``cidfile`` if any, then drop the file."""
    try:
        cid = cidfile.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return
    if cid:
        # "No such container" once it already ended: expected, so its output is dropped.
        subprocess.run([docker, "kill", cid], capture_output=True, check=False)
    with contextlib.suppress(OSError):
        cidfile.unlink()


def cleanup(env: Mapping[str, str], docker: str = "docker") -> int:
    """Kill every container this job's launchers left (a hard-killed step); always exits 0."""
    folder = _cid_folder(env)
    if folder is None or not folder.is_dir():
        return 0
    for cidfile in sorted(folder.glob("*.cid")):
        kill_container(cidfile, docker)
    return 0


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, stream: TextIO | None = None) -> int:
    """Build and run the action's container; the exit code is the run's (documented), or 2/3 when docker fails."""
    args = list(sys.argv[1:] if argv is None else argv)
    environ = dict(os.environ if env is None else env)
    out = sys.stdout if stream is None else stream
    docker = environ.get("MLE_CI_DOCKER", "").strip() or "docker"
    if args == ["--cleanup"]:
        return cleanup(environ, docker)
    if args:
        print(inert_line(f"Error: unknown arguments {' '.join(args)!r}; usage: launch [--cleanup]"), file=sys.stderr)
        return int(ExitCode.USAGE)
    github = GitHub(out)
    for value in Redactor.from_env(environ).values:
        github.mask(value)
    out.flush()
    try:
        return _launch(environ, docker, github, out)
    except ConfigError as exc:
        return _fail(github, out, str(exc), ExitCode.USAGE)


def _launch(env: Mapping[str, str], docker: str, github: GitHub, stream: TextIO) -> int:
    if shutil.which(docker, path=env.get("PATH")) is None:
        raise ConfigError(
            f"{docker!r} is not installed on this runner; use the job-container or the no-Docker recipe instead"
        )
    folder = _cid_folder(env)
    if folder is None:
        raise ConfigError("RUNNER_TEMP is not set: the action runs inside a GitHub Actions job (or act)")
    folder.mkdir(parents=True, exist_ok=True)
    cidfile = folder / f"{os.getpid()}-{time.time_ns()}.cid"  # docker refuses a cidfile that exists
    relay = _relay_folder(env)
    try:
        invocation = plan_invocation(
            env,
            action_path=env.get("GITHUB_ACTION_PATH", ""),
            user=f"{os.getuid()}:{os.getgid()}",
            cidfile=str(cidfile),
            relay=str(relay),
            docker=docker,
            event_file=_event_file(env),
        )
    except BaseException:
        shutil.rmtree(relay, ignore_errors=True)
        raise
    try:
        return _obtain_and_run(invocation, cidfile, docker, github, stream)
    finally:
        deliver_relay(relay, env, stream)


def _obtain_and_run(invocation: DockerInvocation, cidfile: Path, docker: str, github: GitHub, stream: TextIO) -> int:
    image = _obtain_image(invocation, github, stream)
    if isinstance(image, int):
        return image
    stream.flush()
    container = ContainerRun(invocation.run_line(image), cidfile, docker=docker, stderr=sys.stderr.buffer)
    code = container.run()
    return _docker_failure(code, container.stderr_tail, invocation, github, stream)


def _fetch_in_group(argv: Sequence[str], title: str, github: GitHub, stream: TextIO) -> tuple[int, bool]:
    """A pull or a build in a log group of its own: its exit code, and whether a cancel stopped it."""
    github.group(title)
    stream.flush()
    code, interrupted = fetch_image(argv)
    github.end_group()
    return code, interrupted


def _obtain_image(invocation: DockerInvocation, github: GitHub, stream: TextIO) -> str | int:
    """The image to run once pulled or built, or the exit code when there is none (a cancel, a failed build)."""
    choice = invocation.image
    if invocation.pull:
        title = f"Pull the image {choice.reference} ({choice.why})"
        pulled, interrupted = _fetch_in_group(invocation.pull, title, github, stream)
        if interrupted:
            return _fail(github, stream, "cancelled while pulling the image; nothing was run", ExitCode.INTERRUPTED)
        if pulled == 0:
            return choice.reference
        github.annotate(
            "notice",
            f"could not pull {choice.reference} (exit {pulled}): building the action's Dockerfile instead",
            title="mle-gpu-agent",
        )
    if invocation.build:
        title = f"Build the image {choice.local} ({choice.why})"
        built, interrupted = _fetch_in_group(invocation.build, title, github, stream)
        if interrupted:
            return _fail(github, stream, "cancelled while building the image; nothing was run", ExitCode.INTERRUPTED)
        if built != 0:
            return _fail(github, stream, f"docker build failed (exit {built}); nothing was run", ExitCode.USAGE)
        return choice.local
    return choice.reference


def _docker_failure(code: int, stderr: str, invocation: DockerInvocation, github: GitHub, stream: TextIO) -> int:
    """The run's exit code as documented; docker's own failures (125-127: nothing ran) become 3 or 2."""
    if code < 0:
        return 128 - code  # the client died of a signal: the shell's convention
    if code != _DOCKER_FAILED and code not in (126, 127):
        return code
    lowered = stderr.lower()
    if invocation.gpu_requested and any(marker in lowered for marker in _GPU_FAILURES):
        return _fail(
            github,
            stream,
            "docker could not give the container a GPU: this runner has no NVIDIA Container Toolkit "
            "(install it and run `nvidia-ctk runtime configure --runtime=docker`), or no GPU; "
            "set gpus: none to run without one",
            ExitCode.GPU_UNAVAILABLE,
        )
    message = f"docker could not start the container (exit {code}); nothing was run"
    return _fail(github, stream, message, ExitCode.USAGE)


def _fail(github: GitHub, stream: TextIO, message: str, code: int) -> int:
    github.annotate("error", message, title="mle-gpu-agent")
    stream.flush()
    print(inert_line(f"Error: {message}"), file=sys.stderr)
    return int(code)


def _relay_folder(env: Mapping[str, str]) -> Path:
    """A fresh folder for what the container hands the runner: under ``RUNNER_TEMP``, or in the workspace under
    act (whose runner folders live where the host's daemon cannot mount them); its two files already there."""
    workspace = env.get("GITHUB_WORKSPACE", "").strip()
    act = env.get("ACT") == "true" and os.path.isabs(workspace)
    base = Path(workspace) if act else _runner_temp(env)
    if base is None:
        raise ConfigError("RUNNER_TEMP is not set: the action runs inside a GitHub Actions job (or act)")
    relay = base / f"{'.' if act else ''}{RELAY_FOLDER}-{os.getpid()}-{time.time_ns()}"
    relay.mkdir(parents=True)
    for path in relay_files(str(relay)).values():
        Path(path).touch()
    return relay


def _event_file(env: Mapping[str, str]) -> str | None:
    """The runner's event file, to be mounted read-only, when the host's daemon can see it (under act it cannot:
    it is in act's job container, where this launcher runs)."""
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    if env.get("ACT") == "true" or not (path and os.path.isabs(path) and os.path.isfile(path)):
        return None
    return path


def deliver_relay(relay: Path, env: Mapping[str, str], stream: TextIO) -> None:
    """Hand on what the harness left in ``relay``, then drop the folder.

    Each well-formed output is written anew to the runner's ``GITHUB_OUTPUT`` (a fresh delimiter, checked not
    to occur in the value), whatever the file held around it; the summary is appended within the runner's limit.
    The outputs never wait on the summary. What had to be left out is a warning annotation.
    """
    files = relay_files(str(relay))
    output, summary = env.get("GITHUB_OUTPUT", "").strip(), env.get("GITHUB_STEP_SUMMARY", "").strip()
    runner = GitHub(stream, Path(output) if output else None, Path(summary) if summary else None)
    problems: list[str] = []
    try:
        written = _read_relay(Path(files["GITHUB_OUTPUT"]), OUTPUTS_LIMIT)
        parsed = parse_outputs(written.decode("utf-8", "replace"))
        problems += [f"step outputs: {problem}" for problem in parsed.problems]
        runner.set_outputs(parsed.outputs)
    except (OSError, GitHubFileError) as exc:
        problems.append(f"step outputs not handed on: {exc}")
    try:
        text = _read_relay(Path(files["GITHUB_STEP_SUMMARY"]), SUMMARY_LIMIT_BYTES)
        if text:
            runner.append_summary(text.decode("utf-8", "replace"))
    except (OSError, GitHubFileError) as exc:
        problems.append(f"job summary not handed on: {exc}")
    for problem in problems[:10]:
        runner.annotate("warning", problem, title="mle-gpu-agent")
    shutil.rmtree(relay, ignore_errors=True)


def _read_relay(path: Path, limit: int) -> bytes:
    """A relay file's bytes, at most ``limit`` and more only as an error; never through a link, nor anything
    but a plain file, so the container cannot make the launcher read the host's files."""
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=folder)
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a plain file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path.name} holds more than {limit} bytes")
    return data


def _runner_temp(env: Mapping[str, str]) -> Path | None:
    temp = env.get("RUNNER_TEMP", "").strip()
    return Path(temp) if temp else None


def _cid_folder(env: Mapping[str, str]) -> Path | None:
    temp = _runner_temp(env)
    return temp / CID_FOLDER if temp is not None else None


if __name__ == "__main__":
    raise SystemExit(main())
