"""Power curves and the power report folder: plot (SVG, PNG), table (CSV), JSON and a self-contained page.

`plot_power_curve` draws power against the varying design dimension with 95% Monte Carlo error bars
(± 1.96·SE), the target power and, when a sample-size search is given, its fitted logistic curve; the legend
sits below the plotting area, never over the lines. `write_power_report` writes ``power.csv``,
``power.json``, ``power_curve.svg``, ``power_curve.png`` and ``index.html`` into a new or empty folder, or
one an earlier moclab command marked as its own (only its own files are replaced, each through a temporary
file). The page reads like the evidence report: the answer first (per pathway and criterion, the smallest
simulated design reaching the target with the Monte Carlo interval of its power, never extrapolated), then
the curves and a compact table per pathway, the method, and the settings folded away. It is offline (the SVG
is inlined; no scripts, no external files) and fits screens from 375 px wide (wide tables scroll inside
their own box). The HTML page needs jinja2 (the ``report`` extra).
"""

from __future__ import annotations

import datetime
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from moclab import __version__
from moclab.design.results import PowerResult, SampleSizeResult, group_pathways, quantity_label
from moclab.errors import MoclabError, display_path, require

__all__ = ["plot_power_curve", "write_power_report"]

_AXIS_LABELS = {"sites": "number of sites", "per_site": "recipients per site", "waves": "number of waves"}
_UNITS = {"sites": "sites", "per_site": "recipients per site", "waves": "waves"}
_OPTIONS = {"sites": "--sites", "per_site": "--per-site", "waves": "--waves"}
_COLOURS = ["#0b5cad", "#c4441c", "#2f8f46", "#7a4fb0", "#a87a00", "#4d4d4d", "#0f8a8a"]
_TESTS = {
    "joint": "joint significance of the a and b paths",
    "sobel": "the Sobel test",
    "monte_carlo": "the Monte Carlo interval",
    "percentile": "the percentile bootstrap (the cluster bootstrap when recipients are nested in sites)",
}


def _dimension(result: PowerResult) -> str:
    for name in ("sites", "per_site", "waves"):
        if result.table[name].dropna().nunique() > 1:
            return name
    return "sites"


def _default_quantities(result: PowerResult, pathway: str) -> list[str]:
    """The headline test, the paths and the criteria that were testable for `pathway`."""
    rows = result.table[result.table["pathway"] == pathway]
    present = set(rows.loc[rows["estimated"] & rows["power"].notna(), "quantity"])
    wanted = [
        result.headline,
        "a",
        "b",
        "criterion:strong_association",
        "criterion:specificity",
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

    A criterion that was never testable has no line (it has no power). The legend sits below the axes.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from moclab.design import power_analysis
    >>> from moclab.design.render import plot_power_curve
    >>> result = power_analysis(
    ...     "recipient-pathway", sites=[6, 8], reps=10, pathways=["isp_support__trust__acceptability"],
    ...     method="joint", criteria="none", seed=1,
    ... )
    >>> ax = plot_power_curve(result, target=0.8)
    >>> ax.get_xlabel(), [text.get_text() for text in ax.get_legend().get_texts()][:2]
    ('number of sites', ['target 0.80', 'indirect effect, joint significance'])
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    pathway = pathway or result.pathway_ids[0]
    dimension = _dimension(result)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.2), dpi=100)
    for number, quantity in enumerate(quantities or _default_quantities(result, pathway)):
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
            linewidth=1.8 if quantity == result.headline else 1.0,
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
    goal = target if target is not None else (search.target if search is not None else None)
    if goal is not None:
        ax.axhline(goal, color="#888888", linestyle="--", linewidth=0.8, label=f"target {goal:.2f}")
    sizes = sorted(result.table[dimension].dropna().unique())
    if len(sizes) <= 12:
        ax.set_xticks(sizes, [f"{size:g}" for size in sizes])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(_AXIS_LABELS[dimension])
    ax.set_ylabel("power (share of replications)")
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax.figure.tight_layout()
    return ax


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Power analysis: {{ model }}</title>
<style>
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0;
       line-height: 1.45; background: #fff; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem clamp(.75rem, 3vw, 2rem) 3rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 .2rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 0; display: inline; }
p, li { max-width: 48rem; }
.meta, .note { color: #57606a; font-size: .9rem; }
.answer { background: #f6f8fa; border-left: 4px solid #0b5cad; padding: .7rem 1rem; margin: 1rem 0; }
.answer p { margin: .3rem 0; }
.scroll { overflow-x: auto; max-width: 100%; margin: .6rem 0; }
table { border-collapse: collapse; font-size: .88rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .35rem .6rem; text-align: right; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
.size strong, .size small { white-space: nowrap; }
tr.group th { background: #fff; padding-top: .8rem; border-bottom: none; }
th.outcome { font-weight: normal; padding-left: 1.2rem; white-space: nowrap; background: #fff; }
.size strong { font-size: 1rem; }
.size small, .reason { display: block; color: #57606a; font-size: .8rem; font-weight: normal; }
.not-reached strong { color: #9a3412; }
.untestable { color: #57606a; font-style: italic; }
details { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem .8rem; margin: .7rem 0; }
details[open] > summary { margin-bottom: .5rem; }
summary { cursor: pointer; }
figure { margin: .4rem 0; }
svg { max-width: 100%; height: auto; display: block; }
code { font-size: .85em; overflow-wrap: anywhere; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; font-size: .9rem; }
dl.settings dt { color: #57606a; }
dl.settings dd { margin: 0; overflow-wrap: anywhere; }
@media print { details { border: none; } details > summary { list-style: none; }
               .scroll { overflow: visible; } }
</style>
</head>
<body>
<main>
<h1>Power analysis: {{ model }}</h1>
<p class="meta">{{ scope }} · {{ settings.reps }} replications per design · seed {{ settings.seed }} ·
moclab {{ version }} · {{ created }}</p>

<section class="answer" aria-label="The answer">
<p><strong>{{ question }}</strong></p>
<p>{{ lead }}</p>
{% for note in notes %}<p class="note">{{ note }}</p>{% endfor %}
</section>

<div class="scroll">
<table>
<thead><tr><th scope="col">{{ pathway_header }}</th>
{% for column in columns %}<th scope="col">{{ column }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in answer_rows %}{% if row.heading %}<tr class="group">
<th scope="rowgroup" colspan="{{ columns | length + 1 }}">{{ row.label }}</th></tr>
{% else %}<tr><th scope="row" class="outcome">{{ row.label }}</th>{% for cell in row.cells %}
<td class="size {{ cell.kind }}">{% if cell.kind == 'untestable' %}
<span class="untestable">{{ cell.text }}</span>{% else %}
<strong>{{ cell.text }}</strong><small>{{ cell.detail }}</small>{% endif %}</td>{% endfor %}</tr>
{% endif %}{% endfor %}</tbody>
</table>
</div>

<h2>Power curves</h2>
<p class="note">Power against {{ axis }}, with 95% Monte Carlo error bars (± 1.96 SE); the dashed line is the
target. One panel per pathway; open one to see its curve and every power.</p>
{% for block in pathways %}
<details{% if loop.first %} open{% endif %}>
<summary><h3>{{ block.label }}</h3></summary>
<p class="note">{{ block.how }}</p>
{% if block.fit %}<p class="note">{{ block.fit }}</p>{% endif %}
<figure>{{ block.svg | safe }}</figure>
<div class="scroll">
<table>
<thead><tr><th scope="col">{{ design_header }}</th>
{% for design in block.designs %}<th scope="col">{{ design }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in block.rows %}<tr><th scope="row">{{ row.label }}</th>
{% for value in row.powers %}<td>{{ value }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
</div>
{% if block.untestable %}<p class="note">{{ block.untestable }}</p>{% endif %}
</details>
{% endfor %}

<h2>Method</h2>
<p>Each replication is a study simulated by <code>moclab.simulate</code> from the pathway model and its spec,
with the design of its column, and analysed as <code>moclab analyze</code> analyses a study: strategy →
mechanism at the second wave → outcome at the last, adjusted for baselines, with cluster-robust (CR1)
standard errors when recipients are nested in sites. {{ methods }} Power is the share of replications in
which a test rejects at α = {{ '%.3g' % settings.alpha }} (for a criterion: in which the scorecard's rule
finds it met); its Monte Carlo standard error is √(p(1 − p)/R), and the interval beside each answer is the
95% Wilson interval over the R replications. {{ criteria_note }}</p>
<p class="note">The answer is read from the simulated designs only. The logistic curve of each panel (a
regression of the replications' successes on log size; Schoemann, Boulton &amp; Short, 2017) interpolates
between them and is never used beyond the largest size simulated. References: MacKinnon, Lockwood, Hoffman,
West &amp; Sheets (2002), Psychological Methods 7:83–104; Fritz &amp; MacKinnon (2007), Psychological
Science 18:233–239; Preacher &amp; Selig (2012), Communication Methods and Measures 6:77–98; Cameron &amp;
Miller (2015), Journal of Human Resources 50:317–372; Wilson (1927), Journal of the American Statistical
Association 22:209–212.</p>

<details>
<summary>Settings</summary>
<dl class="settings">
{% for name, value in settings_rows %}<dt>{{ name }}</dt><dd>{{ value }}</dd>
{% endfor %}</dl>
</details>
</main>
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
    figure.savefig(svg, format="svg", metadata={"Date": None}, bbox_inches="tight")
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=150, bbox_inches="tight")
    plt.close(figure)
    text = svg.getvalue()
    return text[text.index("<svg") :], png.getvalue()


def _column_name(result: PowerResult, quantity: str) -> str:
    if quantity == result.headline:
        return f"Indirect effect ({quantity_label(quantity).split(', ', 1)[1]})"
    return quantity_label(quantity).removeprefix("criterion met: ")


def _answer_cell(row: pd.Series, unit: str, largest: float | None, single: bool) -> dict[str, str]:
    if row["status"] == "not testable":
        return {"kind": "untestable", "text": "not testable"}
    if row["status"] == "not judged":
        return {"kind": "untestable", "text": "not judged"}
    interval = f"{row['power']:.2f} ({row['low']:.2f}–{row['high']:.2f})"
    if single:
        reached = "reached" if row["status"] == "reached" else "not reached"
        return {"kind": row["status"].replace(" ", "-"), "text": reached, "detail": f"power {interval}"}
    if row["status"] == "reached":
        size = row["size"]
        text = f"{int(size)} {unit}" if size is not None and size == size else str(row["design"])
        return {"kind": "reached", "text": text, "detail": f"power {interval}"}
    if largest is None:
        return {"kind": "not-reached", "text": "not reached", "detail": f"largest: {interval}"}
    return {
        "kind": "not-reached",
        "text": f"> {int(largest)} {unit}",
        "detail": f"at {largest:g}: {interval}",
    }


def _answers_section(result: PowerResult, answers: pd.DataFrame, target: float) -> dict[str, Any]:
    dimension = str(answers["dimension"].iloc[0])
    single = len({(p.sites, p.per_site, p.waves) for p in result.points}) <= 1
    unit = _UNITS.get(dimension, "")
    values = result.table[dimension].dropna() if dimension in _UNITS else pd.Series(dtype=float)
    largest = float(values.max()) if not values.empty else None
    grouped, strategy = group_pathways(result.pathway_ids)
    labels = {pathway: label.removeprefix("→ ") for pathway, label in grouped if pathway is not None}
    quantities = list(dict.fromkeys(answers["quantity"]))
    rows = []
    untestable: dict[str, list[str]] = {}
    for pathway, label in grouped:
        if pathway is None:
            rows.append({"label": label, "heading": True, "cells": []})
            continue
        cells = []
        for quantity in quantities:
            row = answers[(answers["pathway"] == pathway) & (answers["quantity"] == quantity)].iloc[0]
            cells.append(_answer_cell(row, unit, largest, single))
            if row["status"] == "not testable":
                key = f"{quantity_label(quantity).removeprefix('criterion met: ')}: {row['reason']}"
                untestable.setdefault(key, []).append(labels[pathway])
        rows.append({"label": label, "heading": False, "cells": cells})
    if single:
        question = f"Does the design simulated reach power {target:.2f}?"
        lead = (
            "Per pathway and criterion: the power at the one design simulated, with its 95% Monte Carlo "
            "interval."
        )
    else:
        what = unit if dimension in _UNITS else "design"
        question = f"How many {what} reach power {target:.2f}?"
        lead = (
            f"Per pathway and criterion: the smallest number of {what} simulated whose power reached "
            f"{target:.2f}, with the power there and its 95% Monte Carlo interval (a power just above the "
            "target whose interval reaches below it may have reached it by chance: run more replications). "
            "The indirect effect's test is shown beside the criteria."
            if dimension in _UNITS
            else f"Per pathway and criterion: the smallest simulated design whose power reached {target:.2f}."
        )
    notes = []
    missing = answers[answers["status"] == "not reached"]
    if not missing.empty and not single and dimension in _UNITS:
        sweep = missing["next_sweep"].dropna()
        notes.append(
            f"“> {int(values.max())} {unit}”: not reached within the sizes simulated "
            f"({int(values.min())} to {int(values.max())} {unit}); no size beyond them is claimed. Simulate "
            f"larger sizes with {_OPTIONS[dimension]} {sweep.iloc[0] if not sweep.empty else ''}".rstrip()
            + "."
        )
    for reason, pathways in untestable.items():
        which = "every pathway" if len(pathways) == len(result.pathway_ids) else ", ".join(pathways)
        notes.append(f"Not testable ({which}). {reason[0].upper()}{reason[1:]}")
    judged = {q for q in quantities}
    skipped = [
        quantity_label(q).removeprefix("criterion met: ")
        for q in dict.fromkeys(result.table["quantity"])
        if q.startswith("criterion:") and q not in judged
    ]
    if skipped and result.settings.get("criteria") == "fast":
        notes.append(
            f"{', '.join(skipped)}: not judged by the fast engine; --criteria full scores every replication "
            "with moclab analyze (all seven criteria)."
        )
    return {
        "question": question,
        "lead": lead,
        "notes": notes,
        "columns": [_column_name(result, q) for q in quantities],
        "answer_rows": rows,
        "pathway_header": f"{strategy} → mechanism → outcome" if strategy else "Pathway",
    }


def _methods_sentence(result: PowerResult) -> str:
    """The tests run, each named once, the headline first."""
    methods = list(result.settings.get("methods", []))
    headline = result.settings.get("method")
    others = [_TESTS[m] for m in methods if m != headline and m in _TESTS]
    text = "The a and b paths are tested by their t tests; the indirect effect"
    if headline in _TESTS:
        text += f" by {_TESTS[headline]} (the headline test)"
    if others:
        text += (" and, for comparison, by " if headline in _TESTS else " by ") + _join(others)
    return text + "."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file renamed over the target: an interrupted run leaves the old file whole."""
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write_power_report(
    result: PowerResult,
    folder: str | Path,
    *,
    search: SampleSizeResult | Mapping[str, SampleSizeResult] | None = None,
    target: float | None = None,
    answers: pd.DataFrame | None = None,
) -> Path:
    """Write the power page, plot and tables into `folder`.

    `folder` is new, empty, or the output of an earlier moclab command (it holds moclab's marker): only the
    files written here are replaced; anything else in it is left alone.

    Parameters
    ----------
    result : PowerResult
    folder : str or Path
    search : SampleSizeResult or mapping of pathway id to SampleSizeResult, optional
        Logistic fits (`sample_size_search`) to draw and describe in the pathways' panels.
    target : float, optional
        The target power (default: the search's, else 0.8).
    answers : pandas.DataFrame, optional
        `power_answers` of `result` (computed for `target` when not given).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    MoclabError
        `folder` is a file, or a non-empty folder moclab did not write.

    Examples
    --------
    >>> import tempfile
    >>> from moclab.design import power_analysis
    >>> from moclab.design.render import write_power_report
    >>> result = power_analysis(
    ...     "recipient-pathway", sites=[6, 8], reps=10, pathways=["isp_support__trust__acceptability"],
    ...     method="joint", criteria="none", seed=1,
    ... )
    >>> folder = write_power_report(result, Path(tempfile.mkdtemp()) / "power", target=0.8)
    >>> sorted(path.name for path in folder.iterdir())
    ['.moclab-output', 'index.html', 'power.csv', 'power.json', 'power_curve.png', 'power_curve.svg']
    """
    from moclab.design.search import power_answers
    from moclab.outputs import mark_folder, marked_by
    from moclab.report.folder import check_report_folder

    folder = Path(folder)
    check_report_folder(folder)
    jinja2 = require("jinja2", "report", "the power report")  # before anything is written
    searches: dict[str, SampleSizeResult] = (
        {search.pathway: search} if isinstance(search, SampleSizeResult) else dict(search or {})
    )
    goal = target if target is not None else next((s.target for s in searches.values()), 0.8)
    answers = answers if answers is not None else power_answers(result, target=goal)
    if marked_by(folder) is None:
        mark_folder(folder, "power")
    try:
        _write_files(result, folder, searches, goal, answers, jinja2)
    except OSError as error:
        raise MoclabError(
            f"{display_path(folder)}: the power report could not be written ({error.strerror or error})",
            hint="check that the folder is writable and the disk is not full",
        ) from None
    return folder


def _write_files(
    result: PowerResult,
    folder: Path,
    searches: Mapping[str, SampleSizeResult],
    target: float,
    answers: pd.DataFrame,
    jinja2: Any,
) -> None:
    csv = result.table.to_csv(index=False, lineterminator="\n", float_format="%.6g")
    _write(folder / "power.csv", csv.encode("utf-8"))
    payload = result.to_dict()
    payload["answers"] = json.loads(answers.to_json(orient="records"))
    if searches:
        payload["sample_size"] = {pathway: search.to_dict() for pathway, search in searches.items()}
    _write(folder / "power.json", (json.dumps(payload, indent=2) + "\n").encode("utf-8"))
    varying = [name for name in ("sites", "per_site", "waves") if result.table[name].dropna().nunique() > 1]
    design_header = " × ".join(_UNITS[name] for name in varying or ["sites"])
    blocks = []
    for number, target_path in enumerate(result.targets):
        fit = searches.get(target_path.id)
        svg, png = _svg_text(result, target_path.id, fit, target)
        if number == 0:
            _write(folder / "power_curve.svg", svg.encode("utf-8"))
            _write(folder / "power_curve.png", png)
        how = (
            f"Mechanism at wave {target_path.mechanism_wave + 1}, "
            f"outcome at wave {target_path.outcome_wave + 1}"
            + (", adjusted for baselines" if target_path.baseline_wave is not None else "")
            + ("; recipients nested in sites (cluster-robust)" if target_path.clustered else "")
            + (
                f"; competing mechanisms: {', '.join(target_path.alternatives)}"
                if target_path.alternatives
                else "; no competing mechanism measured"
            )
            + "."
        )
        rows = result.table[result.table["pathway"] == target_path.id]
        reasons = rows.loc[
            ~rows["testable"].fillna(True).astype(bool) & rows["estimated"], ["label", "reason"]
        ]
        untestable = "; ".join(
            f"{label.removeprefix('criterion met: ')}: {reason}"
            for label, reason in reasons.drop_duplicates("label").itertuples(index=False)
        )
        powers = result.powers_by_design(target_path.id)
        blocks.append(
            {
                "label": target_path.label,
                "how": how,
                "fit": f"Logistic fit: {fit.sentence()}"
                if fit is not None and fit.dimension != "sites+per_site"
                else "",
                "svg": svg,
                "designs": list(powers.columns),
                "rows": [
                    {"label": label[0].upper() + label[1:], "powers": list(values)}
                    for label, values in powers.iterrows()
                ],
                "untestable": f"Not testable: {untestable}" if untestable else "",
            }
        )
    criteria = result.settings.get("criteria")
    criteria_note = {
        "fast": "The criteria are judged per replication by the scorecard's rules (moclab.evidence.rules): "
        "strong association, specificity and experimental manipulation; a criterion that was not testable "
        "in any replication has no power (shown as “not testable”, with the scorecard's reason), never "
        "power 0.",
        "full": "Every replication was scored by moclab.evidence.analyze (all seven criteria); a criterion "
        "that was not testable in any replication has no power (shown as “not testable”, with the reason).",
    }.get(str(criteria), "")
    settings = result.settings
    settings_rows = [
        ("replications per design", f"{settings['reps']:,}"),
        ("seed", str(settings["seed"])),
        ("headline test", quantity_label(result.headline)),
        ("criteria", str(criteria)),
        ("confidence level", f"{settings['level']:.3g}"),
        ("Monte Carlo draws", f"{settings['n_mc']:,}" if settings.get("n_mc") else "—"),
        ("bootstrap resamples", f"{settings['n_boot']:,}" if settings.get("n_boot") else "—"),
        ("designs", ", ".join(powers.columns)),
        ("time", f"{result.elapsed:.1f} s (work summed over workers: {result.compute_seconds:.1f} s)"),
    ]
    dimension = _dimension(result)
    values = result.table[dimension].dropna()
    scope = f"{len(result.targets)} pathway{'s' if len(result.targets) != 1 else ''}, "
    scope += f"{int(values.min())}" + (f" to {int(values.max())}" if values.max() != values.min() else "")
    scope += f" {_UNITS[dimension]}"
    page = (
        jinja2.Environment(autoescape=True)
        .from_string(_TEMPLATE)
        .render(
            model=result.model_id,
            version=__version__,
            created=datetime.date.today().isoformat(),
            scope=scope,
            settings=settings,
            settings_rows=settings_rows,
            axis=_AXIS_LABELS[dimension],
            design_header=design_header,
            pathways=blocks,
            methods=_methods_sentence(result),
            criteria_note=criteria_note,
            **_answers_section(result, answers, target),
        )
    )
    _write(folder / "index.html", page.encode("utf-8"))
