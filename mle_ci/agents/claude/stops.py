"""What a reply's ``stop_reason`` asks of the conversation: one pure reading, so each reason has one outcome.

The Messages API ends a reply for a reason: ``tool_use`` (run the calls), ``end_turn``/``stop_sequence`` (the
model stopped talking), ``max_tokens`` (cut: a tool call in it may be half-formed), ``refusal`` (reset: the turn
is not kept), ``pause_turn`` (send it again as it stands) and ``model_context_window_exceeded`` (it cannot go on).
"""

from __future__ import annotations

from dataclasses import dataclass

CONTINUE = "Your reply was cut at the max_tokens limit. Continue from where it stopped."
RUN_TOOLS = "run_tools"
TALKED = "talked"
CUT = "cut"
RESEND = "resend"
STOP_REFUSED = "refused"
STOP_FULL = "context_full"
_KNOWN = {"tool_use", "end_turn", "stop_sequence", "max_tokens", "refusal", "pause_turn", None}


@dataclass(frozen=True)
class Reading:
    """What the loop does with a reply, by its ``stop_reason``: ``action`` is one of the names above."""

    action: str
    note: str | None = None


def read_reply(stop_reason: str | None, calls_tools: bool) -> Reading:
    """The one place a reply's ``stop_reason`` is turned into what happens next.

    ``max_tokens``: cut (its tool calls are answered as not run); ``refusal`` and
    ``model_context_window_exceeded``: the conversation ends and the reply is not kept; ``pause_turn``: sent again
    as it stands (its tool calls, if any, are run, as every kept ``tool_use`` needs its result); otherwise tool
    calls are run and a reply without one is nudged, an unknown reason noted.
    """
    if stop_reason == "max_tokens":
        return Reading(CUT)
    if stop_reason == "refusal":
        return Reading(STOP_REFUSED)
    if stop_reason == "model_context_window_exceeded":
        return Reading(STOP_FULL)
    note = None if stop_reason in _KNOWN else f"unknown stop_reason {stop_reason!r}, read as the end of a turn"
    if calls_tools:
        return Reading(RUN_TOOLS, note)
    if stop_reason == "pause_turn":
        return Reading(RESEND)
    return Reading(TALKED, note)


def cut_result(max_tokens: int) -> str:
    """The error result of a tool call in a reply cut at ``max_tokens``: it was not run, and how to go on."""
    return (
        f"Not run: your reply was cut at the max_tokens limit ({max_tokens} output tokens), so this call may be "
        "incomplete. Make smaller steps: write a long file in parts (write_file the first part, then add the "
        "rest with bash, e.g. a heredoc appended with >>), and keep the text around a call short."
    )
