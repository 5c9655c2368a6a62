"""`moclab` commands for the study area: `validate`, `new` and `example`.

`moclab validate STUDY` prints every problem of a study at once, one per line with file, line or row and
column, and exits 1 when any is an error; on success it prints the warnings and the study's summary.
`moclab new DEST` starts a study folder from a pathway-model template; `moclab example DEST` copies the
bundled synthetic example. Both write only into a new or empty folder, or with ``--force`` over the folder
an earlier run of the same kind wrote (docs/cli.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from moclab.cli.conventions import check_output_folder, staged_folder
from moclab.cli.output import errors_exit, print_problems
from moclab.errors import MoclabError, ValidationError

if TYPE_CHECKING:
    from moclab.study import Study


def _console() -> Console:
    # Created per command so output goes to the streams of the moment (a test runner swaps them).
    return Console(highlight=False, soft_wrap=True)


def validate(
    study: Annotated[Path, typer.Argument(help="The study folder (or its moclab.yaml).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems and summary as JSON.")] = False,
) -> None:
    """Check a study folder: config, tables, model, and the pathways `moclab analyze` would judge.

    Lists every problem at once; exits 1 on errors.
    """
    from moclab.study import validate_study

    console = _console()
    with errors_exit():
        try:
            report = validate_study(study, show_progress=not as_json)
            pathways = _pathways_to_judge(report.study)
        except ValidationError as error:
            errors = [p for p in error.problems if p.severity == "error"]
            if as_json:
                payload = {
                    "ok": False,
                    "study": str(study),
                    "problems": [p.to_dict() for p in error.problems],
                }
                typer.echo(json.dumps(payload, indent=2))
            else:
                warnings = len(error.problems) - len(errors)
                console.print(
                    f"[bold red]{error.what}[/]: {len(errors)} error{'s' if len(errors) != 1 else ''}"
                    + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
                )
                print_problems(console, error.problems)
            raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    if report.warnings:
        print_problems(console, report.warnings)
        console.print()
    console.print(report.summary)
    if pathways is not None:
        console.print(f"\n{pathways} pathway{'s' if pathways != 1 else ''} ready for `moclab analyze`")
    count = len(report.warnings)
    console.print(
        f"\n[green]ok[/]: {study} has no errors"
        + (f" ({count} warning{'s' if count != 1 else ''} above)" if count else "")
    )


def _pathways_to_judge(study: Study) -> int | None:
    """How many pathways `moclab analyze` would judge, checking the references of the `evidence:` section
    (pathway ids, waves, columns, links) and that every pathway's variables have data; None when the study
    has no model or no pathway to judge. Problems raise a ValidationError located in moclab.yaml or the model.
    """
    from moclab.evidence import plan_pathways, resolve_settings

    if study.model is None or study.recipients.empty:  # a new study without data: nothing to plan yet
        return None
    try:
        return len(plan_pathways(study, resolve_settings(study.config.evidence)))
    except ValidationError:
        raise
    except MoclabError:  # no pathway in the model: nothing to judge, which validation does not require
        return None


def _write_study(dest: Path, force: bool, command: str, write: Callable[[Path], Path]) -> Path:
    """Write a study folder with `write` after checking `dest` by the rules of docs/cli.md; the path."""
    with errors_exit():
        folder = check_output_folder(dest, force=force, command=command)
        with staged_folder(folder, command) as staging:
            write(staging)
    return dest


def new(
    dest: Annotated[Path, typer.Argument(help="The folder to create (it must not exist, or be empty).")],
    template: Annotated[
        str, typer.Option("--template", "-t", help="The pathway-model template to start from.")
    ] = "recipient-pathway",
    title: Annotated[
        str | None, typer.Option("--title", help="The study title (default: from the folder name).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the folder an earlier `moclab new` wrote.")
    ] = False,
) -> None:
    """Start a study folder from a pathway-model template: moclab.yaml, model.yaml, empty data tables."""
    from moclab.model import template_path
    from moclab.study import new_study

    with errors_exit():
        template_path(template)  # an unknown template is an error before anything is written
    path = _write_study(dest, force, "new", lambda folder: new_study(folder, template=template, title=title))
    console = _console()
    console.print(f"Created the study folder {path} from the '{template}' template.")
    console.print(f"Next: read {path / 'README.md'}, fill in data/*.csv, then run `moclab validate {path}`.")


def example(
    dest: Annotated[Path, typer.Argument(help="The folder to create (it must not exist, or be empty).")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the folder an earlier `moclab example` wrote.")
    ] = False,
) -> None:
    """Copy the bundled example study (synthetic data, not real people) to play with."""
    from moclab.study import copy_example

    path = _write_study(dest, force, "example", copy_example)
    console = _console()
    console.print(f"Copied the example study (synthetic data, not real people) to {path}.")
    console.print(f"Try `moclab validate {path}`.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("validate")(validate)
    app.command("new")(new)
    app.command("example")(example)
