"""Draws progress bars as tqdm does: each state is a carriage return and the bar, a newline only when it is done.

``progress_bar.py BARS REDRAWS PAUSE [--hang]``: BARS bars of REDRAWS redraws each, PAUSE seconds apart, on
stderr as tqdm writes them; then ``done``. With ``--hang`` the last bar stops halfway and the child sleeps, its
line unfinished.
"""

import sys
import time

bars, redraws, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
hang = "--hang" in sys.argv
for bar in range(1, bars + 1):
    for n in range(redraws + 1):
        percent = 100 * n // redraws
        sys.stderr.write(f"\rbar {bar}: {percent:3d}%|{'#' * (percent // 10):<10}| {n}/{redraws}")
        sys.stderr.flush()
        if hang and bar == bars and n == redraws // 2:
            time.sleep(300)
        time.sleep(pause)
    sys.stderr.write("\n")
print("done", flush=True)
