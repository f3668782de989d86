"""What the supervised child may see: the harness's environment less credentials, plus the run's contract."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import PurePath

from mle_ci import contract
from mle_ci.redaction import HARNESS_ONLY, harness_only

JOURNAL_FILE = "journal.jsonl"
"""The name of the search journal's file, beside the events file."""


def child_environment(
    base: Mapping[str, str],
    *,
    events: str,
    deadline_unix: float | None,
    time_limit: float | None,
    extra: Mapping[str, str],
    keep: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
) -> dict[str, str]:
    """The child's environment: the harness's, less credentials, inputs and the runner's files, plus the contract.

    ``drop`` names more variables this child must not inherit (an API key it was not meant to have); ``extra``
    is set last, so a credential the child needs arrives there. The journal (``MLE_CI_JOURNAL``) is
    ``journal.jsonl`` beside ``events``.
    """
    env = {
        name: value
        for name, value in base.items()
        if name not in drop and name not in HARNESS_ONLY and (name in keep or not harness_only(name))
    }
    # Variables of an outer harness must not leak into this run's child (nor an outer search's node tag).
    for name in (contract.EVENTS, contract.DEADLINE, contract.TIME_LIMIT, contract.NODE, contract.JOURNAL):
        env.pop(name, None)
    env[contract.EVENTS] = events
    # An agent that searches keeps its journal of nodes next to the events, in the run's output folder.
    env[contract.JOURNAL] = str(PurePath(events).with_name(JOURNAL_FILE))
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TQDM_MININTERVAL", "10")
    # A Python child that dies of a signal (segfault, abort) prints where: the crash site for the reports.
    env.setdefault("PYTHONFAULTHANDLER", "1")
    if deadline_unix is not None:
        env[contract.DEADLINE] = f"{deadline_unix:.3f}"
    if time_limit is not None:
        env[contract.TIME_LIMIT] = str(math.floor(time_limit))
    env.update(extra)
    return env
