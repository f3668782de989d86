"""A local Messages API server for tests: the real anthropic SDK talks to it and it plays a scripted conversation.

It speaks enough of the API for the SDK: ``POST /v1/messages`` with the ``x-api-key`` and ``anthropic-version``
headers, JSON message bodies (``text`` and ``tool_use`` blocks, ``stop_reason``, ``usage`` with the cache fields,
as prompt caching would count them), and error bodies ``{"type": "error", "error": {...}}`` with their status
codes and ``retry-after`` headers. A step can also drop the connection without answering, or wait first.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass(frozen=True)
class Reply:
    """A message the model sends back."""

    content: tuple[dict[str, Any], ...]
    stop_reason: str
    output_tokens: int = 50
    delay: float = 0.0


@dataclass(frozen=True)
class Error:
    """An API error with its status, type and headers (e.g. ``retry-after``)."""

    status: int
    message: str = "scripted error"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Drop:
    """The server closes the connection without an answer (a network failure)."""


Step = Reply | Error | Drop | Callable[[dict[str, Any]], "Reply | Error | Drop"]

_ids = itertools.count(1)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(name: str, /, **arguments: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{next(_ids):04d}", "name": name, "input": arguments}


def reply(*blocks: dict[str, Any], delay: float = 0.0, output_tokens: int = 50) -> Reply:
    """A reply of these blocks; ``stop_reason`` is ``tool_use`` when it calls a tool, else ``end_turn``."""
    calls = any(b["type"] == "tool_use" for b in blocks)
    return Reply(tuple(blocks), "tool_use" if calls else "end_turn", output_tokens=output_tokens, delay=delay)


def rate_limited(after_ms: int = 50) -> Error:
    return Error(
        429, "Number of request tokens has exceeded your per-minute rate limit", (("retry-after-ms", str(after_ms)),)
    )


def overloaded(after_ms: int = 50) -> Error:
    return Error(529, "Overloaded", (("retry-after-ms", str(after_ms)),))


@dataclass
class Received:
    """One request as the server saw it."""

    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def last_user_content(self) -> Any:
        return self.body["messages"][-1]["content"]

    def tool_results(self) -> list[dict[str, Any]]:
        content = self.last_user_content
        return (
            [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if isinstance(content, list)
            else []
        )


@dataclass
class AnthropicServer:
    """Plays ``script`` step by step; once it is used up, ``after`` answers (by default a 400 naming that)."""

    script: Sequence[Step]
    after: Step | None = None
    api_key: str = "sk-ant-api03-test-key-0123456789abcdefghijklmnopqrstuvwxyz"
    received: list[Received] = field(default_factory=list)
    _position: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _next(self, body: dict[str, Any]) -> Reply | Error | Drop:
        with self._lock:
            if self._position >= len(self.script):
                step = self.after or Error(400, f"the scripted conversation has no step {self._position + 1}")
            else:
                step = self.script[self._position]
                self._position += 1
        return step if isinstance(step, Reply | Error | Drop) else step(body)

    @property
    def steps_played(self) -> int:
        return self._position

    def __enter__(self) -> AnthropicServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="anthropic-server", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def _cacheable_tokens(body: dict[str, Any]) -> int:
    """Tokens (about four characters each) up to the last cache breakpoint: the tools, then the system prompt."""
    return len(json.dumps(body.get("tools", []))) // 4 + len(json.dumps(body.get("system", []))) // 4


def _handler(server: AnthropicServer) -> type[BaseHTTPRequestHandler]:
    cached: set[int] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, payload: dict[str, Any], headers: Sequence[tuple[str, str]] = ()) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_{next(_ids):06d}")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
            body = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
            self._send(status, body, headers)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.split("?")[0] != "/v1/messages":
                self._error(404, f"no route {self.path}")
                return
            server.received.append(Received(dict(self.headers.items()), body))
            # The SDK sends the key as x-api-key or (2.x) as a bearer token; the API takes either.
            bearer = self.headers.get("authorization", "").removeprefix("Bearer ")
            if server.api_key not in (self.headers.get("x-api-key"), bearer):
                self._error(401, "invalid x-api-key")
                return
            if not self.headers.get("anthropic-version"):
                self._error(400, "anthropic-version header is required")
                return
            step = server._next(body)
            if isinstance(step, Drop):
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if isinstance(step, Error):
                self._error(step.status, step.message, step.headers)
                return
            time.sleep(step.delay)
            prefix = _cacheable_tokens(body)
            first = prefix not in cached
            cached.add(prefix)
            usage = {
                "input_tokens": 200 + 10 * len(body.get("messages", [])),
                "output_tokens": step.output_tokens,
                "cache_creation_input_tokens": prefix if first else 0,
                "cache_read_input_tokens": 0 if first else prefix,
            }
            message = {
                "id": f"msg_{next(_ids):06d}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": list(step.content),
                "stop_reason": step.stop_reason,
                "stop_sequence": None,
                "usage": usage,
            }
            self._send(200, message)

    return Handler
