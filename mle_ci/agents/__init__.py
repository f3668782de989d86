"""Built-in agents: programs the harness runs as child processes, never imports (``python -m mle_ci.agents.X``)."""
