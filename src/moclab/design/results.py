"""Result objects of the power analysis and the sample-size search.

Both are frozen dataclasses with `to_frame()` (a tidy table), `to_dict()` (JSON-ready) and `_repr_html_()`
(a short table for notebooks), like the result objects of `moclab.analysis`.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from moclab.design.scenario import PowerTarget
from moclab.plain import plain

__all__ = ["PowerResult", "SampleSizeResult", "pathway_label", "quantity_label"]

_LABELS = {
    "a": "a path (strategy → mechanism)",
    "b": "b path (mechanism → outcome)",
    "indirect:joint": "indirect effect, joint significance",
    "indirect:sobel": "indirect effect, Sobel test",
    "indirect:monte_carlo": "indirect effect, Monte Carlo interval",
    "indirect:percentile": "indirect effect, percentile bootstrap",
}
_CRITERIA = {
    "strong_association": "Strong association",
    "specificity": "Specificity",
    "consistency": "Consistency",
    "experimental_manipulation": "Experimental manipulation",
    "timeline": "Timeline",
    "gradient": "Gradient",
    "plausibility": "Plausibility or coherence",
}


def quantity_label(quantity: str) -> str:
    """A readable label for a quantity name (``indirect:monte_carlo``, ``criterion:timeline``).

    Examples
    --------
    >>> from moclab.design import quantity_label
    >>> quantity_label("indirect:monte_carlo")
    'indirect effect, Monte Carlo interval'
    >>> quantity_label("criterion:timeline")
    'criterion met: Timeline'
    """
    if quantity.startswith("criterion:"):
        return f"criterion met: {_CRITERIA.get(quantity.split(':', 1)[1], quantity)}"
    return _LABELS.get(quantity, quantity)


def pathway_label(pathway: str) -> str:
    """A pathway id as its path (``isp_support__trust__acceptability`` → ``isp_support → trust →
    acceptability``).

    Examples
    --------
    >>> from moclab.design import pathway_label
    >>> pathway_label("isp_support__trust__acceptability")
    'isp_support → trust → acceptability'
    """
    return pathway.replace("__", " → ")


def group_pathways(ids: list[str]) -> tuple[list[tuple[str | None, str]], str | None]:
    """Rows for a table of pathways: a heading row (id None) per mechanism, then its outcomes, when every
    pathway is strategy → mechanism → outcome with one strategy (returned, to be named once); otherwise
    one row per pathway with its whole path (and None).

    Examples
    --------
    >>> from moclab.design.results import group_pathways
    >>> rows, strategy = group_pathways(["s__trust__use", "s__trust__fit", "s__skill__use"])
    >>> strategy, rows[:3]
    ('s', [(None, 'trust'), ('s__trust__use', '→ use'), ('s__trust__fit', '→ fit')])
    >>> group_pathways(["s__trust__use", "t__skill__use"])[1] is None
    True
    """
    parts = [pathway.split("__") for pathway in ids]
    if len({p[0] for p in parts}) != 1 or any(len(p) != 3 for p in parts):
        return [(pathway, " → ".join(p)) for pathway, p in zip(ids, parts, strict=True)], None
    rows: list[tuple[str | None, str]] = []
    for mechanism in dict.fromkeys(p[1] for p in parts):
        rows.append((None, mechanism))
        rows += [(pathway, f"→ {p[2]}") for pathway, p in zip(ids, parts, strict=True) if p[1] == mechanism]
    return rows, parts[0][0]


def design_text(row: pd.Series) -> str:
    """A design of the power grid in words: "20 sites, 30 per site, 3 waves" (the sizes the row has).

    Examples
    --------
    >>> design_text(pd.Series({"sites": 20, "per_site": 30.0, "waves": float("nan")}))
    '20 sites, 30 per site'
    """
    parts = [f"{int(row['sites'])} sites"]
    if pd.notna(row.get("per_site")):
        parts.append(f"{int(row['per_site'])} per site")
    if pd.notna(row.get("waves")):
        parts.append(f"{int(row['waves'])} waves")
    return ", ".join(parts)


@dataclass(frozen=True, eq=False)
class PowerResult:
    """Monte Carlo power per design, pathway and quantity.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per design (``sites``, ``per_site``, ``waves``; mean analysed recipients ``n`` and
        ``clusters``), ``pathway`` and ``quantity`` (``a``, ``b``, ``indirect:<test>``,
        ``criterion:<id>``): ``power`` (for a criterion, the probability that it is met), its Monte Carlo
        SE ``mc_se = sqrt(p(1 - p)/R)``, ``successes``, ``reps``, replications whose model ``failed``, for
        criteria the shares ``partly_met``, ``not_met``, ``not_testable``, whether it was ``estimated``
        (judged at all) and ``testable`` (in at least one replication; a criterion never testable has no
        power, NaN, never 0) with the scorecard's ``reason`` when it was not testable, and the
        ``mean_estimate`` of the path or indirect effect.
    model_id : str
    targets : tuple of PowerTarget
        The pathways and how each was analysed (waves, clustering).
    points : tuple of DesignPoint
    settings : dict
        Replications, tests, level, draws, resamples, seed, parallel settings.
    spec : dict
        The simulation spec (before the grid's design changes).
    elapsed, compute_seconds : float
        Wall-clock seconds, and seconds of work summed over workers.
    """

    table: pd.DataFrame
    model_id: str
    targets: tuple[PowerTarget, ...]
    points: tuple[Any, ...]
    settings: dict[str, Any]
    spec: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0
    compute_seconds: float = 0.0

    title = "Monte Carlo power"

    @property
    def headline(self) -> str:
        """The quantity of the headline test (``indirect:monte_carlo``)."""
        return f"indirect:{self.settings['method']}"

    @property
    def pathway_ids(self) -> list[str]:
        return [target.id for target in self.targets]

    def to_frame(self) -> pd.DataFrame:
        """The power table (a copy)."""
        return self.table.copy()

    def power(self, quantity: str | None = None, pathway: str | None = None) -> pd.DataFrame:
        """Rows of one quantity (default: the headline test) and pathway (default: the first)."""
        quantity = quantity or self.headline
        pathway = pathway or self.pathway_ids[0]
        rows = self.table[(self.table["quantity"] == quantity) & (self.table["pathway"] == pathway)]
        if rows.empty:
            raise KeyError(
                f"no rows for quantity '{quantity}' of pathway '{pathway}'; quantities: "
                + ", ".join(dict.fromkeys(self.table["quantity"]))
            )
        return rows.reset_index(drop=True)

    def table_of(self, pathway: str | None = None) -> pd.DataFrame:
        """A wide table: designs in rows, quantities (power ± SE as text; "not testable" for a criterion
        never testable) in columns."""
        pathway = pathway or self.pathway_ids[0]
        rows = self.table[(self.table["pathway"] == pathway) & self.table["estimated"]]
        text = rows.assign(
            design=rows.apply(design_text, axis=1),
            value=[
                "not testable" if math.isnan(p) else f"{p:.3f} ± {s:.3f}"
                for p, s in zip(rows["power"], rows["mc_se"], strict=True)
            ],
        )
        wide = text.pivot_table(index="design", columns="label", values="value", aggfunc="first", sort=False)
        return wide[list(dict.fromkeys(text["label"]))]

    def powers_by_design(
        self, pathway: str | None = None, *, short: dict[str, str] | None = None
    ) -> pd.DataFrame:
        """Every power of one pathway (default: the first) as text: the mean recipients analysed and each
        quantity judged in rows, the designs in columns (named by what varies: ``10``, ``10 × 20``); "—"
        where a criterion was not testable, whose row says so. `short` renames quantities.

        Examples
        --------
        >>> from moclab.design import power_analysis
        >>> result = power_analysis(
        ...     "recipient-pathway", sites=[6, 8], reps=10, pathways=["isp_support__trust__acceptability"],
        ...     method="joint", criteria="none", seed=1,
        ... )
        >>> result.powers_by_design().iloc[:3]
                                          6     8
        recipients analysed (mean)      230   303
        a path (strategy → mechanism)  0.60  0.70
        b path (mechanism → outcome)   0.90  1.00
        """
        pathway = pathway or self.pathway_ids[0]
        rows = self.table[self.table["pathway"] == pathway]
        varying = [name for name in ("sites", "per_site", "waves") if self.table[name].dropna().nunique() > 1]
        shown = varying or ["sites"]
        keys = ["sites", "per_site", "waves"]
        designs = rows.drop_duplicates(keys)
        names = [" × ".join(str(int(row[name])) for name in shown) for _, row in designs.iterrows()]
        design_of = {
            tuple(row[keys].fillna(-1)): name
            for (_, row), name in zip(designs.iterrows(), names, strict=True)
        }
        data: dict[str, list[str]] = {
            "recipients analysed (mean)": [f"{n:,.0f}" for n in designs["n"]],
        }
        for quantity in dict.fromkeys(rows["quantity"]):
            part = rows[rows["quantity"] == quantity]
            if not part["estimated"].any():
                continue
            by_design = {design_of[tuple(row[keys].fillna(-1))]: row["power"] for _, row in part.iterrows()}
            values = ["—" if math.isnan(by_design[name]) else f"{by_design[name]:.2f}" for name in names]
            label = (short or {}).get(quantity, quantity_label(quantity))
            if all(value == "—" for value in values):
                label += " (not testable)"
            data[label] = values
        return pd.DataFrame.from_dict(data, orient="index", columns=names)

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": "PowerResult",
                "model": self.model_id,
                "pathways": [target.to_dict() for target in self.targets],
                "designs": [point.to_dict() for point in self.points],
                "settings": self.settings,
                "table": self.table,
                "elapsed_seconds": self.elapsed,
                "compute_seconds": self.compute_seconds,
            }
        )

    def _repr_html_(self) -> str:
        rows = self.table[self.table["quantity"] == self.headline]
        columns = ["pathway", "sites", "per_site", "waves", "n", "power", "mc_se"]
        body = rows[columns].to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="", border=0)
        head = (
            f"<strong>{html.escape(self.title)}</strong> of {html.escape(self.model_id)}: "
            f"{html.escape(quantity_label(self.headline))}, {self.settings['reps']} replications per design, "
            f"seed {self.settings['seed']}"
        )
        return f"<div>{head}{body}</div>"

    def answers(
        self, target: float = 0.8, *, cost_site: float | None = None, cost_recipient: float | None = None
    ) -> pd.DataFrame:
        """Per pathway and criterion, the smallest simulated design reaching `target`, with the Monte Carlo
        interval of its power, never extrapolated (`moclab.design.power_answers`)."""
        from moclab.design.search import power_answers

        return power_answers(self, target=target, cost_site=cost_site, cost_recipient=cost_recipient)

    def summary(self) -> str:
        """Readable report: per pathway, the designs and the power of every quantity (± Monte Carlo SE)."""
        lines = [f"{self.title} of {self.model_id} ({self.settings['reps']} replications per design)"]
        for pathway in self.pathway_ids:
            lines.append(f"pathway {pathway}")
            lines.append(self.table_of(pathway).to_string())
        return "\n".join(lines)

    def plot(self, ax: Any = None, *, pathway: str | None = None, quantities: list[str] | None = None) -> Any:
        """Power curves of one pathway (default: the first) against the varying design dimension, with 95%
        Monte Carlo error bars; returns the matplotlib Axes (see `moclab.design.render.plot_power_curve`)."""
        from moclab.design.render import plot_power_curve

        return plot_power_curve(self, pathway=pathway, quantities=quantities, ax=ax)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"PowerResult(model={self.model_id!r}, pathways={len(self.targets)}, designs={len(self.points)}, "
            f"reps={self.settings['reps']}, seed={self.settings['seed']})"
        )


@dataclass(frozen=True, eq=False)
class SampleSizeResult:
    """The smallest design reaching a target power, from the grid and a logistic fit of power on size.

    Attributes
    ----------
    dimension : str
        What was varied: ``sites``, ``per_site`` or ``waves`` (``sites+per_site`` for a cost search over
        both).
    pathway, quantity : str
    target : float
        The power aimed at.
    grid : pandas.DataFrame
        The evidence: one row per design with the observed power, its Monte Carlo SE, the fitted power,
        whether the observed power reached the target, and the cost when costs were given.
    fitted_size : float or None
        The size at which the fitted curve reaches the target (None when the fit never does within a
        reasonable range or the curve does not rise with size).
    fitted_interval : tuple of float or None
        A 95% interval for `fitted_size` (delta method on the logistic coefficients).
    required : int or None
        The smallest whole size at or above `fitted_size`.
    smallest_reaching : int or None
        The smallest grid size whose observed power reached the target.
    coefficients : dict
        The logistic fit: intercept and slope(s) on log size, with their standard errors.
    cheapest : dict or None
        With costs: the cheapest design whose fitted power reaches the target, with its cost and power, and
        the cheapest grid design whose observed power did.
    notes : tuple of str
    """

    dimension: str
    pathway: str
    quantity: str
    target: float
    grid: pd.DataFrame
    fitted_size: float | None
    fitted_interval: tuple[float, float] | None
    required: int | None
    smallest_reaching: int | None
    coefficients: dict[str, Any]
    cheapest: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()

    title = "Sample-size search"

    def to_frame(self) -> pd.DataFrame:
        return self.grid.copy()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": "SampleSizeResult",
                "dimension": self.dimension,
                "pathway": self.pathway,
                "quantity": self.quantity,
                "target": self.target,
                "fitted_size": self.fitted_size,
                "fitted_interval": list(self.fitted_interval) if self.fitted_interval else None,
                "required": self.required,
                "smallest_reaching": self.smallest_reaching,
                "coefficients": self.coefficients,
                "cheapest": self.cheapest,
                "grid": self.grid,
                "notes": list(self.notes),
            }
        )

    def summary(self) -> str:
        """Readable report: the answer, the notes, then the grid it rests on."""
        lines = [self.sentence(), *(f"note: {note}" for note in self.notes), self.grid.to_string(index=False)]
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Observed power (with 95% Monte Carlo error bars) and the fitted logistic curve against the size,
        with the target; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.2))
        size = self.dimension if self.dimension in self.grid.columns else self.grid.columns[0]
        grid = self.grid.sort_values(size)
        ax.errorbar(
            grid[size], grid["power"], yerr=1.96 * grid["mc_se"], fmt="o", color="black", label="simulated"
        )
        ax.plot(grid[size], grid["fitted_power"], color="tab:blue", label="logistic fit")
        ax.axhline(self.target, color="0.4", lw=0.8, ls="--", label=f"target {self.target:.2f}")
        ax.set_xlabel(size.replace("_", " "))
        ax.set_ylabel(f"power: {quantity_label(self.quantity)}")
        ax.set_ylim(0, 1.02)
        ax.legend(frameon=False, fontsize="small")
        return ax

    def __repr__(self) -> str:
        return (
            f"SampleSizeResult(dimension={self.dimension!r}, target={self.target}, required={self.required}, "
            f"pathway={self.pathway!r})"
        )

    def sentence(self) -> str:
        """The answer in one sentence, naming the pathway; a size outside the simulated grid is never given
        as the answer (the notes say where the fitted curve would cross the target)."""
        what = f"the {quantity_label(self.quantity)} of {pathway_label(self.pathway)}"
        unit = {"sites": "sites", "per_site": "recipients per site", "waves": "waves"}.get(
            self.dimension, self.dimension
        )
        if self.cheapest is not None and self.cheapest.get("fitted") is not None:
            best = self.cheapest["fitted"]
            return (
                f"Cheapest design reaching power {self.target:.2f} for {what}: {best['sites']} sites × "
                f"{best['per_site']} recipients per site (cost {best['cost']:,.0f}, fitted power "
                f"{best['power']:.3f})."
            )
        grid = self.grid.sort_values(self.dimension) if self.dimension in self.grid.columns else self.grid
        if self.required is None:
            if self.fitted_size is not None and self.dimension in grid.columns:
                largest = grid[self.dimension].max()
                if self.fitted_size > largest:
                    return (
                        f"More than {largest:g} {unit} for power {self.target:.2f} for {what}: not reached "
                        "within the sizes simulated (the fitted curve is an extrapolation beyond them)."
                    )
            return f"No size simulated reaches power {self.target:.2f} for {what}."
        text = f"About {self.required} {unit} reach power {self.target:.2f} for {what}"
        if self.fitted_interval is not None and all(math.isfinite(v) for v in self.fitted_interval):
            text += f" (fitted {self.fitted_size:.1f}, 95% interval {self.fitted_interval[0]:.1f} to "
            text += f"{self.fitted_interval[1]:.1f})"
        if self.smallest_reaching is not None:
            text += f"; on the grid, {self.smallest_reaching} {unit} did"
        return text + "."

    def _repr_html_(self) -> str:
        body = self.grid.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="", border=0)
        return f"<div><strong>{html.escape(self.title)}</strong>: {html.escape(self.sentence())}{body}</div>"

    def __str__(self) -> str:
        return self.summary()
