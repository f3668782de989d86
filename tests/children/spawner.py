"""Starts a grandchild that outlives it: ``plain`` (same group), ``setsid`` (own session) or ``double`` fork.

Writes the grandchild's pid to the file named in argv[2]; with ``--exit`` the child exits at once, else it waits.
"""

import os
import subprocess
import sys
import time

mode, pid_file = sys.argv[1], sys.argv[2]
leave = "--exit" in sys.argv
sleep = [sys.executable, "-c", "import time; time.sleep(300)"]
if mode == "plain":
    pid = subprocess.Popen(sleep, stdout=subprocess.DEVNULL).pid
elif mode == "setsid":
    pid = subprocess.Popen(sleep, start_new_session=True, stdout=subprocess.DEVNULL).pid
else:
    read, write = os.pipe()
    first = os.fork()
    if first == 0:
        os.setsid()
        second = os.fork()
        if second == 0:
            os.execv(sys.executable, sleep)
        os.write(write, str(second).encode())
        os._exit(0)
    os.waitpid(first, 0)
    pid = int(os.read(read, 32))
with open(pid_file, "w") as handle:
    handle.write(str(pid))
print(f"spawned {mode} grandchild {pid}", flush=True)
if not leave:
    time.sleep(300)
