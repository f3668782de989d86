"""Fail-fast speed: `mle-ci preflight --require-gpu` on a machine without GPU, beside torch's own check.

Both commands are run interleaved in one process, several rounds, and timed from launch to exit:
``mle-ci preflight --require-gpu`` (expected: exit 3, the cause named) and
``python -c "import torch; assert torch.cuda.is_available()"`` (what people write today). Goal: the preflight
at least 3x faster and at most 0.3 s here. On a GPU machine the preflight runs the CUDA proof, so its time is
then mostly torch's own start-up: the figure is meant for the machine without a GPU.

Run: ``.venv/bin/python bench/preflight_speed.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from _common import Figure, at_most, median, python, report, run_to_end

TORCH_CHECK = "import torch; assert torch.cuda.is_available()"


def measure(repeat: int = 5) -> list[Figure]:
    preflight: list[float] = []
    torch: list[float] = []
    codes: set[int] = set()
    torch_missing = False
    for index in range(repeat):
        ours = run_to_end([python(), "-m", "mle_ci", "preflight", "--require-gpu"])
        theirs = run_to_end([python(), "-c", TORCH_CHECK])
        torch_missing = torch_missing or "No module named 'torch'" in theirs.stdout
        preflight.append(ours.seconds)
        torch.append(theirs.seconds)
        codes.add(ours.returncode)
        print(
            f"  round {index + 1}/{repeat}: preflight {ours.seconds:.3f} s (exit {ours.returncode}), "
            f"torch check {theirs.seconds:.3f} s (exit {theirs.returncode})",
            flush=True,
        )
    ratio = median(torch) / median(preflight)
    return [
        at_most("preflight --require-gpu, no GPU: wall (median)", median(preflight), 0.3, " s"),
        Figure("torch.cuda.is_available() check: wall (median, info)", f"{median(torch):.3f} s"),
        Figure(
            "preflight speed-up over the torch check",
            f"{ratio:.1f}x" + (" (torch not installed!)" if torch_missing else ""),
            ">= 3x",
            ratio >= 3 and not torch_missing,
        ),
        Figure("preflight exit codes", ",".join(map(str, sorted(codes))), "3", codes == {3}),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (default 5)")
    args = parser.parse_args(argv)
    report("preflight speed", measure(args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
