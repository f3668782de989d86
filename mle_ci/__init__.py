"""mle-ci: supervise ML-engineering agents and training jobs in CI, and report them where people look."""

# The one version source: pyproject.toml reads it (setuptools' dynamic version), `mle-ci --version` prints it.
__version__ = "0.1.0"
__all__ = ["__version__"]
