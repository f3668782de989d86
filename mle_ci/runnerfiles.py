"""The runner's file commands: the variables that name them, in one list for every place that needs it.

The runner reads what a step left in these files when the step ends: environment variables and PATH entries for
later steps, step outputs, state, the job summary. Only the harness may write them, so the child's environment,
the action's container and the watch over the files all take their names from here.
"""

from __future__ import annotations

__all__ = ["FILE_COMMANDS", "RELAYED", "RUNNER_ONLY", "RUNNER_TEMP"]

FILE_COMMANDS = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY")
"""Files through which a step talks to the runner."""

RELAYED = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
"""The two the harness writes (outputs and summary); in the action they reach the runner through a relay."""

RUNNER_TEMP = "RUNNER_TEMP"
"""The runner's temporary folder, where it keeps the file-command files (``_runner_file_commands``)."""

RUNNER_ONLY = (*FILE_COMMANDS, RUNNER_TEMP)
"""What a child never learns: the file-command paths and the folder they live in."""
