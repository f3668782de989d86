"""Prints one line, then stays silent for the given seconds."""

import sys
import time

print("sleeper: going quiet", flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 30)
print("sleeper: awake", flush=True)
