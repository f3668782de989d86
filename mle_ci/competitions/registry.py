"""Finding competitions: the embedded demos, and folders in MLE-bench's prepared layout under a data directory.

A discovered competition lives at ``<data_dir>/<id>/prepared/{public,private}``. What it asks for comes from,
in order: an optional ``<data_dir>/<id>/competition.yaml``; MLE-bench's lite split table (metric, direction);
the sample submission's header (first column the id, the others the targets). ``competition.yaml`` keys, all
optional: ``name``, ``description``, ``metric``, ``higher_is_better``, ``id_column``, ``target_columns`` (a
list), ``kind`` (``tabular``/``image``), and ``answers``, ``sample_submission``, ``leaderboard`` (paths relative
to ``prepared/``). Embedded ids are served from the demos even when a data directory has a folder of that name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mle_ci.competitions.csvtable import TableError, read_header
from mle_ci.competitions.demos import DEMO_SPECS, demo_competition, demo_folder, is_demo_built
from mle_ci.competitions.metrics import COLUMN_OVERRIDES, LITE_COMPETITIONS, get_metric, known_kind
from mle_ci.competitions.model import (
    Competition,
    CompetitionEntry,
    CompetitionError,
    CompetitionKind,
    CompetitionSpec,
)

DEFAULT_COMPETITION = "digits-png"
CONFIG_NAME = "competition.yaml"
_KEYS = {
    "name": str,
    "description": str,
    "metric": str,
    "higher_is_better": bool,
    "id_column": str,
    "target_columns": list,
    "kind": str,
    "answers": str,
    "sample_submission": str,
    "leaderboard": str,
}
_SAMPLE = re.compile(r"sample_?submission.*\.csv", re.IGNORECASE)
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CompetitionError(f"{path} cannot be read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CompetitionError(f"{path} must hold a mapping of keys such as metric: and id_column:")
    for key, value in data.items():
        if key not in _KEYS:
            raise CompetitionError(f"{path}: unknown key {key!r} (known: {', '.join(_KEYS)})")
        if not isinstance(value, _KEYS[key]):
            raise CompetitionError(f"{path}: {key} must be a {_KEYS[key].__name__}, got {value!r}")
    targets = data.get("target_columns")
    if targets is not None and (not targets or not all(isinstance(t, str) for t in targets)):
        raise CompetitionError(f"{path}: target_columns must be a non-empty list of column names")
    if data.get("kind", "tabular") not in ("tabular", "image"):
        raise CompetitionError(f"{path}: kind must be tabular or image, got {data['kind']!r}")
    return data


def _sample_submission(public: Path) -> Path | None:
    candidates = sorted(p for p in public.iterdir() if p.is_file() and _SAMPLE.fullmatch(p.name))
    exact = [p for p in candidates if p.name == "sample_submission.csv"]
    return next(iter(exact or candidates), None)


def _answers(private: Path | None) -> Path | None:
    if private is None:
        return None
    for name in ("test.csv", "answers.csv"):
        if (private / name).is_file():
            return private / name
    others = [p for p in private.glob("*.csv") if p.name != "leaderboard.csv"]
    return others[0] if len(others) == 1 else None


def _has_images(public: Path, limit: int = 5000) -> bool:
    for seen, path in enumerate(public.rglob("*")):
        if path.suffix.lower() in _IMAGE_SUFFIXES:
            return True
        if seen >= limit:
            break
    return False


def _first_heading(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((line.strip("# ").strip() for line in lines if line.strip()), "")


def _located(root: Path, value: Any, found: Path | None) -> Path | None:
    return root / str(value) if value is not None else found


def discover(competition_id: str, data_dir: Path) -> Competition:
    """A competition in MLE-bench's prepared layout under ``data_dir``; ``CompetitionError`` naming what is missing."""
    folder = data_dir / competition_id
    root = folder / "prepared"
    public = root / "public"
    if not public.is_dir():
        what = "no such folder" if not folder.is_dir() else "no prepared/public folder in it"
        raise CompetitionError(
            f"competition {competition_id!r} not found: {folder} ({what}); expected MLE-bench's prepared layout "
            f"<data-dir>/<id>/prepared/public (embedded competitions: {', '.join(DEMO_SPECS)})"
        )
    config = _read_config(folder / CONFIG_NAME)
    private = root / "private" if (root / "private").is_dir() else None
    sample = _located(root, config.get("sample_submission"), _sample_submission(public))
    if sample is None or not sample.is_file():
        raise CompetitionError(
            f"competition {competition_id!r}: no sample submission ({sample or public / 'sample_submission.csv'})"
        )
    try:
        header = read_header(sample)
    except TableError as exc:
        raise CompetitionError(f"competition {competition_id!r}: the sample submission {sample}: {exc}") from None
    id_column, targets = COLUMN_OVERRIDES.get(competition_id, (header[0], tuple(header[1:])))
    id_column = config.get("id_column", id_column)
    targets = tuple(config.get("target_columns", [c for c in targets if c != id_column]))
    if not targets:
        raise CompetitionError(f"competition {competition_id!r}: no target column in {sample} (set target_columns)")
    metric, higher = _metric(competition_id, config, folder / CONFIG_NAME)
    answers = _located(root, config.get("answers"), _answers(private))
    leaderboard = _located(
        root,
        config.get("leaderboard"),
        next((p for p in (root / "private" / "leaderboard.csv", folder / "leaderboard.csv") if p.is_file()), None),
    )
    kind: CompetitionKind = (
        config.get("kind") or known_kind(competition_id) or ("image" if _has_images(public) else "tabular")
    )
    spec = CompetitionSpec(
        id=competition_id,
        name=config.get("name", competition_id),
        metric=metric,
        higher_is_better=higher,
        id_column=id_column,
        target_columns=targets,
        kind=kind,
        description=config.get("description") or _first_heading(public / "description.md"),
    )
    return Competition(
        spec=spec,
        root=root,
        public=public,
        private=private,
        sample_submission=sample,
        answers=answers if answers is not None and answers.is_file() else None,
        leaderboard=leaderboard if leaderboard is not None and leaderboard.is_file() else None,
        embedded=False,
    )


def _metric(competition_id: str, config: dict[str, Any], source: Path) -> tuple[str | None, bool]:
    known = LITE_COMPETITIONS.get(competition_id)
    name = config.get("metric", known[0] if known else None)
    if name is None:
        return None, bool(config.get("higher_is_better", True))
    try:
        metric = get_metric(name)
    except ValueError as exc:
        raise CompetitionError(f"{source}: {exc}") from None
    default = known[1] if known and known[0] == name else metric.higher_is_better
    return metric.name, bool(config.get("higher_is_better", default))


def find_competition(competition_id: str, *, data_dir: Path | None, cache_dir: Path) -> Competition:
    """The competition of this id: an embedded demo (built on demand) or ``<data_dir>/<id>/prepared``."""
    if competition_id in DEMO_SPECS:
        return demo_competition(competition_id, cache_dir)
    if data_dir is None:
        raise CompetitionError(
            f"competition {competition_id!r} is not embedded (embedded: {', '.join(DEMO_SPECS)}); "
            "give --data-dir with <data-dir>/<id>/prepared in MLE-bench's layout"
        )
    return discover(competition_id, data_dir)


def list_competitions(*, data_dir: Path | None, cache_dir: Path) -> list[CompetitionEntry]:
    """The embedded demos, then every competition folder under ``data_dir`` (one that cannot be read says why)."""
    entries = [
        CompetitionEntry(
            id=cid,
            origin="embedded",
            built=is_demo_built(cid, cache_dir),
            spec=spec,
            root=demo_folder(cid, cache_dir) / "prepared",
        )
        for cid, spec in DEMO_SPECS.items()
    ]
    if data_dir is None:
        return entries
    if not data_dir.is_dir():
        raise CompetitionError(f"the data directory {data_dir} does not exist")
    for folder in sorted(p for p in data_dir.iterdir() if (p / "prepared").is_dir() and p.name not in DEMO_SPECS):
        try:
            competition = discover(folder.name, data_dir)
        except CompetitionError as exc:
            entries.append(CompetitionEntry(folder.name, "discovered", True, None, folder / "prepared", str(exc)))
        else:
            entries.append(CompetitionEntry(folder.name, "discovered", True, competition.spec, competition.root))
    return entries
