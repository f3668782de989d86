"""Submission checks: the competition's own grading rule decides, and a strict reading explains.

For an MLE-bench lite competition with its answers at hand, the verdict is its grading rule's (``rules``): a file
is valid exactly when MLE-bench's grader would score it. The strict checks here (every problem listed rather than
the first) then become warnings where the rule accepts the file, and details where it does not. Elsewhere (the
embedded demos, competitions described by a competition.yaml, or no answers to grade against) the strict checks
decide. Rows are counted from 1 after the header; ids are compared as labels (``7`` and ``7.0`` alike).
Log-loss rows must sum to 1 within ``1e-6 + 1e-5`` (``numpy.isclose(sum, 1, atol=1e-6)``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mle_ci.competitions.csvtable import NA_VALUES, Table, TableError, canonical_label, read_csv
from mle_ci.competitions.lite import LITE
from mle_ci.competitions.model import Competition, CompetitionError, CompetitionSpec, ValidationReport
from mle_ci.competitions.rules import Graded, InvalidSubmission, Rule, read_frame, run_rule
from mle_ci.metrics import Metric, get_metric

EXAMPLES = 3
ROW_SUM_TOLERANCE = 1e-6 + 1e-5


@dataclass(frozen=True)
class Reference:
    """What a submission is held against: the answers, or the sample submission when there are none."""

    table: Table
    ids: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Inspection:
    """A validation report with what was read on the way, so grading reads each file once."""

    report: ValidationReport
    exists: bool
    submission: Table | None
    reference: Reference
    graded: Graded | None = None


def _listed(texts: Sequence[str], separator: str = ", ") -> str:
    return separator.join(texts[:EXAMPLES]) + (f"{separator}..." if len(texts) > EXAMPLES else "")


def _examples(items: Sequence[object]) -> str:
    return _listed([repr(i) if isinstance(i, str) else str(i) for i in items])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def load_reference(competition: Competition) -> Reference:
    """The answers' (or sample submission's) table and ids; ``CompetitionError`` when they cannot be read."""
    spec = competition.spec
    path, source = (
        (competition.answers, "answers")
        if competition.answers is not None
        else (competition.sample_submission, "sample submission")
    )
    try:
        table = read_csv(path)
    except TableError as exc:
        raise CompetitionError(f"the {source} of {spec.id} ({path}) cannot be read as CSV: {exc}") from None
    missing = [c for c in (spec.id_column, *spec.target_columns) if c not in table.header]
    if missing:
        raise CompetitionError(f"the {source} of {spec.id} ({path}) have no column {', '.join(missing)}")
    ids = tuple(canonical_label(v) for v in table.column(spec.id_column))
    return Reference(table=table, ids=ids, source=source)


def check_header(header: Sequence[str], spec: CompetitionSpec) -> list[str]:
    """Problems of a submission's header: duplicate names, a missing id column or target columns."""
    problems = []
    duplicates = sorted(name for name, n in Counter(header).items() if n > 1)
    if duplicates:
        problems.append(f"duplicate column names in the header: {_examples(duplicates)}")
    if spec.id_column not in header:
        problems.append(f"no id column {spec.id_column!r} in the header (columns: {_examples(list(header))})")
    missing = [c for c in spec.target_columns if c not in header]
    if missing:
        problems.append(f"missing target column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    return problems


def check_ids(ids: Sequence[str], raw: Sequence[str], expected: Sequence[str], source: str) -> list[str]:
    """Problems of the id column against the expected ids: count, missing, unexpected and duplicate ids."""
    problems = []
    if len(ids) != len(expected):
        problems.append(f"expected {len(expected)} rows (as the {source}), found {len(ids)}")
    present, wanted = set(ids), set(expected)
    missing = [i for i in expected if i not in present]
    if missing:
        problems.append(f"{_plural(len(missing), 'id')} of the {source} missing, e.g. {_examples(missing)}")
    extra = [raw[n] for n, i in enumerate(ids) if i not in wanted]
    if extra:
        problems.append(f"{_plural(len(extra), 'unexpected id')}, e.g. {_examples(extra)}")
    seen: set[str] = set()
    duplicated = []
    for n, i in enumerate(ids):
        if i in seen:
            duplicated.append(raw[n])
        seen.add(i)
    if duplicated:
        problems.append(f"{_plural(len(duplicated), 'duplicate id')}, e.g. {_examples(duplicated)}")
    return problems


def _as_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_values(column: str, values: Sequence[str], metric: Metric | None) -> list[str]:
    """Problems of one target column: empty or NaN cells, and what the metric needs of every value."""
    problems = []
    empty = [n + 1 for n, v in enumerate(values) if v.strip() in NA_VALUES]
    if empty:
        problems.append(f"column {column!r}: {_plural(len(empty), 'empty or NaN value')} (rows {_examples(empty)})")
    if metric is None or not metric.numeric:
        return problems
    filled = [(n + 1, v) for n, v in enumerate(values) if v.strip() not in NA_VALUES]
    bad = [f"{v!r} (row {n})" for n, v in filled if _as_number(v) is None]
    if bad:
        problems.append(f"column {column!r}: {_plural(len(bad), 'value')} not a finite number, e.g. {_listed(bad)}")
    numbers = [(n, x) for n, v in filled if (x := _as_number(v)) is not None]
    if metric.probabilities:
        outside = [f"{x:g} (row {n})" for n, x in numbers if not 0.0 <= x <= 1.0]
        if outside:
            problems.append(
                f"column {column!r}: {_plural(len(outside), 'value')} outside [0, 1] ({metric.name} needs "
                f"probabilities), e.g. {_listed(outside)}"
            )
    if metric.above_minus_one:
        low = [f"{x:g} (row {n})" for n, x in numbers if x <= -1.0]
        if low:
            problems.append(
                f"column {column!r}: {_plural(len(low), 'value')} not above -1 (undefined for {metric.name}), "
                f"e.g. {_listed(low)}"
            )
    return problems


def check_row_sums(columns: Sequence[Sequence[str]]) -> list[str]:
    """Problems of probability rows that do not sum to 1 (rows with a non-number are left to ``check_values``)."""
    off = []
    for n, cells in enumerate(zip(*columns, strict=True)):
        numbers = [_as_number(c) for c in cells]
        if all(x is not None for x in numbers):
            total = math.fsum(x for x in numbers if x is not None)
            if abs(total - 1.0) > ROW_SUM_TOLERANCE:
                off.append(f"row {n + 1} sums to {total:.6g}")
    if not off:
        return []
    return [f"{_plural(len(off), 'row')} of probabilities not summing to 1, e.g. {_listed(off, '; ')}"]


def check_table(table: Table, spec: CompetitionSpec, reference: Reference) -> list[str]:
    """Every problem of a parsed submission against the competition's spec and expected ids."""
    problems = check_header(table.header, spec)
    width = len(table.header)
    ragged = [n + 1 for n, row in enumerate(table.rows) if len(row) != width]
    if ragged:
        problems.append(
            f"{_plural(len(ragged), 'row')} without {width} fields like the header (rows {_examples(ragged)})"
        )
    if spec.id_column in table.header:
        raw = table.column(spec.id_column)
        problems += check_ids([canonical_label(i) for i in raw], raw, reference.ids, reference.source)
    elif len(table.rows) != len(reference.ids):
        problems.append(f"expected {len(reference.ids)} rows (as the {reference.source}), found {len(table.rows)}")
    metric = get_metric(spec.metric) if spec.metric else None
    present = [c for c in spec.target_columns if c in table.header]
    for column in present:
        problems += check_values(column, table.column(column), metric)
    if (
        metric is not None
        and metric.rows_sum_to_one
        and len(spec.target_columns) > 1
        and len(present) == len(spec.target_columns)
    ):
        problems += check_row_sums([table.column(c) for c in present])
    return problems


def grading_rule(competition: Competition) -> Rule | None:
    """The competition's own grading rule (an MLE-bench lite competition with its answers), else ``None``."""
    lite = LITE.get(competition.spec.id)
    if competition.embedded or competition.answers is None or lite is None or lite.rule is None:
        return None
    return lite.grading_rule(competition.spec.id_column, competition.spec.target_columns)


def _strict_problems(path: Path, competition: Competition, reference: Reference) -> tuple[list[str], Table | None]:
    named = [] if path.suffix.lower() == ".csv" else [f"the file name must end in .csv (got {path.name!r})"]
    try:
        table = read_csv(path)
    except TableError as exc:
        return [*named, f"{path.name} cannot be read as CSV: {exc}"], None
    return [*named, *check_table(table, competition.spec, reference)], table


def _rule_verdict(rule: Rule, path: Path, competition: Competition) -> Graded | str:
    """The rule's score, or why it refuses the file."""
    assert competition.answers is not None
    try:
        return run_rule(rule, read_frame(path), read_frame(competition.answers))
    except InvalidSubmission as exc:
        return str(exc)


def inspect_submission(path: Path, competition: Competition) -> Inspection:
    """Validate a submission file and keep what was read; the competition's own files must be readable."""
    reference = load_reference(competition)
    exists = path.is_file()
    if not exists:
        problem = f"{path} does not exist" if not path.exists() else f"{path} is not a file"
        report = ValidationReport(valid=False, problems=(problem,), rows=None, path=str(path))
        return Inspection(report=report, exists=False, submission=None, reference=reference)
    strict, table = _strict_problems(path, competition, reference)
    rows = None if table is None else len(table.rows)
    rule = grading_rule(competition)
    graded: Graded | None = None
    warnings: list[str] = []
    if rule is None or path.suffix.lower() != ".csv":
        problems = strict
    else:
        verdict = _rule_verdict(rule, path, competition)
        if isinstance(verdict, str):
            problems = [verdict, *(p for p in strict if p != verdict)]
        else:
            graded, problems = verdict, []
            warnings = [f"{p} (MLE-bench's grader accepts this)" for p in strict] + [
                f"scikit-learn: {w}" for w in verdict.warnings
            ]
    report = ValidationReport(
        valid=not problems, problems=tuple(problems), rows=rows, path=str(path), warnings=tuple(warnings)
    )
    return Inspection(
        report=report,
        exists=path.suffix.lower() == ".csv",
        submission=table,
        reference=reference,
        graded=graded,
    )


def validate_submission(path: Path, competition: Competition) -> ValidationReport:
    """Check a submission's format against the competition, listing every problem found."""
    return inspect_submission(path, competition).report
