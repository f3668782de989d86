"""Text normalisation: each token's most frequent written form in train (by its neighbours if that helps), else itself.

The train CSV (millions of tokens) is streamed twice from its zip and never held whole: the first pass counts each
``(before, after)`` pair and keeps every tenth sentence aside for validation; the second counts the neighbours of
the tokens written in more than one way, so that context decides only where the token alone does not.
"""

from __future__ import annotations

import operator
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mle_ci.agents.baseline.special.budget import Budget
from mle_ci.agents.baseline.special.inputs import csv_header, csv_rows, find_sample, read_csv
from mle_ci.agents.baseline.special.result import READ_ERRORS, SpecialInputError, SpecialResult

TRAIN_COLUMNS = ("sentence_id", "token_id", "before", "after")
TEST_COLUMNS = ("sentence_id", "token_id", "before")
SAMPLE_COLUMNS = ("id", "after")

HOLD_OUT_EVERY = 10
"""Every tenth train sentence (the first included) is held out to measure the memorised forms."""

MIN_CONTEXT_COUNT = 2
"""A neighbourhood overrules the token's usual form only when it was seen with its own form at least this often."""

AMBIGUOUS_SHARE = 0.995
"""Neighbourhoods are counted only for tokens whose usual form covers at most this share of their occurrences:
a "." written "dot" twice in a million is not worth a context for every full stop."""

PREDICT_SECONDS = 15.0
"""Time kept for normalising the test tokens (about a million on the real data) when the train is read."""

START, END = "\x02", "\x03"  # neighbours of the first and last tokens: characters that no token holds

Context = tuple[str, str, str]  # previous token, token, next token
Token = tuple[str, str, str, str]  # previous token, token, next token, written form


@dataclass(frozen=True)
class TextFiles:
    """The tokens to learn from, the tokens to normalise and the sample submission."""

    train: Path
    test: Path
    sample: Path


@dataclass(frozen=True)
class Memory:
    """Written forms that differ from the token itself: by token, and by neighbourhood where that disagrees."""

    forms: dict[str, str]
    contextual: dict[Context, str]

    def normalise(self, previous: str, before: str, following: str) -> str:
        if self.contextual:
            hit = self.contextual.get((previous, before, following))
            if hit is not None:
                return hit
        return self.forms.get(before, before)

    def accuracy(self, tokens: list[Token]) -> float:
        right = sum(self.normalise(p, b, f) == after for p, b, f, after in tokens)
        return right / len(tokens) if tokens else 1.0


def recognise(public: Path) -> TextFiles | None:
    """The layout's files: a train CSV (maybe zipped) with before and after, a test CSV, a sample of id and after."""
    tables = sorted(p for p in public.iterdir() if p.is_file() and p.name.lower().endswith((".csv", ".csv.zip")))
    headers = {path: set(csv_header(path)) for path in tables if "sample" not in path.name.lower()}
    # A train file whose header cannot be read is still this layout's: the solver then falls back to identity.
    trains = [p for p, h in headers.items() if "train" in p.name.lower() and (set(TRAIN_COLUMNS) <= h or not h)]
    train = next((p for p in trains if headers[p]), trains[0] if trains else None)
    # The last test file by name is the latest stage's ("en_test_2" after "en_test").
    tests = [p for p, h in headers.items() if "test" in p.name.lower() and set(TEST_COLUMNS) <= h and "after" not in h]
    sample = find_sample(public, SAMPLE_COLUMNS)
    if train is None or not tests or sample is None:
        return None
    return TextFiles(train, tests[-1], sample)


def _sentences(rows: Iterator[list[str]], columns: tuple[str, ...]) -> Iterator[list[tuple[str, ...]]]:
    """The rows of each sentence in file order, cut down to ``columns`` (in that order, at least two)."""
    header = [cell.strip() for cell in next(rows, [])]
    try:
        sid_at = header.index("sentence_id")
        pick = operator.itemgetter(*(header.index(name) for name in columns))
    except ValueError:
        raise SpecialInputError(f"a token file lacks one of the columns sentence_id, {', '.join(columns)}") from None
    current: str | None = None
    sentence: list[tuple[str, ...]] = []
    for row in rows:
        if not row:
            continue
        if row[sid_at] != current:
            if sentence:
                yield sentence
                sentence = []
            current = row[sid_at]
        sentence.append(pick(row))
    if sentence:
        yield sentence


def _contexts(befores: list[str]) -> Iterator[tuple[str, str, str]]:
    padded = [START, *befores, END]
    return zip(padded, padded[1:], padded[2:], strict=False)


def _best(counts: Counter[tuple[str, str]]) -> dict[str, tuple[str, int, int]]:
    """Each token's most frequent form, that form's count and the runner-up's."""
    best: dict[str, tuple[str, int, int]] = {}
    for (before, after), count in counts.items():
        form, top, second = best.get(before, ("", 0, 0))
        if count > top:
            best[before] = (after, count, top)
        else:
            best[before] = (form, top, max(second, count))
    return best


def _memory(unigrams: Counter[tuple[str, str]], contexts: Counter[Token]) -> Memory:
    forms = {before: form for before, (form, _, _) in _best(unigrams).items() if form != before}
    chosen: dict[Context, tuple[str, int]] = {}
    for (previous, before, following, after), count in contexts.items():
        key = (previous, before, following)
        if count > chosen.get(key, ("", 0))[1]:
            chosen[key] = (after, count)
    contextual = {
        key: form
        for key, (form, count) in chosen.items()
        if count >= MIN_CONTEXT_COUNT and form != forms.get(key[1], key[1])
    }
    return Memory(forms, contextual)


def _count_pairs(path: Path, budget: Budget) -> tuple[Counter[tuple[str, str]], list[Token], int, bool]:
    """Pass one: ``(before, after)`` counts of the train sentences, the held-out tokens, the sentences read, and
    whether they are all of them (reading stops while ``PREDICT_SECONDS`` are left before the deadline)."""
    pairs: Counter[tuple[str, str]] = Counter()
    held: list[Token] = []
    count = 0
    with csv_rows(path) as rows:
        for count, sentence in enumerate(_sentences(rows, ("before", "after")), start=1):
            if count % 4096 == 0 and not budget.allows(PREDICT_SECONDS):
                return pairs, held, count - 1, False
            if (count - 1) % HOLD_OUT_EVERY == 0:
                befores = [before for before, _ in sentence]
                held.extend((*ctx, after) for ctx, (_, after) in zip(_contexts(befores), sentence, strict=True))
            else:
                pairs.update((before, after) for before, after in sentence)
    return pairs, held, count, True


def _count_contexts(path: Path, ambiguous: set[str]) -> Counter[Token]:
    """Pass two: neighbourhood counts of the tokens in ``ambiguous``, over the train (not held-out) sentences."""
    contexts: Counter[Token] = Counter()
    with csv_rows(path) as rows:
        for index, sentence in enumerate(_sentences(rows, ("before", "after"))):
            if index % HOLD_OUT_EVERY == 0 or not any(before in ambiguous for before, _ in sentence):
                continue
            befores = [before for before, _ in sentence]
            for ctx, (before, after) in zip(_contexts(befores), sentence, strict=True):
                if before in ambiguous:
                    contexts[(*ctx, after)] += 1
    return contexts


def _predict(path: Path, memory: Memory) -> dict[str, str]:
    """The written form of every test token, by its ``<sentence>_<token>`` id."""
    out: dict[str, str] = {}
    with csv_rows(path) as rows:
        for sentence in _sentences(rows, ("token_id", "before", "sentence_id")):
            befores = [before for _, before, _ in sentence]
            for (previous, before, following), (token, _, sid) in zip(_contexts(befores), sentence, strict=True):
                out[f"{sid}_{token}"] = memory.normalise(previous, before, following)
    return out


def _ambiguous(pairs: Counter[tuple[str, str]]) -> set[str]:
    """Tokens with a second form seen at least twice, whose usual form covers at most ``AMBIGUOUS_SHARE`` of them."""
    totals: Counter[str] = Counter()
    for (before, _), count in pairs.items():
        totals[before] += count
    return {
        before
        for before, (_, top, second) in _best(pairs).items()
        if second >= MIN_CONTEXT_COUNT and top <= AMBIGUOUS_SHARE * totals[before]
    }


def _context_counts(
    files: TextFiles, pairs: Counter[tuple[str, str]], held: list[Token], *, budget: Budget, pass_seconds: float
) -> tuple[Counter[Token], float | None, str]:
    """Neighbourhood counts when they beat the token alone on the held-out tokens (else empty), their score, why."""
    ambiguous = _ambiguous(pairs)
    if not ambiguous:
        return Counter(), None, ""
    if not budget.allows(2.5 * pass_seconds):
        return Counter(), None, "no time for a second pass over the train tokens: forms are memorised by token alone"
    contexts = _count_contexts(files.train, ambiguous)
    plain, context_score = _memory(pairs, Counter()).accuracy(held), _memory(pairs, contexts).accuracy(held)
    note = (
        f"{len(ambiguous)} tokens are written in more than one way; by their neighbours the held-out accuracy "
        f"is {context_score:.5f}, by the token alone {plain:.5f}"
    )
    if context_score <= plain:
        return Counter(), None, note
    contexts.update(token for token in held if token[1] in ambiguous)  # the final memory learns held-out ones too
    return contexts, context_score, note


def solve(files: TextFiles, *, seed: int, budget: Budget) -> SpecialResult:
    """Memorise the train tokens' forms, measure them on held-out sentences, and normalise the test tokens."""
    del seed  # the held-out sentences are fixed: every tenth, so reruns measure the same tokens
    header, sample = read_csv(files.sample)
    started = time.monotonic()
    notes: list[str] = []
    try:
        pairs, held, sentences, complete = _count_pairs(files.train, budget)
    except READ_ERRORS as exc:
        pairs, held, sentences, complete = Counter(), [], 0, True
        notes.append(f"the train tokens could not be read ({exc}); every token is written as itself")
    if not complete:
        notes.append(f"the deadline stopped the reading of train tokens after {sentences} sentences")
    pass_seconds = time.monotonic() - started
    fallback, score = Memory({}, {}).accuracy(held), _memory(pairs, Counter()).accuracy(held)
    contexts, context_score, note = _context_counts(files, pairs, held, budget=budget, pass_seconds=pass_seconds)
    notes += [note] if note else []
    model = "most frequent form per token" + (" and neighbours" if context_score is not None else "")
    score = score if context_score is None else context_score

    pairs.update((before, after) for _, before, _, after in held)  # the final memory learns held-out ones too
    memory = _memory(pairs, contexts)
    predicted = _predict(files.test, memory)
    id_at, after_at = header.index("id"), header.index("after")
    rows = [[row[id_at], predicted.get(row[id_at], row[after_at])] for row in sample]
    missing = sum(row[id_at] not in predicted for row in sample)
    notes[:0] = [
        f"memorised {len(memory.forms)} tokens whose usual written form differs from the token, from "
        f"{sum(pairs.values())} tokens in {sentences} sentences; an unseen token is written as itself",
        f"held-out accuracy on {len(held)} tokens of every {HOLD_OUT_EVERY}th sentence: {score:.5f}, against "
        f"{fallback:.5f} writing every token as itself (the sample submission)",
    ]
    if missing:
        notes.append(f"{missing} sample ids are not in the test tokens and keep the sample's value")
    return SpecialResult(
        kind="text normalisation",
        metric="accuracy",
        higher_is_better=True,
        header=header,
        rows=rows,
        cv_score=score if held else None,
        fallback_score=fallback if held else None,
        model=model,
        notes=tuple(notes),
    )
