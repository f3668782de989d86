"""Every user mistake exits 2 with a message that names it, never a traceback, and nothing is run.

The mistakes come in through every door a user has: flags, the config file, the environment, and the bytes of
a real command line (where text that is not UTF-8 can only arrive from outside Python).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, base_env, child

from mle_ci.cli import main
from mle_ci.usertext import MAX_NAME, name_problem, path_problem, text_problem, word_problem

LONG_ID = "x" * 5000


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """``main(argv)`` exits 2, its message holds every fragment, and it is one short line, not a traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    assert len(err) < 600, err  # a 5,000-character value is quoted cut, not echoed whole
    return err


def _config(folder: Path, text: str) -> str:
    (folder / "mistake.yml").write_text(text, encoding="utf-8")
    return "mistake.yml"


def _sleeper() -> list[str]:
    return child("sleeper", "0")


def test_a_config_file_nested_thousands_deep_is_refused_by_its_line(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nesting 5,000 deep (which makes PyYAML recurse to its death) is refused before it is composed."""
    for text in (
        "folds: " + "[" * 5000 + "]" * 5000 + "\n",
        "prices:\n" + "".join(f"{' ' * n}a:\n" for n in range(1, 1200)),
    ):
        _usage_error(["run", "--config", _config(in_tmp, text), "--", *_sleeper()], capsys, "mistake.yml line", "deep")
    assert not (in_tmp / "mle-ci-results" / "result.json").exists()


@pytest.mark.parametrize(
    ("yaml_text", "fragments"),
    [
        ('command: ["true", "a\\0b"]\n', ("word 1 of the command", "NUL byte")),
        ('command: "tr\\0ue"\n', ("word 0 of the command", "NUL byte")),
        ('output_dir: "out\\0x"\ncommand: "true"\n', ("output_dir", "NUL byte")),
        ('data_dir: "d\\0"\ncommand: "true"\n', ("data_dir", "NUL byte")),
        ('competition: "a\\0b"\n', ("competition", "NUL byte")),
        ('metric: "auc\\0"\ncommand: "true"\n', ("metric", "NUL byte")),
        ('competition: "a/../b"\n', ("competition", "not one folder name")),
        ('metric: "a\\x1bb"\ncommand: "true"\n', ("metric", "control character")),
        ('metric: "\\udcff"\ncommand: "true"\n', ("metric", "not valid UTF-8")),
    ],
)
def test_a_nul_or_a_broken_character_in_the_config_file_is_named(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], yaml_text: str, fragments: tuple[str, ...]
) -> None:
    """NUL bytes (which no path or exec can carry), control characters, lone surrogates: exit 2, named."""
    _usage_error(["run", "--config", _config(in_tmp, yaml_text)], capsys, "mistake.yml line 1", *fragments)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["run", "--competition", LONG_ID], ("--competition", "5,000 characters", f"at most {MAX_NAME}")),
        (["run", "--competition", LONG_ID, "--data-dir", "."], ("--competition", "5,000 characters")),
        (["grade", "sub.csv", "--competition", LONG_ID], ("competition", "5,000 characters")),
        (["validate", "sub.csv", "--competition", LONG_ID], ("competition", "5,000 characters")),
        (["run", "--metric", LONG_ID, "--", "true"], ("--metric", "5,000 characters")),
        (["run", "--model", LONG_ID, "--", "true"], ("--model", "5,000 characters")),
        (["run", "--output-dir", LONG_ID, "--", "true"], ("--output-dir", "5,000 bytes")),
        (["run", "--data-dir", "d/" + "y" * 300, "--", "true"], ("--data-dir", "a part of 300 bytes")),
        (["run", "--config", LONG_ID], ("--config", "5,000 bytes")),
        (["run", "--", "./" + LONG_ID], ("command", "File name too long")),
        (["run", "--", "true", "x" * 200_000], ("word 1 of the command", "200,000 bytes")),
        (["run", "--", "tr\0ue"], ("word 0 of the command", "NUL byte")),
        (["run", "--output-dir", "out\0", "--", "true"], ("--output-dir", "NUL byte")),
        (["report", LONG_ID], ("RESULT_DIR", "5,000 bytes")),
        (["aggregate", LONG_ID], ("RESULT_DIR", "5,000 bytes")),
        (["grade", LONG_ID, "--competition", "digits-png"], ("SUBMISSION", "5,000 bytes")),
        (["grade", "s.csv", "--competition", "digits-png", "--leaderboard", LONG_ID], ("--leaderboard", "5,000")),
        (["run", "--metric", "auc\udcff", "--", "true"], ("--metric", "not valid UTF-8 (byte 0xff at character 4)")),
        (["run", "--", "echo", "\udcfe"], ("word 1 of the command", "not valid UTF-8 (byte 0xfe")),
        (["report", "out\udcff"], ("RESULT_DIR", "not valid UTF-8")),
    ],
)
def test_an_over_long_or_unusable_value_on_the_command_line_is_named(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragments: tuple[str, ...]
) -> None:
    """A value longer than any real one, a NUL byte, bytes that are not UTF-8: exit 2, named, nothing run."""
    _usage_error(argv, capsys, *fragments)
    assert not (in_tmp / "mle-ci-results" / "result.json").exists()


def test_an_unusable_value_in_the_environment_is_named(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``MLE_CI_*`` and ``INPUT_*`` values pass the same rule as flags."""
    monkeypatch.setenv("MLE_CI_COMPETITION", LONG_ID)
    _usage_error(["run"], capsys, "environment MLE_CI_COMPETITION", "5,000 characters")
    monkeypatch.delenv("MLE_CI_COMPETITION")
    monkeypatch.setenv("INPUT_OUTPUT-DIR", "o/" + "z" * 256)
    _usage_error(["run", "--", "true"], capsys, "input output-dir", "a part of 256 bytes")


def test_a_program_exec_refuses_is_exit_2_naming_it(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An executable file that is no program (no #! line, not a binary): exec refuses it, exit 2, not a crash."""
    script = in_tmp / "not-a-program"
    script.write_bytes(b"\x00\x01garbage")
    script.chmod(0o755)
    _usage_error(["run", "--", "./not-a-program"], capsys, "'./not-a-program' could not be started", "format")


def test_bytes_that_are_not_utf8_on_a_real_command_line_exit_2(tmp_path: Path) -> None:
    """The bytes as a shell passes them (Python reads them as surrogates): exit 2, the value named."""
    for args in ([b"--metric", b"auc\xff", b"--", b"true"], [b"--", b"echo", b"\xfe\xff"], [b"--output-dir", b"o\xff"]):
        proc = subprocess.run(
            [os.fsencode(sys.executable), b"-m", b"mle_ci", b"run", *args],
            env=base_env(),
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
            check=False,
        )
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 2, err
        assert "not valid UTF-8" in err and "Traceback" not in err, err
    assert ROOT.is_dir()


def test_the_rule_itself() -> None:
    """One rule for user text: what passes, and the words for what does not."""
    assert name_problem("spaceship-titanic") is None
    assert name_problem("a" * MAX_NAME) is None
    assert name_problem("a" * (MAX_NAME + 1)) == f"is {MAX_NAME + 1} characters long; a name has at most {MAX_NAME}"
    assert name_problem("a\tb") is not None
    assert path_problem("data/" + "é" * 127) is None  # 254 bytes in one part
    assert path_problem("data/" + "é" * 128) is not None
    assert word_problem("python -c 'print(1)'\n") is None  # a word may hold a newline
    assert text_problem("ok", max_bytes=2) is None
    assert text_problem("é", max_bytes=1) == "is 2 bytes long; at most 1 are accepted"
    assert text_problem("\udc80", max_bytes=9) == "is not valid UTF-8 (byte 0x80 at character 1)"
    assert text_problem("\ud800", max_bytes=9) == "is not valid UTF-8 (a lone surrogate at character 1)"
