"""A fold worker's process (``python -m mle_ci.agents.baseline.worker``): :func:`parallel.worker_main`.

Its own module, so that the messages' classes live in :mod:`mle_ci.agents.baseline.parallel` under that name in
the worker as in the agent, and unpickle as the same classes on both sides.
"""

from __future__ import annotations

import os

from mle_ci.agents.baseline.parallel import worker_main

if __name__ == "__main__":
    raise SystemExit(worker_main(os.environ))
