"""Writes the names of its environment variables (and whether any Anthropic credential is there) to env.json."""

import json
import os
from pathlib import Path

names = sorted(os.environ)
credentials = [name for name in names if "ANTHROPIC" in name and name != "ANTHROPIC_BASE_URL"]
planted = os.environ.get("FAKE_PLANTED", "")
leaked = [name for name, value in os.environ.items() if planted and planted in value and name != "FAKE_PLANTED"]
report = {"names": names, "credentials": credentials, "leaked": leaked}
(Path(os.environ["LOGS_DIR"]) / "env.json").write_text(json.dumps(report, indent=1))
