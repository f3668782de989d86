"""Folds in parallel: the 5-fold baseline on a demo with K worker processes against K = 1, wall time in one run.

The agent runs as the harness starts it (``python -m mle_ci.agents.baseline``) on an embedded demo competition,
with ``MLE_CI_PARALLEL_FOLDS=K`` (K = 1 trains the folds one after another in the agent itself). Runs of the
different K are interleaved, so a machine that slows down mid-way slows all of them alike; the figure is the
ratio of the median wall times. On the CPU each of K workers gets cores / K threads, so the gain comes from
folds overlapping where one fold cannot keep every core busy. With ``--cuda`` the workers get one GPU each.

A third variant, one process with torch pinned to one thread, tells how much of the gain is from folds overlapping
and how much from torch's threads contending for a busy machine's cores.

Run: ``.venv/bin/python bench/parallel_folds.py [--competition digits-png] [--workers 2] [--rounds 2] [--cuda]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT, Figure, bench_env, median, python, report, temp_dir

FOLDS = 5


def demo_folder(competition: str, cache: Path) -> Path:
    """The public folder of an embedded demo, built into ``cache``."""
    import sys

    sys.path.insert(0, str(ROOT))
    from mle_ci.competitions.registry import find_competition

    return find_competition(competition, data_dir=None, cache_dir=cache).public


@dataclass(frozen=True)
class Variant:
    """K worker processes; ``threads`` pins torch's threads in the agent (None: torch's default, every core)."""

    workers: int
    threads: int | None = None

    @property
    def label(self) -> str:
        return f"{self.workers} worker(s)" + (f", {self.threads} thread(s)" if self.threads else "")


def one_run(data: Path, work: Path, variant: Variant, *, cuda: bool) -> tuple[float, int, float | None]:
    """Wall seconds of one agent run, the folds it finished, and its CV score."""
    out = work / f"run-{variant.workers}-{time.monotonic_ns()}"
    out.mkdir()
    events = out / "events.jsonl"
    extra = {"MLE_CI_EVENTS": str(events), "MLE_CI_FOLDS": str(FOLDS), "MLE_CI_PARALLEL_FOLDS": str(variant.workers)}
    if variant.threads:
        extra.update({"OMP_NUM_THREADS": str(variant.threads), "MKL_NUM_THREADS": str(variant.threads)})
    if cuda:
        extra.update({"MLE_CI_DEVICE": "cuda", "MLE_CI_GPU_COUNT": str(variant.workers)})
    argv = [python(), "-m", "mle_ci.agents.baseline", "--data-dir", str(data), "--submission-dir", str(out)]
    started = time.perf_counter()
    done = subprocess.run(argv, env=bench_env(extra), cwd=ROOT, capture_output=True, timeout=900, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the agent failed ({variant.label}):\n{done.stderr.decode(errors='replace')[-2000:]}")
    records = [json.loads(line) for line in events.read_text().splitlines()]
    folds = sum(r["type"] == "fold" for r in records)
    scores = [r["value"] for r in records if r["type"] == "metric" and r.get("value") is not None]
    return seconds, folds, scores[-1] if scores else None


DEFAULT_VARIANTS = (Variant(1), Variant(1, threads=1), Variant(2))


def measure(
    competition: str = "digits-png",
    variants: Sequence[Variant] = DEFAULT_VARIANTS,
    rounds: int = 2,
    *,
    cuda: bool = False,
) -> list[Figure]:
    times: dict[Variant, list[float]] = {v: [] for v in variants}
    folds: dict[Variant, set[int]] = {v: set() for v in variants}
    scores: dict[Variant, list[float]] = {v: [] for v in variants}
    where = "GPU" if cuda else f"CPU, {os.cpu_count()} cores"
    with temp_dir("mle-ci-parallel-") as work:
        data = demo_folder(competition, work / "cache")
        for round_ in range(1, rounds + 1):
            for v in variants:
                seconds, done, score = one_run(data, work, v, cuda=cuda)
                times[v].append(seconds)
                folds[v].add(done)
                if score is not None:
                    scores[v].append(score)
                print(f"round {round_}: {v.label} on {where}: {seconds:.1f} s, {done} folds, CV {score}", flush=True)
    base = median(times[variants[0]])
    print(f"\n{'variant':<24}  {'median wall s':>13}  {'ratio':>6}  {'folds':>5}  {'CV':>8}")
    figures: list[Figure] = []
    for v in variants:
        ratio = median(times[v]) / base
        cv = f"{median(scores[v]):.4f}" if scores[v] else "n/a"
        done = "/".join(map(str, sorted(folds[v])))
        print(f"{v.label:<24}  {median(times[v]):>13.1f}  {ratio:>6.2f}  {done:>5}  {cv:>8}")
        name = f"parallel folds ({competition}, {where}): {v.label}"
        figures.append(Figure(f"{name}, median wall time", f"{median(times[v]):.1f} s"))
        if v.workers > 1:
            for ref in (r for r in variants if r.workers == 1):
                r = median(times[v]) / median(times[ref])
                figures.append(Figure(f"{name} / {ref.label}, wall time", f"{r:.2f}", "< 1", r < 1))
            figures.append(Figure(f"{name}: all {FOLDS} folds done", done, str(FOLDS), folds[v] == {FOLDS}))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--competition", default="digits-png", help="embedded demo (default digits-png)")
    parser.add_argument("--workers", default="2", help="parallel worker counts beside 1 (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--cuda", action="store_true", help="train on CUDA, one GPU per worker")
    args = parser.parse_args(argv)
    variants = [Variant(1), Variant(1, threads=1), *(Variant(int(k)) for k in args.workers.split(",") if k)]
    report("parallel folds", measure(args.competition, variants, args.rounds, cuda=args.cuda))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
