"""The agent's settings, read once from its command line and environment (a flag beats its variable)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mle_ci import contract
from mle_ci.errors import ConfigError

AMP_MODES = ("bf16", "fp16", "off")


class OptionsError(ConfigError):
    """A flag or variable has a value the agent cannot use."""


@dataclass(frozen=True)
class AgentOptions:
    """Where the data is and the submission goes, what to optimise, the training plan and the schedule."""

    data_dir: Path
    submission_dir: Path
    competition: str | None = None
    metric: str | None = None
    higher_is_better: bool | None = None
    device: str | None = None
    gpu_count: int | None = None
    batch_size: int | None = None
    amp: str | None = None
    num_workers: int | None = None
    folds: int = 5
    seed: int = 0
    patience: int = 3
    max_epochs: int | None = None
    checkpoint_dir: Path | None = None
    margin: float = 10.0

    @property
    def submission_path(self) -> Path:
        return self.submission_dir / "submission.csv"


# (flag, variable, type): the flag's value wins; the variable is read only when the flag is absent.
_FIELDS: tuple[tuple[str, str, type], ...] = (
    ("data_dir", contract.DATA_DIR, Path),
    ("submission_dir", contract.SUBMISSION_DIR, Path),
    ("competition", contract.COMPETITION_ID, str),
    ("metric", contract.METRIC, str),
    ("higher_is_better", contract.HIGHER_IS_BETTER, bool),
    ("device", contract.DEVICE, str),
    ("gpu_count", contract.GPU_COUNT, int),
    ("batch_size", contract.BATCH_SIZE, int),
    ("amp", contract.AMP, str),
    ("num_workers", contract.NUM_WORKERS, int),
    ("folds", contract.FOLDS, int),
    ("seed", contract.SEED, int),
    ("patience", "MLE_CI_PATIENCE", int),
    ("max_epochs", "MLE_CI_MAX_EPOCHS", int),
    ("checkpoint_dir", "MLE_CI_CHECKPOINT_DIR", Path),
    ("margin", "MLE_CI_MARGIN", float),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mle_ci.agents.baseline",
        description="Baseline agent: k-fold PyTorch training on an MLE-bench competition folder.",
        epilog="Each flag falls back to its environment variable: "
        + ", ".join(f"--{name.replace('_', '-')} {var}" for name, var, _ in _FIELDS)
        + f"; checkpoints default to {contract.LOGS_DIR}/checkpoints when {contract.LOGS_DIR} is set.",
    )
    for name, variable, _ in _FIELDS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None, help=f"(env {variable})")
    return parser


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _convert(name: str, kind: type, raw: str) -> object:
    text = raw.strip()
    try:
        if kind is bool:
            return _BOOLEANS[text.lower()]
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except (KeyError, ValueError):
        raise OptionsError(f"{name.replace('_', '-')}: {raw!r} is not a valid {kind.__name__}") from None
    return Path(text) if kind is Path else text


def load_options(argv: Sequence[str] | None, environ: Mapping[str, str]) -> AgentOptions:
    """Parse flags, fill the rest from ``environ`` (an empty variable is unset), and validate."""
    args = vars(_parser().parse_args(argv))
    values: dict[str, object] = {}
    for name, variable, kind in _FIELDS:
        raw = args[name] if args[name] is not None else environ.get(variable, "")
        if raw.strip():
            values[name] = _convert(name, kind, raw)
    if "data_dir" not in values:
        raise OptionsError(f"no data folder: pass --data-dir or set {contract.DATA_DIR}")
    values.setdefault("submission_dir", Path("submission"))
    if "checkpoint_dir" not in values and environ.get(contract.LOGS_DIR, "").strip():
        values["checkpoint_dir"] = Path(environ[contract.LOGS_DIR].strip()) / "checkpoints"
    options = AgentOptions(**values)  # type: ignore[arg-type]
    _validate(options)
    return options


def _validate(options: AgentOptions) -> None:
    if not options.data_dir.is_dir():
        raise OptionsError(f"data-dir: {options.data_dir} is not a folder")
    if options.device is not None and options.device.split(":")[0] not in ("cuda", "cpu"):
        raise OptionsError(f"device: {options.device!r} is neither cuda nor cpu")
    if options.amp is not None and options.amp not in AMP_MODES:
        raise OptionsError(f"amp: {options.amp!r} is not one of {', '.join(AMP_MODES)}")
    for name in ("batch_size", "patience", "max_epochs"):
        value = getattr(options, name)
        if value is not None and value < 1:
            raise OptionsError(f"{name.replace('_', '-')}: must be at least 1, not {value}")
    if options.folds < 2:
        raise OptionsError(f"folds: must be at least 2, not {options.folds}")
    if options.num_workers is not None and options.num_workers < 0:
        raise OptionsError(f"num-workers: must be at least 0, not {options.num_workers}")
    if options.margin < 0:
        raise OptionsError(f"margin: must be at least 0, not {options.margin}")
