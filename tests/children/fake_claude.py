"""Stands in for `python -m mle_ci.agents.claude`: usage, a fallback submission, a transcript, and a leaked key.

It does what the harness expects of the claude agent without calling any model: reports cumulative usage
twice (the harness keeps the last), writes transcript.jsonl, copies the sample submission as the baseline
fallback would, and lets its API key slip into its output, a message event and the transcript, as a careless
agent might. It records which model variables it was given in env.json (names and values, key excluded).
"""

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from mle_ci import progress

key = os.environ.get("ANTHROPIC_API_KEY", "")
logs = Path(os.environ["LOGS_DIR"])
submission_dir = Path(os.environ["SUBMISSION_DIR"])
data = Path(os.environ["MLE_CI_DATA_DIR"])

seen = {name: value for name, value in os.environ.items() if name.startswith("MLE_CI_") or "ANTHROPIC" in name}
seen.pop("ANTHROPIC_API_KEY", None)
matches = hashlib.sha256(key.encode()).hexdigest() == os.environ.get("FAKE_EXPECTED_SHA")
report = {"has_key": bool(key), "key_matches": matches, "vars": seen}
(logs / "env.json").write_text(json.dumps(report, indent=1))

print(f"calling the model with key {key}")
print(f"the key again, cut: {key[:20]}")
progress.message(f"authorised as {key}", level="warning")
progress.usage("claude-sonnet-4-5", requests=1, input_tokens=1200, output_tokens=300, cache_creation_input_tokens=4000)
with (logs / "transcript.jsonl").open("w", encoding="utf-8") as transcript:
    # The agent's record shape (v, ts, turn, kind, ...), with the key where a careless agent might let it be.
    for record in (
        {"v": 1, "ts": 1.0, "turn": 1, "kind": "request", "content": f"the task; key {key}"},
        {
            "v": 1,
            "ts": 2.0,
            "turn": 1,
            "kind": "response",
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.02},
            "content": [
                {"type": "text", "text": "Let me look at the data."},
                {"type": "tool_use", "name": "bash", "input": {"command": "env | grep ANTHROPIC"}},
            ],
        },
        {"v": 1, "ts": 3.0, "turn": 1, "kind": "tool_result", "tool": "bash", "text": f"ANTHROPIC_API_KEY={key}"},
    ):
        transcript.write(json.dumps(record) + "\n")
    transcript.write('{"v": 1, "ts": 4.0, "turn": 2, "kind": "resp')  # torn last line: killed mid-write
progress.usage(
    "claude-sonnet-4-5",
    requests=3,
    input_tokens=5210,
    output_tokens=1100,
    cache_creation_input_tokens=4000,
    cache_read_input_tokens=12000,
    cost_usd=0.0512,
)
target = submission_dir / "submission.csv"
shutil.copyfile(data / "sample_submission.csv", target)
progress.submission(str(target), producer="baseline")
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
