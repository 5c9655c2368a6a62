"""`moclab qual` commands: read, convert and check qualitative projects; build codebooks; the example project.

    moclab qual import FILE [--summary] [--codebook CODEBOOK] [--json]
    moclab qual export FILE -o OUT.qdpx|OUT.qde|OUT.qdc [--codebook CODEBOOK]
    moclab qual validate FILE
    moclab qual codebook FRAMEWORK -o codebook.qdc
    moclab qual example DEST
    moclab qual analyze [PROJECT] -o OUT/ [--force] [--verbose]   (profiles, pathway, matrix, co-occurrence,
                                                                   prevalence, agreement)
    moclab qual agreement [PROJECT] [--unit paragraph|segment]
    moclab qual profiles [PROJECT] -o DIR [--force]
    moclab qual pathway [PROJECT] -o pathway.svg | cooccurrence [PROJECT]
    moclab qual deidentify PROJECT -o OUT.qdpx --mapping MAP.json [--threshold 0.5] [--allow NAME]

Every command is a function decorated with ``@qual_app.command(...)``; an area adds its commands to `qual_app`
in this module the same way. Nothing the user gave is ever overwritten: an existing output file is an
error, and the folder outputs of `qual analyze` and `qual profiles` follow docs/cli.md (a new or empty
folder, or an earlier moclab output with ``--force``), checked before the project is read. Warnings found
while reading a project go to stderr, counted (``--verbose`` lists them all).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from moclab.cli.output import error_console, errors_exit, print_problems
from moclab.errors import Problem, QualError, UsageError, display_path

if TYPE_CHECKING:
    from moclab.qual import Project

qual_app = typer.Typer(
    name="qual",
    help="Qualitative evidence: coded interviews (REFI-QDA .qdpx), codebooks, and their analyses.",
    no_args_is_help=True,
)

CodebookOption = Annotated[
    Path | None,
    typer.Option(
        "--codebook",
        "-c",
        help="For transcripts (.txt, .docx or a folder): a codebook (.qdc, .yaml, .csv, .qdpx) to add.",
    ),
]
PositionsOption = Annotated[
    str,
    typer.Option(
        "--positions",
        help="How the file counts selection positions: 'codepoints' (the standard) or 'utf16' (NVivo).",
    ),
]
NewlinesOption = Annotated[
    str,
    typer.Option(
        "--newlines", help="'keep' line endings as stored, or turn them into 'lf' (positions follow)."
    ),
]


def console() -> Console:
    """A console for the command's output (made per command: a test runner swaps the streams)."""
    return Console(highlight=False, soft_wrap=True)


def _summary(project: Project) -> dict[str, object]:
    codings = project.codings_frame()
    coders = codings["coder"].fillna("(unknown)").value_counts().to_dict() if len(codings) else {}
    top_codes = codings["code_path"].fillna("(unknown code)").value_counts().head(10).to_dict()
    return {
        "name": project.name,
        "origin": project.origin,
        "counts": project.counts(),
        "coders": coders,
        "variables": [f"{v.name} ({v.type})" for v in project.variables],
        "most_used_codes": top_codes,
        "extras": sorted(project.extras.get("xml", {})),  # type: ignore[union-attr]
        "warnings": [str(w) for w in project.warnings],
    }


@qual_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="A .qdpx, .qde or .qdc file, a .txt/.docx transcript, or a folder.")
    ],
    summary: Annotated[
        bool, typer.Option("--summary", help="Show coders, variables and the most used codes.")
    ] = (False),
    codebook: CodebookOption = None,
    positions: PositionsOption = "codepoints",
    newlines: NewlinesOption = "keep",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Read a qualitative project and report what it holds and anything odd found while reading."""
    from moclab.qual import read_project

    out = console()
    with errors_exit():
        project = read_project(file, codebook=codebook, positions=positions, newlines=newlines)  # type: ignore[arg-type]
    info = _summary(project)
    if as_json:
        from moclab.plain import plain

        typer.echo(json.dumps(plain(info), indent=2))
        return
    print_problems(out, project.warnings)
    counts = project.counts()
    out.print(
        f"[bold]{project.name}[/] ({project.origin or 'origin not stated'}): "
        + ", ".join(f"{value} {key}" for key, value in counts.items())
    )
    if summary:
        table = Table("code", "codings", title="most used codes", show_edge=False)
        for code, count in info["most_used_codes"].items():  # type: ignore[union-attr]
            table.add_row(str(code), str(count))
        out.print(table)
        if info["coders"]:
            out.print("coders: " + ", ".join(f"{k} ({v})" for k, v in info["coders"].items()))  # type: ignore[union-attr]
        if info["variables"]:
            out.print("variables: " + ", ".join(info["variables"]))  # type: ignore[arg-type]
        if info["extras"]:
            out.print("kept but not analysed: " + ", ".join(info["extras"]))  # type: ignore[arg-type]


@qual_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="What to read (as for `moclab qual import`).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write: .qdpx, .qde or .qdc.")],
    codebook: CodebookOption = None,
    positions: PositionsOption = "codepoints",
    newlines: NewlinesOption = "keep",
    force: ForceOption = False,
) -> None:
    """Write a project as REFI-QDA .qdpx (with its sources), .qde (texts inline) or .qdc (codebook only)."""
    from moclab.cli.conventions import check_output_file
    from moclab.qual import read_project, write_project

    out = console()
    with errors_exit():
        check_output_file(output, force=force, inputs=_inputs(file, codebook))
        project = read_project(file, codebook=codebook, positions=positions, newlines=newlines)  # type: ignore[arg-type]
        print_problems(out, project.warnings)
        written = write_project(project, output, overwrite=force)
    out.print(f"wrote {display_path(written)}")


@qual_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="A .qdpx, .qde or .qdc file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems as JSON.")] = False,
) -> None:
    """Check a file against the REFI-QDA XML schemas: each problem with its line and element."""
    from moclab.qual import validate_file

    out = console()
    with errors_exit():
        problems = validate_file(file)
    if as_json:
        typer.echo(json.dumps({"ok": not problems, "problems": [p.to_dict() for p in problems]}, indent=2))
    elif problems:
        out.print(f"[bold red]{display_path(file)}[/]: {len(problems)} schema problem(s)")
        print_problems(out, problems)
    else:
        out.print(f"{display_path(file)}: valid against the REFI-QDA schema")
    if problems:
        raise typer.Exit(1)


@qual_app.command("codebook")
def codebook_command(
    framework: Annotated[
        str,
        typer.Argument(help="isp-competencies, cfir2, proctor, recipient-pathway, or any catalog framework."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The codebook file to write (.qdc).")],
    force: ForceOption = False,
) -> None:
    """Write a deductive codebook from the catalog as a REFI-QDA .qdc file, to import into your QDA tool."""
    from moclab.cli.conventions import check_output_file
    from moclab.qual import framework_codebook, write_project

    out = console()
    with errors_exit():
        if output.suffix.lower() != ".qdc":
            raise QualError(f"{display_path(output)}: the codebook is written as .qdc", hint="name it *.qdc")
        check_output_file(output, force=force)
        book = framework_codebook(framework)
        written = write_project(book, output, overwrite=force)
    codable = sum(code.codable for code in book.codes)
    out.print(
        f"wrote {display_path(written)}: {len(book.codes)} codes ({codable} to code with, "
        f"{len(book.codes) - codable} folders)"
    )


@qual_app.command("example")
def example(
    dest: Annotated[Path, typer.Argument(help="A new .qdpx file, or a folder to put the example in.")],
    force: ForceOption = False,
) -> None:
    """Copy the bundled SYNTHETIC example project (12 made-up interviews, two coders) to DEST."""
    from moclab.cli.conventions import check_output_file
    from moclab.qual import example_project_path

    out = console()
    source = example_project_path()
    target = dest / source.name if dest.is_dir() else dest
    with errors_exit():
        check_output_file(target, force=force)
        if target.suffix.lower() != ".qdpx":
            raise QualError(f"{display_path(target)}: the example is a .qdpx file", hint="name it *.qdpx")
        if not target.parent.is_dir():
            raise QualError(f"{display_path(target.parent)}: no such folder")
        shutil.copyfile(source, target)
    out.print(f"wrote {display_path(target)} (synthetic example: 12 made-up interviews, 2 coders)")


# ----- analyses: analyze, agreement, deidentify ---------------------------------------------------

ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace the output file if it exists (docs/cli.md).")
]

CoderOption = Annotated[
    list[str] | None,
    typer.Option("--coder", help="Use only this coder's codings (repeat the option for several coders)."),
]


def _read(project_file: Path | None, codebook: Path | None = None) -> object:
    """The project named on the command line, or the bundled synthetic example when none is."""
    from moclab.qual import example_project_path, read_project

    return read_project(
        project_file if project_file is not None else example_project_path(), codebook=codebook
    )


#: Warnings found while reading a project that a command shows without --verbose.
SHOWN_WARNINGS = 5

ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", help="Replace the output of an earlier moclab command in the folder (nothing else)."
    ),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", help="List every warning found while reading the project.")
]


def _check_choices(*options: tuple[str, str, tuple[str, ...]]) -> None:
    """A usage error (exit 2) for an option value that is not one of its choices, before any work."""
    for flag, value, choices in options:
        if value not in choices:
            raise UsageError(f"{flag} {value!r} is not known", hint=f"use one of: {', '.join(choices)}")


def _inputs(*paths: Path | None) -> list[Path]:
    return [path for path in paths if path is not None]


def _print_read_warnings(warnings: list[Problem], verbose: bool) -> None:
    """The warnings found while reading the project, on stderr: counted, the first few (all with verbose)."""
    if not warnings:
        return
    err = error_console()
    shown = warnings if verbose else warnings[:SHOWN_WARNINGS]
    err.print(f"{len(warnings)} warning(s) while reading the project:", markup=False)
    print_problems(err, shown)
    if len(shown) < len(warnings):
        err.print(f"... {len(warnings) - len(shown)} more (--verbose lists them all)", markup=False)


@qual_app.command("analyze")
def analyze(
    project_file: Annotated[
        Path | None,
        typer.Argument(
            help="A .qdpx/.qde project (or transcripts with --codebook); none: the bundled example."
        ),
    ] = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Folder for the results (new or empty; an earlier output with --force)."
        ),
    ] = Path("qual-results"),
    coder: CoderOption = None,
    attribute: Annotated[
        str | None,
        typer.Option("--attribute", help="Case attribute for the prevalence table (default: engagement)."),
    ] = None,
    unit: Annotated[
        str, typer.Option("--unit", help="Agreement units: 'paragraph' or 'segment'.")
    ] = "paragraph",
    paragraphs: Annotated[
        str,
        typer.Option(
            "--paragraphs", help="Paragraphs end at every line break ('line') or at blank lines ('blank')."
        ),
    ] = "line",
    precedes: Annotated[
        str,
        typer.Option(
            "--precedes", help="Pathway edges: stage B told 'immediate'ly after A, or 'anywhere' after."
        ),
    ] = "immediate",
    codebook: CodebookOption = None,
    force: ForceOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Write episode profiles, the pathway figure, matrix, co-occurrence, prevalence and agreement tables."""
    from moclab.cli.conventions import check_output_folder, staged_folder
    from moclab.qual._common import PARAGRAPH_RULES
    from moclab.qual.agreement import UNITS
    from moclab.qual.analyses import analyze_project
    from moclab.qual.pathway import PRECEDES

    out = console()
    with errors_exit():
        _check_choices(
            ("--unit", unit, UNITS),
            ("--paragraphs", paragraphs, PARAGRAPH_RULES),
            ("--precedes", precedes, PRECEDES),
        )
        folder = check_output_folder(
            output, force=force, command="qual analyze", inputs=_inputs(project_file, codebook)
        )
        project = _read(project_file, codebook)
        _print_read_warnings(project.warnings, verbose)  # type: ignore[attr-defined]
        with staged_folder(folder, "qual analyze") as staging:
            run = analyze_project(
                project,  # type: ignore[arg-type]
                staging,
                coders=coder,
                attribute=attribute,
                unit=unit,
                paragraphs=paragraphs,
                precedes=precedes,
            )
    name = project.name if project_file is not None else f"{project.name} (bundled synthetic example)"  # type: ignore[attr-defined]
    written = [folder / path.name for path in run.written]
    out.print(f"[bold]{name}[/]: wrote {len(written)} files to {display_path(folder)}")
    for path in written:
        out.print(f"  {path.name}", markup=False)
    err = error_console()
    coders_found = sorted({u.name for u in project.users})  # type: ignore[attr-defined]
    if len(coders_found) > 1 and not coder:
        err.print(
            f"note: {len(coders_found)} coders ({', '.join(coders_found)}); profiles, pathway and tables"
            " use all their codings (pass --coder NAME to use one coder's)",
            markup=False,
        )
    for note in run.notes:
        err.print(f"note: {note}", markup=False)


@qual_app.command("agreement")
def agreement(
    project_file: Annotated[
        Path | None, typer.Argument(help="A project coded by two or more coders; none: the bundled example.")
    ] = None,
    coder: CoderOption = None,
    unit: Annotated[str, typer.Option("--unit", help="Units: 'paragraph' or 'segment'.")] = "paragraph",
    paragraphs: Annotated[
        str,
        typer.Option(
            "--paragraphs", help="Paragraphs end at every line break ('line') or at blank lines ('blank')."
        ),
    ] = "line",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the table as CSV.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    codebook: CodebookOption = None,
    force: ForceOption = False,
) -> None:
    """Inter-coder agreement per code: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha."""
    from moclab.cli.conventions import check_output_file, replacing_file
    from moclab.qual.agreement import coder_agreement

    out = console()
    with errors_exit():
        if output is not None:
            check_output_file(output, force=force, inputs=_inputs(project_file, codebook))
        project = _read(project_file, codebook)
        result = coder_agreement(project, coders=coder, unit=unit, paragraphs=paragraphs)  # type: ignore[arg-type]
        if output is not None:
            with replacing_file(output) as temporary:
                result.table.to_csv(temporary)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    table = Table("code", "units", "applied", "% agree", "Cohen κ", "Fleiss κ", "α", "u-α", show_edge=False)

    def number(value: float, digits: int = 3) -> str:
        return "" if value != value else f"{value:.{digits}f}"  # NaN prints empty

    for code, row in result.table.iterrows():
        table.add_row(
            str(code), str(row["units"]), str(row["applied"]), number(100 * row["percent_agreement"], 1),
            number(row["cohens_kappa"]), number(row["fleiss_kappa"]), number(row["krippendorff_alpha"]),
            number(row["unitized_alpha"]),
        )  # fmt: skip
    out.print(
        f"[bold]{', '.join(result.coders)}[/] on {len(result.info['sources'])} source(s), {result.unit} units"
    )
    out.print(table)
    for warning in result.warnings:
        out.print(f"note: {warning}", markup=False)
    if output is not None:
        out.print(f"wrote {display_path(output)}")


@qual_app.command("deidentify")
def deidentify(
    project_file: Annotated[
        Path, typer.Argument(help="The project (.qdpx/.qde, or transcripts with --codebook).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The de-identified project to write (.qdpx or .qde).")
    ],
    mapping: Annotated[
        Path,
        typer.Option("--mapping", help="Where to write placeholder → original (JSON or CSV). Keep it apart!"),
    ],
    threshold: Annotated[
        float, typer.Option("--threshold", help="Replace detections scoring at least this.")
    ] = 0.5,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="A word or name never to replace (repeat for several)."),
    ] = None,
    previous_mapping: Annotated[
        Path | None,
        typer.Option("--previous-mapping", help="An earlier mapping to continue (same placeholders)."),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option("--review", help="Review list of every replacement (CSV; default: beside the mapping)."),
    ] = None,
    codebook: CodebookOption = None,
    force: ForceOption = False,
) -> None:
    """Replace names, organisations, places, dates, e-mail addresses and phone numbers with placeholders.

    Runs offline (Presidio with a spaCy English model: the `deidentify` extra). Codings move with the text.
    The mapping and the review list re-identify the interviews: keep them apart from the de-identified
    project.
    """
    from moclab.cli.conventions import check_output_file
    from moclab.qual import write_project
    from moclab.qual.deidentify import Deidentifier, PlaceholderMapping, deidentify_project

    out = console()
    review_path = review if review is not None else mapping.with_name(f"{mapping.stem}.review.csv")
    with errors_exit():
        inputs = _inputs(project_file, codebook, previous_mapping)
        for path in (output, mapping, review_path):
            check_output_file(path, force=force, inputs=inputs)
        if output.suffix.lower() not in (".qdpx", ".qde"):
            raise QualError(f"{display_path(output)}: write the de-identified project as .qdpx or .qde")
        project = _read(project_file, codebook)
        previous = PlaceholderMapping.load(previous_mapping) if previous_mapping is not None else None
        engine = Deidentifier(threshold=threshold, allow=allow or (), mapping=previous)
        result = deidentify_project(project, engine, progress=True)  # type: ignore[arg-type]
        written = write_project(result.project, output, overwrite=force)
        result.mapping.save(mapping, overwrite=force)
        result.review().to_csv(review_path, index=False)
    counts = result.review()["entity"].value_counts()
    out.print(
        f"wrote {display_path(written)}: {len(result.replacements)} replacements ("
        + ", ".join(f"{n} {entity}" for entity, n in counts.items())
        + ")"
    )
    out.print(
        f"wrote {display_path(mapping)} and {display_path(review_path)}: keep them apart from the project"
    )


@qual_app.command("profiles")
def profiles_command(
    project_file: Annotated[
        Path | None, typer.Argument(help="The project; none: the bundled example.")
    ] = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Folder for profiles.html and profiles.md (new or empty; an earlier output with --force).",
        ),
    ] = Path("profiles"),
    coder: CoderOption = None,
    attribute: Annotated[
        str | None, typer.Option("--attribute", help="Case attribute to break the aggregate down by.")
    ] = None,
    codebook: CodebookOption = None,
    force: ForceOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Episode profiles of every interview, stage by stage (HTML and Markdown)."""
    from moclab.cli.conventions import check_output_folder, staged_folder
    from moclab.qual.profiles import episode_profiles

    out = console()
    with errors_exit():
        folder = check_output_folder(
            output, force=force, command="qual profiles", inputs=_inputs(project_file, codebook)
        )
        project = _read(project_file, codebook)
        _print_read_warnings(project.warnings, verbose)  # type: ignore[attr-defined]
        result = episode_profiles(project, coders=coder)  # type: ignore[arg-type]
        with staged_folder(folder, "qual profiles") as staging:
            written = [folder / path.name for path in result.write(staging, attribute)]
    out.print(f"wrote {', '.join(display_path(p) for p in written)} ({len(result.profiles)} interviews)")


@qual_app.command("pathway")
def pathway_command(
    project_file: Annotated[
        Path | None, typer.Argument(help="The project; none: the bundled example.")
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The figure: .svg, .png or .dot.")] = Path(
        "pathway.svg"
    ),
    coder: CoderOption = None,
    precedes: Annotated[
        str, typer.Option("--precedes", help="Edges: B told 'immediate'ly after A, or 'anywhere' after.")
    ] = "immediate",
    position: Annotated[
        str, typer.Option("--position", help="A stage's place: its 'first' or 'median' coded selection.")
    ] = "first",
    min_weight: Annotated[int, typer.Option("--min-weight", help="Leave out weaker edges.")] = 1,
    codebook: CodebookOption = None,
    force: ForceOption = False,
) -> None:
    """The experience pathway: stage-to-stage edges weighted by the number of interviews."""
    from moclab.cli.conventions import check_output_file
    from moclab.qual.pathway import experience_pathway

    out = console()
    with errors_exit():
        check_output_file(output, force=force, inputs=_inputs(project_file, codebook))
        project = _read(project_file, codebook)
        result = experience_pathway(project, precedes=precedes, position=position, coders=coder)  # type: ignore[arg-type]
        written = result.draw(output, min_weight=min_weight)
    table = Table("from", "to", "interviews", show_edge=False)
    labels = {stage.id: stage.label for stage in result.stage_map.stages}
    for row in result.to_frame().itertuples():
        table.add_row(labels[row.source], labels[row.target], str(row.weight))
    out.print(table)
    out.print(f"wrote {display_path(written)}")


@qual_app.command("cooccurrence")
def cooccurrence_command(
    project_file: Annotated[
        Path | None, typer.Argument(help="The project; none: the bundled example.")
    ] = None,
    method: Annotated[
        str,
        typer.Option("--method", help="'overlap' (selections share text) or 'paragraph' (same paragraph)."),
    ] = "overlap",
    paragraphs: Annotated[
        str,
        typer.Option("--paragraphs", help="Paragraphs end at line breaks ('line') or blank lines ('blank')."),
    ] = "line",
    coder: CoderOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write all pairs as CSV.")] = None,
    codebook: CodebookOption = None,
    force: ForceOption = False,
) -> None:
    """Code pairs that occur together: counts, Jaccard and P(B | A)."""
    from moclab.cli.conventions import check_output_file, replacing_file
    from moclab.qual.cooccurrence import code_cooccurrence

    out = console()
    with errors_exit():
        if output is not None:
            check_output_file(output, force=force, inputs=_inputs(project_file, codebook))
        project = _read(project_file, codebook)
        result = code_cooccurrence(project, method=method, paragraphs=paragraphs, coders=coder)  # type: ignore[arg-type]
        pairs = result.to_frame()
        if output is not None:
            with replacing_file(output) as temporary:
                pairs.to_csv(temporary, index=False)
    table = Table("code A", "code B", "count", "Jaccard", "P(B|A)", "P(A|B)", show_edge=False)
    for row in pairs.head(20).itertuples():
        table.add_row(
            row.code_a, row.code_b, str(row.count), f"{row.jaccard:.2f}", f"{row.p_b_given_a:.2f}",
            f"{row.p_a_given_b:.2f}",
        )  # fmt: skip
    out.print(table)
    if len(pairs) > 20:
        out.print(
            f"... {len(pairs) - 20} more pairs" + ("" if output else " (write them all with -o FILE.csv)")
        )
    if output is not None:
        out.print(f"wrote {display_path(output)}")


def register(app: typer.Typer) -> None:
    """Add the `qual` commands to the application."""
    app.add_typer(qual_app, name="qual")
