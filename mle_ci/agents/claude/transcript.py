"""``transcript.jsonl``: every request, response and tool result, appended as it happens, secrets redacted."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from mle_ci.redaction import Redactor

TRANSCRIPT_VERSION = 1
KINDS = ("request", "response", "tool_result", "error", "note")


class Transcript:
    """Appends one redacted JSON object a line; a failing disk never stops the agent (it is said once)."""

    def __init__(
        self, path: Path, redactor: Redactor, *, node: int | None = None, lock: threading.Lock | None = None
    ) -> None:
        self.path = path
        self._redactor = redactor
        self._lock = lock or threading.Lock()
        self._failed = False
        self.node = node
        """The search node whose records these are (each carries it), or None for the run's own."""

    def tagged(self, node: int) -> Transcript:
        """The same transcript as one search node writes it: every record carries ``node``."""
        return Transcript(self.path, self._redactor, node=node, lock=self._lock)

    def write(self, kind: str, turn: int, **content: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown transcript kind {kind!r}")
        record: dict[str, Any] = {"v": TRANSCRIPT_VERSION, "ts": round(time.time(), 3), "turn": turn, "kind": kind}
        if self.node is not None:
            record["node"] = self.node
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
