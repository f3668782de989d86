"""Writes invalid UTF-8, a 2 MiB line without spaces, a line without newline at the end."""

import sys

out = sys.stdout.buffer
out.write(b"valid line\n")
out.write(b"invalid \xff\xfe utf-8 \xc3\x28 here\n")
out.write(b"x" * (2 * 1024 * 1024) + b"\n")
out.write(b"Fold 1/2 complete: Score=0.5\n")
out.write(b"no newline at the end")
out.flush()
