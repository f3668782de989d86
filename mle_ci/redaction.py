"""The one secret policy: which variables hold secrets, which shapes are secrets wherever they turn up, every form a
secret value can take in a report, and the redactor every sink uses.

A variable holds a secret when its name says so (``*KEY*``, ``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``/``*PASSWD*``,
``*CREDENTIAL*``, ``PAT`` as a word) or when it is one of the runner's own (the workflow's credentials and service
URLs, the paths of the runner's file commands): none of those values is ever shown. Text shaped like a known kind
of credential (Anthropic, GitHub, AWS, Hugging Face and Slack tokens, a password in a URL) is hidden whether or not
any variable holds it. A secret value is looked for as written, line by line (a multi-line value reaches a log one
line at a time), JSON-escaped (events, result.json) and CSV-quoted or split at its commas (a submission, a table).

Every sink takes a :class:`Redactor` made here: the console, ``add-mask``, log.txt, events.jsonl, result.json,
summary.md, junit.xml, annotations, outputs, the claude agent's transcript and its tool results. The same rules
decide what a child inherits (:func:`harness_only`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from mle_ci.runnerfiles import FILE_COMMANDS, RUNNER_ONLY

__all__ = [
    "MIN_SECRET",
    "REDACTED",
    "RUNNER_FILE_COMMANDS",
    "WORKFLOW_SECRETS",
    "Redactor",
    "find_key",
    "harness_only",
    "is_secret_name",
    "secret_forms",
    "secret_names",
    "secret_values",
]

REDACTED = "***"
"""What a secret becomes, in every sink (GitHub's own mask looks the same)."""

MIN_SECRET = 8
"""Shorter values of secret-named variables are not hidden: hiding "1" or "true" would garble every line."""

WORKFLOW_SECRETS = frozenset(
    {
        "GITHUB_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_RUNTIME_URL",
        "ACTIONS_RESULTS_URL",
        "ACTIONS_CACHE_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
    }
)
"""The workflow's credentials and the service URLs that go with them: no child needs them, no report shows them."""

RUNNER_FILE_COMMANDS = frozenset(FILE_COMMANDS)
"""Files through which a step talks to the runner: only the harness writes them, and their paths are not shown."""

HARNESS_ONLY_PREFIXES = ("INPUT_", "ACTIONS_ID_TOKEN_REQUEST_")
HARNESS_ONLY = frozenset({"MLE_CI_ANTHROPIC_API_KEY"})
"""The harness's own settings (action inputs) and credentials: a child that needs the key gets it under the SDK's
name."""

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|(?:^|_)PAT(?:_|$)", re.IGNORECASE)

# Credentials by their shape. Each starts with a mark, looked for first: most lines hold none (one cheap search).
_SHAPES = (
    r"sk-ant-[A-Za-z0-9_\-]{8,}",  # Anthropic
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",  # GitHub fine-grained tokens
    r"\bAKIA[0-9A-Z]{16}\b",  # AWS access key ids
    r"\bhf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
)
_MARKS = r"sk-ant-|gh[pousr]_|github_pat_|AKIA|hf_|xox|://"
# user:password@ after a URL scheme: the password (and the user) hidden, the host kept.
_URL_CREDENTIALS = r"(?<=://)[^\s/:@'\"<>]+:[^\s/@'\"<>]+(?=@)"
_SHAPE_TEXT = re.compile("|".join((*_SHAPES, _URL_CREDENTIALS)))
_SHAPE_BYTES = re.compile(_SHAPE_TEXT.pattern.encode("ascii"))
_MARK_TEXT = re.compile(_MARKS)
_MARK_BYTES = re.compile(_MARKS.encode("ascii"))
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Characters that quoting or escaping may change (JSON, repr, CSV, a shell's quotes, an inert console line) or
# that split a value into cells: the runs between them appear verbatim in every such form.
_CELL_BREAK = re.compile("[\"'\\\\\\s,;:`\x00-\x1f\x7f\x85\u2028\u2029]")

SHAPE_HOLD = 256
"""Bytes of a cut line held back for the next piece, so a token cut in two is still seen whole."""


def is_secret_name(name: str) -> bool:
    """Whether a variable of this name holds a secret: by its name, or as one of the runner's own."""
    upper = name.upper()
    return upper in WORKFLOW_SECRETS or upper in RUNNER_FILE_COMMANDS or _SECRET_NAME.search(name) is not None


def harness_only(name: str) -> bool:
    """Whether only the harness may hold this variable: the runner's credentials, file commands and the folder they
    live in, the action's inputs and the harness's own key. A child's environment never has them."""
    return (
        name in WORKFLOW_SECRETS
        or name in RUNNER_ONLY
        or name in HARNESS_ONLY
        or name.startswith(HARNESS_ONLY_PREFIXES)
    )


def secret_names(env: Mapping[str, str]) -> tuple[str, ...]:
    """The names in ``env`` that hold secrets."""
    return tuple(name for name in env if is_secret_name(name))


def secret_forms(value: str) -> tuple[str, ...]:
    """Every form of a secret value that a sink may hold: as written, each line of it, JSON-escaped, CSV-quoted,
    and each run of it between characters that quoting or escaping changes (quotes, backslashes, blanks, commas,
    colons, controls), which appears verbatim in a repr, a shell's quoting or a table cell; only those of at least
    :data:`MIN_SECRET` characters."""
    forms = {value, value.strip(), value.replace('"', '""')}
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    for line in _LINE_BREAK.split(value):
        forms.update((line, line.replace('"', '""'), json.dumps(line)[1:-1]))
        forms.update(_CELL_BREAK.split(line))
    return tuple(sorted((f for f in forms if len(f.strip()) >= MIN_SECRET), key=len, reverse=True))


def secret_values(env: Mapping[str, str], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Every form (:func:`secret_forms`) of the secret values in ``env`` and of ``extra`` (a key from a config
    file), longest first."""
    found: set[str] = set()
    for value in (*(v for name, v in env.items() if is_secret_name(name)), *extra):
        if value:
            found.update(secret_forms(value))
    return tuple(sorted(found, key=len, reverse=True))


def find_key(text: str) -> re.Match[str] | None:
    """The first thing in ``text`` shaped like a credential, or None."""
    if _MARK_TEXT.search(text) is None:
        return None
    return _SHAPE_TEXT.search(text)


class Redactor:
    """Replaces known secret values (every form of them) and credential-shaped text with ``***``, in text, bytes
    and nested JSON data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({form for s in secrets if s for form in secret_forms(s)}, key=len, reverse=True)
        self._texts = tuple(values)
        self._bytes = tuple(v.encode("utf-8") for v in values)

    @classmethod
    def from_env(cls, env: Mapping[str, str], extra: Iterable[str] = ()) -> Redactor:
        """The redactor of the secrets in ``env`` and of ``extra``."""
        return cls(secret_values(env, extra))

    def __bool__(self) -> bool:
        return True  # a credential nobody declared can still turn up: there is always something to look for

    @property
    def values(self) -> tuple[str, ...]:
        """The secret values looked for, every form, longest first."""
        return self._texts

    @property
    def longest(self) -> int:
        """Bytes a cut line must keep back for the next piece: the longest value, or a token's length."""
        return max(len(self._bytes[0]) if self._bytes else 0, SHAPE_HOLD)

    def finds(self, data: bytes) -> bool:
        """Whether ``data`` may hold something to hide: a known value, or the mark a credential shape starts with.
        One call over many lines costs far less than one per line."""
        return any(secret in data for secret in self._bytes) or _MARK_BYTES.search(data) is not None

    def text(self, text: str) -> str:
        for secret in self._texts:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if _MARK_TEXT.search(text) is not None:
            text = _SHAPE_TEXT.sub(REDACTED, text)
        return text

    def bytes(self, data: bytes) -> bytes:
        for secret in self._bytes:
            if secret in data:
                data = data.replace(secret, REDACTED.encode("ascii"))
        if _MARK_BYTES.search(data) is not None:
            data = _SHAPE_BYTES.sub(REDACTED.encode("ascii"), data)
        return data

    def data(self, value: Any) -> Any:
        """``value`` (JSON-like: strings, mappings, lists) with every string redacted, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
