"""docs/architecture.md names every module of the harness, so that a newcomer finds where a change belongs."""

from __future__ import annotations

import re

from helpers import ROOT

DOC = ROOT / "docs" / "architecture.md"


def _named() -> set[str]:
    """Every path the document names in backticks, with the folders it names as ``folder/`` expanded."""
    return set(re.findall(r"`([a-z_/]+(?:\.py|/))`", DOC.read_text(encoding="utf-8")))


def test_every_module_outside_the_agents_is_named() -> None:
    """Each module of ``mle_ci`` (the agents, named as folders, aside) appears by its path, or within a folder the
    document names whole."""
    named = _named()
    folders = {name for name in named if name.endswith("/")}
    package = ROOT / "mle_ci"
    missing = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if path.name in {"__init__.py", "__main__.py"} or relative.startswith("agents/"):
            continue
        if relative in named or any(relative.startswith(folder) for folder in folders):
            continue
        missing.append(relative)
    assert missing == [], f"docs/architecture.md does not name: {', '.join(missing)}"


def test_every_path_it_names_exists() -> None:
    """A path named is the repository's, or one of the package's (from its root, or from a folder of it: ``runlog.py``
    in ``report/``)."""
    package = ROOT / "mle_ci"
    paths = {path.relative_to(package).as_posix() + ("/" if path.is_dir() else "") for path in package.rglob("*")}
    gone = [
        name
        for name in _named()
        if not (ROOT / name).exists() and not any(path == name or path.endswith(f"/{name}") for path in paths)
    ]
    assert gone == [], f"docs/architecture.md names what is not there: {', '.join(sorted(gone))}"
