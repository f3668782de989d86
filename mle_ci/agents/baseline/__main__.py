"""``python -m mle_ci.agents.baseline``: run the baseline agent."""

from __future__ import annotations

from mle_ci.agents.baseline.deadline import StopSignal

# Before torch is imported (seconds): a SIGTERM during the import must not kill the agent outright.
_stop = StopSignal()
_stop.install()

from mle_ci.agents.baseline.agent import main  # noqa: E402

raise SystemExit(main(stop=_stop))
