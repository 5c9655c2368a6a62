"""`moclab power MODEL-or-STUDY`: Monte Carlo power and sample size for establishing a mechanism.

MODEL is a model file, a study folder (a simulated study's own ``simulation.yaml`` is used as its spec) or a
template name (``recipient-pathway``, with its default spec). The command only parses the options, calls
`moclab.design` and prints; problems are `MoclabError`s printed without a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from moclab.errors import MoclabError, display_path, require

_SIZES = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*(?::\s*(\d+)\s*)?$")


def parse_sizes(text: str | None, option: str) -> list[int] | None:
    """``30`` (one size), ``10,20,40`` (a list) or ``10:60:10`` (from 10 to 60 in steps of 10; ``10:14``
    counts by one)."""
    if text is None:
        return None
    match = _SIZES.match(text)
    if match:
        start, stop, step = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
        if step < 1 or stop < start or start < 1:
            raise MoclabError(
                f"{option} '{text}' is not a range START:STOP:STEP with 1 <= START <= STOP and STEP >= 1"
            )
        return list(range(start, stop + 1, step))
    parts = [part.strip() for part in text.split(",")]
    if all(part.isdigit() and int(part) >= 1 for part in parts):
        return sorted({int(part) for part in parts})
    raise MoclabError(
        f"{option} '{text}' is not a size",
        hint="write 30 (one size), 10,20,40 (a list) or 10:60:10 (from 10 to 60 in steps of 10)",
    )


_SHORT = {
    "a": "a",
    "b": "b",
    "indirect:joint": "joint",
    "indirect:sobel": "Sobel",
    "indirect:monte_carlo": "MC",
    "indirect:percentile": "boot",
    "criterion:strong_association": "association",
    "criterion:specificity": "specificity",
    "criterion:consistency": "consistency",
    "criterion:experimental_manipulation": "manipulation",
    "criterion:timeline": "timeline",
    "criterion:gradient": "gradient",
    "criterion:plausibility": "plausibility",
}


def _design_name(row: object) -> str:
    name = f"{int(row['sites'])} sites"  # type: ignore[index]
    if row["per_site"] == row["per_site"] and row["per_site"] is not None:  # type: ignore[index]
        name += f" × {int(row['per_site'])}"  # type: ignore[index]
    if row["waves"] == row["waves"] and row["waves"] is not None:  # type: ignore[index]
        name += f", {int(row['waves'])} waves"  # type: ignore[index]
    return name


def power(
    model: Annotated[
        str, typer.Argument(help="A model YAML file, a study folder or a template name (recipient-pathway).")
    ],
    sites: Annotated[str | None, typer.Option("--sites", help="Sites: 30, 10,20,40 or 10:60:10.")] = None,
    per_site: Annotated[
        str | None, typer.Option("--per-site", help="Recipients per site: 20, 10,20 or 10:40:10.")
    ] = None,
    waves: Annotated[str | None, typer.Option("--waves", help="Waves: 3, or a range 2:4.")] = None,
    reps: Annotated[int, typer.Option("--reps", help="Replications (simulated studies) per design.")] = 1000,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="Headline test: boot (percentile bootstrap, as moclab analyze), mc (Monte Carlo, faster), "
            "joint.",
        ),
    ] = "boot",
    target: Annotated[float, typer.Option("--target", help="Target power for the sample-size search.")] = 0.8,
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
        typer.Option("-o", "--output", help="Folder for the plot, table and HTML page (new or empty)."),
    ] = None,
) -> None:
    """Monte Carlo power of a pathway model by number of sites, recipients and waves, and the sample size
    needed to reach a target power."""
    from moclab.design import power_analysis, sample_size_search
    from moclab.design.render import write_power_report
    from moclab.model import find_model, load_model
    from moclab.simulate import load_spec

    console = Console(highlight=False, soft_wrap=True)
    if output is not None and output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise MoclabError(
            f"{display_path(output)} is not empty; moclab never overwrites files",
            hint="give a new folder name (it is created), or an empty folder",
        )
    # A missing extra is named before the simulations run, not after.
    if output is not None:
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
        sites=parse_sizes(sites, "--sites"),
        per_site=parse_sizes(per_site, "--per-site"),
        waves=parse_sizes(waves, "--waves"),
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
    console.print(
        f"[bold]Power of {result.model_id}[/]: {result.settings['reps']} replications per design, seed "
        f"{result.settings['seed']}, {result.elapsed:.1f} s"
    )
    for target_path in result.targets:
        rows = result.table[(result.table["pathway"] == target_path.id) & result.table["estimated"]]
        labels = list(dict.fromkeys(rows["quantity"]))
        table = Table(
            title=target_path.label,
            title_justify="left",
            caption=f"power (criteria: share met); Monte Carlo SE at most {rows['mc_se'].max():.3f}",
            caption_justify="left",
        )
        table.add_column("design", no_wrap=True)
        table.add_column("mean n", justify="right")
        for quantity in labels:
            table.add_column(_SHORT.get(quantity, quantity), justify="right")
        for _, group in rows.groupby(["sites", "per_site", "waves"], dropna=False, sort=True):
            cells = group.set_index("quantity")
            first = group.iloc[0]
            table.add_row(
                _design_name(first),
                f"{first['n']:.0f}",
                *[f"{cells.loc[quantity, 'power']:.2f}" for quantity in labels],
            )
        console.print(table)
    search = None
    varying = [n for n in ("sites", "per_site", "waves") if result.table[n].dropna().nunique() > 1]
    if varying and (len(varying) == 1 or cost_site is not None or cost_recipient is not None):
        search = sample_size_search(result, target=target, cost_site=cost_site, cost_recipient=cost_recipient)
        console.print(search.sentence())
        for note in search.notes:
            console.print(f"[yellow]note:[/] {note}")
    if output is not None:
        write_power_report(result, output, search=search, target=target)
        console.print(
            f"wrote {display_path(output)} (index.html, power.csv, power.json, power_curve.svg/.png)"
        )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("power")(power)
