"""A child that goes after the runner's file-command files (GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT, ...).

``hunt SANDBOX OUTPUT_DIR``: append variable lines, a PATH entry and an unclosed heredoc to every file it can
reach through any environment variable (a file it names, or the files under a folder it names, RUNNER_TEMP
included), limited to SANDBOX and never the output folder; prints what it saw and touched as JSON.
``tamper FOLDER``: knows the runner's folder (as a child that guessed it would): appends to the env and path
files, leaves an unclosed heredoc in the outputs, cuts the summary, and swaps the state file for a link.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

INJECTED = "MLE_CI_INJECTED=1\n/injected/bin\ninjected<<EOF\n"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def hunt(sandbox: Path, output_dir: Path) -> None:
    runner_names = ("RUNNER_TEMP", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY")
    seen = sorted(name for name in runner_names if name in os.environ)
    candidates: set[Path] = set()
    for value in os.environ.values():
        for part in value.split(os.pathsep):
            if not part or not os.path.isabs(part):
                continue
            path = Path(part).resolve()
            if not _inside(path, sandbox) or _inside(path, output_dir):
                continue
            if path.is_file():
                candidates.add(path)
            elif path.is_dir():
                candidates.update(p for p in path.rglob("*") if p.is_file() and not _inside(p, output_dir))
    temp = os.environ.get("RUNNER_TEMP")
    if temp:
        candidates.update(Path(temp, "_runner_file_commands").glob("*"))
    touched = []
    for path in sorted(candidates):
        try:
            with path.open("a") as handle:
                handle.write(INJECTED)
            touched.append(str(path))
        except OSError:
            continue
    print(json.dumps({"seen": seen, "touched": touched}), flush=True)


def tamper(folder: Path) -> None:
    files = {path.name: path for path in folder.iterdir()}
    with files["set_env"].open("a") as handle:
        handle.write("MLE_CI_INJECTED=1\n")
    with files["add_path"].open("a") as handle:
        handle.write("/injected/bin\n")
    with files["set_output"].open("a") as handle:
        handle.write("injected<<EOF\nstatus=success\n")
    files["step_summary"].write_text("")
    state = files["save_state"]
    state.unlink()
    state.symlink_to(folder.parent / "sentinel")
    print("tampered", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "hunt":
        hunt(Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve())
    else:
        tamper(Path(sys.argv[2]))
