"""Turns the progress lines people already print into events (plus user patterns from the config)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from mle_ci.contract import EventType
from mle_ci.events import (
    NODE_LINE_PREFIX,
    PROGRESS_LINE_PREFIX,
    EarlyStopEvent,
    EpochEvent,
    Event,
    FoldEvent,
    FoldStartEvent,
    MessageEvent,
    MetricEvent,
)

MAX_PARSED_LINE = 4096
"""Longer lines are not progress lines; skipping them keeps the parser cheap under floods."""

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# Optional timestamp, log level or bracketed tags before the text, as loggers print them. No two adjacent parts
# may match the same spaces: "INFO " forty times would then have 2**40 ways to fail (the harness would hang).
_LEAD = (
    r"^\s*(?:\d{4}-\d\d-\d\d[ T][\d:.,]+\s*(?:[-|]\s*)?)?"
    r"(?:\[[^\]]{0,40}\]\s*|(?:INFO|DEBUG|WARNING)(?:\s*[:\-|])?\s*)*"
)

_EPOCH = re.compile(_LEAD + r"epoch\s*[:#]?\s*(?P<epoch>\d+)(?:\s*/\s*(?P<total>\d+))?\b(?P<rest>.*)$", re.I)
_FOLD_DONE = re.compile(
    _LEAD + r"fold\s*[:#]?\s*(?P<fold>\d+)(?:\s*/\s*(?P<total>\d+))?\b(?P<rest>.*)$",
    re.I,
)
_FOLD_START = re.compile(
    _LEAD + r"(?:start(?:ing)?|begin(?:ning)?|training)\s+fold\s*[:#]?\s*(?P<fold>\d+)(?:\s*/\s*(?P<total>\d+))?\b",
    re.I,
)
_EARLY = re.compile(_LEAD + r"early[\s_-]?stopp(?:ing|ed)\b(?P<rest>.*)$", re.I)
# A key starts where no key character precedes it: else a long run of letters costs a scan from each (quadratic).
_PAIR = re.compile(r"(?<![\w.\-])(?P<key>[A-Za-z][\w.\-]*)\s*(?:=|:)\s*(?P<value>" + _NUM + r")(?![\w.])")
_SECONDS = re.compile(
    r"\(\s*(?P<s>" + _NUM + r")\s*s(?:ec(?:onds?)?)?\s*\)|\btime\s*[=:]\s*(?P<t>" + _NUM + r")\s*s\b", re.I
)
_SCORE_WORDS = re.compile(r"score|auc|acc|accuracy|f1|rmse|mae|mse|logloss|log_loss|map|ndcg|r2|qwk|kappa", re.I)
_BEST = re.compile(
    r"best[\s_]*(?:val[\s_]*)?(?:score|metric|auc|acc\w*|loss|rmse)?\s*(?:=|:)\s*(?P<v>" + _NUM + ")", re.I
)
_INNER_EPOCH = re.compile(r"\bepoch\s*[:#]?\s*(?P<epoch>\d+)(?:\s*/\s*(?P<total>\d+))?\b(?P<rest>.*)$", re.I)
# (?<!\d): a count starts where no digit precedes it, else a long run of digits is rescanned from each one.
_PROGRESS_BAR = re.compile(r"\d%\||(?<!\d)\d+/\d+\s*\[|it/s\]|s/it\]|\bETA\b", re.I)
_NOT_A_FOLD_END = re.compile(r"\b(?:iter(?:ation)?|step|batch)\b", re.I)
_FOLD_START_WORDS = re.compile(r"^\s*[:\-]?\s*(?:start|begin|running|training)\b", re.I)


class PatternLike(Protocol):
    """A user pattern: a compiled regex with named groups and the event type it yields."""

    @property
    def regex(self) -> re.Pattern[str]: ...

    @property
    def event(self) -> str: ...


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _int(text: str | None) -> int | None:
    if text is None or not text.isdigit():
        return None
    return int(text)


def _pairs(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for match in _PAIR.finditer(text):
        value = _float(match["value"])
        if value is not None:
            out.setdefault(match["key"].lower().replace("-", "_"), value)
    return out


def _seconds(text: str) -> float | None:
    match = _SECONDS.search(text)
    if not match:
        return None
    return _float(match["s"] or match["t"])


def _epoch_event(match: re.Match[str], ts: float) -> EpochEvent | None:
    if _PROGRESS_BAR.search(match["rest"]):
        return None  # a progress bar within the epoch, not its end
    epoch = _int(match["epoch"])
    if epoch is None:
        return None
    pairs = _pairs(match["rest"])
    loss = pairs.pop("loss", None)
    loss = pairs.pop("train_loss", loss)
    val_score: float | None = None
    for key in list(pairs):
        if key.startswith(("val", "valid")) and "loss" not in key:
            val_score = pairs.pop(key)
            break
    if val_score is None:
        for key in list(pairs):
            if _SCORE_WORDS.fullmatch(key) or key == "score":
                val_score = pairs.pop(key)
                break
    pairs.pop("time", None)
    return EpochEvent(
        ts=ts,
        source="line",
        epoch=epoch,
        total_epochs=_int(match["total"]),
        loss=loss,
        val_score=val_score,
        seconds=_seconds(match["rest"]),
        metrics=pairs,
    )


def _fold_event(match: re.Match[str], ts: float) -> Event | None:
    fold = _int(match["fold"])
    if fold is None:
        return None
    total = _int(match["total"])
    rest = match["rest"]
    inner = _INNER_EPOCH.search(rest)
    if inner:
        event = _epoch_event(inner, ts)
        return None if event is None else replace(event, fold=fold)
    if _NOT_A_FOLD_END.search(rest):
        return None
    pairs = _pairs(rest)
    score: float | None = None
    metric: str | None = None
    for key, value in pairs.items():
        if "loss" in key and "score" not in key and len(pairs) > 1:
            continue
        if _SCORE_WORDS.search(key):
            score, metric = value, key
            break
    if score is None:
        if _FOLD_START_WORDS.match(rest) and not pairs:
            return FoldStartEvent(ts=ts, source="line", fold=fold, total_folds=total)
        return None
    return FoldEvent(
        ts=ts,
        source="line",
        fold=fold,
        score=score,
        total_folds=total,
        seconds=_seconds(rest),
        metric=None if metric == "score" else metric,
    )


def _early_event(match: re.Match[str], ts: float) -> EarlyStopEvent:
    rest = match["rest"]
    best = _BEST.search(rest)
    epoch = re.search(r"epoch\s*(\d+)", rest, re.I)
    return EarlyStopEvent(
        ts=ts,
        source="line",
        best_score=_float(best["v"]) if best else None,
        epoch=int(epoch.group(1)) if epoch else None,
    )


def _user_event(pattern: PatternLike, match: re.Match[str], ts: float) -> Event | None:
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    kind = pattern.event
    if kind == EventType.FOLD:
        fold, score = _int(groups.get("fold")), _float(groups.get("score"))
        if fold is None or score is None:
            return None
        return FoldEvent(
            ts=ts,
            source="line",
            fold=fold,
            score=score,
            total_folds=_int(groups.get("total_folds")),
            seconds=_float(groups.get("seconds")),
            metric=groups.get("name"),
        )
    if kind == EventType.EPOCH:
        epoch = _int(groups.get("epoch"))
        if epoch is None:
            return None
        return EpochEvent(
            ts=ts,
            source="line",
            epoch=epoch,
            total_epochs=_int(groups.get("total_epochs")),
            fold=_int(groups.get("fold")),
            loss=_float(groups.get("loss")),
            val_score=_float(groups.get("val_score", groups.get("score"))),
            seconds=_float(groups.get("seconds")),
        )
    if kind == EventType.METRIC:
        value = _float(groups.get("value", groups.get("score")))
        return MetricEvent(ts=ts, source="line", name=groups.get("name", "score"), value=value)
    if kind == EventType.EARLY_STOP:
        return EarlyStopEvent(ts=ts, source="line", best_score=_float(groups.get("best_score", groups.get("score"))))
    if kind == EventType.MESSAGE:
        return MessageEvent(ts=ts, source="line", text=groups.get("text", match.group(0)))
    return None


_HINT = re.compile("poch|POCH|old|OLD|arly|ARLY")


def may_hold_progress(text: str) -> bool:
    """Cheap test on a whole chunk of output: False means no line in it is a built-in progress line."""
    return _HINT.search(text) is not None


def parse_line(text: str, ts: float, patterns: Sequence[PatternLike] = ()) -> Event | None:
    """The event a printed line stands for, or None; user patterns are tried before the built-in formats."""
    if len(text) > MAX_PARSED_LINE or text.startswith((PROGRESS_LINE_PREFIX, NODE_LINE_PREFIX)):
        return None
    for pattern in patterns:
        match = pattern.regex.search(text)
        if match:
            event = _user_event(pattern, match, ts)
            if event is not None:
                return event
    if "poch" in text or "POCH" in text:
        match = _EPOCH.match(text)
        if match:
            return _epoch_event(match, ts)
    if "old" in text or "OLD" in text:
        match = _FOLD_START.match(text)
        if match:
            fold = _int(match["fold"])
            if fold is not None:
                return FoldStartEvent(ts=ts, source="line", fold=fold, total_folds=_int(match["total"]))
        match = _FOLD_DONE.match(text)
        if match:
            return _fold_event(match, ts)
    if "arly" in text or "ARLY" in text:
        match = _EARLY.match(text)
        if match:
            return _early_event(match, ts)
    return None
