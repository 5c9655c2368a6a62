"""`moclab import` and `moclab redcap`: bringing REDCap data in, and REDCap dictionaries for instruments.

    moclab redcap dictionary aim iam fim -o dictionary.csv [--subject TEXT] [--record-id NAME] [--force]
    moclab redcap check RECORDS.csv DICTIONARY.csv [--report REPORT.csv] [--json]
    moclab import redcap RECORDS.csv DICTIONARY.csv -o STUDY/ [--map MAP.yaml] [--site FIELD] [--team FIELD]

The map file of `moclab import redcap` holds the same keys as a `sources:` entry of moclab.yaml::

    map: {acc_q1: aim_1, acc_q2: aim_2}             # REDCap field -> instrument item id
    waves: {baseline_arm_1: baseline, followup_arm_1: m6}
    instances: {1: baseline, 2: m6}                  # repeat instances -> waves
    site: clinic                                     # the field holding each record's site

or just the field map (``acc_q1: aim_1``). Nothing the user gave is modified; outputs follow docs/cli.md (an
existing output is replaced only with ``--force``), and `redcap check` exits 1 when it finds errors.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

import typer
from pydantic import BaseModel, ConfigDict
from rich.console import Console

from moclab.cli.conventions import check_output_file, check_output_folder, replacing_file, staged_folder
from moclab.cli.output import errors_exit
from moclab.errors import MoclabError, display_path

import_app = typer.Typer(
    name="import",
    help="Create a study folder from data collected elsewhere (REDCap).",
    no_args_is_help=True,
)
redcap_app = typer.Typer(
    name="redcap",
    help="REDCap: data dictionaries for moclab instruments, and checking exports.",
    no_args_is_help=True,
)

_SHOWN = 15


class ImportMap(BaseModel):
    """The map file of `moclab import redcap`."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    map: dict[str, str] = {}
    waves: dict[str, str] = {}
    instances: dict[int, str] = {}
    wave: str = "baseline"
    site: str | None = None
    team: str | None = None
    values: Literal["auto", "raw", "label"] = "auto"


def _console(stderr: bool = False) -> Console:
    # Made per command: a test runner swaps the streams.
    return Console(highlight=False, soft_wrap=True, stderr=stderr)


def read_map(path: Path) -> ImportMap:
    """Read a map file: the keys of `ImportMap`, or a plain field -> item mapping."""
    from moclab.yamlio import load_yaml, parse_model

    data = load_yaml(path)
    shown = display_path(path)
    if data is None:
        return ImportMap()
    if not isinstance(data, dict):
        raise MoclabError(f"{shown}: a map file is a mapping (map:, waves:, ... or field: item_id lines)")
    if not set(data) & set(ImportMap.model_fields):
        data = {"map": data}
    return parse_model(ImportMap, data, shown, f"map file {shown}")


def _print_problems(console: Console, problems: list, limit: int = _SHOWN) -> None:
    counts = Counter(problem.kind for problem in problems)
    if not counts:
        console.print("[green]no problems found[/]")
        return
    summary = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.most_common())
    console.print(f"problems: {summary}")
    for problem in problems[:limit]:
        style = "red" if problem.severity == "error" else "yellow"
        word = "not imported" if problem.severity == "error" else "warning"
        console.print(f"  [{style}]{word:<12}[/] ", end="")
        console.print(str(problem), markup=False)
    if len(problems) > limit:
        console.print(f"  ... and {len(problems) - limit} more")


def redcap_dictionary(
    instruments: Annotated[list[str], typer.Argument(help="Instrument ids, e.g. aim iam fim.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The dictionary CSV to write.")],
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="What the items are about, replacing the placeholder ([X] in AIM)."),
    ] = None,
    record_id: Annotated[str, typer.Option("--record-id", help="Name of the record id field.")] = "record_id",
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Write a REDCap data dictionary for moclab instruments (upload: Project Setup > Data Dictionary)."""
    from moclab.study.sources import write_redcap_dictionary

    with errors_exit():
        check_output_file(output, force=force)
        path = write_redcap_dictionary(
            instruments, output, subject=subject, record_id=record_id, overwrite=force
        )
    console = _console()
    console.print(f"Wrote the REDCap data dictionary {display_path(path)} ({', '.join(instruments)}).")
    console.print(
        "Upload it in REDCap (Project Setup > Data Dictionary). Exports of the project are read back with "
        f"`moclab import redcap RECORDS.csv {display_path(path)} -o STUDY/`."
    )


def redcap_check(
    records: Annotated[Path, typer.Argument(help="The records export (CSV, raw or labels).")],
    dictionary: Annotated[Path, typer.Argument(help="The project's data dictionary (CSV).")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Write every problem to this CSV file.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --report file if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary and problems as JSON.")] = False,
) -> None:
    """Read a REDCap export against its dictionary and list every problem (the files are not changed).

    Exits 1 when it finds errors (values that cannot be imported), 0 when it finds none (warnings alone).
    """
    from moclab.study.sources import read_redcap

    with errors_exit():
        if report is not None:
            check_output_file(report, force=force, inputs=[records, dictionary])
        source = read_redcap(records, dictionary, show_progress=not as_json)
        if report is not None:
            with replacing_file(report) as temporary:
                source.report().to_csv(temporary, index=False, lineterminator="\n")
    errors = any(problem.severity == "error" for problem in source.problems)
    if as_json:
        from moclab.plain import plain

        typer.echo(json.dumps(plain(source.to_dict()), indent=2))
    else:
        console = _console()
        console.print(source.summary())
        _print_problems(console, list(source.problems))
        if report is not None:
            console.print(f"Every problem is in {display_path(report)}.")
    if errors:
        raise typer.Exit(1)


def import_redcap(
    records: Annotated[Path, typer.Argument(help="The records export (CSV, raw or labels).")],
    dictionary: Annotated[Path, typer.Argument(help="The project's data dictionary (CSV).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The study folder to create.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the study an earlier `moclab import` wrote in -o.")
    ] = False,
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map", help="A YAML file mapping fields to items (map:), events to waves (waves:), ..."
        ),
    ] = None,
    site: Annotated[
        str | None, typer.Option("--site", help="The field holding each record's site (default: the DAG).")
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="The field holding each record's team.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The study's title.")] = None,
) -> None:
    """Create a study folder from a REDCap export: moclab.yaml, recipients, item responses, problem report."""
    from moclab.study.sources import import_redcap_study

    given = [records, dictionary] + ([map_file] if map_file is not None else [])
    with errors_exit():
        check_output_folder(output, force=force, command="import", inputs=given)
        options = read_map(map_file) if map_file is not None else ImportMap()
        with staged_folder(output, "import") as staging:
            imported = import_redcap_study(
                records,
                dictionary,
                staging,
                map=options.map or None,
                waves=options.waves or None,
                instances=options.instances or None,
                wave=options.wave,
                site=site or options.site,
                team=team or options.team,
                values=options.values,
                title=title,
                show_progress=True,
            )
    console = _console()
    responses = imported.responses
    console.print(
        f"Created the study folder {display_path(output)}: {len(imported.source.records)} recipients, "
        f"{len(imported.waves)} wave(s) ({', '.join(imported.waves)}), {len(responses.table)} item responses "
        f"of {', '.join(i.id for i in imported.instruments)}."
    )
    _print_problems(console, list(responses.problems))
    console.print(f"Every problem is listed in {display_path(output / 'import-report.csv')}.")
    folder = display_path(output)
    console.print(f"Next: `moclab validate {folder}`, then `moclab score {folder}`.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    redcap_app.command("dictionary")(redcap_dictionary)
    redcap_app.command("check")(redcap_check)
    import_app.command("redcap")(import_redcap)
    app.add_typer(import_app)
    app.add_typer(redcap_app)
