"""``transcript.jsonl``: every request, response and tool result, appended as it happens, secrets redacted."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TRANSCRIPT_VERSION = 1
KINDS = ("request", "response", "tool_result", "error", "note")
MASK = "[REDACTED]"
SECRET_NAME = re.compile(r"(?:_|^)(?:KEY|TOKEN|SECRET|PASSWORD)$|^(?:ANTHROPIC_API_KEY|GITHUB_TOKEN|GH_TOKEN)$", re.I)
SECRET_PATTERNS = (
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
)
MIN_SECRET = 8
"""Shorter values of secret-named variables are not masked: masking "1" or "true" would garble every line."""


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Values of the variables whose names say they hold a secret (``*_KEY``, ``*_TOKEN``, ``*_SECRET``)."""
    found = {value.strip() for name, value in environ.items() if SECRET_NAME.search(name)}
    return tuple(sorted((v for v in found if len(v) >= MIN_SECRET), key=len, reverse=True))


def secret_names(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Names of the variables that hold secrets: these never reach a command the agent runs."""
    return tuple(name for name in environ if SECRET_NAME.search(name))


class Redactor:
    """Replaces known secret values and secret-looking patterns with a mask, in text and in nested JSON."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True))

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, MASK)
        for pattern in SECRET_PATTERNS:
            value = pattern.sub(MASK, value)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {str(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


class Transcript:
    """Appends one redacted JSON object a line; a failing disk never stops the agent (it is said once)."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = path
        self._redactor = redactor
        self._lock = threading.Lock()
        self._failed = False

    def write(self, kind: str, turn: int, **content: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown transcript kind {kind!r}")
        record = {"v": TRANSCRIPT_VERSION, "ts": round(time.time(), 3), "turn": turn, "kind": kind}
        record.update(self._redactor.data(content))
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line.encode("utf-8"))
                finally:
                    os.close(fd)
            except OSError as exc:
                if not self._failed:
                    self._failed = True
                    print(f"claude agent: cannot write the transcript {self.path}: {exc}", flush=True)
