"""`moclab power MODEL-or-STUDY`: Monte Carlo power and sample size for establishing a mechanism.

MODEL is a model file, a study folder (a simulated study's own ``simulation.yaml`` is used as its spec) or a
template name (``recipient-pathway``, with its default spec). Every option and the output folder are checked
before the first simulation (docs/cli.md); then the command calls `moclab.design` and prints, by default, one
screen: per pathway and criterion, the smallest simulated design that reached the target power, with the
Monte Carlo interval of its power (`moclab.design.power_answers`). ``--verbose`` adds every power of every
design.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from moclab.errors import UsageError, display_path, require

if TYPE_CHECKING:
    from pandas import DataFrame

    from moclab.design import PowerResult
    from moclab.design.multilevel import Allocation

#: Short column names of the quantities in the terminal tables.
SHORT = {
    "a": "a path",
    "b": "b path",
    "indirect:joint": "joint test",
    "indirect:sobel": "Sobel test",
    "indirect:monte_carlo": "MC interval",
    "indirect:percentile": "bootstrap",
    "criterion:strong_association": "association",
    "criterion:specificity": "specificity",
    "criterion:consistency": "consistency",
    "criterion:experimental_manipulation": "manipulation",
    "criterion:timeline": "timeline",
    "criterion:gradient": "gradient",
    "criterion:plausibility": "plausibility",
}
_UNITS = {"sites": "sites", "per_site": "recipients per site", "waves": "waves"}
_OPTIONS = {"sites": "--sites", "per_site": "--per-site", "waves": "--waves"}


def _interval(low: float, high: float) -> str:
    """A 95% interval of a power, compactly: ``(.76–.99)``."""
    return f"({low:.2f}–{high:.2f})".replace("0.", ".").replace("1.00", "1")


#: The criteria of the compact summary's first table (read from the mediation model); the others (consistency,
#: timeline, gradient, plausibility) make a second table, so that each fits 80 columns.
MEDIATION_COLUMNS = (
    "criterion:strong_association",
    "criterion:specificity",
    "criterion:experimental_manipulation",
)


def answer_table(
    answers: DataFrame, result: PowerResult, target: float
) -> tuple[str, list[Table], list[str]]:
    """The compact summary: pathways in rows (under their mechanism), the criteria judged in columns (the
    headline test when none was); each cell the smallest simulated size that reached the target, with the
    95% Monte Carlo interval of the power there. With more than the three criteria read from the mediation
    model, those three make a first table and the others a second one, each within 80 columns.

    Returns the line that says how to read the tables, the tables, and their notes.
    """

    from moclab.design.results import group_pathways

    dimension = str(answers["dimension"].iloc[0])
    single = len(result.points) == 1
    rows, strategy = group_pathways(result.pathway_ids)
    labels = {pathway: label.removeprefix("→ ") for pathway, label in rows if pathway is not None}
    criteria = [q for q in dict.fromkeys(answers["quantity"]) if q.startswith("criterion:")]
    quantities = criteria or [result.headline]
    first = [q for q in quantities if q in MEDIATION_COLUMNS]
    groups = [first, [q for q in quantities if q not in first]] if len(quantities) > 4 else [quantities]
    tables = []
    for group in groups:
        table = Table(
            box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True, show_edge=False
        )
        table.add_column("mechanism → outcome" if strategy else "pathway", overflow="fold")
        for quantity in group:
            header = SHORT.get(quantity, quantity) if criteria else f"indirect ({SHORT[quantity]})"
            table.add_column(header, justify="right", no_wrap=True)
        tables.append((table, group))
    untestable: dict[str, list[str]] = {}
    largest = int(result.table[dimension].max()) if dimension in _UNITS else None
    for table, group in tables:
        for pathway, label in rows:
            if pathway is None:
                table.add_row(f"[bold]{label}[/]")
                continue
            table.add_row(
                f"  {label}" if strategy else label,
                *_answer_cells(answers, pathway, group, labels, untestable, single, largest),
            )
    of = f" ({strategy} → mechanism → outcome)" if strategy else ""
    if single:
        lead = (
            f"Power{of} at the one design simulated, per pathway and criterion, with its 95% Monte Carlo "
            f"interval (target {target:.2f}):"
        )
    elif dimension in _UNITS:
        lead = (
            f"{_UNITS[dimension].capitalize()} needed for power {target:.2f}{of}, per pathway and criterion: "
            "the smallest number simulated that reached it, and the 95% Monte Carlo interval of the power "
            "there:"
        )
    else:
        lead = (
            f"The smallest design simulated that reached power {target:.2f}{of}, per pathway and criterion:"
        )
    notes: list[str] = []
    missing = answers[answers["status"] == "not reached"]
    if not missing.empty and not single and dimension in _UNITS:
        low = int(result.table[dimension].min())
        sweep = missing["next_sweep"].dropna()
        notes.append(
            f"> {largest}: not reached within the sizes simulated ({low} to {largest} {_UNITS[dimension]}; "
            f"the interval is the power at {largest}); simulate larger sizes with {_OPTIONS[dimension]} "
            f"{sweep.iloc[0] if not sweep.empty else ''}".rstrip()
            + "."
        )
    for reason, pathways in untestable.items():
        which = "every pathway" if len(pathways) == len(result.pathway_ids) else ", ".join(pathways)
        notes.append(f"not testable ({which}): {reason}")
    unjudged = [
        SHORT.get(q, q)
        for q in quantities
        if (answers.loc[answers["quantity"] == q, "status"] == "not judged").all()
    ]
    skipped = [
        SHORT[q]
        for q in dict.fromkeys(result.table["quantity"])
        if q.startswith("criterion:") and q not in quantities
    ]
    if (unjudged or skipped) and result.settings.get("criteria") == "fast":
        notes.append(
            f"{', '.join(unjudged + skipped)}: not judged by the fast engine (--criteria full judges them)."
        )
    return lead, [table for table, _ in tables], notes


def _answer_cells(
    answers: DataFrame,
    pathway: str,
    quantities: list[str],
    labels: dict[str, str],
    untestable: dict[str, list[str]],
    single: bool,
    largest: int | None,
) -> list[str]:
    """One pathway's cells of the compact summary; the reasons of untestable criteria go to `untestable`."""
    import pandas as pd

    from moclab.design import quantity_label

    cells = []
    for quantity in quantities:
        row = answers[(answers["pathway"] == pathway) & (answers["quantity"] == quantity)].iloc[0]
        if row["status"] == "not judged":
            cells.append("—")
            continue
        if row["status"] == "not testable":
            cells.append("not testable")
            reason = f"{quantity_label(quantity).removeprefix('criterion met: ')}: {row['reason']}"
            untestable.setdefault(reason, []).append(labels[pathway])
            continue
        interval = _interval(row["low"], row["high"])
        if single:
            cells.append(f"{row['power']:.2f} {interval}")
        elif row["status"] == "reached":
            size = row["size"]
            cells.append(f"{int(size) if pd.notna(size) else row['design']} {interval}")
        else:
            cells.append(f"> {largest} {interval}" if largest is not None else f"no {interval}")
    return cells


def full_table(result: PowerResult, pathway: str) -> Table:
    """Every power of one pathway: quantities in rows, designs in columns (``--verbose``)."""
    from moclab.design import pathway_label

    powers = result.powers_by_design(pathway, short=SHORT)
    varying = [name for name in ("sites", "per_site", "waves") if result.table[name].dropna().nunique() > 1]
    table = Table(
        title=pathway_label(pathway),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        caption="power (criteria: share of replications met); —: not testable",
        caption_justify="left",
    )
    table.add_column(" × ".join(_UNITS[name] for name in varying or ["sites"]), overflow="fold")
    for name in powers.columns:
        table.add_column(name, justify="right")
    for label, values in powers.iterrows():
        table.add_row(str(label), *values)
    return table


def _check_options(
    *,
    reps: int,
    target: float,
    cost_site: float | None,
    cost_recipient: float | None,
    n_mc: int,
    n_boot: int,
    jobs: int,
    seed: int | None,
    method: str,
    criteria: str,
) -> None:
    """Every option whose value can be checked without the model, as usage errors (docs/cli.md)."""
    from moclab.design.power import METHOD_ALIASES

    if reps < 1:
        raise UsageError(f"--reps {reps}: give at least 1 replication per design", hint="e.g. --reps 1000")
    if not 0 < target < 1:
        raise UsageError(f"--target {target}: a power lies between 0 and 1", hint="e.g. --target 0.8")
    for option, cost in (("--cost-site", cost_site), ("--cost-recipient", cost_recipient)):
        if cost is not None and (cost < 0 or not math.isfinite(cost)):
            raise UsageError(f"{option} {cost}: a cost is a number of at least 0")
    for option, value in (("--n-mc", n_mc), ("--n-boot", n_boot)):
        if value < 100:
            raise UsageError(f"{option} {value}: give at least 100", hint=f"e.g. {option} 1000")
    if jobs == 0:
        raise UsageError("--jobs 0: give the number of worker processes, or -1 for every core")
    if seed is not None and seed < 0:
        raise UsageError(f"--seed {seed}: a seed is a whole number of at least 0")
    if method.strip().lower() not in METHOD_ALIASES:
        raise UsageError(
            f"--method {method}: unknown method",
            hint="choose boot (percentile bootstrap), mc (Monte Carlo interval) or joint",
        )
    if criteria not in ("fast", "full", "none"):
        raise UsageError(f"--criteria {criteria}: choose fast, full or none")


def power(
    model: Annotated[
        str, typer.Argument(help="A model YAML file, a study folder or a template name (recipient-pathway).")
    ],
    sites: Annotated[
        str | None, typer.Option("--sites", help="Sites, each run: 30, a list 10,20,40 or a sweep 10:60:10.")
    ] = None,
    per_site: Annotated[
        str | None,
        typer.Option("--per-site", help="Recipients per site, each run: 20, 10,20 or 10:40:10."),
    ] = None,
    waves: Annotated[str | None, typer.Option("--waves", help="Waves, each run: 3, 2,3 or 2:4.")] = None,
    reps: Annotated[int, typer.Option("--reps", help="Replications (simulated studies) per design.")] = 1000,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="Headline test: boot (percentile bootstrap, as moclab analyze), mc (Monte Carlo, faster), "
            "joint.",
        ),
    ] = "boot",
    target: Annotated[float, typer.Option("--target", help="Target power, between 0 and 1.")] = 0.8,
    cost_site: Annotated[float | None, typer.Option("--cost-site", help="Cost per site.")] = None,
    cost_recipient: Annotated[
        float | None, typer.Option("--cost-recipient", help="Cost per recipient.")
    ] = None,
    pathway: Annotated[
        list[str] | None,
        typer.Option("--pathway", "-p", help="Pathway id to test (repeatable; default all)."),
    ] = None,
    criteria: Annotated[
        str,
        typer.Option("--criteria", help="fast (from the analyses), full (moclab analyze per study), none."),
    ] = "fast",
    spec: Annotated[
        Path | None,
        typer.Option("--spec", "-s", help="Simulation spec (YAML); default: the model's default."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed (same seed, same results).")] = None,
    n_mc: Annotated[int, typer.Option("--n-mc", help="Monte Carlo draws per replication.")] = 10_000,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples per replication.")] = 1000,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786).")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Local worker processes (-1: every core).")] = 1,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Folder for the page, plot and tables (new or empty; --force to replace)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output of an earlier `moclab power` in that folder.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Print every power of every design, and the fitted sizes.")
    ] = False,
) -> None:
    """Monte Carlo power of a pathway model by number of sites, recipients and waves, and the sample size
    needed to reach a target power."""
    from moclab.cli.conventions import check_output_folder, mark_output_folder, parse_sweep
    from moclab.design import power_analysis, power_answers, sample_size_search
    from moclab.design.render import write_power_report
    from moclab.model import find_model, load_model
    from moclab.simulate import load_spec

    # Check first (docs/cli.md): every value, the output folder and the extras, before any simulation.
    sizes = {
        name: parse_sweep(text, _OPTIONS[name]) if text is not None else None
        for name, text in (("sites", sites), ("per_site", per_site), ("waves", waves))
    }
    _check_options(
        reps=reps,
        target=target,
        cost_site=cost_site,
        cost_recipient=cost_recipient,
        n_mc=n_mc,
        n_boot=n_boot,
        jobs=jobs,
        seed=seed,
        method=method,
        criteria=criteria,
    )
    inputs = [Path(model)] if Path(model).exists() else []
    inputs += [spec] if spec is not None else []
    if output is not None:
        check_output_folder(output, force=force, command="power", inputs=inputs)
        require("jinja2", "report", "the power report (-o)")
    if scheduler is not None:
        require("distributed", "dask", "running on a Dask cluster (--scheduler)")
    pathway_model = load_model(find_model(model))
    chosen_spec = spec
    if chosen_spec is None and Path(model).is_dir() and (Path(model) / "simulation.yaml").is_file():
        chosen_spec = Path(model) / "simulation.yaml"
    spec_object = load_spec(chosen_spec) if chosen_spec is not None else None
    result = power_analysis(
        pathway_model,
        spec_object,
        **sizes,
        reps=reps,
        method=method,
        pathways=pathway or None,
        criteria=criteria,
        n_mc=n_mc,
        n_boot=n_boot,
        seed=seed,
        n_jobs=jobs,
        scheduler=scheduler,
        show_progress=True,
    )
    console = Console(highlight=False)
    answers = power_answers(result, target=target, cost_site=cost_site, cost_recipient=cost_recipient)
    designs = _designs_text(result)
    console.print(
        f"[bold]Power of {result.model_id}[/]: {len(result.targets)} pathway"
        f"{'s' if len(result.targets) != 1 else ''}, {designs}, {result.settings['reps']} replications per "
        f"design (seed {result.settings['seed']}, {result.elapsed:.1f} s)"
    )
    lead, tables, notes = answer_table(answers, result, target)
    console.print(lead, markup=False)
    for table in tables:
        console.print(table)
    for note in notes:
        console.print(note, markup=False)
    varying = [n for n in ("sites", "per_site", "waves") if result.table[n].dropna().nunique() > 1]
    has_costs = cost_site is not None or cost_recipient is not None
    searches = {}
    if varying and (len(varying) == 1 or has_costs):
        searches = {
            target_path.id: sample_size_search(
                result,
                target=target,
                pathway=target_path.id,
                cost_site=cost_site,
                cost_recipient=cost_recipient,
            )
            for target_path in result.targets
        }
    if verbose:
        for target_path in result.targets:
            console.print()
            console.print(full_table(result, target_path.id))
            search = searches.get(target_path.id)
            if search is not None:
                console.print(f"Fitted curve: {search.sentence()}", markup=False)
                for note in search.notes:
                    console.print(f"note: {note}", markup=False)
    if output is not None:
        mark_output_folder(output, "power")
        write_power_report(result, output, search=searches, target=target, answers=answers)
        console.print(
            f"The page, plot and tables: {display_path(output)}/index.html (power.csv, power.json, "
            "power_curve.svg/.png)." + ("" if verbose else " Every power of every design: --verbose."),
            markup=False,
        )
    elif not verbose:
        console.print("Every power of every design: --verbose; the page and tables: -o FOLDER.", markup=False)


def _designs_text(result: PowerResult) -> str:
    parts = []
    for name in ("sites", "per_site", "waves"):
        values = result.table[name].dropna()
        if values.empty:
            continue
        low, high = int(values.min()), int(values.max())
        parts.append(f"{low}{f' to {high}' if high != low else ''} {_UNITS[name]}")
    return ", ".join(parts) or "the spec's design"


# --------------------------------------------------------------------------------------------------------
# moclab power-multilevel: analytic power of two-level mediation designs, and the cheapest allocation
# --------------------------------------------------------------------------------------------------------

#: The tests of the indirect effect in the multilevel table, by column.
_ML_COLUMNS = {
    "power_a": "a path",
    "power_b": "b path",
    "power_b_within": "b within",
    "power_joint": "joint test",
    "power_sobel": "Sobel test",
    "power_monte_carlo": "MC interval",
}


def _check_multilevel_options(
    *,
    design: str,
    icc_m: float | None,
    icc_y: float,
    r2: dict[str, float],
    treated: float,
    alpha: float,
    budget: float | None,
    target: float | None,
    cost_site: float | None,
    cost_recipient: float | None,
    n_mc: int,
    seed: int | None,
) -> None:
    """The option values that can be wrong on their own, named as the user typed them (docs/cli.md)."""
    from moclab.design.multilevel import DESIGNS

    if design not in DESIGNS:
        raise UsageError(f"--design {design}: unknown design", hint=f"choose {', '.join(DESIGNS)}")
    for option, value in (("--icc-m", icc_m), ("--icc-y", icc_y)):
        if value is not None and not 0 <= value < 1:
            raise UsageError(f"{option} {value}: an ICC lies in [0, 1)", hint="e.g. 0.1")
    for option, value in r2.items():
        if not 0 <= value < 1:
            raise UsageError(f"{option} {value}: an R² lies in [0, 1)")
    if not 0 < treated < 1:
        raise UsageError(f"--treated {treated}: the treated share lies in (0, 1)", hint="e.g. 0.5")
    if not 0 < alpha < 1:
        raise UsageError(f"--alpha {alpha}: a significance level lies in (0, 1)", hint="e.g. 0.05")
    if budget is not None and target is not None:
        raise UsageError(
            "--budget and --target: give one of them", hint="a budget to spend or a power to reach"
        )
    if target is not None and not 0 < target < 1:
        raise UsageError(f"--target {target}: a power lies between 0 and 1", hint="e.g. --target 0.8")
    if (budget is not None or target is not None) and (cost_site is None or cost_recipient is None):
        raise UsageError(
            "--budget and --target need --cost-site and --cost-recipient",
            hint="e.g. --cost-site 5000 --cost-recipient 50",
        )
    for option, cost in (
        ("--cost-site", cost_site),
        ("--cost-recipient", cost_recipient),
        ("--budget", budget),
    ):
        if cost is not None and (cost < 0 or not math.isfinite(cost)):
            raise UsageError(f"{option} {cost}: a cost is a number of at least 0")
    if n_mc < 100:
        raise UsageError(f"--n-mc {n_mc}: give at least 100", hint="e.g. --n-mc 2000")
    if seed is not None and seed < 0:
        raise UsageError(f"--seed {seed}: a seed is a whole number of at least 0")


def _format_power(value: float) -> str:
    return "—" if value != value else f"{value:.3f}"


def power_multilevel(
    design: Annotated[
        str,
        typer.Option("--design", help="2-1-1, 2-2-1 (sites randomized) or 1-1-1 (randomized within sites)."),
    ] = "2-1-1",
    sites: Annotated[
        str | None, typer.Option("--sites", help="Sites: 30, a list 10,20,40 or a sweep 10:60:10.")
    ] = None,
    per_site: Annotated[
        str | None, typer.Option("--per-site", help="Recipients per site: 20, 10,20 or 10:40:10.")
    ] = None,
    a: Annotated[float, typer.Option("--a", help="Strategy → mechanism, in SDs of the mechanism.")] = 0.5,
    b: Annotated[
        float,
        typer.Option(
            "--b", help="Mechanism → outcome (2-1-1: between sites, on the site mean of the mechanism)."
        ),
    ] = 0.4,
    b_within: Annotated[
        float, typer.Option("--b-within", help="2-1-1: within-site slope of the mechanism on the outcome.")
    ] = 0.0,
    direct: Annotated[float, typer.Option("--direct", help="Direct effect c' of the strategy.")] = 0.0,
    icc_m: Annotated[
        float | None, typer.Option("--icc-m", help="ICC of the mechanism (2-1-1, 1-1-1).")
    ] = None,
    icc_y: Annotated[float, typer.Option("--icc-y", help="ICC of the outcome.")] = 0.1,
    r2_m1: Annotated[float, typer.Option("--r2-m1", help="R² of covariates, mechanism, within sites.")] = 0.0,
    r2_m2: Annotated[
        float, typer.Option("--r2-m2", help="R² of covariates, mechanism, between sites.")
    ] = 0.0,
    r2_y1: Annotated[float, typer.Option("--r2-y1", help="R² of covariates, outcome, within sites.")] = 0.0,
    r2_y2: Annotated[float, typer.Option("--r2-y2", help="R² of covariates, outcome, between sites.")] = 0.0,
    a_variance: Annotated[
        float, typer.Option("--a-variance", help="1-1-1: variance of the site-specific a paths (omega).")
    ] = 0.0,
    treated: Annotated[float, typer.Option("--treated", help="Share given the strategy, in (0, 1).")] = 0.5,
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided significance level.")] = 0.05,
    mc: Annotated[bool, typer.Option("--mc", help="Add the Monte Carlo interval test (simulated).")] = False,
    n_mc: Annotated[int, typer.Option("--n-mc", help="Simulated studies and draws of the MC test.")] = 2000,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the MC test.")] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", help="Spend this budget on the design with the most power.")
    ] = None,
    target: Annotated[
        float | None, typer.Option("--target", help="Find the cheapest design reaching this power.")
    ] = None,
    cost_site: Annotated[float | None, typer.Option("--cost-site", help="Cost per site.")] = None,
    cost_recipient: Annotated[
        float | None, typer.Option("--cost-recipient", help="Cost per recipient.")
    ] = None,
    test: Annotated[
        str, typer.Option("--test", help="Test the allocation optimizes: joint, sobel, a or b.")
    ] = "joint",
) -> None:
    """Analytic power of two-level mediation designs (2-1-1, 2-2-1, 1-1-1) and the cheapest allocation.

    Standard errors of Kelcey, Dong & Spybrook (2017) for 2-1-1 and 2-2-1 (as PowerUpR), of odr's
    power.2m.111 for 1-1-1; with --budget or --target and costs, the allocation of sites and recipients
    that makes the most of the budget or reaches the power at least cost (docs/power.md).
    """
    from moclab.cli.conventions import parse_sweep
    from moclab.design.multilevel import MultilevelMediationDesign, multilevel_power, optimal_allocation
    from moclab.errors import MoclabError

    allocating = budget is not None or target is not None
    grid = {
        name: parse_sweep(text, option) if text is not None else None
        for name, option, text in (("sites", "--sites", sites), ("per_site", "--per-site", per_site))
    }
    r2 = {"--r2-m1": r2_m1, "--r2-m2": r2_m2, "--r2-y1": r2_y1, "--r2-y2": r2_y2}
    _check_multilevel_options(
        design=design,
        icc_m=icc_m,
        icc_y=icc_y,
        r2=r2,
        treated=treated,
        alpha=alpha,
        budget=budget,
        target=target,
        cost_site=cost_site,
        cost_recipient=cost_recipient,
        n_mc=n_mc,
        seed=seed,
    )
    if not allocating and (grid["sites"] is None or grid["per_site"] is None):
        raise UsageError(
            "give --sites and --per-site (the designs to compute), or --budget or --target with costs",
            hint="e.g. --sites 20:80:20 --per-site 10,20",
        )
    if allocating and grid["sites"] is not None:
        raise UsageError("--sites with --budget or --target: the allocation chooses the number of sites")
    try:
        plan = MultilevelMediationDesign(
            design,
            a=a,
            b=b,
            icc_y=icc_y,
            icc_m=icc_m,
            b_within=b_within,
            direct=direct,
            r2_m1=r2_m1,
            r2_m2=r2_m2,
            r2_y1=r2_y1,
            r2_y2=r2_y2,
            a_variance=a_variance,
            p=treated,
            alpha=alpha,
        )
    except MoclabError as error:  # effects the ICCs cannot hold: the options, not the data, are wrong
        raise UsageError(error.message, hint=error.hint) from error
    console = Console(highlight=False)
    if allocating:
        sizes = grid["per_site"] or [2]
        fewest = plan.min_sites * (cost_site + min(sizes) * cost_recipient)  # type: ignore[operator]
        if budget is not None and budget < fewest:
            raise UsageError(
                f"--budget {budget:,.0f} does not pay for the {plan.min_sites} sites a {design} design needs "
                f"at the least (cost {fewest:,.0f})",
                hint="raise the budget or lower the costs",
            )
        if test not in ("joint", "sobel", "a", "b"):
            raise UsageError(f"--test {test}: choose joint, sobel, a or b")
        best = optimal_allocation(
            plan,
            cost_site=float(cost_site),  # type: ignore[arg-type]
            cost_recipient=float(cost_recipient),  # type: ignore[arg-type]
            budget=budget,
            target=target,
            test=test,
            **({"per_site": grid["per_site"]} if grid["per_site"] is not None else {}),
        )
        console.print(best.sentence(), markup=False)
        _print_allocation_neighbours(console, best)
        return
    tests = ["joint", "sobel", *(["monte_carlo"] if mc else [])]
    table = multilevel_power(
        plan, grid["sites"], grid["per_site"], tests=tests, n_sims=n_mc, n_draws=n_mc, seed=seed
    )
    source = "odr power.2m.111" if design == "1-1-1" else "Kelcey, Dong & Spybrook 2017"
    console.print(f"[bold]{design} mediation[/], analytic power ({source}); a = {a}, b = {b}, α = {alpha}:")
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    out.add_column("sites", justify="right")
    out.add_column("per site", justify="right")
    # b within carries no indirect effect; its power is shown only when the plan gives it an effect
    columns = [c for c in _ML_COLUMNS if c in table and (c != "power_b_within" or b_within != 0)]
    for column in columns:
        out.add_column(_ML_COLUMNS[column], justify="right")
    for _, row in table.iterrows():
        out.add_row(str(row["sites"]), str(row["per_site"]), *(_format_power(row[c]) for c in columns))
    console.print(out)
    if mc:
        console.print(
            f"MC interval: {n_mc} simulated studies of {n_mc} draws each (Monte Carlo SE ≤ "
            f"{0.5 / math.sqrt(n_mc):.3f}).",
            markup=False,
        )
    if table["power_joint"].isna().any():
        console.print(
            f"—: fewer than {plan.min_sites} sites leave a path no degrees of freedom.", markup=False
        )


def _print_allocation_neighbours(console: Console, best: Allocation) -> None:
    """The best design of the site sizes around the optimum, so the flatness of the optimum shows."""
    nearby = best.neighbours()
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    for name in ("per site", "sites", "cost", "power"):
        out.add_column(name, justify="right")
    for _, row in nearby.iterrows():
        mark = " ←" if int(row["per_site"]) == best.per_site else ""
        out.add_row(
            str(int(row["per_site"])),
            str(int(row["sites"])),
            f"{row['cost']:,.0f}",
            f"{row['power']:.3f}{mark}",
        )
    console.print(out)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("power")(power)
    app.command("power-multilevel")(power_multilevel)
