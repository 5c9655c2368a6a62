"""`moclab` commands for pathway models: ``draw`` and ``model validate|export|templates``.

Every command takes a SOURCE that is a model YAML file, a study folder or a template name (`find_model`). The
commands only parse arguments, call `moclab.model` and print; problems surface as `MoclabError`s, which the
application prints without a traceback.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from moclab.cli.conventions import check_output_file
from moclab.cli.output import errors_exit, print_problems
from moclab.errors import ModelError, UsageError, display_path
from moclab.model import (
    PathwayModel,
    find_model,
    list_templates,
    load_model,
    load_template,
    render,
    to_dagitty,
    to_dot,
    to_lavaan,
    to_mermaid,
    validate_model,
)
from moclab.model.export import diagram_format, write_output

SOURCE_HELP = "A model YAML file, a study folder (its moclab.yaml names the model) or a template name."

# soft_wrap: long citations and pathways stay on one line each, so the output can be copied and grepped
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class ExportFormat(StrEnum):
    """Text formats `moclab model export` writes."""

    lavaan = "lavaan"
    dagitty = "dagitty"
    mermaid = "mermaid"
    dot = "dot"


_EXPORTERS = {
    ExportFormat.lavaan: to_lavaan,
    ExportFormat.dagitty: to_dagitty,
    ExportFormat.mermaid: to_mermaid,
    ExportFormat.dot: to_dot,
}


def load_source(source: str) -> PathwayModel:
    """The validated model SOURCE names (raises ValidationError/ConfigError/ModelError on problems)."""
    return load_model(find_model(source))


def _check_output(output: Path, force: bool, source: str) -> None:
    """Check the output file before any work (docs/cli.md); the model SOURCE is an input never written."""
    check_output_file(output, force=force, inputs=[find_model(source)])


def draw(
    source: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Output file; .svg .png .pdf .dot or .mmd sets the format.")
    ] = Path("pathway.svg"),
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Draw the causal pathway diagram of a model."""
    with errors_exit():
        try:
            diagram_format(output)
        except ModelError as error:  # a file name of the wrong form is a usage error
            raise UsageError(error.message, hint=error.hint) from None
        _check_output(output, force, source)
        model = load_source(source)
        render(model, output)  # which still refuses to replace a file that is not an earlier diagram
    console.print(
        f"wrote {display_path(output)} ({len(model.nodes)} nodes, {len(model.edges)} edges)", markup=False
    )


def _count(number: int, noun: str) -> str:
    if number != 1:
        noun = noun[:-1] + "ies" if noun.endswith("gy") else noun + "s"  # strategy -> strategies
    return f"{number} {noun}"


def validate(source: Annotated[str, typer.Argument(help=SOURCE_HELP)]) -> None:
    """Check a model; print its nodes, edges and pathways, and any warnings. Exit 1 on errors."""
    # Errors propagate as one ValidationError, which the application prints (each problem with its line)
    # before exiting with status 1.
    model = load_source(source)
    warnings = [p for p in validate_model(model) if p.severity == "warning"]
    pathways = model.pathways_resolved()
    counts = Counter(node.type for node in model.nodes)
    console.print(f"pathway model '{model.id}': {model.title_or_id}", markup=False)
    if model.source:
        console.print(f"  file: {model.source}", markup=False)
    if model.citation:
        console.print(f"  source: {' '.join(model.citation.split())}", markup=False)
    console.print(
        f"  {_count(len(model.nodes), 'node')} ("
        + ", ".join(_count(n, t.words) for t, n in counts.items())
        + ")",
        markup=False,
    )
    console.print(f"  {_count(len(model.edges), 'edge')}", markup=False)
    how = "declared" if model.pathways else "derived from the graph"
    console.print(f"  {_count(len(pathways), 'pathway')} ({how}):", markup=False)
    for pathway in pathways:
        console.print(f"    {pathway.id}: {pathway}", markup=False)
    if warnings:
        err_console.print(f"[yellow]{len(warnings)} warning(s)[/]", markup=True)
        print_problems(err_console, warnings)
    console.print("valid: no errors", markup=False)


def export(
    source: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    to: Annotated[ExportFormat, typer.Option("--to", help="Format: lavaan, dagitty, mermaid or dot.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file instead of the screen.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Export a model as lavaan or DAGitty syntax (to continue in R or dagitty.net), or as Mermaid or DOT."""
    with errors_exit():
        if output is not None:
            _check_output(output, force, source)
        model = load_source(source)
        text = _EXPORTERS[to](model)
        if output is None:
            typer.echo(text, nl=False)
            return
        write_output(output, text, to.value)  # which still refuses a file that is not an earlier export
    console.print(f"wrote {display_path(output)} ({to.value})", markup=False)


def templates() -> None:
    """List the bundled pathway-model templates with their citations."""
    for name in list_templates():
        model = load_template(name)
        console.print(f"[bold]{name}[/]  {escape(model.title_or_id)}", markup=True)
        console.print(f"    {' '.join((model.citation or '').split())}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``draw`` and the ``model`` command group to the application."""
    app.command("draw")(draw)
    group = typer.Typer(
        name="model", help="Pathway models: validate, export, list templates.", no_args_is_help=True
    )
    group.command("validate")(validate)
    group.command("export")(export)
    group.command("templates")(templates)
    app.add_typer(group, name="model")
