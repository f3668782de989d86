"""The system prompt: the competition, its data, the hardware and plan, the budget, the progress protocol, the rules."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mle_ci import contract
from mle_ci.agents.claude.config import AgentConfig
from mle_ci.agents.claude.processes import trim

MAX_LISTED = 40
HEAD_LINES = 5
DESCRIPTION_CHARS = 8000


@dataclass(frozen=True)
class DataView:
    """What the model is shown of the data folder: the description, a listing with sizes, heads of the CSVs."""

    description: str
    listing: tuple[str, ...]
    heads: tuple[tuple[str, str], ...]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _entry(path: Path) -> str:
    """One line of the listing: a file with its size, a folder with its file count, total size and examples."""
    if not path.is_dir():
        return f"{path.name}  ({_size(path.stat().st_size)})"
    files = [p for p in path.rglob("*") if p.is_file()]
    examples = ", ".join(str(p.relative_to(path)) for p in sorted(files)[:3])
    more = ", ..." if len(files) > 3 else ""
    total = _size(sum(p.stat().st_size for p in files))
    return f"{path.name}/  ({len(files)} files, {total}: {examples}{more})"


def read_data(folder: Path) -> DataView:
    """Describe ``folder`` for the prompt (a folder of many files is summarised, never listed whole)."""
    description = ""
    for name in ("description.md", "description.txt", "README.md"):
        path = folder / name
        if path.is_file():
            description = trim(path.read_text(encoding="utf-8", errors="replace"), DESCRIPTION_CHARS, 0)
            break
    entries = sorted(folder.iterdir())
    listing = [_entry(p) for p in entries[:MAX_LISTED]]
    if len(entries) > MAX_LISTED:
        listing.append(f"... and {len(entries) - MAX_LISTED} more entries")
    heads = []
    for path in (p for p in entries if p.suffix.lower() in (".csv", ".tsv") and p.is_file()):
        with path.open(encoding="utf-8", errors="replace") as handle:
            lines = [line.rstrip("\n")[:300] for _, line in zip(range(HEAD_LINES), handle, strict=False)]
        heads.append((path.name, "\n".join(lines)))
    return DataView(description=description, listing=tuple(listing), heads=tuple(heads))


def _budget(seconds: float, deadline: float | None) -> str:
    if deadline is None or not math.isfinite(seconds):
        return "no time limit is set (still, work as if every minute counts)"
    at = time.strftime("%H:%M:%S UTC", time.gmtime(deadline))
    return f"{seconds:.0f} seconds ({seconds / 60:.1f} minutes) from the start, until {at}"


PROTOCOL = """\
Report progress so that per-epoch and per-fold scores reach the run's reports (the harness reads them):
- in Python: `from mle_ci import progress`, then `progress.epoch(epoch, total, loss=..., val_score=..., fold=k)`,
  `progress.fold(k, score, total=n, metric="<metric>")`, `progress.metric("<metric>", cv_score)` and
  `progress.should_stop(margin=30)` / `progress.remaining()` to respect the deadline;
- or plain lines: `Epoch 1/10: Loss=2.145, Val_Score=0.523 (12s)` and `Fold 1/5 complete: Score=0.687`.
Lines printed by bash commands and by jobs are both read; long training goes through start_job (poll job_status)."""

RULES = f"""\
Rules:
1. The harness runs a search over solution nodes (drafts, then debugging of failed ones and improvements of the best).
   Each node is one task message: write its code in the node's folder, run it, make it write
   ${contract.SUBMISSION_DIR}/submission.csv (the node's own folder) and report every fold's score, check the file with
   validate_submission, then call end_node with a one-line plan and what you learned. The harness validates and scores
   every node and hands in the best valid submission; a worse or broken node never replaces it.
2. Use the hardware you were given: the device, batch size and mixed precision of the training plan.
3. Keep within the time budget: every tool result and task says how much time is left. Long training goes through
   start_job; bash commands are for quick steps (they time out). A node whose jobs still run at the reserve is stopped.
4. The competition data is read-only; the node's folder is your current folder.
5. Call finish (with a short summary: model, CV score, what you would try next) only to end the whole search early."""


def system_prompt(config: AgentConfig, data: DataView, *, remaining: float) -> str:
    """The whole system prompt as one text (cached by the API across turns)."""
    plan = "\n".join(f"- {name}={value}" for name, value in sorted(config.plan.items())) or "- none given"
    metric = config.metric or "see the description"
    direction = {True: "higher is better", False: "lower is better", None: "direction: see the description"}[
        config.higher_is_better
    ]
    folds = f"{config.folds}-fold cross-validation" if config.folds else "k-fold cross-validation (5 folds if unsure)"
    heads = "\n\n".join(f"{name} (first lines):\n```\n{text}\n```" for name, text in data.heads)
    return f"""\
You are an expert ML engineer working autonomously on a Kaggle-style competition in a CI job. Engineer the best \
solution you can within the budget, using the tools, and leave a valid submission file.

# Competition: {config.competition or "unnamed"}
Metric: {metric} ({direction}). Evaluate with {folds} and report each fold's score.

{data.description or "(no description file)"}

# Data (read-only): {config.data_dir}
{chr(10).join(data.listing) or "(empty)"}

{heads}

# Where things go
- Each node works in its own folder under {config.workspace} (its current folder, read and write)
- Its submission: `${contract.SUBMISSION_DIR}/submission.csv` (same columns and ids as the sample submission)
- Python: `python` is {sys.executable} (with mle_ci installed); add packages with `python -m pip install` if needed

# Hardware and training plan
{plan}

# Time budget
{_budget(remaining, config.deadline)}. The run is stopped hard at the deadline; jobs still running then are killed.

# Progress protocol
{PROTOCOL}

{RULES}
"""
