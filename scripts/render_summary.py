"""Render a run's `summary.md` as GitHub shows a job summary, to a PNG: the README's picture of the reports.

    make demo                                                   # a real run: mle-ci-results/summary.md
    npm install --prefix ~/.cache/mermaid mermaid@11       # optional: GitHub's chart renderer, for the curves
    python scripts/render_summary.py mle-ci-results/summary.md docs/job-summary.png \\
        --mermaid ~/.cache/mermaid/node_modules/mermaid/dist/mermaid.min.js

The Markdown is turned into HTML by cmark-gfm (GitHub's own renderer, the `cmarkgfm` package of the dev extras),
styled like GitHub's light theme, and photographed by headless Chromium (`apt-get install chromium`); the page is
then cut to its content and reduced to a palette, so the PNG stays small. Without `--mermaid`, a chart is shown
as the code block it is written as.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cmarkgfm  # type: ignore[import-untyped]
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]
from PIL import Image, ImageChops

WIDTH = 900
"""Page width in CSS pixels: about the width of a job summary beside the runner's step list."""

TALLEST = 8000
"""Window height: taller than any summary, so the screenshot holds the whole page before it is cut."""

STYLE = """
body { margin: 0; background: #ffffff; }
.markdown-body { box-sizing: border-box; width: %(width)dpx; padding: 24px 32px; color: #1f2328;
  font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; }
.markdown-body h2 { font-size: 1.5em; font-weight: 600; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3;
  margin: 0 0 16px; }
.markdown-body h3 { font-size: 1.25em; font-weight: 600; margin: 24px 0 16px; }
.markdown-body p, .markdown-body table, .markdown-body pre, .markdown-body details { margin: 0 0 16px; }
.markdown-body table { border-collapse: collapse; display: block; width: max-content; max-width: 100%%;
  overflow: auto; }
.markdown-body th, .markdown-body td { padding: 6px 13px; border: 1px solid #d1d9e0; }
.markdown-body th { font-weight: 600; }
.markdown-body tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body code { font: 85%%/1.45 ui-monospace, "DejaVu Sans Mono", monospace; padding: .2em .4em;
  background: #818b981f; border-radius: 6px; }
.markdown-body pre { padding: 16px; background: #f6f8fa; border-radius: 6px; overflow: auto; }
.markdown-body pre code { padding: 0; background: transparent; font-size: 85%%; }
.markdown-body pre.mermaid { background: transparent; text-align: center; }
.markdown-body summary { cursor: pointer; }
"""
"""The parts of GitHub's light Markdown theme that a job summary uses (headings, tables, code, details)."""

MERMAID_BLOCK = re.compile(r'<pre lang="mermaid"><code>(.*?)</code></pre>', re.DOTALL)


def summary_html(markdown: str, mermaid_js: Path | None = None) -> str:
    """A standalone HTML page of ``markdown`` as GitHub renders it; charts drawn when ``mermaid_js`` is given."""
    # UNSAFE keeps <details>, which GitHub's sanitizer allows; the summary's child values are made inert upstream.
    body = cmarkgfm.github_flavored_markdown_to_html(
        markdown, options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG
    )
    script = ""
    if mermaid_js is not None:
        body = MERMAID_BLOCK.sub(lambda match: f'<pre class="mermaid">{match.group(1)}</pre>', body)
        source = html.escape(mermaid_js.resolve().as_uri(), quote=True)
        script = (
            f'<script src="{source}"></script>'
            "<script>mermaid.initialize({startOnLoad: true, theme: 'default'});</script>"
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<style>{STYLE % {'width': WIDTH}}</style></head>"
        f'<body><article class="markdown-body">{body}</article>{script}</body></html>'
    )


def find_chromium() -> str:
    """The Chromium binary on PATH, or an error saying how to install it."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("Error: no Chromium on PATH: apt-get install -y chromium")


def screenshot(chromium: str, page: Path, png: Path) -> None:
    """Photograph ``page`` in a window ``WIDTH`` wide and ``TALLEST`` high, after its scripts have run."""
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # the page is this script's own file; root in a container has no user namespace
            "--disable-gpu",
            "--hide-scrollbars",
            "--virtual-time-budget=10000",  # lets mermaid draw before the picture is taken
            f"--window-size={WIDTH},{TALLEST}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
    )


def trim(png: Path) -> None:
    """Cut the white below and beside the content (a margin kept), and store the picture with a palette."""
    image = Image.open(png).convert("RGB")
    background = Image.new("RGB", image.size, (255, 255, 255))
    box = ImageChops.difference(image, background).getbbox()
    if box is None:
        raise SystemExit(f"Error: {png} is blank: the page rendered nothing")
    margin = 16
    cropped = image.crop((0, 0, min(image.width, box[2] + margin), min(image.height, box[3] + margin)))
    cropped.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    """Render SUMMARY to PNG; exit 0 with the PNG written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summary", type=Path, help="a run's summary.md")
    parser.add_argument("png", type=Path, help="the picture to write")
    parser.add_argument("--mermaid", type=Path, help="mermaid.min.js, to draw the charts as GitHub does")
    args = parser.parse_args(argv)
    page_html = summary_html(args.summary.read_text(encoding="utf-8"), args.mermaid)
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "summary.html"
        page.write_text(page_html, encoding="utf-8")
        screenshot(find_chromium(), page, args.png.resolve())
    trim(args.png)
    sys.stdout.write(f"{args.png}: {args.png.stat().st_size:,} bytes\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
