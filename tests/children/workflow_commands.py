"""Prints workflow commands that must NOT be obeyed, and a secret that must not reach any report."""

import os

print("::error file=evil.py,line=1::injected error")
print("::add-mask::hide-everything")
print("::set-output name=status::success")
print("::stop-commands::guess")
print("::warning::after a guessed stop token")
print(f"leaking {os.environ.get('ANTHROPIC_API_KEY', 'none')}")
raise SystemExit(3)
