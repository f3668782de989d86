"""Free text: told apart from ids and categories, hashed TF-IDF n-grams the same in every process, a model learning."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch

from mle_ci.agents.baseline.metrics import classification_score
from mle_ci.agents.baseline.text import TextEncoder, TextNet, is_free_text
from mle_ci.agents.baseline.train import TrainConfig, train_fold

WORDS = {
    0: ["raven", "midnight", "dreary", "chamber", "ghastly", "nevermore", "shadow"],
    1: ["cthulhu", "eldritch", "ancient", "cyclopean", "unspeakable", "dread", "abyss"],
    2: ["monster", "creation", "wretch", "frankenstein", "misery", "despair", "lake"],
}
SHARED = ["the", "a", "of", "and", "in", "it", "was", "that", "his", "her", "upon"]


def corpus(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    texts = []
    for label in labels:
        words = [rng.choice(WORDS[int(label)]) if rng.random() < 0.3 else rng.choice(SHARED) for _ in range(12)]
        texts.append(" ".join(words))
    return texts, labels.astype(np.int64)


def test_free_text_is_told_apart_from_ids_numbers_and_categories() -> None:
    """Sentences are text; hex ids, numbers, categories and short codes are not."""
    texts, _ = corpus(50, 0)
    assert is_free_text(texts)
    assert not is_free_text([f"{i:032x}" for i in range(50)])
    assert not is_free_text([str(i * 1.5) for i in range(50)])
    assert not is_free_text(["red", "green", "blue"] * 20)
    assert not is_free_text([f"ID_{i}" for i in range(50)])


def test_the_encoding_is_the_same_in_another_process() -> None:
    """Hashing is seeded, not Python's salted hash(): another interpreter encodes the same rows."""
    texts, _ = corpus(20, 1)
    here = TextEncoder.fit([texts], buckets=16, length=32).encode([texts])
    code = (
        "import sys, numpy as np; sys.path.insert(0, 'tests'); from test_baseline_text import corpus;"
        "from mle_ci.agents.baseline.text import TextEncoder;"
        "t, _ = corpus(20, 1); e = TextEncoder.fit([t], buckets=16, length=32).encode([t]);"
        "sys.stdout.buffer.write(e.tobytes())"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert np.array_equal(here, np.frombuffer(there, dtype=np.float32).reshape(here.shape))


def test_rows_hold_slots_then_unit_weights_and_empty_text_is_zero() -> None:
    """Each row: ``length`` slots then their weights (unit norm when all fit; the top ones when not), zero-padded."""
    texts, _ = corpus(10, 2)
    whole = TextEncoder.fit([texts], buckets=16, length=1024).encode([[*texts[:2], ""]])
    assert whole.shape == (3, 2048)
    assert np.allclose(np.sqrt((whole[:2, 1024:] ** 2).sum(axis=1)), 1.0, atol=1e-3)
    assert not whole[2].any()
    top = TextEncoder.fit([texts], buckets=16, length=64).encode([texts[:2]])
    kept = np.sqrt((top[:, 64:] ** 2).sum(axis=1))
    assert ((kept > 0.5) & (kept < 1.0)).all()
    assert (top[:, :64] < 2**16).all()


def test_the_text_model_learns_three_authors_well_beyond_the_prior() -> None:
    """Trained by train_fold as any fold model, the linear head's held-out log loss is far under log(3)."""
    texts, labels = corpus(600, 3)
    train_rows, val_rows = np.arange(480), np.arange(480, 600)
    encoder = TextEncoder.fit([[texts[i] for i in train_rows]], buckets=16, length=64)
    x = encoder.encode([texts])
    config = TrainConfig(
        device=torch.device("cpu"), batch_size=64, amp="off", num_workers=0, max_epochs=30, patience=3,
        lr=2e-2, weight_decay=5e-2, margin=0.0, images=False, text=True,
    )  # fmt: skip
    torch.manual_seed(0)
    model = TextNet(0, 3, buckets=16, length=64)
    outcome = train_fold(
        model, fold=1, x=x, y=labels, train_rows=train_rows, val_rows=val_rows, classification=True,
        score=lambda proba: classification_score("log_loss", labels[val_rows], proba), higher_is_better=False,
        config=config, seed=0, stop=lambda: False, report=False,
    )  # fmt: skip
    assert outcome.best_score is not None
    assert outcome.best_score < 0.6 * np.log(3)


def test_dense_features_and_an_mlp_head_share_the_rows() -> None:
    """Rows of [dense | slots | weights]: the MLP head's outputs have the right shape and gradients flow to both."""
    texts, _ = corpus(8, 4)
    block = TextEncoder.fit([texts], buckets=12, length=16).encode([texts])
    x = torch.from_numpy(np.hstack([np.ones((8, 2), dtype=np.float32), block]))
    model = TextNet(2, 4, buckets=12, length=16, hidden=8)
    out = model(x)
    assert out.shape == (8, 4)
    out.sum().backward()
    assert model.dense is not None and model.dense.weight.grad is not None
