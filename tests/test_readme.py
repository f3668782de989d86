"""The README is a user's first screen: short, the two commands first, its tables and workflow generated from their
sources, and its picture of a job summary rendered by the repository's own script."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import pytest
from helpers import ROOT

README = ROOT / "README.md"
PICTURE = "docs/job-summary.png"


def script(name: str) -> ModuleType:
    """A module of scripts/, loaded from its file (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_is_at_most_300_lines_and_starts_with_make_demo_and_make_test() -> None:
    """Two commands before anything else: the first block, right under the title, is `make demo` then `make test`."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300
    first_block = lines[lines.index("```sh") + 1 : lines.index("```", lines.index("```sh") + 1)]
    assert [line.split()[:2] for line in first_block] == [["make", "demo"], ["make", "test"]]
    assert all(not line.startswith("## ") for line in lines[: lines.index("```sh")])


def test_the_readme_generated_blocks_match_action_yml_and_the_example_workflow() -> None:
    """The inputs and outputs tables and the GPU-runner workflow are what the generator makes now."""
    blocks = script("readme_blocks")
    assert blocks.stale(README.read_text(encoding="utf-8"), blocks.blocks(ROOT)) == []


def test_the_readme_workflow_is_the_example_file_that_actionlint_checks() -> None:
    """The README's workflow is examples/gpu-runner.yml byte for byte, and that file is among `make lint`'s."""
    workflow = (ROOT / "examples" / "gpu-runner.yml").read_text(encoding="utf-8").rstrip()
    assert f"```yaml\n{workflow}\n```" in README.read_text(encoding="utf-8")
    assert "examples/gpu-runner.yml" in (ROOT / "Makefile").read_text(encoding="utf-8").split("WORKFLOWS :=")[1]


def test_the_generator_fills_only_between_the_markers_and_finds_stale_blocks() -> None:
    """Text outside the markers stays; a block that differs is named; a missing block is an error."""
    blocks = script("readme_blocks")
    readme = "intro\n<!-- generated: inputs (scripts/readme_blocks.py) -->\nold\n<!-- end: inputs -->\noutro\n"
    assert blocks.stale(readme, {"inputs": "new"}) == ["inputs"]
    filled = blocks.fill(readme, {"inputs": "new"})
    assert filled == readme.replace("old", "new")
    assert blocks.stale(filled, {"inputs": "new"}) == []
    assert blocks.fill(filled, {"inputs": "new"}) == filled
    with pytest.raises(ValueError, match="'outputs'"):
        blocks.fill(readme, {"outputs": "x"})


def test_table_cells_keep_one_row_whatever_the_description() -> None:
    """A pipe, a newline or a `<` in a description cannot split a row or become a tag."""
    blocks = script("readme_blocks")
    action = {"inputs": {"x": {"default": "", "description": "a | b\n<id>"}}}
    assert blocks.inputs_table(action).splitlines()[-1] == "| `x` | — | a \\| b &lt;id> |"


def test_the_readme_shows_the_job_summary_picture_and_the_picture_is_a_small_png() -> None:
    """The README embeds docs/job-summary.png, which is a PNG of a few hundred KB at most."""
    assert f"]({PICTURE})" in README.read_text(encoding="utf-8")
    data = (ROOT / PICTURE).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) < 400_000


def test_the_render_script_documents_its_command_and_makes_github_html_without_chromium() -> None:
    """scripts/render_summary.py says how it is run; its HTML has GitHub's tables and details, and drawn charts."""
    render = script("render_summary")
    assert "python scripts/render_summary.py mle-ci-results/summary.md docs/job-summary.png" in (render.__doc__ or "")
    markdown = (
        "## ✅ run\n\n| Fold | Score |\n| ---: | ---: |\n| 1 | 0.9 |\n\n"
        "```mermaid\nxychart-beta\n```\n\n<details><summary>log</summary>\n\nx\n</details>\n"
    )
    page = render.summary_html(markdown)
    assert '<td align="right">0.9</td>' in page
    assert "<details><summary>log</summary>" in page
    assert '<pre lang="mermaid">' in page and "<script" not in page
    drawn = render.summary_html(markdown, ROOT / "mermaid.min.js")
    assert '<pre class="mermaid">xychart-beta\n</pre>' in drawn
    assert "mermaid.initialize" in drawn


HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


@pytest.mark.parametrize(
    "page",
    [
        "README.md",
        "CONTRIBUTING.md",
        "SECURITY.md",
        *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
    ],
)
def test_every_relative_link_reaches_a_file_and_its_heading(page: str) -> None:
    """No link in the README, CONTRIBUTING, SECURITY or docs/ breaks: the file exists and so does the anchor."""
    source = ROOT / page
    text = re.sub(r"```.*?```", "", source.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        linked = (source.parent / path).resolve() if path else source
        if not linked.exists():
            broken.append(target)
        elif fragment and linked.suffix == ".md":
            anchors = {anchor(h) for h in HEADING.findall(linked.read_text(encoding="utf-8"))}
            if fragment not in anchors:
                broken.append(target)
    assert broken == [], f"{page}: {broken}"
