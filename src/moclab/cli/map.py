"""`moclab map FOLDER...`: the evidence map of many studies' evidence records.

Everything is checked before the map is built: the output folder (``-o``, by the rules of docs/cli.md) and
the `report` extra the page needs; then every record of every folder (all problems at once, each at its
YAML line or JSON pointer). The command prints one screen: what was read, the mechanism × criterion matrix
(studies that met each criterion, of those that judged it), the verdict of consistency across studies of
each pathway, the gaps, and where the map is; ``--verbose`` adds every reason, refusal and duplicate;
``--json`` prints map.json.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from moclab.cli.conventions import check_output_folder, mark_output_folder
from moclab.cli.output import errors_exit

if TYPE_CHECKING:
    from moclab.mapping import EvidenceMap

#: Pathways listed by the one-screen summary (the rest are in the map and in --verbose).
SHOWN_PATHWAYS = 8


def _matrix_table(evidence_map: EvidenceMap) -> Table:
    from moclab.evidence.verdicts import CRITERIA
    from moclab.mapping import COLUMNS

    short = {criterion.id: criterion.short for criterion in CRITERIA}
    table = Table(
        box=box.SIMPLE_HEAVY, title="Studies that met each criterion / that judged it", title_justify="left"
    )
    table.add_column("mechanism", overflow="fold", min_width=12)
    for column, _ in COLUMNS:
        table.add_column(short.get(column, "across"), justify="right", no_wrap=True)
    matrix = evidence_map.matrix()
    for mechanism in evidence_map.mechanisms:
        cells = matrix[mechanism.key]
        table.add_row(
            mechanism.label, *(f"{cells[column]['met']}/{cells[column]['judged']}" for column, _ in COLUMNS)
        )
    return table


def _print_wrapped(console: Console, text: str, *, indent: int = 0, style: str | None = None) -> None:
    """`text` wrapped to the console's width, later lines indented by four more spaces."""
    width = max(console.width, 40)
    lines = textwrap.wrap(text, width, initial_indent=" " * indent, subsequent_indent=" " * (indent + 4))
    console.print("\n".join(lines), markup=False, style=style, no_wrap=True, overflow="fold")


def print_map_summary(console: Console, evidence_map: EvidenceMap, *, verbose: bool) -> None:
    """What `moclab map` prints: the counts, the matrix, consistency across studies, the gaps."""
    from moclab.report.page import unsign_zeros

    counts = evidence_map.counts()
    _print_wrapped(
        console,
        f"Evidence map: {counts['records']} record(s) of {counts['studies']} stud(ies) "
        f"({counts['synthetic_studies']} synthetic, {counts['illustrative_studies']} illustrative), "
        f"{counts['mechanisms']} mechanism(s), {counts['pathways']} pathway(s); "
        f"{counts['duplicates']} duplicate(s) left out",
    )
    console.print(_matrix_table(evidence_map))
    _print_wrapped(
        console,
        "assoc strong association, specif specificity, consist consistency (within each study), experim "
        "experimental manipulation, timing timeline, plausib plausibility, across consistency across studies",
        style="dim",
    )
    console.print("\n[bold]Consistency across studies[/] (pooled standardized indirect effect)")
    shown = evidence_map.consistency if verbose else evidence_map.consistency[:SHOWN_PATHWAYS]
    for item in shown:
        verdict = item.verdict
        pooled = "not pooled"
        if item.meta is not None:
            effect = item.meta.pooled
            pooled = f"{effect.estimate:.3f} [{effect.ci_low:.3f}, {effect.ci_high:.3f}], k = {item.meta.k}"
        refused = f", {len(item.refused)} refused" if item.refused else ""
        line = unsign_zeros(f"{verdict.status.symbol} {pooled}{refused}: {item.label}")
        _print_wrapped(console, line, indent=2)
        if verbose:
            _print_wrapped(console, verdict.reason, indent=6, style="dim")
            for record, reason in item.refused:
                _print_wrapped(console, f"refused {record.title}: {reason}", indent=6, style="italic")
    if len(evidence_map.consistency) > len(shown):
        console.print(
            f"  ... and {len(evidence_map.consistency) - len(shown)} more (in the map, or --verbose)"
        )
    gaps = evidence_map.gaps()
    never = ", ".join(item["name"] for item in gaps["criteria_never_met"]) or "none"
    console.print()
    _print_wrapped(console, f"Gaps: criteria no study met: {never}")
    console.print(f"  strategy → mechanism links no record tests: {len(gaps['untested_links'])}")
    if verbose:
        for link in gaps["untested_links"]:
            _print_wrapped(console, f"{link['strategy_label']} → {link['mechanism_label']}", indent=4)
        for duplicate in evidence_map.duplicates:  # a path is never broken over lines
            console.print(f"  duplicate left out: {duplicate.dropped.source}", markup=False, soft_wrap=True)
            differs = "identical" if duplicate.identical else f"differs: {'; '.join(duplicate.differences)}"
            _print_wrapped(console, f"{duplicate.why}; {differs}", indent=4)
        for name, why in evidence_map.skipped:
            console.print(f"  skipped {name}: {why}", markup=False, style="dim", soft_wrap=True)


def map_command(
    folders: Annotated[
        list[Path], typer.Argument(help="Folders of evidence records, report folders, or record files.")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the map (index.html, map.json, records.csv) into this folder."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the map of an earlier `moclab map` in -o.")
    ] = False,
    level: Annotated[
        float,
        typer.Option(
            "--level", min=0.5, max=0.999, help="Confidence level of the meta-analyses across studies."
        ),
    ] = 0.95,
    as_json: Annotated[bool, typer.Option("--json", help="Print the map as JSON (map.json).")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Print every pathway's reason and refusals, duplicates, gaps.")
    ] = False,
) -> None:
    """Map the evidence of many studies: mechanisms × criteria, consistency across studies, gaps."""
    # Reads evidence records (written by `moclab analyze -o`, hand-entered YAML, report folders) from every
    # FOLDER, merges the records of different teams by their catalog references and node ids, leaves
    # duplicates out, pools each pathway across studies, and prints the matrix; with -o it writes the
    # offline HTML map, map.json and records.csv (docs/evidence-map.md).
    from moclab.mapping import build_map

    console = Console(highlight=False)
    with errors_exit():
        if output is not None:  # the folder and the `report` extra are checked before any record is read
            from moclab.mapping import write_map
            from moclab.report import environment

            check_output_folder(output, force=force, command="map", inputs=folders)
            environment()
        evidence_map = build_map(folders, level=level)
        if output is not None:
            mark_output_folder(output, "map")
            page = write_map(evidence_map, output)
    if as_json:
        typer.echo(json.dumps(evidence_map.to_dict(), indent=2, ensure_ascii=False, allow_nan=False))
        return
    print_map_summary(console, evidence_map, verbose=verbose)
    if output is not None:  # a path is never broken over lines
        console.print(f"\nMap (every study, verdict, forest plot and filter): {page}", soft_wrap=True)
    else:
        console.print("\nThe HTML map with its forest plots and filters: -o FOLDER; every reason: --verbose")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("map")(map_command)
