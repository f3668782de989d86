"""Reading ``mle-ci.yml``: its top-level keys with their YAML nodes and lines, and its line ``patterns``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mle_ci.contract import EventType
from mle_ci.errors import ConfigError
from mle_ci.redaction import find_key

if TYPE_CHECKING:
    import yaml

MAX_DEPTH = 32
"""Deepest nesting of lists and mappings read; a config file needs three or four."""
MAX_SIZE = 1024 * 1024
"""Largest config file read, in bytes; a real one has a few hundred."""
PATTERN_EVENTS: tuple[str, ...] = tuple(
    str(kind) for kind in (EventType.FOLD, EventType.EPOCH, EventType.METRIC, EventType.EARLY_STOP, EventType.MESSAGE)
)
PATTERN_GROUPS = frozenset(
    {"fold", "total_folds", "epoch", "total_epochs", "loss", "val_score", "score", "best_score"}
    | {"seconds", "value", "name", "text"}
)


@dataclass(frozen=True)
class Entry:
    """One top-level key of a config file, as written (``key``) and normalised to a field name (``name``)."""

    key: str
    name: str
    node: yaml.Node
    label: str
    line: int

    @property
    def where(self) -> str:
        """Where this entry is, for error messages: ``mle-ci.yml line 4: timeout``."""
        return f"{self.label} line {self.line}: {self.key}"


def line_of(node: yaml.Node) -> int:
    """The 1-based line where ``node`` starts."""
    return int(node.start_mark.line) + 1


def construct(node: yaml.Node, where: str) -> object:
    """The plain Python value of ``node``, built as ``yaml.safe_load`` would build it."""
    import yaml  # noqa: PLC0415 - 15 ms of mle-ci run's start-up (python -X importtime), and most runs have no file

    try:
        value: object = yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError as exc:
        # Only tags the safe loader refuses (``!!python/...``) get here.
        raise ConfigError(f"{where}: {_problem(exc)}") from None
    return value


def suggest(word: str, options: Collection[str]) -> str:
    """A ``did you mean`` hint for a misspelt ``word``, or the list of ``options`` when nothing is close."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if close:
        return f" — did you mean {close[0]!r}?"
    return f"; known keys: {', '.join(sorted(options))}"


def read_config(
    path: Path, label: str, known: Collection[str], refused: Mapping[str, str] | None = None
) -> list[Entry]:
    """The entries of the config file at ``path``; ``known`` are the accepted keys with ``_`` for ``-``.

    ``refused`` maps keys that must never be in a file (secrets) to the reason given; a value shaped like an
    Anthropic API key is refused wherever it is, since a config file is meant to be committed.
    """
    import yaml  # noqa: PLC0415 - 15 ms of mle-ci run's start-up (python -X importtime), and most runs have no file

    text = _read_text(path, label)
    planted = find_key(text)
    if planted is not None:
        line = text.count("\n", 0, planted.start()) + 1
        raise ConfigError(
            f"{label} line {line}: holds what looks like a credential (value hidden); a config file is "
            "committed, so never write a key in it: set ANTHROPIC_API_KEY in the environment, or the action "
            "input anthropic-api-key from a secret"
        )
    try:
        _check_depth(text, label)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{label}{at}: invalid YAML: {_problem(exc)}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: invalid YAML: {exc}") from None
    if root is None or (isinstance(root, yaml.ScalarNode) and construct(root, label) is None):
        return []
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{label} line {line_of(root)}: the top level must be a mapping of settings (key: value)")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for key_node, value_node in root.value:
        line = line_of(key_node)
        key = construct(key_node, f"{label} line {line}")
        if not isinstance(key, str):
            raise ConfigError(f"{label} line {line}: keys must be names, not {key!r}")
        name = key.replace("-", "_")
        if refused is not None and name.lower() in refused:
            raise ConfigError(f"{label} line {line}: {key}: {refused[name.lower()]}")
        if name not in known:
            hyphenated = {k.replace("_", "-") for k in known} if "-" in key else known
            raise ConfigError(f"{label} line {line}: unknown key {key!r}{suggest(key, hyphenated)}")
        if name in seen:
            raise ConfigError(f"{label} line {line}: {key!r} is set twice (first on line {seen[name]})")
        seen[name] = line
        entries.append(Entry(key=key, name=name, node=value_node, label=label, line=line))
    return entries


def _read_text(path: Path, label: str) -> str:
    """The file's text: UTF-8, and small enough to be a config file."""
    try:
        size = path.stat().st_size
        if size > MAX_SIZE:
            raise ConfigError(f"{label}: {size:,} bytes is too big for a config file (at most {MAX_SIZE:,})")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot be read ({exc.strerror or exc})") from None


def _check_depth(text: str, label: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` before composing: PyYAML composes by recursion."""
    import yaml  # noqa: PLC0415 - 15 ms of mle-ci run's start-up (python -X importtime), and most runs have no file

    depth = 0
    # The parser itself keeps its own stack, so the events of any depth are read without recursion.
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else 0
                raise ConfigError(f"{label} line {line}: nested more than {MAX_DEPTH} lists or mappings deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def read_patterns(entry: Entry) -> list[tuple[re.Pattern[str], str]]:
    """The compiled ``regex`` and ``event`` of each item of the ``patterns`` list."""
    import yaml  # noqa: PLC0415 - 15 ms of mle-ci run's start-up (python -X importtime), and most runs have no file

    if not isinstance(entry.node, yaml.SequenceNode):
        raise ConfigError(f"{entry.where}: expected a list of {{regex: ..., event: ...}} mappings")
    return [_pattern(index, item, entry) for index, item in enumerate(entry.node.value)]


def _pattern(index: int, node: yaml.Node, entry: Entry) -> tuple[re.Pattern[str], str]:
    where = f"{entry.label} line {line_of(node)}: {entry.key}[{index}]"
    item = construct(node, where)
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a mapping {{regex: ..., event: ...}}, got {describe(item)}")
    for key in item:
        if key not in ("regex", "event"):
            raise ConfigError(f"{where}: unknown key {key!r}{suggest(str(key), ('regex', 'event'))}")
    regex, event = item.get("regex"), item.get("event")
    if not isinstance(regex, str) or not regex:
        raise ConfigError(f"{where}.regex: expected a regular expression (a string), got {describe(regex)}")
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise ConfigError(f"{where}.regex: does not compile: {exc.msg} at position {exc.pos}") from None
    groups = set(compiled.groupindex)
    allowed = ", ".join(sorted(PATTERN_GROUPS))
    if not groups:
        raise ConfigError(f"{where}.regex: needs a named group such as (?P<score>...); allowed: {allowed}")
    if unknown := sorted(groups - PATTERN_GROUPS):
        raise ConfigError(f"{where}.regex: unknown group name {unknown[0]!r}; allowed: {allowed}")
    if event is None:
        return compiled, _infer_event(groups, where)
    if event not in PATTERN_EVENTS:
        raise ConfigError(f"{where}.event: expected one of {', '.join(PATTERN_EVENTS)}, got {describe(event)}")
    return compiled, event


def _infer_event(groups: set[str], where: str) -> str:
    if {"fold", "score"} <= groups:
        return EventType.FOLD
    if "epoch" in groups:
        return EventType.EPOCH
    if "value" in groups:
        return EventType.METRIC
    raise ConfigError(
        f"{where}: cannot tell the event from the groups; add event: ({', '.join(PATTERN_EVENTS)}) "
        "or name groups fold and score, epoch, or value"
    )


def describe(value: object) -> str:
    """A short description of a value for an error message: a quoted string, a number, or its kind."""
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _problem(exc: yaml.YAMLError) -> str:
    import yaml  # noqa: PLC0415 - 15 ms of mle-ci run's start-up (python -X importtime), and most runs have no file

    if isinstance(exc, yaml.MarkedYAMLError):
        return ": ".join(part for part in (exc.context, exc.problem) if part) or "unreadable"
    return str(exc)
