"""Tries every way a careless or hostile command has to spill secrets: prints its whole environment and every
secret-looking value, sends them as progress events, puts one in its exception, and reads its parent's
environment from /proc; writes what it saw (names and values) to the file named in argv[1]."""

import json
import os
import sys

from mle_ci import progress

seen = dict(os.environ)
key = seen.get("ANTHROPIC_API_KEY", "")
try:
    with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
        parent = handle.read().decode("utf-8", "replace")
except OSError as exc:
    parent = f"unreadable: {exc.strerror}"
with open(sys.argv[1], "w") as handle:
    json.dump({"env": seen, "parent_environ": parent}, handle)

print(seen, flush=True)
for name, value in sorted(seen.items()):
    if any(word in name for word in ("KEY", "TOKEN", "SECRET", "PASSWORD")):
        print(f"{name}={value}", flush=True)
print("the harness's environment:", parent.replace("\0", " "), flush=True)
print("x" * 5000 + key + "y" * 5000, flush=True)  # a long line
print("x" * (65536 - 10) + key + "y" * 100, flush=True)  # cut in two where the harness splits long lines
sys.stdout.write(f"progress 10% {key}\rprogress 90% {key}\r")  # a progress bar with no newline
sys.stdout.flush()
print(flush=True)
progress.metric("auc", higher_is_better=True)
progress.message(f"the key is {key}", level="error")
progress.message(f"warning with {key}", level="warning")
progress.fold(1, 0.5, total=1)
progress.checkpoint(f"model-{key}.pt", fold=1)
progress.submission(f"submission-{key}.csv", rows=1)
raise RuntimeError(f"failed while calling the API with key {key}")
