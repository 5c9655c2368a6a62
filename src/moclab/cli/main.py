"""Entry point of the `moclab` command.

Each area of the tool registers its commands from its own module (`register(app)`); this module only builds
the application and turns every `MoclabError` into a readable message and a non-zero exit code. A traceback
reaches the user only with `--debug`.
"""

from __future__ import annotations

import sys

import typer

from moclab import __version__
from moclab.cli import catalog, demo, model, qual, study
from moclab.cli import design as design_cli
from moclab.cli import evidence as evidence_cli
from moclab.cli import measures as measures_cli
from moclab.cli import simulate as simulate_cli
from moclab.cli import sources as sources_cli
from moclab.cli.output import error_console, print_error
from moclab.errors import MoclabError

app = typer.Typer(
    name="moclab",
    help=(
        "Mechanisms Of Change lab: pathway models, frameworks, studies and tests of"
        " implementation mechanisms."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"moclab {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback when something fails."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """moclab: Mechanisms Of Change lab."""


demo.register(app)
catalog.register(app)
model.register(app)
study.register(app)
qual.register(app)
sources_cli.register(app)
measures_cli.register(app)
simulate_cli.register(app)
design_cli.register(app)
evidence_cli.register(app)


def run() -> None:
    """Console-script entry point: run the app, print moclab errors without a traceback unless --debug."""
    debug = "--debug" in sys.argv[1:]
    try:
        # Without standalone mode, a command's `raise typer.Exit(code)` comes back as the return value.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except MoclabError as error:
        if debug:
            raise
        print_error(error)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        error_console().print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and the like
        from typer._click.exceptions import ClickException  # typer bundles its own copy of click

        if isinstance(exc, ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        console = error_console()
        console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", markup=True)
        console.print("Run again with --debug to see the traceback, and report it as a bug.")
        sys.exit(70)
