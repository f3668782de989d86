"""Any MLE-bench public folder read into the baseline's train, test and sample tables, image index and sample file.

Every rule reads names, columns and contents, never a competition id, and every decision becomes a note:

- tables are CSV, TSV or JSON files, plain or the one member of a zip; a plain file wins over its zip twin;
- the sample submission is named like ``sample_submission`` (``sampleSubmission.csv``, ``en_sample_submission_2``);
- train is ``train.*``, else a name holding ``train``, else ``labels.*``; without its target columns (or without
  any train table) the train rows may come from class-named train images (``cat.0.jpg``, ``dog.12.jpg``);
- test is ``test.*``, else a name holding ``test``, else the sample submission's first (id) column alone; a test
  table without that column gets it when the sample's ids are its first columns joined by ``_`` (``3_12``);
- images in folders and zips are indexed by file name and stem, zips extracted safely and once under scratch.

Whatever cannot be read or made out raises :class:`LayoutError`, naming the file or what was found instead.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mle_ci.agents.baseline.archives import UnreadableFile, ZipListing, extract_members, list_zip
from mle_ci.agents.baseline.imagefiles import Images, collect_images
from mle_ci.agents.baseline.tablefiles import TABLE_SUFFIXES, TableFile, TableRead, read_header, read_table
from mle_ci.agents.baseline.tables import Table, numeric
from mle_ci.agents.baseline.task import IMAGE_SUFFIXES, TaskError, binary_classes

AUDIO_SUFFIXES = frozenset({".wav", ".aif", ".aiff", ".aifc", ".mp3", ".flac", ".ogg"})

_SAMPLE_NAME = re.compile(r"sample_?submission", re.IGNORECASE)
_TRAIN_WORD = re.compile(r"(?:^|[^a-z])train")  # "en_train", "train_labels", "training"; not "constraints"
_TEST_WORD = re.compile(r"(?:^|[^a-z])test")  # "en_test_2", "test_images"; not "latest"
_COMPOSITE_WIDTHS = (2, 3)


class LayoutError(TaskError):
    """The public folder holds no train, test and sample submission that can be made out; the message says why."""


@dataclass(frozen=True)
class Layout:
    """A public folder read: the three tables, the images by file name and stem, the sample file, the decisions."""

    train: Table
    test: Table
    sample: Table
    images: dict[str, Path]
    sample_path: Path
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Survey:
    """The top level of a public folder sorted by what each file holds."""

    tables: tuple[TableFile, ...]
    image_zips: tuple[ZipListing, ...]
    other_zips: tuple[ZipListing, ...]
    notes: tuple[str, ...]


def _survey(public: Path) -> _Survey:
    files = [path for path in sorted(public.iterdir()) if path.is_file()]
    plain = [TableFile(path) for path in files if path.suffix.lower() in TABLE_SUFFIXES]
    names = {table.name.lower() for table in plain}
    tables = list(plain)
    image_zips: list[ZipListing] = []
    other_zips: list[ZipListing] = []
    notes: list[str] = []
    for path in files:
        if path.suffix.lower() != ".zip":
            continue
        if (twin := path.name.lower().removesuffix(".zip")) in names:  # not even opened
            notes.append(f"{twin} read rather than its zip twin {path.name}")
            continue
        listing = list_zip(path)
        inner = listing.with_suffix(TABLE_SUFFIXES)
        if len(inner) == 1 and len(listing.members) == 1:
            if (twin := PurePosixPath(inner[0]).name.lower()) in names:
                notes.append(f"{twin} read rather than its zip twin {path.name}")
            else:
                tables.append(TableFile(path, inner[0]))
        elif listing.with_suffix(IMAGE_SUFFIXES):
            image_zips.append(listing)
        else:
            other_zips.append(listing)
    return _Survey(tuple(tables), tuple(image_zips), tuple(other_zips), tuple(notes))


def _train_rank(base: str) -> int | None:
    if base == "train":
        return 0
    if _TRAIN_WORD.search(base):
        return 1
    return 2 if base == "labels" else None


def _test_rank(base: str) -> int | None:
    if base == "test":
        return 0
    return 1 if _TEST_WORD.search(base) else None


def _pick(
    tables: Sequence[TableFile], rank: Callable[[str], int | None], columns: Sequence[str]
) -> tuple[TableFile | None, list[str]]:
    """The best-ranked table (among equals, the one sharing most columns with the sample) and the others' names."""
    ranked = [(found, table) for table in tables if (found := rank(table.base)) is not None]
    if not ranked:
        return None, []
    best = min(found for found, _ in ranked)
    tied = [table for found, table in ranked if found == best]
    if len(tied) > 1:
        tied.sort(key=lambda table: (-len(set(read_header(table)) & set(columns)), len(table.name), table.name))
    return tied[0], [table.name for _, table in ranked if table is not tied[0]]


def _rows_note(role: str, source: TableFile, read: TableRead, others: Sequence[str]) -> list[str]:
    also = f"; also there: {', '.join(others)}" if others else ""
    notes = [f"{role} rows from {source.name} ({read.table.rows} rows{also})"]
    if read.skipped:
        total = read.table.rows + read.skipped
        of = f"{total}" if read.exact else f"at least {total}"
        notes.append(f"{role} rows capped at {read.table.rows} of {of}")
    return notes


def _sample_path(source: TableFile, sample: Table, scratch: Path) -> tuple[Path, list[str]]:
    """The sample submission as a CSV file on disk: itself, extracted from its zip, or written from JSON or TSV."""
    if source.format == ".csv" and source.member is None:
        return source.path, []
    if source.format == ".csv" and source.member is not None:
        folder, _ = extract_members(source.path, [source.member], scratch)
        return folder.joinpath(*PurePosixPath(source.member).parts), [f"sample submission extracted from {source.name}"]
    target = scratch / "samples" / f"{source.base}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(sample.header)
        writer.writerows(zip(*(sample.column(name) for name in sample.header), strict=True))
    return target, [f"sample submission {source.name} written as CSV"]


def _named_classes(images: Images) -> list[tuple[str, str]] | None:
    """(stem, class) of each train image when the names start with a class and a dot (``dog.12.jpg``), else None."""
    stems = sorted({image.path.stem for image in images.files if image.train})
    if not stems or not all("." in stem for stem in stems):
        return None
    pairs = [(stem, stem.split(".", 1)[0]) for stem in stems]
    counts = Counter(label for _, label in pairs)
    # Names that merely hold dots (1.2.826.0.1...jpg) give one "class" or one per file: neither names classes.
    if len(counts) < 2 or len(counts) > len(pairs) // 2 or "" in counts:
        return None
    return pairs


def _train_from_names(images: Images, sample: Table, max_rows: int | None) -> tuple[Table, list[str]] | None:
    """A train table of the sample's id and one target column, from class-named train images; None when not."""
    pairs = _named_classes(images)
    if pairs is None or len(sample.header) != 2:
        return None
    id_column, target = sample.header
    total = len(pairs)
    folders = ", ".join(sorted({image.where.parts[0] for image in images.files if image.train}))
    notes = [f"train rows from the names of the images in {folders} ({total} rows: the class before the first dot)"]
    if max_rows is not None and total > max_rows:
        # Names sort by class, so the first rows would be one class: evenly spaced ones keep every class's share.
        pairs = [pairs[index * total // max_rows] for index in range(max_rows)]
        notes.append(f"train rows capped at {max_rows} of {total} (evenly spaced files)")
    classes = {label for _, label in pairs}
    if len(classes) == 2 and numeric(sample.column(target)):
        negative, positive = binary_classes(classes)
        notes.append(f"{target} is the probability of {positive!r}, the positive class ({negative!r} the other)")
    table = Table((id_column, target), {id_column: [s for s, _ in pairs], target: [c for _, c in pairs]})
    return table, notes


def _with_composite_id(table: Table, id_column: str, columns: tuple[str, ...]) -> Table:
    joined = ["_".join(cells) for cells in zip(*(table.column(name) for name in columns), strict=True)]
    return Table((id_column, *table.header), {id_column: joined, **table.columns})


def _composite_columns(test: Table, ids: Sequence[str]) -> tuple[str, ...] | None:
    """The first columns of ``test`` whose values joined by ``_`` give every sample id, if some do."""
    wanted = set(ids)
    for width in _COMPOSITE_WIDTHS:
        columns = test.header[:width]
        if len(columns) == width and wanted <= set(_with_composite_id(test, "", columns).column("")):
            return columns
    return None


def _no_train(public: Path, survey: _Survey, images: Images) -> LayoutError:
    """The error for a folder without train rows, saying what it holds instead."""
    tables = ", ".join(table.name for table in survey.tables) or "none"
    reasons = [
        "no train table (train.*, a name holding 'train', or labels.*; CSV, TSV or JSON, plain or zipped); "
        f"tables found: {tables}"
    ]
    train_folders = sorted({image.where.parts[0] for image in images.files if image.train})
    if train_folders:
        reasons.append(f"the images in {', '.join(train_folders)} do not name a class before a dot (cat.0.jpg)")
    audio = [path for path in public.rglob("*") if path.suffix.lower() in AUDIO_SUFFIXES]
    audio_zips = [listing for listing in survey.other_zips if listing.with_suffix(AUDIO_SUFFIXES)]
    if audio or audio_zips:
        count = len(audio) + sum(len(listing.with_suffix(AUDIO_SUFFIXES)) for listing in audio_zips)
        inside = f" (in {', '.join(listing.path.name for listing in audio_zips)})" if audio_zips else ""
        reasons.append(f"{count} audio files{inside}, which this reader leaves to an audio reader")
    return LayoutError("; ".join(reasons))


def _read_sample(tables: Sequence[TableFile]) -> tuple[TableFile, Table, list[str]]:
    samples = sorted((t for t in tables if _SAMPLE_NAME.search(t.name)), key=lambda t: (len(t.name), t.name))
    if not samples:
        found = ", ".join(table.name for table in tables) or "none"
        raise LayoutError(f"no sample submission (a table named like sample_submission.csv); tables found: {found}")
    sample = read_table(samples[0]).table
    if not sample.header:
        raise LayoutError(f"{samples[0].name} is empty")
    also = f"; also there: {', '.join(t.name for t in samples[1:])}" if samples[1:] else ""
    return samples[0], sample, [f"sample submission from {samples[0].name} ({sample.rows} rows{also})"]


def _read_train(
    chosen: tuple[TableFile | None, list[str]], images: Images, sample: Table, max_rows: int | None
) -> tuple[Table | None, list[str]]:
    """The train table from its file, or from class-named images when the file is missing or lacks the targets."""
    source, others = chosen
    train: Table | None = None
    notes: list[str] = []
    if source is not None:
        read = read_table(source, max_rows=max_rows)
        if not read.table.header:
            raise LayoutError(f"{source.name} is empty")
        train, notes = read.table, _rows_note("train", source, read, others)
    targets = sample.header[1:]
    if train is None or not any(name in train.header for name in targets):
        from_names = _train_from_names(images, sample, max_rows)
        if from_names is not None:
            unused = [f"{source.name} has no target column {', '.join(targets)}: not used"] if source else []
            return from_names[0], unused + from_names[1]
    return train, notes


def _read_test(
    chosen: tuple[TableFile | None, list[str]], sample_file: TableFile, sample: Table
) -> tuple[Table, list[str]]:
    """The test table from its file, else the sample submission's id column alone."""
    source, others = chosen
    if source is None:
        id_column = sample.header[0]
        test = Table((id_column,), {id_column: list(sample.column(id_column))})
        return test, [f"test ids from {sample_file.name} (no test table)"]
    test = read_table(source).table
    if not test.header:
        raise LayoutError(f"{source.name} is empty")
    return test, _rows_note("test", source, TableRead(test), others)


def _read(public: Path, scratch: Path, max_rows: int | None) -> Layout:
    survey = _survey(public)
    sample_file, sample, notes = _read_sample(survey.tables)
    notes[:0] = survey.notes
    sample_path, sample_notes = _sample_path(sample_file, sample, scratch)
    rest = [table for table in survey.tables if table is not sample_file]
    train_file = _pick(rest, _train_rank, sample.header)
    test_file = _pick([table for table in rest if table is not train_file[0]], _test_rank, sample.header)
    images = collect_images(public, survey.image_zips, scratch)
    train, train_notes = _read_train(train_file, images, sample, max_rows)
    if train is None:
        raise _no_train(public, survey, images)
    test, test_notes = _read_test(test_file, sample_file, sample)
    notes += sample_notes + train_notes + test_notes
    id_column = sample.header[0]
    if id_column not in test.header and (columns := _composite_columns(test, sample.column(id_column))):
        test = _with_composite_id(test, id_column, columns)
        if all(name in train.header for name in columns):
            train = _with_composite_id(train, id_column, columns)
        notes.append(f"{id_column} made of {' and '.join(columns)} joined by '_', as the sample submission's ids are")
    return Layout(train, test, sample, images.index, sample_path, (*notes, *images.notes))


def sample_submission(public: Path, scratch: Path) -> Path:
    """The sample submission alone, as a CSV file on disk (extracted or converted where needed); ``LayoutError``."""
    if not public.is_dir():
        raise LayoutError(f"the data folder {public.name} is not there")
    try:
        source, sample, _ = _read_sample(_survey(public).tables)
        return _sample_path(source, sample, scratch)[0]
    except UnreadableFile as error:
        raise LayoutError(str(error)) from error


def read_layout(public: Path, scratch: Path, *, max_rows: int | None = None) -> Layout:
    """Read a competition's public folder, extracting what needs it under ``scratch`` and keeping ``max_rows``
    train rows at most."""
    if not public.is_dir():
        raise LayoutError(f"the data folder {public.name} is not there")
    try:
        return _read(public, scratch, max_rows)
    except UnreadableFile as error:
        raise LayoutError(str(error)) from error
