"""Reports one fold, then dies with a traceback whose innermost workspace frame is in this file."""

from mle_ci import progress


def load_batch(index):
    data = {"a": 1}
    return data[index]


def train():
    progress.fold_start(1, 3)
    progress.epoch(1, 5, fold=1, loss=0.9, val_score=0.6)
    progress.fold(1, 0.71, total=3)
    progress.fold_start(2, 3)
    progress.epoch(1, 5, fold=2, loss=0.8, val_score=0.65)
    return load_batch("missing")


if __name__ == "__main__":
    train()
