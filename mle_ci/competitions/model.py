"""Records of the competitions package: a competition, a validation report and a grade report (MLE-bench's names)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from mle_ci.errors import ConfigError

CompetitionKind = Literal["tabular", "text", "image", "audio", "image-to-image", "text-to-text"]
"""What a competition's inputs are; the last two map an input to an output of the same kind."""
Origin = Literal["embedded", "discovered", "mle-bench"]


class CompetitionError(ConfigError):
    """A competition cannot be found, built or read; the message names what is missing (exit 2)."""


@dataclass(frozen=True)
class CompetitionSpec:
    """What a competition asks for: its metric and direction, and the columns of a submission."""

    id: str
    name: str
    metric: str | None
    higher_is_better: bool
    id_column: str
    target_columns: tuple[str, ...]
    kind: CompetitionKind
    description: str


@dataclass(frozen=True)
class Competition:
    """A competition in MLE-bench's prepared layout: ``root`` is ``.../<id>/prepared``."""

    spec: CompetitionSpec
    root: Path
    public: Path
    private: Path | None
    sample_submission: Path
    answers: Path | None
    leaderboard: Path | None
    embedded: bool
    leaderboard_problem: str | None = None

    @property
    def id(self) -> str:
        """The competition's id."""
        return self.spec.id


@dataclass(frozen=True)
class CompetitionEntry:
    """One line of the competitions listing: a spec (or why there is none) and where it comes from."""

    id: str
    origin: Origin
    built: bool
    spec: CompetitionSpec | None
    root: Path | None
    problem: str | None = None
    missing: tuple[str, ...] = ()
    gradeable: bool = True


@dataclass(frozen=True)
class ValidationReport:
    """Whether a submission has the right format, with every problem found."""

    valid: bool
    problems: tuple[str, ...]
    rows: int | None
    path: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "valid": self.valid,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "rows": self.rows,
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """The report :meth:`to_dict` wrote."""
        return cls(
            valid=bool(data["valid"]),
            problems=tuple(str(p) for p in data.get("problems", ())),
            rows=data.get("rows"),
            path=str(data.get("path", "")),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
        )


@dataclass(frozen=True)
class Thresholds:
    """Medal thresholds of a leaderboard, as MLE-bench computes them."""

    gold: float
    silver: float
    bronze: float
    median: float
    is_lower_better: bool
    teams: int


@dataclass(frozen=True)
class Medals:
    """The medal flags of one score against one set of thresholds."""

    gold: bool = False
    silver: bool = False
    bronze: bool = False
    above_median: bool = False

    @property
    def any(self) -> bool:
        """Whether any medal was won."""
        return self.gold or self.silver or self.bronze


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _json_float(value: float | None) -> float | None:
    # JSON has no NaN; an unknown threshold is written as null
    return None if value is None or math.isnan(value) else float(value)


@dataclass(frozen=True)
class GradeReport:
    """One graded submission with MLE-bench's ``CompetitionReport`` fields, plus the problems found."""

    competition_id: str
    score: float | None
    gold_threshold: float | None
    silver_threshold: float | None
    bronze_threshold: float | None
    median_threshold: float | None
    any_medal: bool
    gold_medal: bool
    silver_medal: bool
    bronze_medal: bool
    above_median: bool
    submission_exists: bool
    valid_submission: bool
    is_lower_better: bool
    created_at: datetime
    submission_path: str
    problems: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())
    leaderboard: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """MLE-bench's report dict (``created_at`` in ISO format) with ``problems`` added."""
        return {
            "competition_id": self.competition_id,
            "score": _json_float(self.score),
            "gold_threshold": _json_float(self.gold_threshold),
            "silver_threshold": _json_float(self.silver_threshold),
            "bronze_threshold": _json_float(self.bronze_threshold),
            "median_threshold": _json_float(self.median_threshold),
            "any_medal": self.any_medal,
            "gold_medal": self.gold_medal,
            "silver_medal": self.silver_medal,
            "bronze_medal": self.bronze_medal,
            "above_median": self.above_median,
            "submission_exists": self.submission_exists,
            "valid_submission": self.valid_submission,
            "is_lower_better": self.is_lower_better,
            "created_at": self.created_at.isoformat(),
            "submission_path": self.submission_path,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "leaderboard": self.leaderboard,
        }

    @property
    def medal(self) -> str:
        """``gold``, ``silver``, ``bronze``, ``none``, or ``unknown`` when no leaderboard gave thresholds."""
        if not self.medals_known:
            return "unknown"
        return (
            "gold" if self.gold_medal else "silver" if self.silver_medal else "bronze" if self.bronze_medal else "none"
        )

    @property
    def medals_known(self) -> bool:
        """Whether medal thresholds came from a leaderboard (without one, no medal flag means anything)."""
        return self.gold_threshold is not None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeReport:
        """Read back a dict written by ``to_dict`` or by MLE-bench (which has no ``problems``)."""
        return cls(
            competition_id=str(data["competition_id"]),
            score=_float_or_none(data["score"]),
            gold_threshold=_float_or_none(data["gold_threshold"]),
            silver_threshold=_float_or_none(data["silver_threshold"]),
            bronze_threshold=_float_or_none(data["bronze_threshold"]),
            median_threshold=_float_or_none(data["median_threshold"]),
            any_medal=bool(data["any_medal"]),
            gold_medal=bool(data["gold_medal"]),
            silver_medal=bool(data["silver_medal"]),
            bronze_medal=bool(data["bronze_medal"]),
            above_median=bool(data["above_median"]),
            submission_exists=bool(data["submission_exists"]),
            valid_submission=bool(data["valid_submission"]),
            is_lower_better=bool(data["is_lower_better"]),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            submission_path=str(data["submission_path"]),
            problems=tuple(str(p) for p in data.get("problems", ())),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
            leaderboard=None if data.get("leaderboard") is None else str(data["leaderboard"]),
        )
