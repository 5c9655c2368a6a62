"""The shape every analysis result shares: a table of effects plus what was run.

Results are frozen dataclasses so a report, a notebook and the JSON output render the same object:
`to_frame()` gives a tidy DataFrame (one row per effect), `to_dict()` plain JSON-ready values, and
`_repr_html_()` a short table for notebooks.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Effect:
    """One estimated quantity (a path, an indirect, direct or total effect, a contrast) with its inference.

    `kind` groups effects ("a", "b", "indirect", "direct", "total", "contrast", ...); `ci_method` names how
    the interval was obtained ("percentile", "bca", "monte_carlo", "delta", "wald"); `p` may be None when the
    method gives no p-value (a bootstrap interval).
    """

    name: str
    kind: str
    estimate: float
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p: float | None = None
    ci_method: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and nested containers into JSON-ready Python values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.DataFrame):
        return plain(value.to_dict(orient="records"))
    return value


@dataclass(frozen=True)
class AnalysisResult:
    """Base of every result object: `effects` plus `info` (method, n, settings, warnings)."""

    effects: tuple[Effect, ...]
    info: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    title = "Analysis result"

    def effect(self, name: str) -> Effect:
        """The effect called `name` (KeyError listing the available names otherwise)."""
        for item in self.effects:
            if item.name == name:
                return item
        raise KeyError(f"no effect '{name}'; available: {', '.join(e.name for e in self.effects)}")

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for item in self.effects:
            row = {f.name: getattr(item, f.name) for f in fields(item) if f.name != "extra"}
            row.update(item.extra)
            rows.append(row)
        return pd.DataFrame(rows).set_index("name")

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "effects": [asdict(item) for item in self.effects],
                "info": self.info,
                "warnings": list(self.warnings),
            }
        )

    def _repr_html_(self) -> str:
        columns = ["kind", "estimate", "se", "ci_low", "ci_high", "p"]
        frame = self.to_frame()[columns]
        body = frame.to_html(float_format=lambda v: f"{v:.4g}", na_rep="", border=0)
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        method = html.escape(str(self.info.get("method", "")))
        n = self.info.get("n")
        head = f"<strong>{html.escape(self.title)}</strong> {method}" + (
            f", n = {n}" if n is not None else ""
        )
        return f"<div>{head}{body}" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"

    def summary(self) -> str:
        """Readable report: title, effects table and warnings (result types extend it with their parts)."""
        frame = self.to_frame()[["kind", "estimate", "se", "ci_low", "ci_high", "p"]]
        text = f"{self.title}\n{frame.to_string(float_format=lambda v: f'{v:.4f}', na_rep='')}"
        if self.warnings:
            text += "\n" + "\n".join(f"warning: {w}" for w in self.warnings)
        return text

    def __str__(self) -> str:
        return self.summary()
