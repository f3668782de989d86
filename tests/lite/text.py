"""Lite fixtures of the text competitions: insults, jigsaw, spooky, random-acts-of-pizza, both text normalizations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .files import Cell, csv_bytes, write, write_csv, zip_bytes
from .model import LiteLayout

WORDS = (  # noqa: SIM905 - a short text reads better than a list of words
    "the night was dark and the wind moaned over the moor while a lantern swung above the door of that old house "
    "where nobody had lived for many years yet a voice called softly from the cellar"
).split()


def _sentence(rng: np.random.Generator, low: int = 4, high: int = 12) -> str:
    words = [WORDS[int(i)] for i in rng.integers(0, len(WORDS), int(rng.integers(low, high)))]
    return " ".join(words).capitalize()


def _dirs(folder: Path) -> tuple[Path, Path]:
    public, private = folder / "prepared" / "public", folder / "prepared" / "private"
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    return public, private


# --- detecting-insults-in-social-commentary ------------------------------------------------------------------------
# prepare.py copies the raw train.csv and test_with_solutions.csv (answers, with a Usage column) and writes, through
# pandas, the public test.csv (Date, Comment), sample_submission_null.csv and a private gold_submission.csv. Comments
# keep the raw file's own surrounding double quotes and literal backslash escapes; a Date may be missing.

INSULTS = ("you are a complete idiot", "what a moron", "shut up you fool", "only a loser would say that")


InsultRow = tuple[int, str, str]


def _insult_rows(rng: np.random.Generator, count: int, start: int) -> list[InsultRow]:
    rows = []
    for i in range(count):
        insult = int(rng.random() < 0.35) if i > 1 else i  # rows 0 and 1 give both classes
        text = INSULTS[int(rng.integers(len(INSULTS)))] if insult else _sentence(rng)
        if i % 5 == 2:
            text += r",\xa0 and then\nsome"
        comment = f'"{text} #{start + i}"'
        date = "" if i % 4 == 3 else f"201205{10 + i % 19:02d}{(7 * i) % 24:02d}{(13 * i) % 60:02d}{(29 * i) % 60:02d}Z"
        rows.append((insult, date, comment))
    return rows


def write_insults(folder: Path, train: Sequence[InsultRow], test: Sequence[InsultRow]) -> None:
    """Rows ``(Insult, Date, Comment)``, the comment as the raw file holds it (quoted, escapes literal)."""
    public, private = _dirs(folder)
    write_csv(public / "train.csv", ["Insult", "Date", "Comment"], train)
    usage = ["PublicTest" if i % 3 else "PrivateTest" for i in range(len(test))]
    write_csv(private / "test.csv", ["Insult", "Date", "Comment", "Usage"], [(*r, u) for r, u in zip(test, usage)])
    write_csv(private / "gold_submission.csv", ["Insult", "Date", "Comment"], test)
    write_csv(public / "test.csv", ["Date", "Comment"], [(d, c) for _, d, c in test])
    write_csv(public / "sample_submission_null.csv", ["Insult", "Date", "Comment"], [(0, d, c) for _, d, c in test])


def build_insults(folder: Path) -> None:
    rng = np.random.default_rng(101)
    train = _insult_rows(rng, 20, 0)
    test = _insult_rows(rng, 16, 100)
    write_insults(folder, train, test)


# --- jigsaw-toxic-comment-classification-challenge -----------------------------------------------------------------
# The answers are Kaggle's test_labels.csv as is: rows that were never scored carry -1 in every class.

JIGSAW_CLASSES = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")


def hex_ids(rng: np.random.Generator, count: int) -> list[str]:
    return sorted(rng.bytes(8).hex() for _ in range(count))


def write_jigsaw(folder: Path, train: Sequence[Sequence[Cell]], test: Sequence[Sequence[Cell]]) -> None:
    """Rows ``(id, comment_text, *JIGSAW_CLASSES)``; a test row that is never scored has -1 in every class."""
    public, private = _dirs(folder)
    write_csv(public / "train.csv", ["id", "comment_text", *JIGSAW_CLASSES], train)
    write_csv(public / "test.csv", ["id", "comment_text"], [r[:2] for r in test])
    write_csv(public / "sample_submission.csv", ["id", *JIGSAW_CLASSES], [(r[0], *[0.5] * 6) for r in test])
    write_csv(private / "test.csv", ["id", *JIGSAW_CLASSES], [(r[0], *r[2:]) for r in test])


def build_jigsaw(folder: Path) -> None:
    rng = np.random.default_rng(102)
    train_ids, test_ids = hex_ids(rng, 18), hex_ids(rng, 20)
    train = []
    for i, ident in enumerate(train_ids):
        labels = [int((i + j) % 5 == 0) for j in range(len(JIGSAW_CLASSES))]
        text = _sentence(rng) + ("\n\n" + _sentence(rng) if i % 4 == 1 else "") + (' "quoted"' if i % 6 == 2 else "")
        train.append((ident, text, *labels))
    texts = [_sentence(rng) for _ in test_ids]
    test = []
    for i, (ident, text) in enumerate(zip(test_ids, texts, strict=True)):
        if i % 4 == 3:  # not scored
            test.append((ident, text, *[-1] * 6))
        else:
            test.append((ident, text, *[int((i + 2 * j) % 3 == 0) for j in range(len(JIGSAW_CLASSES))]))
    write_jigsaw(folder, train, test)


# --- spooky-author-identification ----------------------------------------------------------------------------------

SPOOKY_CLASSES = ("EAP", "HPL", "MWS")
SPOOKY_SAMPLE = (0.403493538995863, 0.287808366106543, 0.308698094897594)


def write_spooky(folder: Path, train: Sequence[tuple[str, str, str]], test: Sequence[tuple[str, str, str]]) -> None:
    """Rows ``(id, text, author)``."""
    public, private = _dirs(folder)
    write_csv(public / "train.csv", ["id", "text", "author"], train)
    write_csv(public / "test.csv", ["id", "text"], [(i, t) for i, t, _ in test])
    write_csv(public / "sample_submission.csv", ["id", *SPOOKY_CLASSES], [(i, *SPOOKY_SAMPLE) for i, _, _ in test])
    one_hot = [(i, *[int(a == c) for c in SPOOKY_CLASSES]) for i, _, a in test]
    write_csv(private / "test.csv", ["id", *SPOOKY_CLASSES], one_hot)


def build_spooky(folder: Path) -> None:
    rng = np.random.default_rng(103)
    numbers = rng.choice(np.arange(10000, 28000), size=40, replace=False)
    rows = []
    for k, number in enumerate(numbers):
        text = _sentence(rng, 6, 16) + (', "said he," ' + _sentence(rng) if k % 7 == 1 else "") + "."
        rows.append((f"id{int(number):05d}", text, SPOOKY_CLASSES[k % 3]))
    write_spooky(folder, rows[:30], rows[30:])


# --- random-acts-of-pizza ------------------------------------------------------------------------------------------
# train.json / test.json as json.dump(indent=4) writes them, each also zipped (shutil.make_archive: deflated).

PIZZA_TEST_FIELDS = (
    "giver_username_if_known",
    "request_id",
    "request_text_edit_aware",
    "request_title",
    "requester_account_age_in_days_at_request",
    "requester_days_since_first_post_on_raop_at_request",
    "requester_number_of_comments_at_request",
    "requester_number_of_comments_in_raop_at_request",
    "requester_number_of_posts_at_request",
    "requester_number_of_posts_on_raop_at_request",
    "requester_number_of_subreddits_at_request",
    "requester_subreddits_at_request",
    "requester_upvotes_minus_downvotes_at_request",
    "requester_upvotes_plus_downvotes_at_request",
    "requester_username",
    "unix_timestamp_of_request",
    "unix_timestamp_of_request_utc",
)


def base36(number: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return digits


def _pizza_request(rng: np.random.Generator, k: int) -> dict[str, object]:
    received = bool(k % 3 == 0)
    age = round(float(rng.uniform(0, 900)), 10)
    posts = int(rng.integers(0, 50))
    comments = int(rng.integers(0, 200))
    stamp = 1300000000 + 86400 * k + int(rng.integers(0, 86400))
    return {
        "giver_username_if_known": f"giver{k}" if received and k % 2 == 0 else "N/A",
        "number_of_downvotes_of_request_at_retrieval": int(rng.integers(0, 5)),
        "number_of_upvotes_of_request_at_retrieval": int(rng.integers(0, 20)),
        "post_was_edited": float(stamp + 3600) if k % 7 == 4 else False,
        "request_id": "t3_" + base36(int(rng.integers(36**4, 36**5))),
        "request_number_of_comments_at_retrieval": int(rng.integers(0, 10)),
        "request_text": _sentence(rng, 8, 20) + ("\nEDIT: thanks!" if received else ""),
        "request_text_edit_aware": _sentence(rng, 8, 20),
        "request_title": "[Request] " + _sentence(rng, 3, 7),
        "requester_account_age_in_days_at_request": age,
        "requester_account_age_in_days_at_retrieval": round(age + 700.5, 10),
        "requester_days_since_first_post_on_raop_at_request": 0.0,
        "requester_days_since_first_post_on_raop_at_retrieval": round(700.5 + k, 10),
        "requester_number_of_comments_at_request": comments,
        "requester_number_of_comments_at_retrieval": comments + 3,
        "requester_number_of_comments_in_raop_at_request": 0,
        "requester_number_of_comments_in_raop_at_retrieval": k % 4,
        "requester_number_of_posts_at_request": posts,
        "requester_number_of_posts_at_retrieval": posts + 1,
        "requester_number_of_posts_on_raop_at_request": 0,
        "requester_number_of_posts_on_raop_at_retrieval": 1,
        "requester_number_of_subreddits_at_request": k % 3,
        "requester_received_pizza": received,
        "requester_subreddits_at_request": ["AskReddit", "pizza", "funny"][: k % 3],
        "requester_upvotes_minus_downvotes_at_request": int(rng.integers(-5, 500)),
        "requester_upvotes_minus_downvotes_at_retrieval": int(rng.integers(0, 900)),
        "requester_upvotes_plus_downvotes_at_request": int(rng.integers(0, 900)),
        "requester_upvotes_plus_downvotes_at_retrieval": int(rng.integers(900, 2000)),
        "requester_user_flair": "shroom" if received else None,
        "requester_username": f"user_{k:03d}",
        "unix_timestamp_of_request": float(stamp),
        "unix_timestamp_of_request_utc": float(stamp - 3600),
    }


def write_pizza(folder: Path, train: Sequence[dict[str, object]], test: Sequence[dict[str, object]]) -> None:
    """Requests with every field of Kaggle's train.json; the public test.json keeps ``PIZZA_TEST_FIELDS``."""
    public, private = _dirs(folder)
    test_public = [{field: r[field] for field in PIZZA_TEST_FIELDS} for r in test]
    train_json, test_json = json.dumps(train, indent=4).encode(), json.dumps(test_public, indent=4).encode()
    write(public / "train.json", train_json)
    write(public / "test.json", test_json)
    # shutil.make_archive(public / "train", "zip", public, "train.json") names the zip train.zip, not train.json.zip
    write(public / "train.zip", zip_bytes([("train.json", train_json)], deflate=True))
    write(public / "test.zip", zip_bytes([("test.json", test_json)], deflate=True))
    answers = [(r["request_id"], int(bool(r["requester_received_pizza"]))) for r in test]
    header = ["request_id", "requester_received_pizza"]
    write_csv(private / "test.csv", header, answers)
    write_csv(public / "sampleSubmission.csv", header, [(i, 0) for i, _ in answers])


def build_pizza(folder: Path) -> None:
    rng = np.random.default_rng(104)
    requests = [_pizza_request(rng, k) for k in range(36)]
    write_pizza(folder, requests[:24], requests[24:])


# --- text-normalization-challenge-{english,russian}-language -------------------------------------------------------
# Everything through pandas with quoting=csv.QUOTE_NONNUMERIC; the public CSVs are zipped (stored) and removed. The
# sample submission (after = before) sits in private/ and, zipped, in public/.

Token = tuple[str, str, str]  # class, before, after
CLASSES = {"PLAIN", "PUNCT", "DATE", "LETTERS", "CARDINAL", "VERBATIM", "DECIMAL", "MEASURE", "MONEY", "ORDINAL",
           "TIME", "ELECTRONIC", "TELEPHONE"}  # fmt: skip

# One sentence a line, tokens between "|": "CLASS:before=after"; the class is PLAIN and after is before where left out.
EN_SENTENCES = """
Brillantaisia|is|a|genus|PUNCT:.
The|LETTERS:BBC=b b c|said|on|DATE:12 March 2006=the twelfth of march two thousand six|PUNCT:,|again|PUNCT:.
It|cost|MONEY:$3.50=three dollars fifty cents|in|DATE:1999=nineteen ninety nine|PUNCT:.
CARDINAL:120=one hundred twenty|people|ran|MEASURE:5 km=five kilometers|PUNCT:"|PUNCT:.
See|ELECTRONIC:www.example.com=w w w dot example dot com|for|ORDINAL:2nd=second|edition|PUNCT:.
Call|TELEPHONE:555-0100=five five five sil o one o o|at|TIME:9:30=nine thirty|PUNCT:!
VERBATIM:&=and|so|DECIMAL:0.5=point five|of|it|PUNCT:?
"""

RU_SENTENCES = """
Продолжение|следует|PUNCT:.
В|DATE:1862 году=тысяча восемьсот шестьдесят втором году|он|уехал|PUNCT:,|кажется|PUNCT:.
Компания|Google=г_trans у_trans г_trans л_trans|LETTERS:СССР=с с с р|PUNCT:.
CARDINAL:25=двадцать пять|человек|MEASURE:3 км=три километра|PUNCT:"|PUNCT:.
Цена|MONEY:100 руб.=сто рублей|ORDINAL:2-й=второй|раз|PUNCT:!
Сайт|ELECTRONIC:ya.ru=я точка ру|TIME:9:30=девять тридцать|PUNCT:?
"""


def _token(spec: str) -> Token:
    kind, _, rest = spec.partition(":")
    if kind not in CLASSES or not rest:
        kind, rest = "PLAIN", spec
    before, _, after = rest.partition("=")
    return kind, before, after or before


def _sentences(text: str) -> list[list[Token]]:
    return [[_token(spec) for spec in line.split("|")] for line in text.strip().splitlines()]


def write_text_normalization(
    folder: Path, prefix: str, train_sentences: Sequence[Sequence[Token]], test_sentences: Sequence[Sequence[Token]]
) -> None:
    """Sentences of ``(class, before, after)`` tokens; ``prefix`` is the language's ("en", "ru")."""
    public, private = _dirs(folder)
    train: list[list[Cell]] = [
        [sid, tid, cls, before, after]
        for sid, tokens in enumerate(train_sentences)
        for tid, (cls, before, after) in enumerate(tokens)
    ]
    test = [(sid, tid, token) for sid, tokens in enumerate(test_sentences) for tid, token in enumerate(tokens)]
    answers: list[list[Cell]] = [[f"{sid}_{tid}", after] for sid, tid, (_, _, after) in test]
    sample: list[list[Cell]] = [[f"{sid}_{tid}", before] for sid, tid, (_, before, _) in test]
    public_test: list[list[Cell]] = [[sid, tid, before] for sid, tid, (_, before, _) in test]
    write_csv(private / "answers.csv", ["id", "after"], answers, quote_strings=True)
    write_csv(private / "sample_submission.csv", ["id", "after"], sample, quote_strings=True)
    zipped = {
        f"{prefix}_train.csv": csv_bytes(
            ["sentence_id", "token_id", "class", "before", "after"], train, quote_strings=True
        ),
        f"{prefix}_test_2.csv": csv_bytes(["sentence_id", "token_id", "before"], public_test, quote_strings=True),
        f"{prefix}_sample_submission_2.csv": csv_bytes(["id", "after"], sample, quote_strings=True),
    }
    for name, data in zipped.items():
        write(public / f"{name}.zip", zip_bytes([(name, data)], deflate=False))


def _build_text_normalization(folder: Path, prefix: str, text: str) -> None:
    sentences = _sentences(text)
    test_at = {1, 4, len(sentences) - 1}  # sentences split off for the test set, the rest train
    train_sentences = [s for k, s in enumerate(sentences) if k not in test_at]
    test_sentences = [s for k, s in enumerate(sentences) if k in test_at]
    write_text_normalization(folder, prefix, train_sentences, test_sentences)


def build_text_normalization_english(folder: Path) -> None:
    _build_text_normalization(folder, "en", EN_SENTENCES)


def build_text_normalization_russian(folder: Path) -> None:
    _build_text_normalization(folder, "ru", RU_SENTENCES)


LAYOUTS: tuple[LiteLayout, ...] = (
    LiteLayout(
        id="detecting-insults-in-social-commentary",
        build=build_insults,
        id_column="Comment",
        target_columns=("Insult",),
        answers="private/test.csv",
        sample_submission="public/sample_submission_null.csv",
        values="probability",
    ),
    LiteLayout(
        id="jigsaw-toxic-comment-classification-challenge",
        build=build_jigsaw,
        id_column="id",
        target_columns=JIGSAW_CLASSES,
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probabilities",
    ),
    LiteLayout(
        id="random-acts-of-pizza",
        build=build_pizza,
        id_column="request_id",
        target_columns=("requester_received_pizza",),
        answers="private/test.csv",
        sample_submission="public/sampleSubmission.csv",
        values="probability",
    ),
    LiteLayout(
        id="spooky-author-identification",
        build=build_spooky,
        id_column="id",
        target_columns=SPOOKY_CLASSES,
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probabilities",
        rows_sum_to_one=True,
    ),
    LiteLayout(
        id="text-normalization-challenge-english-language",
        build=build_text_normalization_english,
        id_column="id",
        target_columns=("after",),
        answers="private/answers.csv",
        sample_submission="private/sample_submission.csv",
        values="strings",
    ),
    LiteLayout(
        id="text-normalization-challenge-russian-language",
        build=build_text_normalization_russian,
        id_column="id",
        target_columns=("after",),
        answers="private/answers.csv",
        sample_submission="private/sample_submission.csv",
        values="strings",
    ),
)
