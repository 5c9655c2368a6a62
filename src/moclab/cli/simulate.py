"""`moclab simulate MODEL -o STUDY/`: a simulated study folder with its known truth.

MODEL is a model YAML file, a study folder or a template name (``recipient-pathway``). The spec comes from
``--spec`` or, without it, the model's default spec (``--print-spec`` shows it, to copy and adapt). A few
design keys can be changed on the command line (``--sites``, ``--per-site``, ``--waves``). The command
only parses, calls `moclab.simulate` and prints; problems are `MoclabError`s printed without a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from moclab.cli.conventions import check_output_folder, parse_draw_range, staged_folder
from moclab.cli.output import errors_exit
from moclab.errors import UsageError, display_path


def _per_site(text: str) -> Any:
    """``50`` (every site), ``30..70`` (drawn per site, both included) or ``~50`` (Poisson with that mean)."""
    text = text.strip()
    if text.startswith("~") and text[1:].strip().isdigit():
        return {"mean": int(text[1:]), "distribution": "poisson"}
    low, high = parse_draw_range(text, "--per-site")
    return low if low == high else {"range": [low, high]}


def simulate(
    model: Annotated[
        str, typer.Argument(help="A model YAML file, a study folder or a template name (recipient-pathway).")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="The study folder to write (new or empty).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the study an earlier `moclab simulate` wrote in -o.")
    ] = False,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", "-s", help="Simulation spec (YAML); default: the model's default."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed; default: the spec's seed.")] = None,
    sites: Annotated[
        int | None, typer.Option("--sites", min=1, help="Number of sites (overrides the spec).")
    ] = None,
    per_site: Annotated[
        str | None,
        typer.Option(
            "--per-site", help="Recipients per site: 50, a range to draw from 30..70, or ~50 (Poisson)."
        ),
    ] = None,
    waves: Annotated[
        int | None,
        typer.Option("--waves", min=1, help="Number of waves, 6 months apart (overrides the spec)."),
    ] = None,
    print_spec: Annotated[
        bool, typer.Option("--print-spec", help="Print the spec that would be used (YAML) and stop.")
    ] = False,
) -> None:
    """Simulate a study of a pathway model: a study folder plus truth.json, the true effects."""
    import yaml

    from moclab.model import find_model, load_model
    from moclab.simulate import compile_simulation, default_spec, load_spec

    console = Console(highlight=False)
    with errors_exit():
        recipients = _per_site(per_site) if per_site is not None else None
        if output is None and not print_spec:
            raise UsageError("say where to write the study with -o FOLDER", hint="or use --print-spec")
        path = find_model(model)
        if output is not None and not print_spec:
            inputs = [path] + ([spec] if spec is not None else [])
            check_output_folder(output, force=force, command="simulate", inputs=inputs)
        pathway_model = load_model(path)
        chosen = load_spec(spec) if spec is not None else default_spec(pathway_model)
        changes: dict[str, Any] = {}
        if sites is not None:
            changes["sites"] = sites
        if recipients is not None:
            changes["recipients"] = recipients
        if waves is not None:
            changes["waves"] = {"count": waves, "interval_months": 6}
        if changes:
            chosen = chosen.with_design(**changes)
        if print_spec or output is None:  # without --print-spec, a missing -o was refused above
            typer.echo(yaml.safe_dump(chosen.to_yaml_dict(), sort_keys=False, allow_unicode=True, width=110))
            return
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task("checking the spec against the model", total=3)
            plan = compile_simulation(pathway_model, chosen)
            progress.update(task, advance=1, description="drawing the study")
            study = plan.study(seed)
            progress.update(task, advance=1, description=f"writing {display_path(output)}")
            with staged_folder(output, "simulate") as staging:
                study.write(staging)
            progress.update(task, advance=1)
    truth = study.truth
    realised = truth.realised
    console.print(
        f"[bold]{study.config['title']}[/]: {realised['recipients']} recipients in "
        f"{realised['sites']} sites, {len(truth.waves)} waves, seed {study.seed}"
    )
    last = truth.waves[-1]
    table = Table(title="True indirect effects per pathway (standardized)", title_justify="left")
    table.add_column("pathway (to its first outcome)")
    table.add_column("a·b", justify="right")
    table.add_column("final outcome", justify="left")
    table.add_column(f"effect at {last}", justify="right")
    table.add_column("null")
    for entry in truth.pathways:
        first, reach = next(iter(entry["by_outcome"].items()))
        shown = entry["nodes"][: entry["nodes"].index(first) + 1]
        table.add_row(
            " → ".join(shown),
            f"{reach['structural']:.3f}",
            entry["outcome"],
            f"{entry['by_wave'][last]:.4f}",
            "null" if entry["null"] else "",
        )
    console.print(table)
    console.print(f"null mechanisms: {', '.join(truth.null_mechanisms) or 'none'}")
    qual = ", qual/" if (output / "qual").is_dir() else ""
    console.print(
        f"wrote {display_path(output)} (moclab.yaml, model.yaml, simulation.yaml, truth.json, data/{qual})"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("simulate")(simulate)
