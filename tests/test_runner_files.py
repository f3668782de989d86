"""Only the harness talks to the runner: the child cannot find the file-command files, and what it does to them
anyway (on a plain host, as the same user) is found, put back and reported."""

from __future__ import annotations

import json
from pathlib import Path

import junitparser
from helpers import read_outputs, run_child

from mle_ci.runnerwatch import RunnerFilesWatch, Tampering, describe_change, read_state
from mle_ci.stages.judge import runner_files_gate as tampering_gate

# The runner's own names for its per-step files, under RUNNER_TEMP/_runner_file_commands.
RUNNER_FILES = {
    "GITHUB_ENV": "set_env",
    "GITHUB_PATH": "add_path",
    "GITHUB_OUTPUT": "set_output",
    "GITHUB_STATE": "save_state",
    "GITHUB_STEP_SUMMARY": "step_summary",
}
EARLIER = {"set_env": "EARLIER=1\n", "add_path": "/earlier/bin\n", "step_summary": "# An earlier summary\n"}


def runner_host(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A plain runner host's step: GITHUB_ACTIONS=true, RUNNER_TEMP and the file-command files inside it."""
    temp = tmp_path / "runner_temp"
    folder = temp / "_runner_file_commands"
    folder.mkdir(parents=True)
    env = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(temp)}
    for name, file in RUNNER_FILES.items():
        (folder / file).write_text(EARLIER.get(file, ""))
        env[name] = str(folder / file)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "train.py").write_text("print('hello')\n")
    env["GITHUB_WORKSPACE"] = str(workspace)
    return env, folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


# ---------------------------------------------------------------------------------------------------------
# The watch itself, on real files
# ---------------------------------------------------------------------------------------------------------


def test_each_kind_of_change_is_named(tmp_path: Path) -> None:
    """Appended, cut, rewritten, deleted, created and replaced by a link are told apart; unchanged is None."""
    path = tmp_path / "f"
    path.write_bytes(b"A=1\n")
    before = read_state("GITHUB_ENV", path)

    def after() -> str | None:
        return describe_change(before, read_state("GITHUB_ENV", path, upto=before.size))

    assert after() is None
    path.write_bytes(b"A=1\nB=2\n")
    assert after() == "4 bytes appended"
    path.write_bytes(b"")
    assert after() == "cut from 4 to 0 bytes"
    path.write_bytes(b"B=1\n")
    assert after() == "rewritten"
    path.unlink()
    assert after() == "deleted"
    path.symlink_to(tmp_path / "elsewhere")
    assert after() == "replaced by a link or something other than a file"
    missing = read_state("GITHUB_PATH", tmp_path / "missing")
    (tmp_path / "missing").write_bytes(b"/x\n")
    assert describe_change(missing, read_state("GITHUB_PATH", tmp_path / "missing")) == "created, 3 bytes"


def test_what_changed_is_put_back_and_a_link_is_replaced_not_followed(tmp_path: Path) -> None:
    """An append is taken off, a cut file refilled, a link swapped back for the file (its target untouched)."""
    target = tmp_path / "target"
    target.write_text("not the runner's\n")
    files = {name: tmp_path / name for name in ("env", "output", "state", "summary")}
    for path in files.values():
        path.write_text("before\n")
    env = {"GITHUB_ENV": str(files["env"]), "GITHUB_OUTPUT": str(files["output"])}
    env |= {"GITHUB_STATE": str(files["state"]), "GITHUB_STEP_SUMMARY": str(files["summary"])}
    watch = RunnerFilesWatch.start(env)
    with files["env"].open("a") as handle:
        handle.write("INJECTED=1\n")
    files["output"].write_text("")
    files["state"].unlink()
    files["state"].symlink_to(target)
    found = watch.check()
    assert [(t.name, t.restored) for t in found] == [
        ("GITHUB_ENV", True),
        ("GITHUB_OUTPUT", True),
        ("GITHUB_STATE", True),
    ]
    for path in files.values():
        assert not path.is_symlink()
        assert path.read_text() == "before\n"
    assert target.read_text() == "not the runner's\n"


def test_permissions_the_child_took_away_are_put_back_before_the_content(tmp_path: Path) -> None:
    """A file made unreadable (and appended to), one made read-only, the folder made unwritable, one file replaced
    by a folder with files in it: the modes come back first (the folder's before the files'), then the content,
    and each change is named."""
    env, folder = runner_host(tmp_path)
    before = snapshot(folder)
    modes = {path.name: path.stat().st_mode & 0o7777 for path in folder.iterdir()}
    folder_mode = folder.stat().st_mode & 0o7777
    watch = RunnerFilesWatch.start(env)
    with (folder / "set_env").open("a") as handle:
        handle.write("INJECTED=1\n")
    (folder / "set_env").chmod(0)
    (folder / "step_summary").chmod(0o444)
    (folder / "set_output").unlink()
    (folder / "set_output").mkdir()
    (folder / "set_output" / "inside").write_text("x")
    folder.chmod(0o555)
    found = {t.name: t for t in watch.check()}
    assert folder.stat().st_mode & 0o7777 == folder_mode
    assert snapshot(folder) == before
    assert {path.name: path.stat().st_mode & 0o7777 for path in folder.iterdir()} == modes
    assert found[f"their folder {folder.name}"].change == f"permissions changed from {folder_mode:04o} to 0555"
    assert found["GITHUB_ENV"].change == f"permissions changed from {modes['set_env']:04o} to 0000; 11 bytes appended"
    assert found["GITHUB_STEP_SUMMARY"].change == f"permissions changed from {modes['step_summary']:04o} to 0444"
    assert found["GITHUB_OUTPUT"].change == "replaced by a link or something other than a file"
    assert all(t.restored for t in found.values())


def test_a_file_too_big_to_keep_loses_only_what_was_appended(tmp_path: Path) -> None:
    """Past the kept size an append is still cut off; a rewrite is found but cannot be put back."""
    path = tmp_path / "summary"
    path.write_text("x" * 100)
    before = read_state("GITHUB_STEP_SUMMARY", path, keep=10)
    watch = RunnerFilesWatch((before,))
    with path.open("a") as handle:
        handle.write("more")
    assert watch.check() == (Tampering("GITHUB_STEP_SUMMARY", "4 bytes appended", restored=True),)
    assert path.read_text() == "x" * 100
    path.write_text("y" * 100)
    (found,) = watch.check()
    assert found.change == "rewritten" and not found.restored


def test_the_gate_fails_and_says_what_was_changed() -> None:
    """No change, no gate; a change gives a failed runner-files gate that names each file and what happened."""
    assert tampering_gate(()) is None
    gate = tampering_gate(
        (Tampering("GITHUB_ENV", "12 bytes appended", True), Tampering("GITHUB_PATH", "rewritten", False))
    )
    assert gate is not None and gate.name == "runner-files" and not gate.passed
    assert "GITHUB_ENV (12 bytes appended)" in gate.message
    assert "GITHUB_PATH (rewritten; could not be put back)" in gate.message


# ---------------------------------------------------------------------------------------------------------
# End to end: the real harness and a child that goes after the files
# ---------------------------------------------------------------------------------------------------------


def test_a_child_finds_no_runner_file_through_its_environment(tmp_path: Path) -> None:
    """Every variable the child has, RUNNER_TEMP included, leads to no runner file: they are unchanged, exit 0."""
    env, folder = runner_host(tmp_path)
    before = snapshot(folder)
    out = tmp_path / "out"
    run = run_child("runner_tamper", out, "hunt", str(tmp_path), str(out), env=env)
    assert run.returncode == 0, run.stdout
    report = json.loads(next(line for line in run.file("log.txt").splitlines() if line.startswith("{")))
    assert report["seen"] == []
    assert not any(str(folder) in path or "runner_temp" in path for path in report["touched"])
    assert any(path.endswith("train.py") for path in report["touched"])  # it did reach what its env names
    after = snapshot(folder)
    assert after["set_env"] == before["set_env"] and after["add_path"] == before["add_path"]
    assert after["save_state"] == before["save_state"]
    outputs = read_outputs(folder / "set_output")
    assert outputs["status"] == "success" and "injected" not in outputs
    assert after["step_summary"].startswith(before["step_summary"])
    assert not any(g["name"] == "runner-files" for g in run.result["gates"])


def test_a_child_that_tampers_with_the_runner_files_is_caught_and_undone(tmp_path: Path) -> None:
    """On a plain host the child can guess the folder: its changes are undone, the run fails with an error
    annotation and the reason in every report, and the harness's own outputs read back cleanly."""
    env, folder = runner_host(tmp_path)
    sentinel = tmp_path / "runner_temp" / "sentinel"
    sentinel.write_text("untouched\n")
    before = snapshot(folder)
    out = tmp_path / "out"
    run = run_child("runner_tamper", out, "tamper", str(folder), env=env)
    assert run.returncode == 1, run.stdout
    result = run.result
    assert result["status"] == "failed" and result["exit_code"] == 1
    (gate,) = [g for g in result["gates"] if g["name"] == "runner-files"]
    assert not gate["passed"]
    for name in RUNNER_FILES:
        assert name in gate["message"]
    assert "put back as they were" in gate["message"]
    assert any(line.startswith("::error title=Gate failed%3A runner-files::") for line in run.stdout.splitlines()), (
        run.stdout
    )
    assert "runner-files" in run.file("summary.md")
    junitparser.JUnitXml.fromfile(str(out / "junit.xml"))
    assert "runner-files" in run.file("junit.xml")
    after = snapshot(folder)
    for file in ("set_env", "add_path", "save_state"):
        assert after[file] == before[file], file
    assert not (folder / "save_state").is_symlink()
    assert sentinel.read_text() == "untouched\n"
    outputs = read_outputs(folder / "set_output")
    assert outputs["status"] == "failed" and outputs["exit-code"] == "1"
    assert "injected" not in outputs
    summary = (folder / "step_summary").read_text()
    assert summary.startswith(EARLIER["step_summary"]) and "runner-files" in summary


def test_without_github_actions_nothing_is_watched(tmp_path: Path) -> None:
    """Outside Actions the files mean nothing to anyone: no watch, no gate, the run as before."""
    env, folder = runner_host(tmp_path)
    env["GITHUB_ACTIONS"] = "false"
    run = run_child("runner_tamper", tmp_path / "out", "tamper", str(folder), env=env)
    assert run.returncode == 0, run.stdout
    assert run.result["gates"] == []
