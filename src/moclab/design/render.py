"""Power curves and the power report folder: plot (SVG, PNG), table (CSV), JSON and a self-contained HTML.

`plot_power_curve` draws power against the varying design dimension with 95% Monte Carlo error bars
(± 1.96·SE), the target power and, when a sample-size search is given, its fitted logistic curve.
`write_power_report` writes ``power.csv``, ``power.json``, ``power_curve.svg``, ``power_curve.png`` and
``index.html`` (offline: the SVG is inlined, no scripts or external files) into a new or empty folder; it
never overwrites files. The HTML page needs jinja2 (the ``report`` extra).
"""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from moclab import __version__
from moclab.design.results import PowerResult, SampleSizeResult, quantity_label
from moclab.errors import MoclabError, display_path, require

__all__ = ["plot_power_curve", "write_power_report"]

_AXIS_LABELS = {"sites": "number of sites", "per_site": "recipients per site", "waves": "number of waves"}
_COLOURS = ["#0b5cad", "#c4441c", "#2f8f46", "#7a4fb0", "#a87a00", "#4d4d4d", "#0f8a8a"]


def _dimension(result: PowerResult) -> str:
    for name in ("sites", "per_site", "waves"):
        if result.table[name].dropna().nunique() > 1:
            return name
    return "sites"


def _default_quantities(result: PowerResult) -> list[str]:
    present = set(result.table.loc[result.table["estimated"], "quantity"])
    wanted = [
        result.headline,
        "a",
        "b",
        "criterion:strong_association",
        "criterion:experimental_manipulation",
    ]
    return [q for q in dict.fromkeys(wanted) if q in present]


def plot_power_curve(
    result: PowerResult,
    *,
    pathway: str | None = None,
    quantities: list[str] | None = None,
    search: SampleSizeResult | None = None,
    target: float | None = None,
    ax: Any = None,
) -> Any:
    """Power against the varying design dimension, one line per quantity, with 95% Monte Carlo error bars.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    pathway = pathway or result.pathway_ids[0]
    dimension = _dimension(result)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.6), dpi=100)
    for number, quantity in enumerate(quantities or _default_quantities(result)):
        rows = result.power(quantity, pathway).sort_values(dimension)
        x = rows[dimension].to_numpy(float)
        colour = _COLOURS[number % len(_COLOURS)]
        ax.errorbar(
            x,
            rows["power"],
            yerr=1.959964 * rows["mc_se"],
            marker="o",
            markersize=4,
            capsize=3,
            linewidth=1.6 if quantity == result.headline else 1.0,
            color=colour,
            label=quantity_label(quantity),
        )
        if search is not None and search.quantity == quantity and "log_size" in search.coefficients:
            grid = np.linspace(x.min(), x.max(), 200)
            coef = search.coefficients
            ax.plot(
                grid,
                special.expit(coef["intercept"] + coef["log_size"] * np.log(grid)),
                linestyle=":",
                color=colour,
                linewidth=1.2,
                label="logistic fit",
            )
            if search.fitted_size is not None and x.min() <= search.fitted_size <= x.max():
                ax.axvline(search.fitted_size, color=colour, linestyle=":", linewidth=0.8)
    goal = target if target is not None else (search.target if search is not None else None)
    if goal is not None:
        ax.axhline(goal, color="#888888", linestyle="--", linewidth=0.8, label=f"target {goal:.2f}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(_AXIS_LABELS[dimension])
    ax.set_ylabel("power (share of replications)")
    ax.set_title(f"{pathway}", fontsize=10)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.legend(fontsize=7.5, frameon=False, loc="lower right")
    ax.figure.tight_layout()
    return ax


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Power analysis: {{ model }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 2rem auto; max-width: 60rem; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
.meta { color: #57606a; font-size: .9rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid #d0d7de; padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.answer { background: #f6f8fa; border-left: 4px solid #0b5cad; padding: .6rem 1rem; }
.note { color: #57606a; font-size: .85rem; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>Power analysis: {{ model }}</h1>
<p class="meta">moclab {{ version }} · {{ created }} · {{ settings.reps }} replications per design
 · seed {{ settings.seed }} · tests at α = {{ '%.3g' % settings.alpha }} · {{ elapsed }}</p>
{% for answer in answers %}<p class="answer">{{ answer }}</p>{% endfor %}
{% for block in pathways %}
<h2>{{ block.label }}</h2>
<p class="note">Pathway <code>{{ block.id }}</code>: {{ block.how }}</p>
{{ block.svg | safe }}
{{ block.table | safe }}
{% endfor %}
<h2>Method</h2>
<p>Each replication is a study simulated by <code>moclab.simulate</code> from the pathway model and its spec,
with the design of its row. It is analysed as <code>moclab analyze</code> analyses a study: the mediation
model of <code>moclab.analysis.mediate</code> (strategy → mechanism at the second wave → outcome at the
last, adjusted for baselines; cluster-robust CR1 standard errors and the cluster bootstrap when recipients are
nested in sites). Tests: {{ methods }}. Power is the share of replications in which a test rejects (for a
criterion: in which it is met by the scorecard's rule); its Monte Carlo standard error is sqrt(p(1 − p)/R).
{% if criteria_note %}{{ criteria_note }}{% endif %}</p>
<p class="note">Sample sizes come from a logistic regression of the replications' successes on log(size)
(Schoemann, Boulton &amp; Short, 2017), reported beside the grid evidence. References: MacKinnon, Lockwood,
Hoffman, West &amp; Sheets (2002), Psychological Methods 7:83–104; Fritz &amp; MacKinnon (2007), Psychological
Science 18:233–239; Preacher &amp; Selig (2012), Communication Methods and Measures 6:77–98; Cameron &amp;
Miller (2015), Journal of Human Resources 50:317–372.</p>
</body>
</html>
"""


def _svg_text(
    result: PowerResult, pathway: str, search: SampleSizeResult | None, target: float | None
) -> tuple[str, bytes]:
    import matplotlib.pyplot as plt

    ax = plot_power_curve(result, pathway=pathway, search=search, target=target)
    figure = ax.figure
    svg = io.StringIO()
    figure.savefig(svg, format="svg", metadata={"Date": None})
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=150)
    plt.close(figure)
    text = svg.getvalue()
    return text[text.index("<svg") :], png.getvalue()


def _table_html(result: PowerResult, pathway: str) -> str:
    rows = result.table[(result.table["pathway"] == pathway) & result.table["estimated"]]
    shown = rows.assign(quantity=rows["label"])[
        ["quantity", "sites", "per_site", "waves", "n", "power", "mc_se", "reps"]
    ].rename(columns={"mc_se": "MC SE", "n": "mean n"})
    return shown.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="", border=0)


def write_power_report(
    result: PowerResult,
    folder: str | Path,
    *,
    search: SampleSizeResult | None = None,
    target: float | None = None,
) -> Path:
    """Write the power table, plot and HTML page into `folder` (new or empty; nothing is overwritten).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    MoclabError
        `folder` is a file or a non-empty folder.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise MoclabError(
            f"{display_path(folder)} is not empty; moclab never overwrites files",
            hint="give a new folder name (it is created), or an empty folder",
        )
    jinja2 = require("jinja2", "report", "the power report")  # before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(folder / "power.csv", index=False, lineterminator="\n", float_format="%.6g")
    payload = result.to_dict()
    if search is not None:
        payload["sample_size"] = search.to_dict()
    (folder / "power.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    blocks = []
    for number, target_path in enumerate(result.targets):
        svg, png = _svg_text(
            result,
            target_path.id,
            search if search is not None and search.pathway == target_path.id else None,
            target,
        )
        if number == 0:
            (folder / "power_curve.svg").write_text(svg, encoding="utf-8")
            (folder / "power_curve.png").write_bytes(png)
        how = (
            f"mechanism at wave {target_path.mechanism_wave + 1}, "
            f"outcome at wave {target_path.outcome_wave + 1}"
            + (", adjusted for baselines" if target_path.baseline_wave is not None else "")
            + ("; recipients nested in sites (cluster-robust)" if target_path.clustered else "")
            + (
                f"; competing mechanisms: {', '.join(target_path.alternatives)}"
                if target_path.alternatives
                else ""
            )
        )
        blocks.append(
            {
                "id": target_path.id,
                "label": target_path.label,
                "how": how,
                "svg": svg,
                "table": _table_html(result, target_path.id),
            }
        )
    answers = [search.sentence()] if search is not None else []
    if search is not None:
        answers += list(search.notes)
    criteria = result.settings.get("criteria")
    criteria_note = {
        "fast": " Criteria judged per replication with the scorecard's rules (moclab.evidence.rules): strong "
        "association, specificity and experimental manipulation; consistency, timeline, gradient and "
        "plausibility need criteria='full'.",
        "full": " Every replication was scored by moclab.evidence.analyze (all seven criteria).",
    }.get(str(criteria), "")
    page = (
        jinja2.Environment(autoescape=True)
        .from_string(_TEMPLATE)
        .render(
            model=result.model_id,
            version=__version__,
            created=datetime.date.today().isoformat(),
            settings=result.settings,
            elapsed=f"{result.elapsed:.1f} s",
            answers=answers,
            pathways=blocks,
            methods=", ".join(quantity_label(f"indirect:{m}") for m in result.settings["methods"]),
            criteria_note=criteria_note,
        )
    )
    (folder / "index.html").write_text(page, encoding="utf-8")
    return folder
