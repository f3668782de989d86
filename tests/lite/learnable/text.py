"""Learnable text: three authors' word habits (spooky), toxic and insulting marker words with noise (jigsaw,
insults), and pizza requests whose words and requester history move the odds of getting one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..text import (
    JIGSAW_CLASSES,
    SPOOKY_CLASSES,
    base36,
    hex_ids,
    write_insults,
    write_jigsaw,
    write_pizza,
    write_spooky,
)
from .split import split_sizes

VOCABULARY = tuple(
    (  # noqa: SIM905 - prose reads better than a list of words
        "the of and to a in that was it his he i with as had for which my but not at this by from on be her is all "
        "were so me we no one have there they some an what when would been more upon their could its him into our "
        "then now only very even these those such them than yet who whose where while ever never still once again "
        "house door window wall room stair cellar tower garden gate road moor forest river sea shore cliff hill "
        "night day evening morning dawn twilight moon star sky cloud wind rain storm fog mist shadow darkness light "
        "fear dread terror horror madness despair sorrow grief joy hope love heart soul spirit mind thought dream "
        "voice sound whisper cry scream silence echo music bell step footfall knock "
        "old ancient strange weird dark pale cold grey black white dim faint hideous nameless eldritch cyclopean "
        "blasphemous unholy frightful gentle tender beautiful lovely sweet wretched miserable dear poor noble "
        "saw heard felt knew thought seemed found came went looked turned fell rose stood lay spoke said cried "
        "wept smiled trembled shuddered whispered wandered returned beheld perceived discovered remained passed "
        "father mother friend brother sister child stranger man woman creature being thing figure face eye hand "
        "blood bone skull grave tomb coffin corpse death life age time year hour moment memory "
        "book letter page word name secret truth tale story history science knowledge reason nature world earth "
        "city village country mountain valley lake island ship boat "
        "angle gulf abyss cosmos void dimension entity idol cult ritual rite crypt vault "
        "misery affection happiness tranquillity solitude benevolence countenance sensation emotion passion "
        "indeed however perhaps therefore although because beneath beyond within without toward among"
    ).split()
)


def _zipf(size: int, power: float = 1.0) -> np.ndarray:
    weights = 1 / np.arange(1, size + 1) ** power
    return np.asarray(weights / weights.sum())


def _words(rng: np.random.Generator, share: np.ndarray, count: int) -> list[str]:
    return [VOCABULARY[int(i)] for i in rng.choice(len(VOCABULARY), count, p=share)]


def _prose(words: list[str], rng: np.random.Generator) -> str:
    """Words as a sentence: a comma now and then, capitalised, a full stop."""
    for at in sorted(rng.choice(np.arange(3, len(words)), min(2, len(words) - 3), replace=False), reverse=True):
        if rng.random() < 0.4:
            words[int(at) - 1] += ","
    return " ".join(words).capitalize() + "."


# --- spooky-author-identification ----------------------------------------------------------------------------------
# Every author draws from the same vocabulary with their own leanings (a Zipf base, reweighted per author).


def spooky(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    total = n_train + n_test
    rng = np.random.default_rng(seed)
    base = _zipf(len(VOCABULARY), 0.9)
    shares = base * rng.lognormal(0, 0.45, (3, len(VOCABULARY)))
    shares /= shares.sum(axis=1, keepdims=True)
    authors = rng.choice(3, total, p=[0.403, 0.288, 0.309])
    numbers = rng.choice(np.arange(1, 100_000), total, replace=False)
    table = []
    for number, author in zip(numbers.tolist(), authors.tolist(), strict=True):
        text = _prose(_words(rng, shares[author], int(rng.integers(10, 41))), rng)
        table.append((f"id{number:05d}", text, SPOOKY_CLASSES[author]))
    write_spooky(folder, table[:n_train], table[n_train:])


# --- jigsaw-toxic-comment-classification-challenge -----------------------------------------------------------------
# Most comments are clean talk-page prose. A toxic one carries marker words of its labels (each marker now and then
# left out); a few clean ones use a marker innocently, and a few labels are flipped.

TALK = tuple(
    (  # noqa: SIM905
        "the article page edit source please thanks talk section wikipedia revert added removed citation needed "
        "i you this that is was not it be for on with as are have what about can would should some other your "
        "reference link image policy consensus discussion user block vandalism template category lead paragraph "
        "think agree sorry help change fixed sentence history notable sources claim fact"
    ).split()
)
JIGSAW_MARKERS = {
    "toxic": ("stupid", "dumb", "pathetic", "sucks", "idiotic"),
    "severe_toxic": ("scum", "vermin", "worthless"),
    "obscene": ("crap", "damn", "bloody", "arse"),
    "threat": ("kill", "hurt", "destroy"),
    "insult": ("idiot", "moron", "loser", "clown"),
    "identity_hate": ("bigot", "racist", "xenophobe"),
}
_JIGSAW_RATES = np.array([0.0, 0.1, 0.5, 0.06, 0.5, 0.09])  # given toxic; "toxic" itself is the latent class


def _jigsaw_rows(rng: np.random.Generator, count: int, unscored: bool) -> list[tuple[object, ...]]:
    toxic = rng.random(count) < 0.1
    labels = (rng.random((count, 6)) < _JIGSAW_RATES) & toxic[:, None]
    scored = [k for k in range(count) if not (unscored and k % 4 == 3)]
    for label, k in enumerate(scored[:6]):  # every class has a positive among the scored rows
        labels[k, label] = toxic[k] = True
    labels[:, 0] = toxic
    rows = []
    for ident, flags in zip(hex_ids(rng, count), labels, strict=True):
        words = [TALK[int(i)] for i in rng.integers(0, len(TALK), int(rng.integers(6, 30)))]
        for label, on in zip(JIGSAW_CLASSES, flags, strict=True):
            if (on and rng.random() < 0.85) or (not on and rng.random() < 0.01):
                markers = JIGSAW_MARKERS[label]
                words.insert(int(rng.integers(0, len(words) + 1)), markers[int(rng.integers(len(markers)))])
        flipped = np.where(rng.random(6) < 0.01, ~flags, flags)
        rows.append((ident, " ".join(words).capitalize(), *flipped.astype(int).tolist()))
    return rows


def jigsaw(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows, least=32)
    rng = np.random.default_rng(seed)
    train = _jigsaw_rows(rng, n_train, unscored=False)
    test = _jigsaw_rows(rng, n_test, unscored=True)
    test = [row if k % 4 != 3 else (*row[:2], *[-1] * 6) for k, row in enumerate(test)]
    write_jigsaw(folder, train, test)


# --- detecting-insults-in-social-commentary ------------------------------------------------------------------------
# About a quarter of the comments insult the reader: "you" and an insulting word, mostly. Some insults use neither
# marker, and some clean comments call a thing (not a person) stupid.

INSULT_WORDS = ("idiot", "moron", "loser", "fool", "stupid", "dumb", "clown", "pathetic")
_PHRASES = ("you are a {}", "what a {} you are", "shut up you {}", "only a {} like you would say that", "{}")


def _insult_rows(rng: np.random.Generator, count: int, taken: set[str]) -> list[tuple[int, str, str]]:
    rows = []
    base = _zipf(len(VOCABULARY))
    for k in range(count):
        insult = int(rng.random() < 0.27) if k > 1 else k  # the first two rows give both classes
        words = _words(rng, base, int(rng.integers(4, 20)))
        if insult and rng.random() < 0.9:
            phrase = _PHRASES[int(rng.integers(len(_PHRASES)))]
            words.insert(int(rng.integers(0, len(words) + 1)), phrase.format(rng.choice(INSULT_WORDS)))
        elif not insult and rng.random() < 0.05:
            words.insert(int(rng.integers(0, len(words) + 1)), f"that was {rng.choice(INSULT_WORDS)}")
        text = " ".join(words)
        while text in taken:
            text += " " + VOCABULARY[int(rng.integers(len(VOCABULARY)))]
        taken.add(text)
        if rng.random() < 0.15:
            text = text.replace(" ", r"\xa0", 1) + r"\n"  # the raw file's literal escapes
        month, day, second = int(rng.integers(3, 7)), int(rng.integers(1, 29)), int(rng.integers(0, 86400))
        stamp = f"2012{month:02d}{day:02d}{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}Z"
        date = "" if rng.random() < 0.2 else stamp
        rows.append((insult, date, f'"{text}"'))
    return rows


def insults(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    taken: set[str] = set()
    write_insults(folder, _insult_rows(rng, n_train, taken), _insult_rows(rng, n_test, taken))


# --- random-acts-of-pizza ------------------------------------------------------------------------------------------
# A quarter of the requests succeed: more often with a story of need (words like "paycheck", "kids"), a long-lived,
# well-voted account and earlier posts on the subreddit; less often with words of mere craving.

PIZZA_NEED = ("paycheck", "kids", "family", "rent", "job", "student", "bills", "broke", "tomorrow", "forward")
PIZZA_WANT = ("craving", "drunk", "bored", "lazy", "hungover", "want", "tonight", "party")
PIZZA_NEUTRAL = tuple(
    "i my a the and to for pizza would really love some help me we are have been this week any one who could".split()  # noqa: SIM905
)


def _pizza_text(rng: np.random.Generator, need: int, want: int) -> str:
    words = [PIZZA_NEUTRAL[int(i)] for i in rng.integers(0, len(PIZZA_NEUTRAL), int(rng.integers(8, 40)))]
    for cue in [*rng.choice(PIZZA_NEED, need), *rng.choice(PIZZA_WANT, want)]:
        words.insert(int(rng.integers(0, len(words) + 1)), str(cue))
    return " ".join(words).capitalize() + "."


def _pizza_requests(rng: np.random.Generator, count: int, start: int, taken: set[str]) -> list[dict[str, object]]:
    requests = []
    for k in range(start, start + count):
        need, want = int(rng.poisson(0.8)), int(rng.poisson(0.6))
        age = round(float(rng.exponential(300) if rng.random() < 0.8 else rng.uniform(0, 2)), 10)
        posts, comments = int(rng.negative_binomial(1, 0.05)), int(rng.negative_binomial(1, 0.01))
        raop_posts = int(rng.random() < 0.1)
        votes = int(rng.negative_binomial(1, 0.002))
        odds = -2.2 + 0.75 * need - 0.6 * want + 0.35 * np.log1p(age / 30) + 0.9 * raop_posts + 0.15 * np.log1p(votes)
        received = bool(rng.random() < 1 / (1 + np.exp(-odds)))
        stamp = 1300000000 + int(rng.integers(0, 86400 * 900))
        request_id = "t3_" + base36(int(rng.integers(36**4, 36**5)))
        while request_id in taken:
            request_id = "t3_" + base36(int(rng.integers(36**4, 36**5)))
        taken.add(request_id)
        text = _pizza_text(rng, need, want)
        subreddits = ["AskReddit", "pizza", "funny", "gaming", "pics"][: int(rng.integers(0, 6))]
        requests.append(
            {
                "giver_username_if_known": f"giver{k}" if received and rng.random() < 0.3 else "N/A",
                "number_of_downvotes_of_request_at_retrieval": int(rng.integers(0, 5)),
                "number_of_upvotes_of_request_at_retrieval": int(rng.integers(0, 20)),
                "post_was_edited": float(stamp + 3600) if rng.random() < 0.1 else False,
                "request_id": request_id,
                "request_number_of_comments_at_retrieval": int(rng.integers(0, 10)) + 2 * received,
                "request_text": text + ("\nEDIT: thank you so much!" if received else ""),
                "request_text_edit_aware": text,
                "request_title": "[Request] " + _pizza_text(rng, int(need > 1), int(want > 1))[:60],
                "requester_account_age_in_days_at_request": age,
                "requester_account_age_in_days_at_retrieval": round(age + 700.5, 10),
                "requester_days_since_first_post_on_raop_at_request": float(30 * raop_posts),
                "requester_days_since_first_post_on_raop_at_retrieval": round(700.5 + 30 * raop_posts, 10),
                "requester_number_of_comments_at_request": comments,
                "requester_number_of_comments_at_retrieval": comments + 3,
                "requester_number_of_comments_in_raop_at_request": raop_posts,
                "requester_number_of_comments_in_raop_at_retrieval": raop_posts + int(received),
                "requester_number_of_posts_at_request": posts,
                "requester_number_of_posts_at_retrieval": posts + 1,
                "requester_number_of_posts_on_raop_at_request": raop_posts,
                "requester_number_of_posts_on_raop_at_retrieval": raop_posts + 1,
                "requester_number_of_subreddits_at_request": len(subreddits),
                "requester_received_pizza": received,
                "requester_subreddits_at_request": subreddits,
                "requester_upvotes_minus_downvotes_at_request": votes - int(rng.integers(0, 1 + votes // 10)),
                "requester_upvotes_minus_downvotes_at_retrieval": votes + int(rng.integers(0, 50)),
                "requester_upvotes_plus_downvotes_at_request": votes,
                "requester_upvotes_plus_downvotes_at_retrieval": votes + int(rng.integers(50, 100)),
                "requester_user_flair": "shroom" if received else None,
                "requester_username": f"user_{k:05d}",
                "unix_timestamp_of_request": float(stamp),
                "unix_timestamp_of_request_utc": float(stamp - 3600),
            }
        )
    return requests


def pizza(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    taken: set[str] = set()
    write_pizza(folder, _pizza_requests(rng, n_train, 0, taken), _pizza_requests(rng, n_test, n_train, taken))


LEARNABLE = {
    "detecting-insults-in-social-commentary": insults,
    "jigsaw-toxic-comment-classification-challenge": jigsaw,
    "random-acts-of-pizza": pizza,
    "spooky-author-identification": spooky,
}
