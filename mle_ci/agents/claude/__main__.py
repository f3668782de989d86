"""``python -m mle_ci.agents.claude``: run the claude agent."""

from __future__ import annotations

import sys

try:
    from mle_ci.agents.claude.agent import main
except ModuleNotFoundError as exc:
    if exc.name != "anthropic":
        raise
    print("Error: the claude agent needs the anthropic SDK: pip install 'mle-gpu-agent[claude]'", file=sys.stderr)
    raise SystemExit(2) from None

raise SystemExit(main())
