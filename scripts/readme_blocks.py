"""Keep the README's generated blocks equal to their sources: the inputs and outputs tables from `action.yml`, and
the GPU-runner workflow from `examples/gpu-runner.yml`.

    python scripts/readme_blocks.py           # rewrite the blocks in README.md
    python scripts/readme_blocks.py --check   # exit 1, naming the stale blocks, when README.md differs

Each block sits between ``<!-- generated: NAME (scripts/readme_blocks.py) -->`` and ``<!-- end: NAME -->``; the
text outside the markers is never touched.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _cell(text: str) -> str:
    """A table cell's text: one line, no pipe that would split the cell, no `<` that GitHub would read as a tag."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")


def inputs_table(action: Mapping[str, Any]) -> str:
    """action.yml's inputs as a Markdown table, in their order: name, default, description."""
    rows = ["| input | default | what it does |", "| --- | --- | --- |"]
    for name, spec in action["inputs"].items():
        default = f"`{spec['default']}`" if spec.get("default") else "—"
        rows.append(f"| `{name}` | {default} | {_cell(spec['description'])} |")
    return "\n".join(rows)


def outputs_table(action: Mapping[str, Any]) -> str:
    """action.yml's outputs as a Markdown table, in their order: name, description."""
    rows = ["| output | what it holds |", "| --- | --- |"]
    rows += [f"| `{name}` | {_cell(spec['description'])} |" for name, spec in action["outputs"].items()]
    return "\n".join(rows)


def workflow_block(workflow: str) -> str:
    """The example workflow as a fenced YAML block, byte for byte (its comments included)."""
    return f"```yaml\n{workflow.rstrip()}\n```"


def blocks(root: Path) -> dict[str, str]:
    """Each generated block's name and text, read from the repository at ``root``."""
    action = yaml.safe_load((root / "action.yml").read_text(encoding="utf-8"))
    return {
        "gpu-runner": workflow_block((root / "examples" / "gpu-runner.yml").read_text(encoding="utf-8")),
        "inputs": f"### Inputs\n\n{inputs_table(action)}",
        "outputs": f"### Outputs\n\n{outputs_table(action)}",
    }


def _pattern(name: str) -> re.Pattern[str]:
    """The block ``name``: its start marker, its text, its end marker."""
    start = rf"<!-- generated: {re.escape(name)} \(scripts/readme_blocks\.py\) -->\n"
    return re.compile(rf"({start})(.*?)(<!-- end: {re.escape(name)} -->)", re.DOTALL)


def fill(readme: str, made: Mapping[str, str]) -> str:
    """``readme`` with every block replaced by its generated text; a block without its markers is an error."""
    for name, text in made.items():
        match = _pattern(name).search(readme)
        if match is None:
            raise ValueError(f"README.md has no markers for the generated block {name!r}")
        readme = f"{readme[: match.start(2)]}{text}\n{readme[match.end(2) :]}"
    return readme


def stale(readme: str, made: Mapping[str, str]) -> list[str]:
    """The names of the blocks whose text in ``readme`` differs from the generated one."""
    found = {name: _pattern(name).search(readme) for name in made}
    return [name for name, match in found.items() if match is None or match.group(2) != made[name] + "\n"]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the README's blocks, or with --check report the stale ones (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a block is stale")
    args = parser.parse_args(argv)
    readme = README.read_text(encoding="utf-8")
    made = blocks(ROOT)
    if args.check:
        behind = stale(readme, made)
        if behind:
            sys.stderr.write(f"README.md is stale: {', '.join(behind)}; run python scripts/readme_blocks.py\n")
            return 1
        return 0
    README.write_text(fill(readme, made), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
