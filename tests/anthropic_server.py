"""A local Messages API server for tests: the real anthropic SDK talks to it and it plays a scripted conversation.

It speaks enough of the API for the SDK: ``POST /v1/messages`` with the ``x-api-key`` and ``anthropic-version``
headers, JSON message bodies (``text`` and ``tool_use`` blocks, every ``stop_reason``, ``usage`` with the cache
fields counted as prompt caching counts them), and error bodies ``{"type": "error", "error": {...}}`` with their
status codes and ``retry-after`` headers. A step can also drop the connection without answering, or wait first.
As the real API, it refuses (400) a conversation whose ``tool_use`` blocks are not answered by ``tool_result``
blocks at the start of the next user message, and keeps each such refusal in ``pairing_errors``.
"""

from __future__ import annotations

import hashlib
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


def cut_off(*blocks: dict[str, Any], output_tokens: int = 8192) -> Reply:
    """A reply cut at ``max_tokens``: its last ``tool_use`` (if any) loses its last argument, as a cut call would."""
    cut = list(blocks)
    for i in range(len(cut) - 1, -1, -1):
        if cut[i]["type"] == "tool_use":
            arguments = dict(cut[i]["input"])
            if arguments:
                arguments.pop(list(arguments)[-1])
            cut[i] = {**cut[i], "input": arguments}
            break
    return Reply(tuple(cut), "max_tokens", output_tokens=output_tokens)


def refused(value: str = "I can't help with that.", *blocks: dict[str, Any]) -> Reply:
    """A refusal (``stop_reason: refusal``): its text, and any blocks written before the model stopped."""
    return Reply((*blocks, text(value)), "refusal")


def paused(*blocks: dict[str, Any]) -> Reply:
    """A long turn the API paused (``pause_turn``): the client sends it back as it stands to let it go on."""
    return Reply(tuple(blocks), "pause_turn")


def context_full(*blocks: dict[str, Any]) -> Reply:
    """A reply stopped because the conversation filled the context window."""
    return Reply(tuple(blocks), "model_context_window_exceeded")


def _waits(after_s: float | None, after_ms: int | None) -> tuple[tuple[str, str], ...]:
    if after_s is not None:
        return (("retry-after", f"{after_s:g}"),)
    return (("retry-after-ms", str(50 if after_ms is None else after_ms)),)


def rate_limited(after_ms: int | None = None, *, after_s: float | None = None) -> Error:
    """A 429 asking to wait ``after_s`` seconds (``retry-after``), else ``after_ms`` (``retry-after-ms``, 50)."""
    message = "Number of request tokens has exceeded your per-minute rate limit"
    return Error(429, message, _waits(after_s, after_ms))


def overloaded(after_ms: int | None = None, *, after_s: float | None = None) -> Error:
    """A 529 asking to wait ``after_s`` seconds (``retry-after``), else ``after_ms`` (``retry-after-ms``, 50)."""
    return Error(529, "Overloaded", _waits(after_s, after_ms))


def pairing_error(messages: Sequence[dict[str, Any]]) -> str | None:
    """What the API says of messages whose tool calls and results do not pair, or None when they do.

    Each assistant message's ``tool_use`` ids must be answered by ``tool_result`` blocks at the start of the very
    next user message, and a ``tool_result`` must answer a ``tool_use`` of the message before it.
    """
    for index, message in enumerate(messages):
        content = message.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        if message.get("role") == "user":
            previous = messages[index - 1].get("content") if index else None
            asked = {b.get("id") for b in previous if isinstance(b, dict)} if isinstance(previous, list) else set()
            for position, block in enumerate(blocks):
                if block.get("type") == "tool_result" and block.get("tool_use_id") not in asked:
                    return (
                        f"messages.{index}.content.{position}: unexpected `tool_use_id` found in `tool_result` "
                        f"blocks: {block.get('tool_use_id')}. Each `tool_result` block must have a corresponding "
                        "`tool_use` block in the previous message."
                    )
            continue
        ids = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
        if not ids:
            continue
        following = messages[index + 1] if index + 1 < len(messages) else {}
        after = following.get("content") if following.get("role") == "user" else None
        leading: set[Any] = set()
        for block in after if isinstance(after, list) else []:
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                break
            leading.add(block.get("tool_use_id"))
        missing = [i for i in ids if i not in leading]
        if missing:
            return (
                f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(str(i) for i in missing)}. Each `tool_use` block must have a corresponding "
                "`tool_result` block in the next message."
            )
    return None


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's blocks in the order the cache sees them: tools, system, then each message's content."""
    system = body.get("system") or []
    out = [{"tool": t} for t in body.get("tools") or []]
    out += [{"system": b} for b in ([{"type": "text", "text": system}] if isinstance(system, str) else system)]
    for message in body.get("messages") or []:
        content = message.get("content")
        for block in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            out.append({message.get("role", "?"): block})
    return out


def _marked(entry: dict[str, Any]) -> bool:
    return any(isinstance(v, dict) and "cache_control" in v for v in entry.values())


def _plain(entry: dict[str, Any]) -> str:
    return json.dumps(
        {k: {f: x for f, x in v.items() if f != "cache_control"} for k, v in entry.items()}, sort_keys=True
    )


@dataclass
class PromptCache:
    """Prompt caching as the API counts it, with about four characters a token.

    A ``cache_control`` breakpoint on a tool, system block or message block makes the prefix up to it (tools,
    then system, then messages) cacheable. A request reads the longest prefix an earlier request wrote at one of
    its breakpoints, creates the rest up to its own last breakpoint, and pays ``input_tokens`` for what follows;
    without any breakpoint it reads and writes nothing.
    """

    written: set[str] = field(default_factory=set)

    def count(self, body: dict[str, Any]) -> dict[str, int]:
        entries = _blocks(body)
        sizes = [len(_plain(e)) // 4 for e in entries]
        total = sum(sizes)
        marks = [i for i, e in enumerate(entries) if _marked(e)]
        if not marks:
            return {"input_tokens": total, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        digests, digest = [], hashlib.sha256()
        for entry in entries:
            digest.update(_plain(entry).encode() + b"\0")
            digests.append(digest.hexdigest())
        read_to = max((i + 1 for i in range(marks[-1] + 1) if digests[i] in self.written), default=0)
        self.written.update(digests[i] for i in marks)
        read = sum(sizes[:read_to])
        created = sum(sizes[read_to : marks[-1] + 1])
        return {
            "input_tokens": total - read - created,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
        }


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
    pairing_errors: list[str] = field(default_factory=list)
    """Each request refused because a ``tool_use`` and its ``tool_result`` were not paired, in the API's words."""
    cache: PromptCache = field(default_factory=PromptCache)
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


def _handler(server: AnthropicServer) -> type[BaseHTTPRequestHandler]:
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
            unpaired = pairing_error(body.get("messages") or [])
            if unpaired is not None:
                server.pairing_errors.append(unpaired)
                self._error(400, unpaired)
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
            with server._lock:
                usage = {**server.cache.count(body), "output_tokens": step.output_tokens}
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
