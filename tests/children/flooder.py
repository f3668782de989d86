"""Prints without pause, forever: the harness must still keep its deadline."""

import sys

line = "flooding " + "x" * 200 + "\n"
while True:
    sys.stdout.write(line)
