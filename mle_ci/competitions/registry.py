"""Finding competitions: the embedded demos, and folders in MLE-bench's prepared layout under a data directory.

A discovered competition lives at ``<data_dir>/<id>/prepared/{public,private}``. What it asks for comes from,
in order: an optional ``<data_dir>/<id>/competition.yaml``; MLE-bench's lite split table (``lite``: files, columns,
metric, direction); the sample submission's header (first column the id, the others the targets). A leaderboard
is looked for where MLE-bench keeps it (an installed ``mlebench`` package's ``competitions/<id>/``), then in the
data folder (``prepared/private/`` or ``<id>/``), unless one is given; a Git LFS pointer is not a leaderboard.
``competition.yaml`` keys, all
optional: ``name``, ``description``, ``metric``, ``higher_is_better``, ``id_column``, ``target_columns`` (a
list), ``kind`` (``tabular``/``image``), and ``answers``, ``sample_submission``, ``leaderboard`` (paths relative
to ``prepared/``). Embedded ids are served from the demos even when a data directory has a folder of that name.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path
from typing import Any

import yaml

from mle_ci.competitions.csvtable import TableError, read_header
from mle_ci.competitions.demos import DEMO_SPECS, demo_competition, demo_folder, is_demo_built
from mle_ci.competitions.lite import LITE, LITE_SPLIT, LiteCompetition
from mle_ci.competitions.model import (
    Competition,
    CompetitionEntry,
    CompetitionError,
    CompetitionKind,
    CompetitionSpec,
)
from mle_ci.config_file import describe
from mle_ci.metrics import get_metric
from mle_ci.usertext import competition_id_problem

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
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_KINDS = ("tabular", "text", "image", "audio", "image-to-image", "text-to-text")
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
    if data.get("kind", "tabular") not in _KINDS:
        raise CompetitionError(f"{path}: kind must be one of {', '.join(_KINDS)}, got {data['kind']!r}")
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


def mlebench_leaderboard(competition_id: str) -> Path | None:
    """Where an installed ``mlebench`` package keeps this competition's leaderboard (found without importing it)."""
    try:
        spec = importlib.util.find_spec("mlebench")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    return next(iter(Path(p) / "competitions" / competition_id / "leaderboard.csv" for p in locations), None)


def find_leaderboard(candidates: list[Path | None]) -> tuple[Path | None, str | None]:
    """The first candidate that is a leaderboard, else ``None`` and why none is usable."""
    problems = []
    for path in candidates:
        if path is None or not path.is_file():
            continue
        try:
            with path.open("rb") as handle:
                head = handle.read(len(_LFS_POINTER))
        except OSError as exc:
            problems.append(f"{path} cannot be read ({exc.strerror or exc})")
            continue
        if head == _LFS_POINTER:
            problems.append(f"{path} is a Git LFS pointer, not the leaderboard (run `git lfs pull` where it lives)")
            continue
        return path, None
    return None, "; ".join(problems) or "no leaderboard (give --leaderboard, or install mlebench with its leaderboards)"


def given_leaderboard(path: Path | None) -> tuple[Path, None] | None:
    """A leaderboard given on the command line, checked; ``None`` when none was given."""
    if path is None:
        return None
    board, problem = find_leaderboard([path])
    if board is None:
        raise CompetitionError(f"--leaderboard {path}: {problem if path.is_file() else 'no such file'}")
    return board, None


def _lite_files(lite: LiteCompetition | None, root: Path) -> tuple[Path | None, Path | None]:
    """The sample submission and the answers where MLE-bench's config.yaml puts them."""
    if lite is None:
        return None, None
    return root / lite.sample_submission, root / lite.answers


def missing_files(competition: Competition) -> tuple[str, ...]:
    """The public files MLE-bench's prepare.py writes that this competition's folder lacks (lite ones only)."""
    lite = LITE.get(competition.id)
    if competition.embedded or lite is None:
        return ()
    return tuple(f"public/{name}" for name in lite.public if not (competition.public / name).exists())


def discover(competition_id: str, data_dir: Path, *, leaderboard: Path | None = None) -> Competition:
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
    lite = LITE.get(competition_id)
    private = root / "private" if (root / "private").is_dir() else None
    lite_sample, lite_answers = _lite_files(lite, root)
    found_sample = lite_sample if lite_sample is not None and lite_sample.is_file() else _sample_submission(public)
    sample = _located(root, config.get("sample_submission"), found_sample)
    if sample is None or not sample.is_file():
        wanted = sample or lite_sample or public / "sample_submission.csv"
        raise CompetitionError(f"competition {competition_id!r}: no sample submission ({wanted})")
    try:
        header = read_header(sample)
    except TableError as exc:
        raise CompetitionError(f"competition {competition_id!r}: the sample submission {sample}: {exc}") from None
    id_column = config.get("id_column", lite.id_column if lite is not None else header[0])
    known_targets = lite.targets if lite is not None and lite.targets else tuple(header)
    targets = tuple(config.get("target_columns", [c for c in known_targets if c != id_column]))
    if not targets:
        raise CompetitionError(f"competition {competition_id!r}: no target column in {sample} (set target_columns)")
    metric, higher = _metric(lite, config, folder / CONFIG_NAME)
    answers = _located(root, config.get("answers"), lite_answers if lite_answers is not None else _answers(private))
    board, board_problem = given_leaderboard(leaderboard) or find_leaderboard(
        [
            root / str(config["leaderboard"]) if "leaderboard" in config else None,
            mlebench_leaderboard(competition_id),
            root / "private" / "leaderboard.csv",
            folder / "leaderboard.csv",
        ]
    )
    kind: CompetitionKind = (
        config.get("kind") or (lite.kind if lite else None) or ("image" if _has_images(public) else "tabular")
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
        leaderboard=board,
        embedded=False,
        leaderboard_problem=board_problem,
    )


def _metric(lite: LiteCompetition | None, config: dict[str, Any], source: Path) -> tuple[str | None, bool]:
    known = (lite.metric, lite.higher_is_better) if lite is not None else None
    name = config.get("metric", known[0] if known else None)
    if name is None:
        return None, bool(config.get("higher_is_better", True))
    try:
        metric = get_metric(name)
    except ValueError as exc:
        raise CompetitionError(f"{source}: {exc}") from None
    default = known[1] if known and known[0] == name else metric.higher_is_better
    return metric.name, bool(config.get("higher_is_better", default))


def find_competition(
    competition_id: str, *, data_dir: Path | None, cache_dir: Path, leaderboard: Path | None = None
) -> Competition:
    """The competition of this id: an embedded demo (built on demand) or ``<data_dir>/<id>/prepared``."""
    problem = competition_id_problem(competition_id)
    if problem is not None:
        raise CompetitionError(f"competition {describe(competition_id)} {problem}")
    if competition_id in DEMO_SPECS:
        demo = demo_competition(competition_id, cache_dir)
        given = given_leaderboard(leaderboard)
        return demo if given is None else dataclasses.replace(demo, leaderboard=given[0])
    if data_dir is None:
        raise CompetitionError(
            f"competition {competition_id!r} is not embedded (embedded: {', '.join(DEMO_SPECS)}); "
            "give --data-dir with <data-dir>/<id>/prepared in MLE-bench's layout"
        )
    return discover(competition_id, data_dir, leaderboard=leaderboard)


def _discovered(folder: Path, data_dir: Path) -> CompetitionEntry:
    try:
        competition = discover(folder.name, data_dir)
    except CompetitionError as exc:
        return CompetitionEntry(folder.name, "discovered", True, None, folder / "prepared", str(exc))
    return CompetitionEntry(
        folder.name,
        "discovered",
        True,
        competition.spec,
        competition.root,
        missing=missing_files(competition),
        gradeable=competition.answers is not None,
    )


def list_competitions(*, data_dir: Path | None, cache_dir: Path) -> list[CompetitionEntry]:
    """The embedded demos, every competition folder under ``data_dir``, then the lite ones not prepared there."""
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
    if data_dir is not None:
        if not data_dir.is_dir():
            raise CompetitionError(f"the data directory {data_dir} does not exist")
        folders = sorted(p for p in data_dir.iterdir() if (p / "prepared").is_dir() and p.name not in DEMO_SPECS)
        entries += [_discovered(folder, data_dir) for folder in folders]
    seen = {e.id for e in entries}
    entries += [
        CompetitionEntry(cid, "mle-bench", False, lite_spec(cid), None, problem="not prepared")
        for cid in LITE_SPLIT
        if cid not in seen
    ]
    return entries


def lite_spec(competition_id: str) -> CompetitionSpec:
    """What is known of a lite competition before its data is prepared (its targets come from the data)."""
    lite = LITE[competition_id]
    return CompetitionSpec(
        id=lite.id,
        name=lite.id,
        metric=lite.metric,
        higher_is_better=lite.higher_is_better,
        id_column=lite.id_column,
        target_columns=lite.targets,
        kind=lite.kind,
        description="",
    )
