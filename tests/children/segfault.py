"""Prints a line and dies of SIGSEGV, as a native extension would."""

import ctypes

print("about to crash in native code", flush=True)
ctypes.string_at(0)
