"""The contract between the harness and the children it runs, each rule written once: exit codes, the variables a
child is given, and the types of the progress events it reports.

The harness (:mod:`mle_ci.childenv`, :mod:`mle_ci.stages.plan`, :mod:`mle_ci.events`, :mod:`mle_ci.stages.judge`)
and the children's side (:mod:`mle_ci.progress`, the built-in agents) import these names and never write the values
themselves. The agents import nothing else of the harness but this, the progress API and the shared metrics and
secret policy (the import contract in ``pyproject.toml`` says so). Metric names and directions are
:mod:`mle_ci.metrics`'s.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ExitCode(IntEnum):
    """Exit codes of every ``mle-ci`` command and of the built-in agents, as documented in docs/cli.md."""

    OK = 0
    FAILED = 1
    USAGE = 2
    GPU_UNAVAILABLE = 3
    TIMEOUT = 124
    """The time budget ran out (as GNU ``timeout``): the harness's deadline, or an agent's own budget rule."""
    INTERRUPTED = 130


class EventType(StrEnum):
    """The ``type`` of each progress event in ``events.jsonl``."""

    EPOCH = "epoch"
    FOLD_START = "fold_start"
    FOLD = "fold"
    METRIC = "metric"
    CHECKPOINT = "checkpoint"
    EARLY_STOP = "early_stop"
    SUBMISSION = "submission"
    MESSAGE = "message"
    USAGE = "usage"
    NODE = "node"
    """A solution node of an agent's search: what it tried, its score, and whether its submission is handed in."""


class NodeKind(StrEnum):
    """Why a node of an agent's search was made."""

    DRAFT = "draft"
    DEBUG = "debug"
    IMPROVE = "improve"


class NodeStatus(StrEnum):
    """Where a node of an agent's search stands."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    """Its run ended with a valid submission."""
    FAILED = "failed"
    """Its run crashed, reported nothing, or left no valid submission."""
    TIMED_OUT = "timed_out"
    """It was stopped because its time was up."""


MAX_FOLDS = 1000
"""The highest fold number or fold count a run takes, from events, output lines or ``--folds``: no cross-validation
has more, and every report lists each fold (a child claiming 100,000 made rendering them take seconds after a
cancel)."""

# --- what every child is given ---------------------------------------------------------------------------------

EVENTS = "MLE_CI_EVENTS"
"""The events file the child appends its progress to (``mle_ci.progress`` does it)."""
DEADLINE = "MLE_CI_DEADLINE"
"""Unix time by which the child should have finished, when the run has a timeout."""
TIME_LIMIT = "TIME_LIMIT_SECS"
"""Whole seconds of the run's timeout, under the name MLE-bench's agents read."""
LOGS_DIR = "LOGS_DIR"
"""Where the child keeps its logs and checkpoints (the run's output folder's ``logs``)."""
SEED = "MLE_CI_SEED"
"""The seed the user set for the child, recorded in the result."""
NODE = "MLE_CI_NODE"
"""The id of the agent's search node a command runs for; :mod:`mle_ci.progress` tags every event with it."""
JOURNAL = "MLE_CI_JOURNAL"
"""Where an agent that searches keeps its journal of nodes (``journal.jsonl`` in the run's output folder)."""
RUN_MARK = "MLE_CI_RUN_MARK"
"""A random value per run that each process of the run carries, by which the run's guard finds them."""

# --- the hardware plan (mle_ci.hardware.model.Plan.to_env) --------------------------------------------------------

DEVICE = "MLE_CI_DEVICE"
GPU_COUNT = "MLE_CI_GPU_COUNT"
BATCH_SIZE = "MLE_CI_BATCH_SIZE"
AMP = "MLE_CI_AMP"
NUM_WORKERS = "MLE_CI_NUM_WORKERS"

# --- a competition's run -----------------------------------------------------------------------------------------

DATA_DIR = "MLE_CI_DATA_DIR"
"""The competition's public folder."""
SUBMISSION_DIR = "SUBMISSION_DIR"
"""Where the child writes ``submission.csv`` (MLE-bench's name)."""
COMPETITION_ID = "COMPETITION_ID"
METRIC = "MLE_CI_METRIC"
HIGHER_IS_BETTER = "MLE_CI_HIGHER_IS_BETTER"
FOLDS = "MLE_CI_FOLDS"

# --- the claude agent ----------------------------------------------------------------------------------------------

MODEL = "MLE_CI_MODEL"
MAX_TURNS = "MLE_CI_MAX_TURNS"
MAX_COST_USD = "MLE_CI_MAX_COST_USD"
API_RESERVE_SECS = "MLE_CI_API_RESERVE_SECS"
FALLBACK_MIN_SECS = "MLE_CI_FALLBACK_MIN_SECS"
PRICES = "MLE_CI_PRICES"
