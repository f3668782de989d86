"""Learnable text normalization (English and Russian): sentences of plain words and punctuation, which stay as they
are, among numbers, years, dates, abbreviations, measures, money, ordinals, times and decimals, each spoken one
consistent way, the small numbers and recent years most often. A year after "in" and a day after "на" are read as
dates, the same digits elsewhere as counts: memorising each token's most frequent reading beats copying it, and
context does better still."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from ..text import Token, write_text_normalization
from .split import split_sizes
from .text import VOCABULARY


def _listed(text: str) -> list[str]:
    """Words written as prose, for long tables of them."""
    return text.split()


@cache
def _zipf_shares(count: int) -> np.ndarray:
    weights = 1 / np.arange(1, count + 1) ** 1.1
    return np.asarray(weights / weights.sum())


def _frequent(rng: np.random.Generator, values: Sequence[int] | Sequence[str]) -> int:
    """The index of one of ``values``, the first ones most often (as "1" and "2010" are in real text)."""
    return int(rng.choice(len(values), p=_zipf_shares(len(values))))


NUMBERS = range(1, 1000)
YEARS = sorted(range(1901, 2020), key=lambda year: (abs(year - 2010), year))  # recent years are the usual ones
RU_YEARS = [year for year in YEARS if year % 100]  # whole centuries have no ordinal of ru_ordinal's form
EN_LETTERS = ("US", "UK", "BBC", "EU", "TV", "FBI", "DNA", "CD", "NHL", "UN")
RU_LETTERS = ("США", "СССР", "РФ", "ООН", "МГУ", "ЕС", "ТВ")
MINUTES = (0, 30, 15, 45, 5)
RU_MINUTES = (30, 15, 45, 10, 20, 40)

Special = Callable[[np.random.Generator], list[Token]]
"""Draws the tokens of one non-plain reading (a year after its "in", say)."""

# --- English -------------------------------------------------------------------------------------------------------

_EN_ONES = _listed(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
)
_EN_TENS = _listed("_ _ twenty thirty forty fifty sixty seventy eighty ninety")
_EN_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
               "nine": "ninth", "twelve": "twelfth"}  # fmt: skip
EN_MONTHS = _listed("January February March April May June July August September October November December")


def en_number(n: int) -> str:
    """0 to 999999 in English words, as the competition's data reads them ("one hundred twenty")."""
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        return _EN_TENS[n // 10] + ("" if n % 10 == 0 else " " + _EN_ONES[n % 10])
    if n < 1000:
        return _EN_ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + en_number(n % 100))
    return en_number(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + en_number(n % 1000))


def en_ordinal(n: int) -> str:
    words = en_number(n).split()
    last = words[-1]
    if last in _EN_ORDINAL:
        words[-1] = _EN_ORDINAL[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def en_year(year: int) -> str:
    if 2000 <= year < 2010:
        return en_number(year)
    high, low = divmod(year, 100)
    return en_number(high) + " " + ("hundred" if low == 0 else f"o {_EN_ONES[low]}" if low < 10 else en_number(low))


def _en_token(rng: np.random.Generator) -> list[Token]:
    kind = int(rng.integers(0, 10))
    n = NUMBERS[_frequent(rng, NUMBERS)]
    year = YEARS[_frequent(rng, YEARS)]
    if kind == 0:
        return [("PLAIN", "in", "in"), ("DATE", str(year), en_year(year))]
    if kind == 1:  # the same digits without "in": a count
        return [("CARDINAL", str(year), en_number(year))]
    if kind == 2:
        return [("CARDINAL", str(n), en_number(n))]
    if kind == 3:
        day, month = 1 + _frequent(rng, range(28)), int(rng.integers(0, 12))
        spoken = f"the {en_ordinal(day)} of {EN_MONTHS[month].lower()} {en_year(year)}"
        return [("DATE", f"{day} {EN_MONTHS[month]} {year}", spoken)]
    if kind == 4:
        letters = EN_LETTERS[_frequent(rng, EN_LETTERS)]
        return [("LETTERS", letters, " ".join(letters.lower()))]
    if kind == 5:
        unit, spoken = [("km", "kilometer"), ("kg", "kilogram"), ("m", "meter"), ("%", "percent")][int(rng.integers(4))]
        plural = "" if n == 1 or unit == "%" else "s"
        return [("MEASURE", f"{n}{'' if unit == '%' else ' '}{unit}", f"{en_number(n)} {spoken}{plural}")]
    if kind == 6:
        return [("MONEY", f"${n}", en_number(n) + (" dollar" if n == 1 else " dollars"))]
    if kind == 7:
        day = 1 + _frequent(rng, range(31))
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10 if day // 10 != 1 else 0, "th")
        return [("ORDINAL", f"{day}{suffix}", en_ordinal(day))]
    if kind == 8:
        hour, minute = 1 + _frequent(rng, range(12)), MINUTES[_frequent(rng, MINUTES)]
        spoken = en_number(hour) + (
            " o'clock" if minute == 0 else " o five" if minute == 5 else f" {en_number(minute)}"
        )
        return [("TIME", f"{hour}:{minute:02d}", spoken)]
    whole, tenth = _frequent(rng, range(20)), 1 + _frequent(rng, range(9))
    return [
        ("DECIMAL", f"{whole}.{tenth}", ("" if whole == 0 else en_number(whole) + " ") + f"point {_EN_ONES[tenth]}")
    ]


# --- Russian -------------------------------------------------------------------------------------------------------

_RU_ONES = _listed(
    "ноль один два три четыре пять шесть семь восемь девять десять одиннадцать двенадцать тринадцать четырнадцать "
    "пятнадцать шестнадцать семнадцать восемнадцать девятнадцать"
)
_RU_TENS = _listed("_ _ двадцать тридцать сорок пятьдесят шестьдесят семьдесят восемьдесят девяносто")
_RU_HUNDREDS = _listed("_ сто двести триста четыреста пятьсот шестьсот семьсот восемьсот девятьсот")
_RU_ORDINAL = dict(
    zip(
        [*_RU_ONES[1:], *_RU_TENS[2:]],
        _listed(
            "первый второй третий четвёртый пятый шестой седьмой восьмой девятый десятый одиннадцатый двенадцатый "
            "тринадцатый четырнадцатый пятнадцатый шестнадцатый семнадцатый восемнадцатый девятнадцатый двадцатый "
            "тридцатый сороковой пятидесятый шестидесятый семидесятый восьмидесятый девяностый"
        ),
        strict=True,
    )
)
RU_WORDS = tuple(
    (  # noqa: SIM905
        "и в не на я он что с как а то это она по но они к у же вы за бы от о так из мы его для да был было дом "
        "город год время день жизнь человек рука дело работа слово место лицо друг глаз вопрос сторона страна мир "
        "случай голова ребёнок сила конец вид система часть отец женщина машина книга история ночь земля путь"
    ).split()
)


def ru_number(n: int) -> str:
    """0 to 9999 in Russian words, nominative."""
    if n < 20:
        return _RU_ONES[n]
    if n < 100:
        return _RU_TENS[n // 10] + ("" if n % 10 == 0 else " " + _RU_ONES[n % 10])
    if n < 1000:
        return _RU_HUNDREDS[n // 100] + ("" if n % 100 == 0 else " " + ru_number(n % 100))
    thousands = {1: "тысяча", 2: "две тысячи", 3: "три тысячи", 4: "четыре тысячи"}.get(n // 1000)
    return (thousands or f"{_RU_ONES[n // 1000]} тысяч") + ("" if n % 1000 == 0 else " " + ru_number(n % 1000))


def _ru_plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    return few if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else many


def ru_ordinal(n: int) -> str:
    """An ordinal whose last word is below 100 and not zero (years and days as generated here)."""
    words = ru_number(n).split()
    words[-1] = _RU_ORDINAL[words[-1]]
    return " ".join(words)


def ru_neuter_ordinal(n: int) -> str:
    """The neuter ordinal ("пятое", "двадцать третье"), as a day of the month is read after "на"."""
    words = ru_ordinal(n).split()
    words[-1] = words[-1][:-2] + ("ье" if words[-1].endswith("ий") else "ое")
    return " ".join(words)


def _ru_token(rng: np.random.Generator) -> list[Token]:
    kind = int(rng.integers(0, 10))
    n = NUMBERS[_frequent(rng, NUMBERS)]
    year = RU_YEARS[_frequent(rng, RU_YEARS)]
    if kind == 0:
        return [("PLAIN", "в", "в"), ("DATE", f"{year} году", ru_ordinal(year) + " году")]
    if kind == 1:
        return [("CARDINAL", str(year), ru_number(year))]
    if kind == 2:
        return [("CARDINAL", str(n), ru_number(n))]
    if kind == 3:
        letters = RU_LETTERS[_frequent(rng, RU_LETTERS)]
        return [("LETTERS", letters, " ".join(letters.lower()))]
    if kind == 4:
        return [("MEASURE", f"{n} км", f"{ru_number(n)} " + _ru_plural(n, "километр", "километра", "километров"))]
    if kind == 5:
        return [("MONEY", f"{n} руб.", f"{ru_number(n)} " + _ru_plural(n, "рубль", "рубля", "рублей"))]
    if kind == 6:
        day = 1 + _frequent(rng, range(29))
        return [("ORDINAL", f"{day}-й", ru_ordinal(day))]
    if kind == 7:
        hour, minute = 1 + _frequent(rng, range(23)), RU_MINUTES[_frequent(rng, RU_MINUTES)]
        return [("TIME", f"{hour}:{minute:02d}", f"{ru_number(hour)} {ru_number(minute)}")]
    if kind == 8:  # a day of the month: the same digits as a count, read otherwise
        day = 1 + _frequent(rng, range(29))
        return [("PLAIN", "на", "на"), ("DATE", str(day), ru_neuter_ordinal(day))]
    whole, tenth = 1 + _frequent(rng, range(19)), 1 + _frequent(rng, range(9))
    return [("DECIMAL", f"{whole},{tenth}", f"{ru_number(whole)} целых {ru_number(tenth)} десятых")]


# --- both ----------------------------------------------------------------------------------------------------------


def _sentences(rng: np.random.Generator, tokens: int, words: tuple[str, ...], special: Special) -> list[list[Token]]:
    """Sentences of plain words with a special token now and then, ``tokens`` tokens in all (or a few more)."""
    sentences: list[list[Token]] = []
    count = 0
    while count < tokens:
        sentence: list[Token] = []
        for _ in range(int(rng.integers(4, 16))):
            if rng.random() < 0.15:
                sentence.extend(special(rng))
            else:
                word = words[int(rng.integers(len(words)))]
                sentence.append(("PLAIN", word, word))
            if rng.random() < 0.06:
                sentence.append(("PUNCT", ",", ","))
        first = sentence[0]
        if first[0] == "PLAIN":
            sentence[0] = ("PLAIN", first[1].capitalize(), first[2].capitalize())
        mark = str(rng.choice([".", ".", ".", "!", "?"]))
        sentence.append(("PUNCT", mark, mark))
        sentences.append(sentence)
        count += len(sentence)
    return sentences


def _normalization(prefix: str, words: tuple[str, ...], special: Special) -> Callable[[Path, int, int], None]:
    def learnable(folder: Path, rows: int, seed: int) -> None:
        n_train, n_test = split_sizes(rows, least=40)
        rng = np.random.default_rng(seed)
        train = _sentences(rng, n_train, words, special)
        test = _sentences(rng, n_test, words, special)
        write_text_normalization(folder, prefix, train, test)

    return learnable


LEARNABLE = {
    "text-normalization-challenge-english-language": _normalization("en", VOCABULARY, _en_token),
    "text-normalization-challenge-russian-language": _normalization("ru", RU_WORDS, _ru_token),
}
