"""JSON-ready values: the one converter of numpy scalars and arrays, pandas frames, missing values and dates.

It sits at the bottom of the package (beside `moclab.errors`), so every layer can use it: the analysis
results, the study summary, the scorecard and the CLI's JSON output. `moclab.analysis.results.plain` is the
same function.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """Convert numpy scalars/arrays, pandas frames, missing values and dates, and nested containers into
    JSON-ready Python values: NaN, infinities, ``pd.NA`` and ``NaT`` become None, dates ISO text.

    The one JSON converter of moclab: results, the scorecard, the study summary and the CLI's JSON all use
    it.

    Examples
    --------
    >>> import datetime
    >>> import numpy as np, pandas as pd
    >>> plain({"n": np.int64(3), "p": float("nan"), "when": datetime.date(2024, 1, 15), "x": pd.NA})
    {'n': 3, 'p': None, 'when': '2024-01-15', 'x': None}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, pd.DataFrame):
        return plain(value.to_dict(orient="records"))
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, datetime.date):  # also datetime and pd.Timestamp
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
