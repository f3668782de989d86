"""A small real k-fold training loop that reports through mle_ci.progress (the demo until the baseline agent).

Trains a logistic model with SGD, epoch by epoch, on scikit-learn's breast-cancer data (shipped with the
package, no download), with stratified 5-fold cross-validation, early stopping on validation AUC and an
out-of-fold AUC at the end. Run it under the harness:

    mle-ci run --folds 5 --timeout 5m -- python examples/train_kfold.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from mle_ci import progress


def train_fold(fold: int, args: argparse.Namespace, x_train, y_train, x_val, y_val) -> tuple[float, int, np.ndarray]:
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    model = SGDClassifier(loss="log_loss", alpha=1e-4, learning_rate="optimal", random_state=args.seed + fold)
    classes = np.unique(y_train)
    rng = np.random.default_rng(args.seed + fold)
    best_auc, best_epoch, best_pred, patience = -1.0, 0, np.zeros(len(y_val)), 0
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        order = rng.permutation(len(y_train))
        for start in range(0, len(order), args.batch_size):
            batch = order[start : start + args.batch_size]
            model.partial_fit(x_train[batch], y_train[batch], classes=classes)
        pred = model.predict_proba(x_val)[:, 1]
        auc = float(roc_auc_score(y_val, pred))
        loss = float(-np.mean(y_val * np.log(pred + 1e-12) + (1 - y_val) * np.log(1 - pred + 1e-12)))
        time.sleep(args.epoch_pause)  # stands in for real work, so the run is long enough to watch
        progress.epoch(epoch, args.epochs, fold=fold, loss=loss, val_score=auc, seconds=time.perf_counter() - started)
        if auc > best_auc:
            best_auc, best_epoch, best_pred, patience = auc, epoch, pred, 0
        else:
            patience += 1
            if patience >= args.patience:
                progress.early_stop(best_auc, fold=fold, epoch=epoch)
                break
        if progress.should_stop(margin=5):
            progress.message(f"fold {fold}: stopping early, the time budget is nearly spent", level="warning")
            break
    return best_auc, best_epoch, best_pred


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--epoch-pause", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    x, y = load_breast_cancer(return_X_y=True)
    progress.metric("auc", higher_is_better=True)
    oof = np.zeros(len(y))
    splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    for fold, (train_idx, val_idx) in enumerate(splitter.split(x, y), start=1):
        if progress.should_stop(margin=10):
            progress.message(f"not starting fold {fold}: too little time left", level="warning")
            break
        started = time.perf_counter()
        progress.fold_start(fold, args.folds)
        auc, best_epoch, pred = train_fold(fold, args, x[train_idx], y[train_idx], x[val_idx], y[val_idx])
        oof[val_idx] = pred
        progress.fold(fold, auc, total=args.folds, best_epoch=best_epoch, seconds=time.perf_counter() - started)
    print(f"out-of-fold AUC: {roc_auc_score(y, oof):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
