"""The baseline's text models against TF-IDF + logistic regression, on generated text corpora, in one run.

Two corpora are generated (nothing is downloaded), each split 80/20 (seed 0) with the same rows for every model:

- **authors** (as spooky-author-identification, 3-class log loss): sentences by three "authors" drawing from one
  shared Zipf vocabulary of made-up words, each with its own tilt of word frequencies, favourite words, habitual
  word pairs and punctuation, in unequal shares (40/31/29%).
- **toxic** (as jigsaw-toxic-comment, mean column-wise AUC over 6 labels): comments of neutral text of any length;
  some are toxic and then carry words of the toxic lexicon and of the lexicons of their sub-labels (nested, rare,
  correlated as jigsaw's), often misspelt; some clean comments quote such words, and some toxic ones carry none.

The references are scikit-learn's ``TfidfVectorizer`` (word 1-2-grams and char_wb 2-5-grams, sublinear tf, each
L2-normalised, as a union) and ``LogisticRegression`` (one per label for the toxic corpus) fitted on the 80%: with
the default C=1, and with C chosen by 3-fold cross-validation on the 80%. The text models are the agent's
(``models.TEXT_CANDIDATES``, as ``build_model`` builds them), trained by ``train_fold`` with the agent's text plan
(``agent.TEXT_BATCH``, ``agent.TEXT_LR``, one pass per epoch, patience 3; all 6 toxic labels in one network with
a sigmoid each) on 7/8 of the 80%, early-stopping on the other 1/8, the encoder fitted on the 80%. Each is run as
the agent builds it (with ``l2_strength(rows)`` and ``starting_bias(targets)``) and without either. Wall seconds
count everything from the texts to the test predictions (vectorizing included: the text models share one encoding,
whose seconds each of them counts), all measured in this run; on a busy machine they are noisy, the metrics are
not (``--threads 1`` keeps torch from stalling on cores that other work holds).

The goal: a text model at least as good as the default reference on each corpus (lower log loss, higher AUC).

Run: ``.venv/bin/python bench/text_model.py [--rows 6000] [--only authors,toxic] [--length 384] [--threads N]``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from _common import columns
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_union

from mle_ci.agents.baseline.agent import TEXT_BATCH, TEXT_LR
from mle_ci.agents.baseline.models import TEXT_CANDIDATES, build_model
from mle_ci.agents.baseline.text import LENGTH, TextEncoder, l2_strength, starting_bias
from mle_ci.agents.baseline.train import TrainConfig, predict, train_fold

LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
"""The toxic corpus's labels, as jigsaw-toxic-comment's."""

SUB_LABEL_RATE = {"severe_toxic": 0.1, "obscene": 0.5, "threat": 0.12, "insult": 0.5, "identity_hate": 0.15}
"""How often a toxic comment carries each sub-label (all of them imply toxic, as nearly always in jigsaw)."""

TUNED_CS = (0.25, 1.0, 4.0, 16.0, 64.0)
"""The C values the cross-validated reference chooses from."""

_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ou", "ea", "y")]


# --- the corpora ---------------------------------------------------------------------------------------------


def made_up_words(rng: np.random.Generator, count: int, *, avoid: frozenset[str] = frozenset()) -> list[str]:
    """``count`` distinct pronounceable made-up words, short ones first (as frequent words are short)."""
    words: list[str] = []
    seen = set(avoid)
    while len(words) < count:
        syllables = 1 + min(3, int(rng.exponential(0.4 + len(words) / count * 1.5)))
        word = "".join(rng.choice(_SYLLABLES) for _ in range(syllables))
        if rng.random() < 0.3:
            word += rng.choice(list("nstrl"))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf(size: int, exponent: float = 1.07) -> NDArray[np.float64]:
    weights = 1.0 / (np.arange(size) + 2.7) ** exponent
    return weights / weights.sum()


@dataclass(frozen=True)
class Style:
    """How one author writes: word probabilities (cumulated), habitual word pairs, and punctuation rates."""

    cumulative: NDArray[np.float64]
    pairs: NDArray[np.int64]
    pair_rate: float
    comma: float
    semicolon: float


def style(rng: np.random.Generator, base: NDArray[np.float64], tilt: float) -> Style:
    logp = np.log(base) + tilt * rng.normal(size=len(base))
    favourites = rng.choice(np.arange(100, len(base)), size=40, replace=False)
    logp[favourites] += math.log(5.0)
    p = np.exp(logp)
    pairs = rng.choice(len(base), size=(150, 2), p=base)
    return Style(np.cumsum(p / p.sum()), pairs, 0.06, rng.uniform(0.03, 0.12), rng.uniform(0.0, 0.03))


def sentence(rng: np.random.Generator, vocabulary: Sequence[str], author: Style, words: int) -> str:
    drawn = np.minimum(np.searchsorted(author.cumulative, rng.random(words)), len(vocabulary) - 1)
    habits = author.pairs[rng.integers(len(author.pairs), size=words)]
    ids: list[int] = []
    for word, habit, paired in zip(drawn, habits, rng.random(words) < author.pair_rate, strict=True):
        ids += list(habit) if paired else [word]
    marks = rng.random(len(ids))
    out = [
        vocabulary[i] + ("," if mark < author.comma else ";" if mark < author.comma + author.semicolon else "")
        for i, mark in zip(ids, marks, strict=True)
    ]
    text = " ".join(out)
    return text[0].upper() + text[1:] + str(rng.choice([".", ".", ".", "?", "!"]))


def authors_corpus(rows: int, seed: int = 0) -> tuple[list[str], NDArray[np.int64]]:
    """Sentences of three authors (class indices 0-2) from one shared vocabulary, each with a style of its own."""
    rng = np.random.default_rng(seed)
    vocabulary = made_up_words(rng, 6000)
    base = zipf(len(vocabulary))
    authors = [style(rng, base, tilt=0.5) for _ in range(3)]
    labels = rng.choice(3, size=rows, p=[0.40, 0.31, 0.29]).astype(np.int64)
    lengths = np.clip(rng.lognormal(math.log(24), 0.55, size=rows).astype(int), 3, 300)
    return [sentence(rng, vocabulary, authors[y], n) for y, n in zip(labels, lengths, strict=True)], labels


def misspell(rng: np.random.Generator, word: str) -> str:
    """A letter doubled, dropped or swapped for a star, as people write swear words."""
    at = int(rng.integers(1, len(word)))
    kind = rng.integers(3)
    if kind == 0:
        return word[:at] + word[at - 1] + word[at:]
    if kind == 1:
        return word[: at - 1] + word[at:]
    return word[: at - 1] + "*" + word[at:]


def toxic_corpus(rows: int, seed: int = 0) -> tuple[list[str], NDArray[np.int64]]:
    """Comments with six nested labels (rows × 6, 0/1): lexicon words, misspelt, in neutral text of any length."""
    rng = np.random.default_rng(seed)
    vocabulary = made_up_words(rng, 8000)
    lexicons = {label: made_up_words(rng, 25, avoid=frozenset(vocabulary)) for label in LABELS}
    neutral = style(rng, zipf(len(vocabulary)), tilt=0.0)
    texts: list[str] = []
    labels = np.zeros((rows, len(LABELS)), dtype=np.int64)
    for row in range(rows):
        words = sentence(rng, vocabulary, neutral, int(np.clip(rng.lognormal(math.log(40), 0.9), 3, 800))).split()
        flagged: list[str] = []
        if rng.random() < 0.12:
            flagged = ["toxic"] + [label for label, rate in SUB_LABEL_RATE.items() if rng.random() < rate]
        elif rng.random() < 0.03:
            # a clean comment that quotes a toxic word
            words.insert(int(rng.integers(len(words) + 1)), str(rng.choice(lexicons["toxic"])))
        for label in flagged:
            labels[row, LABELS.index(label)] = 1
            # one label in ten carries no word of its lexicon: nothing any model can see
            for _ in range(0 if rng.random() < 0.1 else 1 + rng.poisson(1.0)):
                word = str(rng.choice(lexicons[label]))
                words.insert(int(rng.integers(len(words) + 1)), misspell(rng, word) if rng.random() < 0.3 else word)
        texts.append(" ".join(words))
    return texts, labels


# --- the models ------------------------------------------------------------------------------------------------


def reference(train: list[str], y: NDArray[np.int64], test: list[str], *, tuned: bool) -> NDArray[np.float64]:
    """Class probabilities, or one column of positives per label when ``y`` has labels as columns.

    ``tuned``: C chosen by 3-fold cross-validation on the training rows (log loss, or AUC per label).
    """
    union = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    features, test_features = union.fit_transform(train), union.transform(test)
    targets = [y] if y.ndim == 1 else [y[:, j] for j in range(y.shape[1])]
    columns_ = []
    for target in targets:
        c = best_c(features, target) if tuned else 1.0
        proba = LogisticRegression(C=c, max_iter=1000).fit(features, target).predict_proba(test_features)
        columns_.append(proba if y.ndim == 1 else proba[:, 1:])
    return np.hstack(columns_)


def best_c(features: Any, target: NDArray[np.int64]) -> float:
    """The C of ``TUNED_CS`` with the best 3-fold score on the training rows (log loss, or AUC for two classes)."""
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(features, target))
    binary = target.max() == 1

    def cv_score(c: float) -> float:
        total = 0.0
        for fit, held in folds:
            proba = LogisticRegression(C=c, max_iter=1000).fit(features[fit], target[fit]).predict_proba(features[held])
            truth = target[held]
            total += (
                roc_auc_score(truth, proba[:, 1]) if binary else -log_loss(truth, proba, labels=range(proba.shape[1]))
            )
        return total

    return max(TUNED_CS, key=cv_score)


@dataclass(frozen=True)
class Split:
    """Row positions: the 80% (``train``), of it the rows a text model learns from and those it stops on, the 20%."""

    train: NDArray[np.int64]
    fit: NDArray[np.int64]
    stop: NDArray[np.int64]
    test: NDArray[np.int64]


def split(rows: int, seed: int = 0) -> Split:
    order = np.random.default_rng(seed).permutation(rows)
    cut = int(0.8 * rows)
    train, test = np.sort(order[:cut]), np.sort(order[cut:])
    inner = len(train) * 7 // 8
    return Split(train, train[:inner], train[inner:], test)


def text_plan() -> TrainConfig:
    """The agent's plan for a text task on the CPU (``agent._config``): its batch, rate, decay and patience."""
    return TrainConfig(
        device=torch.device("cpu"), batch_size=TEXT_BATCH, amp="off", num_workers=0, max_epochs=100, patience=3,
        lr=TEXT_LR, weight_decay=5e-2, margin=0.0, images=False, text=True,
    )  # fmt: skip


def text_model(
    candidate: str, x: NDArray[np.float32], y_fit: NDArray[Any], outputs: int, *, multilabel: bool, penalised: bool
) -> torch.nn.Module:
    """The candidate as ``build_model`` builds it for the agent (``penalised``: with the L2 penalty and the prior as
    its bias), or without either, as it was built before they were adopted."""
    start = (
        {"text_l2": l2_strength(len(y_fit)), "text_bias": starting_bias(y_fit, outputs, multilabel=multilabel)}
        if penalised
        else {}
    )
    size = torch.Size(x.shape[1:])
    return build_model(size, outputs, images=False, candidate=candidate, text_width=x.shape[1], **start)


def train_and_predict(
    model: torch.nn.Module, x: NDArray[np.float32], y: NDArray[Any], rows: Split,
    score: Callable[[NDArray[Any], NDArray[np.float64]], float], *, multilabel: bool,
) -> tuple[NDArray[np.float64], int]:  # fmt: skip
    """Test-row probabilities (softmax, or a sigmoid per label) of a model trained by train_fold; its best epoch."""
    plan = text_plan()
    outcome = train_fold(
        model, fold=1, x=x, y=y, train_rows=rows.fit, val_rows=rows.stop, classification=not multilabel,
        multilabel=multilabel, score=lambda proba: score(y[rows.stop], proba), higher_is_better=multilabel,
        config=plan, seed=0, stop=lambda: False, report=False,
    )  # fmt: skip
    raw = torch.from_numpy(predict(model, x[rows.test], plan))
    proba = torch.sigmoid(raw) if multilabel else torch.softmax(raw, dim=1)
    return proba.numpy(), outcome.best_epoch


# --- the run ---------------------------------------------------------------------------------------------------


def mean_auc(y: NDArray[Any], p: NDArray[np.float64]) -> float:
    return float(np.mean([roc_auc_score(y[:, j], p[:, j]) for j in range(y.shape[1])]))


def multiclass_log_loss(y: NDArray[Any], p: NDArray[np.float64]) -> float:
    return float(log_loss(y, p, labels=range(p.shape[1])))


@dataclass(frozen=True)
class Result:
    """One model on one corpus: its test metric, wall seconds, the share of weight its rows keep, its best epoch."""

    model: str
    value: float
    seconds: float
    kept: str = "-"
    epoch: str = "-"


def run_corpus(texts: list[str], y: NDArray[np.int64], length: int) -> list[Result]:
    """Every model on a corpus, the default reference first."""
    rows = split(len(texts))
    multi = y.ndim == 2
    score = mean_auc if multi else multiclass_log_loss
    train_texts, test_texts = [texts[i] for i in rows.train], [texts[i] for i in rows.test]
    results = []
    for tuned in (False, True):
        started = time.perf_counter()
        proba = reference(train_texts, y[rows.train], test_texts, tuned=tuned)
        label = "tfidf + logreg, C by 3-fold CV" if tuned else "tfidf + logreg (reference)"
        results.append(Result(label, score(y[rows.test], proba), time.perf_counter() - started))
    started = time.perf_counter()
    encoder = TextEncoder.fit([train_texts], length=length)
    x = encoder.encode([texts])
    encoding = time.perf_counter() - started
    # every document is a unit vector, so the squared weights a row holds are the share of it kept
    kept = f"{np.mean(np.sum(x[rows.train, encoder.length :] ** 2, axis=1)):.3f}"
    targets = y.astype(np.float32) if multi else y
    outputs = y.shape[1] if multi else int(y.max()) + 1
    for candidate in TEXT_CANDIDATES:
        for penalised in (False, True):
            started = time.perf_counter()
            torch.manual_seed(0)
            model = text_model(candidate, x, targets[rows.fit], outputs, multilabel=multi, penalised=penalised)
            proba, epoch = train_and_predict(model, x, targets, rows, score, multilabel=multi)
            seconds = encoding + time.perf_counter() - started
            hidden, buckets = TEXT_CANDIDATES[candidate]
            label = f"{candidate} ({hidden or 'linear'}, 2**{buckets})" + ("" if penalised else " without l2, bias")
            results.append(Result(label, score(y[rows.test], proba), seconds, kept, str(epoch)))
    return results


def table(name: str, results: list[Result], *, higher_is_better: bool) -> list[list[str]]:
    ref = results[0]
    out = []
    for result in results:
        met = result.value >= ref.value if higher_is_better else result.value <= ref.value
        out.append([
            name, result.model, "mean AUC" if higher_is_better else "log loss", f"{result.value:.4f}",
            f"{result.value / ref.value:.3f}", f"{result.seconds:.1f}", f"{result.seconds / ref.seconds:.2f}",
            result.kept, result.epoch, "yes" if met else "NO",
        ])  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6000, help="documents per corpus")
    parser.add_argument("--only", default="authors,toxic", help="corpora, comma-separated")
    parser.add_argument("--length", type=int, default=LENGTH, help="n-grams kept per document")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    corpora = {"authors": authors_corpus, "toxic": toxic_corpus}
    header = ["corpus", "model", "metric", "value", "/ ref", "seconds", "/ ref", "weight kept", "best epoch", "≥ ref"]
    print(f"{args.rows} documents per corpus, 80/20 split (seed 0), {torch.get_num_threads()} torch threads")
    for name in args.only.split(","):
        texts, y = corpora[name](args.rows)
        rows = table(name, run_corpus(texts, y, args.length), higher_is_better=y.ndim == 2)
        print(f"\n{columns([header, *rows])}", flush=True)


if __name__ == "__main__":
    main()
