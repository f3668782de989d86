from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mle_ci.files import LogFile, write_atomic
from mle_ci.linesplit import LineSplitter
from mle_ci.proctree import descendants
from mle_ci.redaction import Redactor

_NO_CR = st.binary(max_size=50).map(lambda b: b.replace(b"\r", b""))


@given(st.lists(_NO_CR, max_size=20), st.integers(min_value=1, max_value=16))
def test_splitter_keeps_every_byte_and_bounds_pieces(chunks: list[bytes], limit: int) -> None:
    """Without carriage returns, whatever the chunking, lines joined back give the input and no piece exceeds
    the limit."""
    splitter = LineSplitter(max_line=limit)
    pieces = [piece for chunk in chunks for piece in splitter.feed(chunk).lines]
    pieces += splitter.close()
    assert all(len(p) <= limit for p in pieces)
    assert b"".join(pieces) == b"".join(chunks).replace(b"\n", b"")


def test_splitter_splits_on_newlines() -> None:
    """Complete lines come out as soon as their newline arrives."""
    splitter = LineSplitter()
    assert splitter.feed(b"a\nb").lines == (b"a",)
    assert splitter.feed(b"c\n\n").lines == (b"bc", b"")
    assert splitter.close() == []


def test_descendants_finds_grandchildren() -> None:
    """The /proc walk finds a child and its own child."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess,sys,time; p=subprocess.Popen(['sleep','5']); print(p.pid, flush=True); time.sleep(5)",
        ],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    grandchild = int(proc.stdout.readline())
    found = descendants(os.getpid())
    proc.kill()
    proc.wait()
    os.kill(grandchild, 9)
    proc.stdout.close()
    assert proc.pid in found
    assert grandchild in found


def test_redactor_replaces_secrets_in_bytes_and_text() -> None:
    """Known secret values become *** wherever they appear."""
    redactor = Redactor(["s3cr3t-value", ""])
    assert redactor.bytes(b"a s3cr3t-value b") == b"a *** b"
    assert redactor.text("s3cr3t-value!") == "***!"
    assert Redactor([])  # never empty: credential shapes are looked for without any value


def test_write_atomic_leaves_no_temp_files(tmp_path: Path) -> None:
    """The file is replaced whole; no temporary file stays behind."""
    target = tmp_path / "result.json"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_log_file_remembers_a_write_error(tmp_path: Path) -> None:
    """A log that cannot be opened records why instead of raising."""
    log = LogFile(tmp_path / "missing" / "log.txt")
    log.write_lines([b"x"])
    log.close()
    assert log.error is not None


def test_write_atomic_takes_back_a_folder_made_read_only(tmp_path: Path) -> None:
    """The child runs as our user and may make the output folder read-only: the final reports are still written.
    Run without capabilities (as a same-user child would be), since root writes into any folder anyway."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "result.json").write_text('{"status": "running"}')
    (folder / "result.json").chmod(0o444)
    folder.chmod(0o555)
    code = (
        "import sys; from pathlib import Path; from mle_ci.files import write_atomic; "
        "write_atomic(Path(sys.argv[1]) / 'result.json', 'final')"
    )
    argv = [sys.executable, "-c", code, str(folder)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root, and no setpriv to drop the capabilities that ignore folder permissions")
        argv = [setpriv, "--bounding-set=-all", "--inh-caps=-all", *argv]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert (folder / "result.json").read_text() == "final"
    finally:
        folder.chmod(0o755)
