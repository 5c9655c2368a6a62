"""The shape every analysis result shares: a table of effects plus what was run.

Results are frozen dataclasses so a report, a notebook and the JSON output render the same object:
`to_frame()` gives a tidy DataFrame (one row per effect), `to_dict()` plain JSON-ready values, `summary()`
a readable report, `_repr_html_()` a short table for notebooks and `repr()` one line: the type, the headline
effects with their intervals and n. Every result dataclass is declared with ``repr=False`` so that it keeps
this `__repr__` instead of the field-by-field one `dataclasses` would generate (thousands of characters for
a result holding tables and draws).
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import pandas as pd

from moclab.plain import plain


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


def _number(value: float | None) -> str:
    return "NA" if value is None or not math.isfinite(value) else f"{value:.4g}"


@dataclass(frozen=True, repr=False)
class AnalysisResult:
    """Base of every result object: `effects` plus `info` (method, n, settings, warnings).

    Subclasses name their headline effects in `headline` (effect names or kinds, in the order `repr` shows
    them); without it `repr` shows the first effects.
    """

    effects: tuple[Effect, ...]
    info: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    title = "Analysis result"
    #: Names or kinds of the effects `repr` shows (at most `_HEADLINE_MAX` of them).
    headline: ClassVar[tuple[str, ...]] = ()
    _HEADLINE_MAX = 4

    def headline_effects(self) -> list[Effect]:
        """The effects `repr` shows: those named (or of a kind named) in `headline`, else the first ones."""
        if not self.headline:
            return list(self.effects[: self._HEADLINE_MAX])
        chosen: dict[int, Effect] = {}
        for key in self.headline:
            chosen.update({id(e): e for e in self.effects if e.name == key or e.kind == key})
        return list(chosen.values())[: self._HEADLINE_MAX]

    def __repr__(self) -> str:
        shown = self.headline_effects()
        parts = []
        for item in shown:
            text = f"{item.name} = {_number(item.estimate)}"
            if item.ci_low is not None and item.ci_high is not None:
                text += f" [{_number(item.ci_low)}, {_number(item.ci_high)}]"
            parts.append(text)
        hidden = len(self.effects) - len(shown)
        if hidden:
            parts.append(f"{hidden} more effect{'s' if hidden > 1 else ''}")
        n = self.info.get("n", getattr(self, "n", None))
        if n is not None:
            parts.append(f"n = {n}")
        return f"{type(self).__name__}({'; '.join(parts)})"

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
