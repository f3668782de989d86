"""Free text: told apart from ids and categories, hashed TF-IDF n-grams the same in every process, models learning."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from mle_ci.agents.baseline import text
from mle_ci.agents.baseline.data import Dataset
from mle_ci.agents.baseline.folds import _text_start
from mle_ci.agents.baseline.metrics import classification_score, multilabel_score
from mle_ci.agents.baseline.models import TEXT_CANDIDATES, build_model
from mle_ci.agents.baseline.text import TextEncoder, TextNet, is_free_text, l2_strength, starting_bias
from mle_ci.agents.baseline.train import TrainConfig, train_fold

ROOT = Path(__file__).resolve().parent.parent

WORDS = {
    0: ["raven", "midnight", "dreary", "chamber", "ghastly", "nevermore", "shadow"],
    1: ["cthulhu", "eldritch", "ancient", "cyclopean", "unspeakable", "dread", "abyss"],
    2: ["monster", "creation", "wretch", "frankenstein", "misery", "despair", "lake"],
}
SHARED = ["the", "a", "of", "and", "in", "it", "was", "that", "his", "her", "upon", "my", "to", "i", "had"]


def corpus(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Sentences of three authors: shared words, and now and then a word only one author uses."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    texts = []
    for label in labels:
        words = [rng.choice(WORDS[int(label)]) if rng.random() < 0.3 else rng.choice(SHARED) for _ in range(12)]
        texts.append(" ".join(words).capitalize() + rng.choice([".", ";", "?"]))
    return texts, labels.astype(np.int64)


def labelled_comments(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Comments with two overlapping labels, each shown by its own words (sometimes misspelt) among shared ones."""
    rng = np.random.default_rng(seed)
    lexicon = (["idiot", "moron", "stupid"], ["kill", "hurt", "destroy"])
    labels = (rng.random((n, 2)) < (0.3, 0.2)).astype(np.float32)
    texts = []
    for row in labels:
        words = list(rng.choice(SHARED, size=int(rng.integers(5, 15))))
        for column, on in enumerate(row):
            if on:
                word = str(rng.choice(lexicon[column]))
                words.insert(int(rng.integers(len(words))), word + word[-1] if rng.random() < 0.3 else word)
        texts.append(" ".join(words))
    return texts, labels


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Small models train fastest on one thread, and do not stall on a machine whose cores are busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def text_plan(**changes: object) -> TrainConfig:
    """The agent's plan for text on the CPU, with few epochs for a small corpus."""
    values: dict[str, object] = {
        "device": torch.device("cpu"), "batch_size": 64, "amp": "off", "num_workers": 0, "max_epochs": 12,
        "patience": 3, "lr": 2e-2, "weight_decay": 5e-2, "margin": 0.0, "images": False, "text": True,
    }  # fmt: skip
    values.update(changes)
    return TrainConfig(**values)  # type: ignore[arg-type]


# --- telling text apart ----------------------------------------------------------------------------------------


def test_sentences_comments_and_titles_are_free_text() -> None:
    """Sentences, comments with many missing cells, and short titles of a few words are text."""
    sentences, _ = corpus(200, 0)
    assert is_free_text(sentences)
    comments = [text if i % 3 else "" for i, text in enumerate(sentences)]
    assert is_free_text(comments)
    rng = np.random.default_rng(1)
    titles = [f"[Request] {rng.choice(SHARED)} {rng.choice(WORDS[0])} in Ohio #{i}" for i in range(100)]
    assert is_free_text(titles)


@pytest.mark.parametrize(
    ("kind", "cells"),
    [
        ("hex ids", [f"{i * 2654435761 % 2**64:016x}" for i in range(200)]),
        ("uuids", [f"{i:08x}-e89b-12d3-a456-{i * 7919:012x}" for i in range(200)]),
        ("numbers", [str(i * 1.5) for i in range(200)]),
        ("prefixed ids", [f"t3_{i:05x}" for i in range(200)]),
        ("timestamps", [f"2012{i % 12 + 1:02d}{i % 28 + 1:02d}1921{i % 60:02d}Z" for i in range(200)]),
        ("dates", [f"2014-05-{i % 28 + 1:02d} 18:{i % 60:02d}:05" for i in range(200)]),
        ("categories", ["red", "green", "blue"] * 60),
        ("long categories", ["Some college, no degree", "Bachelor's degree", "High school graduate"] * 60),
        ("a few sentences repeated", ["The cat sat on the mat.", "A dog barked at the moon.", "It rained."] * 4),
    ],
)
def test_ids_numbers_dates_and_categories_are_not_free_text(kind: str, cells: list[str]) -> None:
    """A column of ids, numbers, dates or repeated values is not text, however long its cells."""
    assert not is_free_text(cells), kind


def test_an_empty_column_is_not_free_text() -> None:
    """A column with nothing in it is not text."""
    assert not is_free_text(["", "NA", " "] * 10)


# --- the encoding ----------------------------------------------------------------------------------------------


def test_the_encoding_is_the_same_in_another_process() -> None:
    """Hashing is seeded, not Python's salted hash(): an interpreter with another hash seed encodes the same rows."""
    texts, _ = corpus(40, 1)
    here = TextEncoder.fit([texts], buckets=16, length=32).encode([texts])
    code = (
        "import json, sys; from mle_ci.agents.baseline.text import TextEncoder; t = json.load(sys.stdin);"
        "sys.stdout.buffer.write(TextEncoder.fit([t], buckets=16, length=32).encode([t]).tobytes())"
    )
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    there = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(texts).encode(), capture_output=True, check=True, cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": seed},
    ).stdout  # fmt: skip
    assert np.array_equal(here, np.frombuffer(there, dtype=np.float32).reshape(here.shape))


def test_rows_hold_slots_then_weights_highest_first_zero_padded() -> None:
    """Each row: ``length`` slots then their weights, highest first; a short document is padded with zeros."""
    texts, _ = corpus(10, 2)
    encoded = TextEncoder.fit([texts], buckets=16, length=1024).encode([texts[:2]])
    assert encoded.shape == (2, 2048)
    slots, weights = encoded[:, :1024], encoded[:, 1024:]
    # every n-gram fits: the document is whole, a unit vector, and the rest of the row is zero
    assert np.allclose(np.sqrt((weights**2).sum(axis=1)), 1.0, atol=1e-5)
    used = weights > 0
    assert (np.diff(weights, axis=1) <= 0).all()
    assert not slots[~used].any()
    assert (slots == np.round(slots)).all()
    assert (slots < 2**16).all()


def test_a_short_row_keeps_the_highest_weights() -> None:
    """With fewer places than n-grams, a row keeps the top weights of the whole document, so less than all of it."""
    texts, _ = corpus(10, 2)
    encoder = TextEncoder.fit([texts], buckets=16, length=1024)
    whole = encoder.encode([texts[:3]])[:, 1024:]
    top = TextEncoder.fit([texts], buckets=16, length=16).encode([texts[:3]])[:, 16:]
    assert np.allclose(top, whole[:, :16])
    kept = (top**2).sum(axis=1)
    assert ((kept > 0.1) & (kept < 1.0)).all()


def test_an_empty_text_encodes_to_zero_weights() -> None:
    """An empty cell (or only spaces) has no n-gram: all its slots and weights are zero."""
    texts, _ = corpus(10, 3)
    encoded = TextEncoder.fit([texts], buckets=16, length=32).encode([["", "   ", texts[0]]])
    assert not encoded[:2].any()
    assert encoded[2, 32:].any()


def test_the_idf_comes_from_the_training_rows_only() -> None:
    """n-grams met only in test rows get the idf of an unseen n-gram, until those rows are fitted on too."""
    train, _ = corpus(50, 4)
    test = ["xjzq qzjx zzqj"]  # j, q, x and z are in no training word: no n-gram of these was seen
    encoder = TextEncoder.fit([train], buckets=16, length=256)
    assert encoder.rows == len(train)
    row = encoder.encode([test])[0]
    slots = row[:256][row[256:] > 0].astype(np.int64)
    unseen = math.log(1 + len(train)) + 1
    assert np.allclose(encoder.idf[slots], unseen)
    refitted = TextEncoder.fit([train + test], buckets=16, length=256)
    assert (refitted.idf[slots] < unseen).all()


def test_columns_are_hashed_apart_and_must_line_up() -> None:
    """The same words in two columns land on other slots; columns of unequal length or bare strings are refused."""
    texts, _ = corpus(20, 5)
    encoder = TextEncoder.fit([texts, texts], buckets=20, length=1024)
    encoded = encoder.encode([texts[:1], [""]])
    other = encoder.encode([[""], texts[:1]])
    first = set(encoded[0, :1024][encoded[0, 1024:] > 0].tolist())
    second = set(other[0, :1024][other[0, 1024:] > 0].tolist())
    assert len(first & second) < 0.05 * len(first)
    with pytest.raises(ValueError, match="different lengths"):
        encoder.encode([texts, texts[:-1]])
    with pytest.raises(ValueError, match="2 text column"):
        encoder.encode([texts])
    with pytest.raises(TypeError):
        TextEncoder.fit(["a sentence of words"])


# --- the model -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("one_thread")
def test_the_linear_model_learns_three_authors_well_beyond_the_prior() -> None:
    """Trained by train_fold as any fold model, its log loss on rows it never saw is far under log(3)."""
    texts, labels = corpus(700, 6)
    train_rows, val_rows, test_rows = np.arange(500), np.arange(500, 600), np.arange(600, 700)
    encoder = TextEncoder.fit([[texts[i] for i in train_rows]], buckets=16, length=64)
    x = encoder.encode([texts])
    torch.manual_seed(0)
    bias = starting_bias(labels[train_rows], 3)
    model = TextNet(0, 3, buckets=16, length=64, l2=l2_strength(len(train_rows)), bias=bias)
    plan = text_plan()
    train_fold(
        model, fold=1, x=x, y=labels, train_rows=train_rows, val_rows=val_rows, classification=True,
        score=lambda proba: classification_score("log_loss", labels[val_rows], proba), higher_is_better=False,
        config=plan, seed=0, stop=lambda: False, report=False,
    )  # fmt: skip
    model.eval()
    with torch.no_grad():
        proba = torch.softmax(model(torch.from_numpy(x[test_rows])), dim=1).double().numpy()
    assert classification_score("log_loss", labels[test_rows], proba) < 0.5 * math.log(3)


@pytest.mark.usefixtures("one_thread")
def test_the_mlp_head_learns_several_labels_beside_dense_features() -> None:
    """Several sigmoid outputs (train_fold's multi-label loss) beat each label's prior by far on unseen rows."""
    texts, labels = labelled_comments(700, 7)
    train_rows, val_rows, test_rows = np.arange(500), np.arange(500, 600), np.arange(600, 700)
    encoder = TextEncoder.fit([[texts[i] for i in train_rows]], buckets=16, length=64)
    noise = np.random.default_rng(0).normal(size=(len(texts), 3)).astype(np.float32)
    x = np.hstack([noise, encoder.encode([texts])])
    torch.manual_seed(0)
    bias = starting_bias(labels[train_rows], 2, multilabel=True)
    model = TextNet(3, 2, buckets=14, length=64, hidden=16, l2=l2_strength(len(train_rows)), bias=bias)
    plan = text_plan(lr=1e-2)
    train_fold(
        model, fold=1, x=x, y=labels, train_rows=train_rows, val_rows=val_rows, classification=False,
        multilabel=True, score=lambda proba: multilabel_score("log_loss", labels[val_rows].astype(np.float64), proba),
        higher_is_better=False, config=plan, seed=0, stop=lambda: False, report=False,
    )  # fmt: skip
    model.eval()
    with torch.no_grad():
        proba = torch.sigmoid(model(torch.from_numpy(x[test_rows]))).double().numpy()
    truth = labels[test_rows].astype(np.float64)
    share = labels[train_rows].mean(axis=0)
    prior = multilabel_score("log_loss", truth, np.tile(share, (len(test_rows), 1)))
    assert multilabel_score("log_loss", truth, proba) < 0.5 * prior


def test_rows_of_dense_features_and_text_give_one_output_per_class_and_gradients_to_both() -> None:
    """Rows of [dense | slots | weights]: outputs per row, gradients to the n-gram table and the dense map."""
    texts, _ = corpus(8, 8)
    block = TextEncoder.fit([texts], buckets=12, length=16).encode([texts])
    x = torch.from_numpy(np.hstack([np.ones((8, 2), dtype=np.float32), block]))
    for hidden in (0, 8):
        model = TextNet(2, 4, buckets=12, length=16, hidden=hidden)
        out = model(x)
        assert out.shape == (8, 4)
        torch.nn.functional.binary_cross_entropy_with_logits(out, torch.ones(8, 4)).backward()
        assert model.dense is not None and model.dense.weight.grad is not None
        assert model.bag.weight.grad is not None and model.bag.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="expected 2 dense"):
        model(x[:, :-1])


def test_slots_beyond_a_smaller_table_fold_onto_it() -> None:
    """A table of 2**8 slots reads slots of a 2**16 encoder by their low bits: no index falls outside it."""
    texts, _ = corpus(8, 9)
    x = torch.from_numpy(TextEncoder.fit([texts], buckets=16, length=32).encode([texts]))
    assert x[:, :32].max() >= 2**8
    assert TextNet(0, 3, buckets=8, length=32)(x).shape == (8, 3)


def test_the_l2_penalty_adds_its_gradient_to_the_table_while_training_only() -> None:
    """With no loss from the data, the table's gradient is exactly l2 × table; the outputs are the same either way."""
    texts, _ = corpus(8, 10)
    x = torch.from_numpy(TextEncoder.fit([texts], buckets=10, length=16).encode([texts]))
    model = TextNet(0, 3, buckets=10, length=16, l2=0.25)
    with torch.no_grad():
        model.bag.weight.normal_()
    plain = TextNet(0, 3, buckets=10, length=16)
    plain.load_state_dict(model.state_dict())
    out = model(x)
    assert torch.equal(out, plain(x))
    (out * 0).sum().backward()
    assert model.bag.weight.grad is not None
    assert torch.allclose(model.bag.weight.grad, 0.25 * model.bag.weight)
    assert l2_strength(1000, c=4.0) == pytest.approx(1 / 4000)


def test_encoding_chunk_by_chunk_gives_the_rows_of_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents are hashed a chunk at a time; chunk boundaries change neither the idf nor any row."""
    texts, _ = corpus(25, 11)
    encoder = TextEncoder.fit([texts], buckets=16, length=64)
    whole = encoder.encode([texts])
    monkeypatch.setattr(text, "CHUNK", 4)
    chunked = TextEncoder.fit([texts], buckets=16, length=64)
    assert np.array_equal(chunked.idf, encoder.idf)
    assert np.array_equal(chunked.encode([texts]), whole)


def test_the_starting_bias_predicts_the_prior_of_classes_labels_and_values() -> None:
    """Before any step, an untrained linear model predicts the training targets' (smoothed) prior."""
    classes = np.array([0, 0, 0, 1, 2, 2], dtype=np.int64)
    shares = torch.softmax(torch.from_numpy(starting_bias(classes, 4)), dim=0).numpy()
    assert np.allclose(shares, np.array([4, 2, 3, 1]) / 10)
    labels = np.array([[1, 0], [0, 0], [1, 0], [1, 1]], dtype=np.float32)
    odds = torch.sigmoid(torch.from_numpy(starting_bias(labels, 2, multilabel=True))).numpy()
    assert np.allclose(odds, [4 / 6, 2 / 6])
    values = np.array([[1.0, -2.0], [3.0, 0.0]], dtype=np.float32)
    assert np.allclose(starting_bias(values, 2), [2.0, -1.0])
    texts, _ = corpus(4, 12)
    x = torch.from_numpy(TextEncoder.fit([texts], buckets=10, length=16).encode([texts]))
    model = TextNet(0, 4, buckets=10, length=16, hidden=0, bias=starting_bias(classes, 4))
    assert np.allclose(torch.softmax(model(x), dim=1).detach().numpy(), np.tile(shares, (4, 1)))
    with pytest.raises(ValueError, match="for 3 outputs"):
        TextNet(0, 3, buckets=10, length=16, bias=starting_bias(classes, 4))


def test_the_agent_builds_its_text_models_with_the_penalty_and_the_prior_of_the_folds_rows() -> None:
    """What the agent trains: each text candidate with LogisticRegression's L2 for the fold's rows and the fold's
    class prior as its starting outputs."""
    y = np.array([0, 0, 0, 1], dtype=np.int64)
    x = np.zeros((4, 2 * 64), dtype=np.float32)
    dataset = Dataset(x, x, y, None, None, ("a",), 2, 0, text_width=128)
    start = _text_start(dataset, y)
    for candidate in TEXT_CANDIDATES:
        model = build_model(torch.Size([128]), 2, images=False, candidate=candidate, text_width=128, **start)
        assert isinstance(model, TextNet)
        assert model.l2 == pytest.approx(l2_strength(4))
        shares = torch.softmax(model.bias.detach(), dim=0).numpy()
        assert np.allclose(shares, [4 / 6, 2 / 6])
