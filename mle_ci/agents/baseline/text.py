"""Free-text columns: telling them apart from ids and categories, and hashed TF-IDF n-grams per document.

A document becomes a fixed-width float32 row, so text travels in the same dense matrix as the tabular features:
its ``length`` highest-weighted n-gram slots, then their weights (:class:`TextEncoder`). :class:`TextNet` reads
rows of dense features followed by such a block.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from mle_ci.agents.baseline.tables import is_missing, numeric

BUCKETS = 20
"""Hashed n-gram slots are ``2**BUCKETS``: a linear model over them is a million weights per output, and fewer
collide (2**18 cost a linear model 0.002 AUC on the main label of bench/text_model.py's toxic corpus). Slot
indices travel as float32, exact below 2**24, so at most 24."""

LENGTH = 384
"""N-grams kept per document (the row holds twice as many floats: slots, then weights). Measured on the generated
corpora of bench/text_model.py, a document of up to 35 words (at most ~300 distinct n-grams) is kept whole; one of
35-50 words (~470) keeps 97-98% of its squared TF-IDF weight, 50-80 words (~640) 91%, 80-150 words (~950) 78%,
the dropped n-grams being common ones of low weight. A linear model on the whole documents of the toxic corpus did
better by only 0.004 AUC on its main label, and twice the length costs twice the memory (3 KiB per row at 384)."""

MIN_DISTINCT = 10
"""A free-text column has at least this many distinct values: a few sentences repeated are categories."""

MIN_DISTINCT_SHARE = 0.5
"""At least this share of a free-text column's values are distinct: a categorical column repeats a handful."""

MIN_MEAN_WORDS = 3.0
"""A column whose cells hold at least this many words on average is text, however short its words."""

MIN_MEDIAN_CHARS = 20
"""A column of long cells (by median) is text with fewer words, down to ``MIN_LONG_WORDS`` on average."""

MIN_LONG_WORDS = 2.0
"""Words on average that a column of long cells needs: ids as long (hex digests, UUIDs, URLs) are one token."""

CHUNK = 2048
"""Documents hashed at once: bounds the n-gram arrays (a few thousand entries per long document) in memory."""

INVERSE_L2 = 16.0
"""The text models' L2 as LogisticRegression's C on features of unit norm per document. For a linear model on the
corpora of bench/text_model.py, C 4 cost the authors corpus 0.06 of log loss against 16, and C 100 cost the toxic
one 0.016 AUC while gaining the authors 0.03; 16-32 did well on both."""

HIDDEN_BIAS = 0.1
"""The MLP head's hidden units start this far above zero: with zero slot vectors, ReLU passes gradients from the
first step on."""

_ANALYZERS: tuple[tuple[str, tuple[int, int]], ...] = (("word", (1, 2)), ("char_wb", (2, 5)))
"""Word 1-2-grams and character 2-5-grams inside word boundaries, as the TF-IDF + logistic regression reference."""

_BLOCK_STEP = 0x9E3779B1
"""Odd constant (2**32 / golden ratio) that spreads the analyzers' and columns' slots apart (see ``_entries``)."""

_WORD = re.compile(r"\S*[^\W\d_]\S*")
"""A word: a whitespace-separated token holding a letter (numbers and punctuation alone are not words)."""


def is_free_text(cells: list[str]) -> bool:
    """Whether a column holds free text: mostly distinct values with words in them, not ids, numbers or categories."""
    present = [cell.strip() for cell in cells if not is_missing(cell)]
    if not present or numeric(present):
        return False
    distinct = len(set(present))
    if distinct < MIN_DISTINCT or distinct < MIN_DISTINCT_SHARE * len(present):
        return False
    mean_words = sum(len(_WORD.findall(cell)) for cell in present) / len(present)
    median_chars = statistics.median(len(cell) for cell in present)
    return mean_words >= MIN_MEAN_WORDS or (median_chars >= MIN_MEDIAN_CHARS and mean_words >= MIN_LONG_WORDS)


@dataclass(frozen=True)
class _Entries:
    """A chunk's non-zero n-gram slots as parallel arrays: document, part (column × analyzer), slot, weight."""

    rows: NDArray[np.int64]
    parts: NDArray[np.int64]
    slots: NDArray[np.int64]
    weights: NDArray[np.float32]


# eq=False: the idf array has no single truth value, so a generated == would raise.
@dataclass(frozen=True, eq=False)
class TextEncoder:
    """Hashed word and character n-grams of one or more text columns, TF-IDF weighted, top ``length`` per document.

    Hashing is scikit-learn's MurmurHash3 with a fixed seed (``HashingVectorizer``): the same slots in every
    process, unlike Python's salted ``hash()``, with no vocabulary to fit or store. It is unsigned: the network
    learns a weight per slot, so a sign would not undo collisions for it, and the row keeps the highest *weights*.
    Term frequency is sublinear (1 + log tf), the idf smooth (ln((1 + n) / (1 + df)) + 1) over the ``rows``
    training documents it was fitted on, and each column's word and character parts are L2-normalised apart (as
    a union of two TF-IDF vectorizers is), then scaled by 1/sqrt(parts): a unit vector when no part is empty.
    """

    columns: int
    buckets: int
    length: int
    rows: int
    idf: NDArray[np.float32]

    @classmethod
    def fit(cls, columns: Sequence[Sequence[str]], *, buckets: int = BUCKETS, length: int = LENGTH) -> TextEncoder:
        """Fit the idf on the training rows' texts: one sequence of cells per text column, rows aligned."""
        if not 1 <= buckets <= 24:
            raise ValueError(f"buckets must be 1..24 (slots travel as float32), not {buckets}")
        if length < 1:
            raise ValueError(f"length must be at least 1, not {length}")
        rows = _row_count(columns)
        df = np.zeros(2**buckets, dtype=np.int64)
        for entries in _chunks(columns, buckets, rows):
            # A slot shared by two parts of one document (a collision) counts twice: rare, and harmless to an idf.
            df += np.bincount(entries.slots, minlength=2**buckets)
        idf = np.log((1.0 + rows) / (1.0 + df)) + 1.0
        return cls(len(columns), buckets, length, rows, idf.astype(np.float32))

    @property
    def width(self) -> int:
        """Floats per encoded document: ``length`` slots, then their weights."""
        return 2 * self.length

    def encode(self, columns: Sequence[Sequence[str]]) -> NDArray[np.float32]:
        """Documents as rows: their ``length`` highest-weighted slots (as float32), then the weights; zero-padded."""
        if len(columns) != self.columns:
            raise ValueError(f"the encoder was fitted on {self.columns} text column(s), not {len(columns)}")
        rows = _row_count(columns)
        out = np.zeros((rows, self.width), dtype=np.float32)
        parts = self.columns * len(_ANALYZERS)
        for start, entries in zip(range(0, rows, CHUNK), _chunks(columns, self.buckets, rows), strict=True):
            block = out[start : start + CHUNK]
            weights = entries.weights * self.idf[entries.slots]
            group = entries.rows * parts + entries.parts
            norms = np.sqrt(
                np.bincount(group, weights=np.square(weights, dtype=np.float64), minlength=len(block) * parts)
            )
            weights = weights / (norms[group] * np.sqrt(parts)).astype(np.float32)
            _keep_top(block, _Entries(entries.rows, entries.parts, entries.slots, weights), self.length)
        return out


def _row_count(columns: Sequence[Sequence[str]]) -> int:
    if not columns:
        raise ValueError("no text column given")
    if any(isinstance(column, str) for column in columns):
        raise TypeError("columns must be sequences of cells (one per text column), not strings")
    counts = {len(column) for column in columns}
    if len(counts) != 1:
        raise ValueError(f"text columns of different lengths: {sorted(counts)}")
    return counts.pop()


def _hashers(buckets: int) -> list[Any]:
    from sklearn.feature_extraction.text import HashingVectorizer  # noqa: PLC0415 - scikit-learn (heavy) only for text

    return [
        HashingVectorizer(
            analyzer=analyzer,
            ngram_range=ngrams,
            n_features=2**buckets,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )
        for analyzer, ngrams in _ANALYZERS
    ]


def _chunks(columns: Sequence[Sequence[str]], buckets: int, rows: int) -> Iterator[_Entries]:
    """The documents' n-grams chunk by chunk, over all parts (column × analyzer); weights are sublinear tf."""
    hashers = _hashers(buckets)
    for start in range(0, rows, CHUNK):
        parts = [
            _entries(
                hasher, list(column[start : start + CHUNK]), part=index * len(hashers) + analyzer, mask=2**buckets - 1
            )
            for index, column in enumerate(columns)
            for analyzer, hasher in enumerate(hashers)
        ]
        yield _Entries(
            np.concatenate([p.rows for p in parts]),
            np.concatenate([p.parts for p in parts]),
            np.concatenate([p.slots for p in parts]),
            np.concatenate([p.weights for p in parts]),
        )


def _entries(hasher: Any, cells: list[str], *, part: int, mask: int) -> _Entries:
    """One part's n-grams of a chunk of documents, with their sublinear term frequencies."""
    matrix = hasher.transform(cells)
    indptr = np.asarray(matrix.indptr, dtype=np.int64)
    rows = np.repeat(np.arange(len(cells), dtype=np.int64), np.diff(indptr))
    # An odd multiplier and an offset per part permute the slots: each part keeps its own collisions, while the
    # same string in two parts (a word and a character n-gram, one word in two columns) lands on two slots.
    slots = (np.asarray(matrix.indices, dtype=np.int64) * (2 * part + 1) + part * _BLOCK_STEP) & mask
    tf = 1.0 + np.log(np.asarray(matrix.data, dtype=np.float32))
    return _Entries(rows, np.full(len(rows), part, dtype=np.int64), slots, tf.astype(np.float32))


def _keep_top(out: NDArray[np.float32], entries: _Entries, length: int) -> None:
    """Write each document's ``length`` highest weights (ties by slot) and their slots into its row of ``out``."""
    order = np.lexsort((entries.slots, -entries.weights, entries.rows))
    rows = entries.rows[order]
    counts = np.bincount(rows, minlength=len(out))
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = rank < length
    out[rows[keep], rank[keep]] = entries.slots[order][keep].astype(np.float32)
    out[rows[keep], length + rank[keep]] = entries.weights[order][keep]


class _L2Gradient(torch.autograd.Function):
    """The identity on a weight table whose backward adds ``l2 × weight``: the gradient of an L2 penalty."""

    @staticmethod
    def forward(ctx: Any, weight: Tensor, l2: float) -> Tensor:
        ctx.save_for_backward(weight)
        ctx.l2 = l2
        return weight.view_as(weight)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (weight,) = ctx.saved_tensors
        return grad + ctx.l2 * weight, None


class _HiddenHead(nn.Module):
    """A hidden layer on the summed slot vectors (their bias, ReLU, dropout), then a linear map to the outputs."""

    def __init__(self, hidden: int, outputs: int, dropout: float) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.full((hidden,), HIDDEN_BIAS))
        self.layers = nn.Sequential(nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, outputs))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.layers(x + self.bias)
        return out


class TextNet(nn.Module):
    """Logits from dense features and a hashed TF-IDF block: a linear model over both, or an MLP head on the text.

    Input rows are ``[dense (width dense) | slots (length) | weights (length)]``. An embedding table sums each
    document's slot vectors times their weights: with ``hidden`` 0 the vectors are the logits' weights (logistic
    or linear regression on TF-IDF); otherwise a hidden layer of that width goes through ReLU and dropout to the
    outputs. The dense features are clipped to ``±clip`` (the agent gives ``models.CLIP``) and mapped linearly onto
    the logits.

    ``l2`` adds the gradient of ``l2 / 2 × ‖table‖²`` to the table's, as LogisticRegression's penalty (see
    :func:`l2_strength`). Not the optimizer's weight decay: AdamW's is decoupled from the gradient, and Adam alone
    moves every n-gram's weight at the same pace whatever its evidence, so the many weakly informative n-grams grow
    as large as the telling ones. On the toxic corpus of bench/text_model.py the penalty took the linear model's
    mean AUC from 0.907 to 0.918 and the MLP head's from 0.918 to 0.952. Under fp16's gradient scaler the penalty
    is divided by the scale: bf16 and the CPU, which have none, keep it whole.

    ``bias`` starts the outputs at the training targets' prior (:func:`starting_bias`). With the penalty, a linear
    model then no longer spends its first epochs, and its n-gram weights, learning that a rare label is rare: mean
    AUC 0.946 in 14 epochs where it had 0.918 in 62 (on the authors corpus, 34 epochs either way).

    ``buckets`` may be fewer than the encoder's: slots are folded onto the table by their low bits, which keeps the
    hashing uniform. Gradients are dense, as ``train_fold``'s AdamW needs: SparseAdam on a 2**20 × 3 table was
    3.7 times faster a step of 64 rows on the 2-core CPU, but no faster at the 256 rows a text step has. A step
    costs time in proportion to ``2**buckets × width``: an MLP head wants a smaller table than a linear one.
    """

    def __init__(
        self,
        dense: int,
        outputs: int,
        *,
        buckets: int,
        length: int,
        hidden: int = 0,
        dropout: float = 0.3,
        l2: float = 0.0,
        bias: NDArray[np.float32] | None = None,
        clip: float = math.inf,
    ) -> None:
        super().__init__()
        self.clip = clip
        if not 1 <= buckets <= 24:
            raise ValueError(f"buckets must be 1..24, not {buckets}")
        self.dense_width, self.length, self.mask, self.l2 = dense, length, 2**buckets - 1, l2
        self.bag = nn.EmbeddingBag(2**buckets, hidden or outputs, mode="sum")
        # Zero vectors: a slot no training document touched adds nothing to a test document's output.
        nn.init.zeros_(self.bag.weight)
        self.head = _HiddenHead(hidden, outputs, dropout) if hidden else None
        self.dense = nn.Linear(dense, outputs, bias=False) if dense else None
        self.bias = nn.Parameter(torch.zeros(outputs) if bias is None else torch.tensor(bias, dtype=torch.float32))
        if self.bias.shape != (outputs,):
            raise ValueError(f"a bias of shape {tuple(self.bias.shape)} for {outputs} outputs")

    def forward(self, x: Tensor) -> Tensor:
        width, length = self.dense_width, self.length
        if x.shape[-1] != width + 2 * length:
            raise ValueError(f"rows of {x.shape[-1]} values, expected {width} dense + 2 × {length} text")
        table = self.bag.weight
        if self.training and self.l2 > 0:
            table = _L2Gradient.apply(table, self.l2)  # type: ignore[no-untyped-call]
        slots = x[:, width : width + length].long() & self.mask
        # gather and weigh: on the CPU about four times faster to train than embedding_bag's per-sample-weights
        # backward (0.054 s against 0.22 s a step of 256 rows x 384 slots into 2**20 x 3, measured on this project's
        # 2-core machine), for the same sums
        text = (nn.functional.embedding(slots, table) * x[:, width + length :, None].float()).sum(dim=1)
        if self.head is not None:
            text = self.head(text)
        out: Tensor = text + self.bias
        if self.dense is not None:
            out = out + self.dense(x[:, :width].clamp(-self.clip, self.clip))
        return out


def l2_strength(rows: int, c: float = INVERSE_L2) -> float:
    """The penalty of LogisticRegression(C=c) fitted on ``rows`` rows, for a loss that is a mean over rows."""
    return 1.0 / (c * max(1, rows))


def starting_bias(y: NDArray[Any], outputs: int, *, multilabel: bool = False) -> NDArray[np.float32]:
    """The outputs that predict the targets' prior: log class shares, log odds per label, or mean values."""
    prior: NDArray[np.float64]
    if multilabel:
        positives = np.asarray(y, dtype=np.float64).sum(axis=0)
        prior = np.log((positives + 1.0) / (len(y) - positives + 1.0))
    elif np.issubdtype(y.dtype, np.integer):
        counts = np.bincount(y, minlength=outputs) + 1.0
        prior = np.log(counts / counts.sum())
    else:
        prior = np.asarray(y, dtype=np.float64).reshape(len(y), -1).mean(axis=0)
    return prior.astype(np.float32)
