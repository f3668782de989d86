"""The claude agent's file tools against real files, real links and a real process racing them.

A secret file lies outside the roots; another process swaps a path between a link to it and a regular file,
thousands of times, while the tools read, write and validate that path. The secret must never come back and
nothing may be written outside the roots. FIFOs and huge sparse files must neither hang a tool nor fill memory,
and any path at all must give a result or a tool error, never an exception.
"""

from __future__ import annotations

import ctypes
import functools
import io
import os
import re
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mle_ci.agents.claude.agent import Run
from mle_ci.agents.claude.api import ModelReply
from mle_ci.agents.claude.config import load_config
from mle_ci.agents.claude.jobs import Jobs
from mle_ci.agents.claude.paging import PAGE_BYTES, read_page
from mle_ci.agents.claude.tools import ToolBox, ToolOutcome
from mle_ci.agents.claude.validation import validate
from mle_ci.agents.claude.workspace import Workspace
from mle_ci.competitions.demos import demo_competition
from mle_ci.redaction import REDACTED as MASK
from mle_ci.redaction import Redactor

KEY = "sk-ant-api03-TOOLSkey0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
SECRET = "TOP-SECRET-outside-the-roots"
"""Not secret by the environment's policy (no redactor knows it): only confinement keeps it from the model."""
PUBLIC = "id,y\n1,0.5\n"
TRIES = 3000

SWAPPER = r"""
import ctypes, os, sys
path, target, content, stop = sys.argv[1:5]
swaps = 0
if content == "-":  # a folder, atomically exchanged with a link out of the roots (renameat2 RENAME_EXCHANGE)
    os.mkdir(path)
    os.symlink(target, path + ".swap")
    exchange = ctypes.CDLL(None, use_errno=True).renameat2
    while not os.path.exists(stop):
        if exchange(-100, path.encode(), -100, (path + ".swap").encode(), 2) != 0:
            sys.exit(f"renameat2: errno {ctypes.get_errno()}")
        swaps += 1
else:  # a file, replaced in turn by a link out of the roots and by a regular file
    link, regular = path + ".link", path + ".file"
    while not os.path.exists(stop):
        os.symlink(target, link)
        os.replace(link, path)
        with open(regular, "w") as handle:
            handle.write(content)
        os.replace(regular, path)
        swaps += 1
print(swaps)
"""


def can_exchange(folder: Path) -> bool:
    """Whether renameat2's RENAME_EXCHANGE works here (Linux, glibc, a file system that has it)."""
    try:
        exchange = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    (folder / "x-a").mkdir()
    (folder / "x-b").symlink_to("x-a")
    done = exchange(-100, bytes(folder / "x-a"), -100, bytes(folder / "x-b"), 2) == 0
    for name in ("x-a", "x-b"):
        (folder / name).unlink() if (folder / name).is_symlink() else (folder / name).rmdir()
    return done


@dataclass
class Site:
    """A workspace (also the submission folder), the data, and a folder outside with a secret in it."""

    root: Path
    data: Path
    outside: Path
    secret: Path
    tools: ToolBox

    def outside_state(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.outside.iterdir())}


def make_site(base: Path) -> Site:
    root, data, outside = base / "ws", base / "data", base / "outside"
    for folder in (root, data, outside):
        folder.mkdir()
    (data / "sample_submission.csv").write_text("id,y\n1,0\n")
    secret = outside / "secret.csv"
    secret.write_text(f"{SECRET}\n1,{SECRET}\n")
    space = Workspace(root, data, root)
    jobs = Jobs(folder=base / "jobs", cwd=root, env=dict(os.environ), events=None, redact=str, echo=io.StringIO())
    tools = ToolBox(
        workspace=space,
        jobs=jobs,
        env=dict(os.environ),
        validate=lambda path: validate(space, path, competition=None, env={}, cwd=root),
        remaining=lambda: 100.0,
        redact=Redactor((KEY,)).text,
    )
    return Site(root, data, outside, secret, tools)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path)


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("site"))


class Swapper:
    """A process that swaps a path between a link and a regular file (or a folder) until stopped."""

    def __init__(self, path: Path, target: str, content: str, stop: Path) -> None:
        argv = [sys.executable, "-c", SWAPPER, str(path), target, content, str(stop)]
        self._stop = stop
        self._swaps: int | None = None
        self._process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        while not path.is_symlink() and self._process.poll() is None:  # the race is on before the first try
            pass

    def stop(self) -> int:
        """Stop swapping (once); how many swaps were made."""
        if self._swaps is None:
            self._stop.touch()
            out, _ = self._process.communicate(timeout=60)
            assert self._process.returncode == 0, out
            self._swaps = int(out)
        return self._swaps


@pytest.fixture
def swapper(tmp_path: Path) -> Iterator[Callable[[Path, str, str], Swapper]]:
    """Starts swappers; any still running when the test ends is stopped."""
    running: list[Swapper] = []

    def start(path: Path, target: str, content: str) -> Swapper:
        running.append(Swapper(path, target, content, tmp_path / f"stop-{len(running)}"))
        return running[-1]

    yield start
    for each in running:
        each.stop()


def call(tools: ToolBox, name: str, **args: object) -> ToolOutcome:
    return tools.call(name, args)


# --- racing: the path is swapped between a link out and a regular file while the tools use it


def test_a_read_raced_by_a_swapped_link_never_returns_the_secret(site: Site, swapper: Callable[..., Swapper]) -> None:
    """Thousands of read_file calls while another process swaps the file for a link to a secret outside."""
    swapping = swapper(site.root / "target.csv", str(site.secret), PUBLIC)
    outcomes = [call(site.tools, "read_file", path="target.csv") for _ in range(TRIES)]
    assert swapping.stop() > 0
    assert not [o.text for o in outcomes if SECRET in o.text]
    assert any(not o.is_error and o.text.startswith(PUBLIC) for o in outcomes)
    assert any(o.is_error for o in outcomes)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="no /proc")
def test_a_read_raced_by_a_link_to_the_agents_own_environment_never_returns_it(
    site: Site, swapper: Callable[..., Swapper]
) -> None:
    """The finding: a link swapped in to /proc/self/environ (the agent's own, with its key) is never read."""
    entries = Path("/proc/self/environ").read_bytes().decode(errors="replace").split("\0")
    first = max((e for e in entries if "=" in e), key=len)
    swapping = swapper(site.root / "target.csv", "/proc/self/environ", PUBLIC)
    outcomes = [call(site.tools, "read_file", path="target.csv") for _ in range(TRIES)]
    assert swapping.stop() > 0
    assert not [o.text for o in outcomes if first in o.text]
    # Which state each read met is up to the scheduler; the swapper ends on the regular file, which reads.
    assert call(site.tools, "read_file", path="target.csv").text.startswith(PUBLIC)


def test_a_write_raced_by_a_swapped_link_never_writes_outside(site: Site, swapper: Callable[..., Swapper]) -> None:
    """write_file on a path swapped between a regular file and a link to a file outside: the outside is untouched."""
    before = site.outside_state()
    swapping = swapper(site.root / "target.csv", str(site.secret), PUBLIC)
    outcomes = [call(site.tools, "write_file", path="target.csv", content="x\n") for _ in range(TRIES)]
    assert swapping.stop() > 0
    assert site.outside_state() == before
    assert any(not o.is_error for o in outcomes)
    for outcome in outcomes:
        if not outcome.is_error:
            assert outcome.text.startswith(f"wrote 2 bytes to {site.root.resolve()}/")
    assert not list(site.root.glob(".mle-ci-*.tmp"))


def test_a_write_through_a_folder_swapped_for_a_link_out_never_writes_outside(
    site: Site, tmp_path: Path, swapper: Callable[..., Swapper]
) -> None:
    """A folder of the path atomically exchanged with a link to a folder outside: nothing lands outside."""
    if not can_exchange(tmp_path):
        pytest.skip("renameat2 RENAME_EXCHANGE is not available here")
    before = site.outside_state()
    swapping = swapper(site.root / "sub", str(site.outside), "-")
    outcomes = [call(site.tools, "write_file", path="sub/model.py", content="x") for _ in range(TRIES)]
    assert swapping.stop() > 0
    assert site.outside_state() == before
    assert any(not o.is_error for o in outcomes) and any(o.is_error for o in outcomes)
    assert [p.read_text() for p in site.root.glob("*/model.py")] == ["x"]


def test_validating_a_raced_submission_never_echoes_the_secret(site: Site, swapper: Callable[..., Swapper]) -> None:
    """validate_submission while submission.csv is swapped for a link to a secret CSV outside: never echoed."""
    swapping = swapper(site.root / "submission.csv", str(site.secret), PUBLIC)
    outcomes = [call(site.tools, "validate_submission") for _ in range(TRIES // 3)]
    assert swapping.stop() > 0
    assert not [o.text for o in outcomes if SECRET in o.text]
    assert any(not o.is_error for o in outcomes)


# --- what is not a regular file, and files too large to hold


def in_thread(action: Callable[[], ToolOutcome]) -> ToolOutcome:
    """Run ``action`` where a hang cannot stop the suite: a tool that blocks fails the test instead."""
    done: list[ToolOutcome] = []
    worker = threading.Thread(target=lambda: done.append(action()), daemon=True)
    worker.start()
    worker.join(120)
    assert done, "the tool blocked"
    return done[0]


def test_a_fifo_or_a_device_is_refused_without_blocking(site: Site) -> None:
    """A FIFO (no writer) and links to /dev/zero give tool errors at once; validate_submission does not wait."""
    os.mkfifo(site.root / "pipe")
    os.mkfifo(site.root / "submission.csv")
    (site.root / "zero").symlink_to("/dev/zero")
    for name, args in (
        ("read_file", {"path": "pipe"}),
        ("read_file", {"path": "zero"}),
        ("validate_submission", {}),
        ("validate_submission", {"path": "zero"}),
    ):
        outcome = in_thread(functools.partial(site.tools.call, name, args))
        assert outcome.is_error
        assert "not a regular file" in outcome.text or "outside the workspace" in outcome.text


def peak_memory(action: Callable[[], ToolOutcome]) -> tuple[ToolOutcome, int]:
    tracemalloc.start()
    try:
        outcome = action()
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_file_is_read_in_bounded_memory(site: Site) -> None:
    """A 1 GiB file of one line (sparse): read_file holds one page, cut and marked, and refuses far offsets."""
    huge = site.root / "huge.bin"
    with huge.open("wb") as handle:
        handle.truncate(2**30)
    outcome, peak = peak_memory(lambda: call(site.tools, "read_file", path="huge.bin"))
    assert not outcome.is_error and f"cut at {PAGE_BYTES} bytes" in outcome.text
    assert peak < 8 * 2**20
    far, peak = peak_memory(lambda: call(site.tools, "read_file", path="huge.bin", offset=10**9))
    assert far.is_error and "use bash" in far.text and peak < 8 * 2**20


def test_a_huge_submission_is_checked_in_bounded_memory(site: Site) -> None:
    """A 1 GiB submission of one line (sparse) is invalid, read a bounded line at a time."""
    with (site.root / "submission.csv").open("wb") as handle:
        handle.truncate(2**30)
    outcome, peak = peak_memory(lambda: call(site.tools, "validate_submission"))
    assert outcome.is_error and "a line longer than" in outcome.text
    assert peak < 64 * 2**20


# --- links that stay inside, the submission folder, the pinned roots


def test_links_that_stay_inside_the_roots_are_followed(site: Site) -> None:
    """Links inside the workspace, into the data, and `..` through a link resolve as the kernel would."""
    (site.root / "d").symlink_to(site.data)
    (site.root / "rel").symlink_to("d/sample_submission.csv")
    (site.root / "chain").symlink_to("rel")
    for path in (
        "d/sample_submission.csv",
        "rel",
        "chain",
        str(site.root / "chain"),
        "d/../data/sample_submission.csv",
    ):
        outcome = call(site.tools, "read_file", path=path)
        assert (outcome.is_error, outcome.text.split("\n[")[0]) == (False, "id,y\n1,0\n")
    (site.root / "out").symlink_to(site.root / "written.txt")
    assert not call(site.tools, "write_file", path="out", content="through").is_error
    assert (site.root / "written.txt").read_text() == "through" and (site.root / "out").is_symlink()
    (site.root / "loop").symlink_to("loop")
    assert "symbolic links" in call(site.tools, "read_file", path="loop").text


def test_the_runs_submission_is_read_only_inside_the_submission_folder(tmp_path: Path) -> None:
    """The default submission.csv may link within the submission folder, never out of it, even into the workspace."""
    root, data, submit = tmp_path / "ws", tmp_path / "data", tmp_path / "submit"
    for folder in (root, data, submit / "best"):
        folder.mkdir(parents=True)
    (data / "sample_submission.csv").write_text("id,y\n1,0\n")
    (root / "mine.csv").write_text(PUBLIC)
    (submit / "best" / "s.csv").write_text(PUBLIC)
    space = Workspace(root, data, submit)

    def check(path: str | None = None) -> tuple[bool, str]:
        verdict = validate(space, path, competition=None, env={}, cwd=root)
        return verdict.valid, verdict.text

    (submit / "submission.csv").symlink_to(root / "mine.csv")
    assert check() == (False, f"{submit / 'submission.csv'}: outside the submission folder ({submit}); refused")
    assert check("mine.csv")[0]  # named explicitly, a workspace file is checked
    (submit / "submission.csv").unlink()
    (submit / "submission.csv").symlink_to("best/s.csv")
    assert check()[0]
    verdict = validate(space, None, competition=None, env={}, cwd=root)
    assert verdict.rows == 1


def test_a_root_replaced_by_a_link_is_refused(site: Site, tmp_path: Path) -> None:
    """The workspace moved away and its path made a link to / : the tools refuse instead of reading from /."""
    site.root.rename(tmp_path / "moved")
    site.root.symlink_to("/")
    outcome = call(site.tools, "read_file", path="etc/hostname")
    assert outcome.is_error and "moved or replaced" in outcome.text


def test_the_cli_checks_a_private_copy_and_names_the_agents_path(tmp_path: Path) -> None:
    """In MLE-bench's layout mle-ci validate runs on a copy: its words name the agent's file, never the copy."""
    public = demo_competition("breast-cancer", tmp_path / "cache").public
    root = tmp_path / "ws"
    root.mkdir()
    sample = (public / "sample_submission.csv").read_bytes()
    (root / "submission.csv").write_bytes(sample)
    space = Workspace(root, public, root)
    verdict = validate(space, None, competition="breast-cancer", env=dict(os.environ), cwd=root)
    assert verdict.valid, verdict.text
    assert f"({root / 'submission.csv'})" in verdict.text and "mle-ci-validate-" not in verdict.text
    assert verdict.rows == sample.count(b"\n") - 1


# --- redaction: a secret value from the environment never reaches the model


def test_every_tool_result_passes_the_runs_redactor(site: Site) -> None:
    """The key (and key-shaped text) in a file read, a command's output, a validation or an error is masked."""
    (site.root / "leak.txt").write_text(f"key={KEY}\nother=sk-ant-api03-someoneelsekey0123456789\n")
    (site.root / "submission.csv").write_text(f"id,{KEY}\n1,0\n")
    outcomes = [
        call(site.tools, "read_file", path="leak.txt"),
        call(site.tools, "bash", command="cat leak.txt"),
        call(site.tools, "validate_submission"),
        call(site.tools, "read_file", path=f"{KEY}/x"),
        call(site.tools, "finish", summary=f"done with {KEY}"),
    ]
    for outcome in outcomes:
        assert KEY not in outcome.text and "someoneelse" not in outcome.text
        assert outcome.finished is None or KEY not in outcome.finished
    assert MASK in outcomes[0].text and MASK in outcomes[2].text


class NoClient:
    """A model client that is never asked: these tests call the tools directly."""

    def send(self, **kwargs: object) -> ModelReply:
        raise AssertionError("not asked")

    def close(self) -> None:
        return None


def test_the_agents_tools_redact_with_the_runs_secret_policy(tmp_path: Path) -> None:
    """As the agent wires them, tool results lose the API key and every secret-named variable's value."""
    (tmp_path / "data").mkdir()
    token = "service-token-0123456789abcdef"
    env = {
        "ANTHROPIC_API_KEY": KEY,
        "MLE_CI_DATA_DIR": str(tmp_path / "data"),
        "LOGS_DIR": str(tmp_path / "logs"),
        "MY_SERVICE_TOKEN": token,
    }
    parts = Run(load_config(env, default_model="m"), env, NoClient())
    place, toolbox = parts.search().node_tools(1, None, None)
    (place.folder / "found.txt").write_text(f"{KEY}\n{token}\n")
    outcome = toolbox.call("read_file", {"path": "found.txt"})
    assert outcome.text == f"{MASK}\n{MASK}\n"


# --- any path: a result or a tool error, and never a byte outside


_PARTS = st.sampled_from(
    ["..", ".", "", "a", "sub", "out", "sec", "in", "loop", "pipe", "new", "x" * 300, "n\x00ul", "é"]
)
_PATHS = st.one_of(
    st.lists(_PARTS, max_size=8).map("/".join),
    st.lists(_PARTS, max_size=8).map(lambda parts: "/" + "/".join(parts)),
    st.lists(_PARTS, max_size=6).map(lambda parts: "{root}/" + "/".join(parts)),
    st.text(max_size=300),
)


def prepare(site: Site) -> None:
    if (site.root / "out").is_symlink():
        return
    (site.root / "sub").mkdir()
    (site.root / "out").symlink_to(site.outside)
    (site.root / "sec").symlink_to(site.secret)
    (site.root / "in").symlink_to("sub")
    (site.root / "loop").symlink_to("loop")
    os.mkfifo(site.root / "pipe")


@settings(max_examples=300, deadline=None)
@given(path=_PATHS, offset=st.integers(min_value=-5, max_value=10**12), limit=st.integers(-5, 10**12) | st.none())
def test_any_path_read_is_a_result_or_a_tool_error(
    shared_site: Site, path: str, offset: int, limit: int | None
) -> None:
    """Whatever the path, offset and limit, read_file answers (an error at worst) and never with the secret."""
    prepare(shared_site)
    outcome = shared_site.tools.call(
        "read_file", {"path": path.replace("{root}", str(shared_site.root)), "offset": offset, "limit": limit}
    )
    assert isinstance(outcome, ToolOutcome) and "internal error" not in outcome.text
    assert SECRET not in outcome.text


@settings(max_examples=300, deadline=None)
@given(path=_PATHS, content=st.text(max_size=50))
def test_any_path_written_lands_inside_the_workspace_or_is_a_tool_error(
    shared_site: Site, path: str, content: str
) -> None:
    """Whatever the path and content, write_file writes inside the workspace or answers with an error."""
    prepare(shared_site)
    before = shared_site.outside_state(), sorted(shared_site.data.iterdir())
    outcome = shared_site.tools.call(
        "write_file", {"path": path.replace("{root}", str(shared_site.root)), "content": content}
    )
    assert isinstance(outcome, ToolOutcome) and "internal error" not in outcome.text
    assert (shared_site.outside_state(), sorted(shared_site.data.iterdir())) == before
    if not outcome.is_error:
        written = Path(re.sub(r"^wrote \d+ bytes to ", "", outcome.text))
        assert shared_site.root.resolve() in written.parents


@settings(max_examples=300)
@given(
    lines=st.lists(st.text(alphabet="ab\r", max_size=5), max_size=30),
    end=st.booleans(),
    offset=st.integers(0, 40),
    limit=st.integers(1, 40),
)
def test_a_page_is_the_lines_asked_for(lines: list[str], end: bool, offset: int, limit: int) -> None:
    """read_page gives lines[offset:offset+limit] and the count after them, as reading every line would."""
    data = "\n".join(lines) + ("\n" if end and lines else "")
    pieces = data.encode().split(b"\n")
    every = [piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    page = read_page(io.BytesIO(data.encode()), offset, limit)
    if offset > len(every):
        assert page.lines == 0 and "past the end" in page.text
        return
    chosen = every[offset : offset + limit]
    assert page.text == b"".join(chosen).decode().replace("\r\n", "\n")
    assert (page.lines, page.after, page.cut) == (len(chosen), len(every) - offset - len(chosen), False)
