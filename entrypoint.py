"""The action image's entry point: the runner's inputs, the same run as ``mle-ci run`` (mle_ci.action.entrypoint)."""

from mle_ci.action.entrypoint import process_main

if __name__ == "__main__":
    raise SystemExit(process_main())
