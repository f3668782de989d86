"""Reports two folds through the progress API, including from a second process at the same time."""

import subprocess
import sys

from mle_ci import progress

progress.metric("rmse", higher_is_better=False)
for fold in (1, 2):
    progress.fold_start(fold, 2)
    for epoch in (1, 2, 3):
        progress.epoch(epoch, 3, fold=fold, loss=1.0 / epoch, val_score=0.5 - 0.05 * epoch + 0.01 * fold)
    progress.checkpoint(f"fold{fold}.pt", fold=fold, epoch=3)
    progress.fold(fold, 0.35 + 0.01 * fold, total=2, best_epoch=3)
helper = "from mle_ci import progress\nfor i in range(50): progress.message(f'helper {i}')"
writers = [subprocess.Popen([sys.executable, "-c", helper], stdout=subprocess.DEVNULL) for _ in range(3)]
for i in range(50):
    progress.message(f"main {i}")
for writer in writers:
    writer.wait()
progress.submission("submission.csv", rows=10, folds=2)
