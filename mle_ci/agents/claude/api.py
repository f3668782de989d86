"""The one module that talks to the Anthropic SDK, behind :class:`ModelClient`; tests run it against a local server.

Errors become one :class:`ApiFailure` whose ``fatal`` says whether trying again could help and whose
``retry_after`` is the wait the server asked for. The SDK retries nothing itself (``max_retries=0``): it would sleep
whatever time the run has left; :mod:`mle_ci.agents.claude.retries` decides instead, knowing the deadline.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anthropic

from mle_ci.agents.claude.retries import parse_retry_after, should_retry
from mle_ci.errors import MleCiError

try:
    from anthropic._data import DEPRECATED_MODELS
except ImportError:  # an SDK without its deprecation table: every listed model counts as current
    DEPRECATED_MODELS = {}


@dataclass(frozen=True)
class ModelReply:
    """One model response: its content blocks as plain JSON-ready dicts, why it stopped, and its usage."""

    id: str
    content: tuple[dict[str, Any], ...]
    stop_reason: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def tool_uses(self) -> list[dict[str, Any]]:
        return [block for block in self.content if block.get("type") == "tool_use"]

    def text(self) -> str:
        return "\n".join(str(block.get("text", "")) for block in self.content if block.get("type") == "text")


@dataclass(frozen=True)
class ApiFailure(MleCiError):
    """A request that failed; ``fatal`` when the same request can never succeed.

    ``retry_after``: the seconds the server asked to wait before trying again; ``should_retry``: its
    ``x-should-retry`` header, which overrides what the status says (as the SDK honours it); None when not given.
    """

    kind: str
    message: str
    fatal: bool
    status: int | None = field(default=None)
    retry_after: float | None = field(default=None)
    should_retry: bool | None = field(default=None)

    def __str__(self) -> str:
        code = f" (HTTP {self.status})" if self.status else ""
        return f"{self.kind}{code}: {self.message}"


class ModelClient(Protocol):
    """Sends one Messages API request."""

    def send(
        self,
        *,
        system: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        timeout: float,
    ) -> ModelReply: ...

    def close(self) -> None:
        """Release the connections."""


def sdk_models() -> tuple[tuple[str, ...], frozenset[str]]:
    """The model names the installed SDK lists (newest first) and those it flags as deprecated."""
    names: list[str] = []
    for arg in typing.get_args(anthropic.types.Model):
        names.extend(a for a in typing.get_args(arg) if isinstance(a, str))
    return tuple(names), frozenset(DEPRECATED_MODELS)


_FATAL = {
    400: "bad request",
    401: "authentication failed",
    403: "permission denied",
    404: "not found",
    413: "request too large",
}


def _block(block: Any) -> dict[str, Any]:
    kind = getattr(block, "type", "")
    if kind == "text":
        return {"type": "text", "text": block.text}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": dict(block.input or {})}
    dumped: dict[str, Any] = block.model_dump(mode="json", exclude_none=True)
    return dumped


def _error_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return f"{error.get('type', 'error')}: {error['message']}"
    return str(exc.message)


def _failure(exc: anthropic.APIStatusError, now: float) -> ApiFailure:
    """An error response as an :class:`ApiFailure`, with the wait and the retry advice its headers give."""
    status = exc.status_code
    fatal_kind = _FATAL.get(status)
    kind = fatal_kind or ("overloaded" if status == 529 else "rate limited" if status == 429 else "server error")
    headers = dict(exc.response.headers.items())
    return ApiFailure(
        kind,
        _error_message(exc),
        fatal=fatal_kind is not None,
        status=status,
        retry_after=parse_retry_after(headers, now),
        should_retry=should_retry(headers),
    )


class AnthropicClient:
    """The real SDK client with a timeout configured once and no retries of its own; one ``messages.create`` a call.

    Retrying is the conversation's (:mod:`mle_ci.agents.claude.retries`), which waits only as long as the run's time
    allows.
    """

    def __init__(self, *, api_key: str, model: str, base_url: str | None, timeout: float) -> None:
        self.model = model
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def send(
        self,
        *,
        system: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        timeout: float,
    ) -> ModelReply:
        try:
            message = self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                system=typing.cast(Any, list(system)),
                tools=typing.cast(Any, list(tools)),
                messages=typing.cast(Any, list(messages)),
                timeout=timeout,
            )
        except anthropic.APIStatusError as exc:
            raise _failure(exc, time.time()) from None
        except anthropic.APITimeoutError:
            raise ApiFailure("timeout", "the API did not answer in time", fatal=False) from None
        except anthropic.APIConnectionError as exc:
            raise ApiFailure("connection failed", str(exc.__cause__ or exc), fatal=False) from None
        except anthropic.APIResponseValidationError as exc:
            raise ApiFailure("invalid response", str(exc), fatal=False) from None
        usage = message.usage
        return ModelReply(
            id=message.id,
            content=tuple(_block(b) for b in message.content),
            stop_reason=message.stop_reason,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
        )
