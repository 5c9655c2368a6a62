"""Entry point of the `moclab` command.

Each area of the tool registers its commands from its own module (`register(app)`); this module only builds
the application and turns every `MoclabError` into a readable message and a non-zero exit code. A traceback
reaches the user only with `--debug`.

An area's module is imported when one of its commands runs, not before: `moclab --help` and `moclab
--version` list the commands from `COMMANDS` (name, module, the line of help) without importing pandas,
statsmodels or the layers, and `moclab validate` imports only what validation needs.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from moclab import __version__
from moclab.cli.output import error_console, exit_code, print_error
from moclab.errors import MoclabError

#: Every command of `moclab`, in the order `moclab --help` lists them: the module under ``moclab.cli``
#: whose `register` adds it, and the line `--help` shows, which must be the first paragraph of the
#: command's own help (tests/cli/test_main.py checks that they agree).
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "demo",
        "Simulate a multi-site study of the recipient pathway, judge its mechanisms, write the report.",
    ),
    "draw": ("model", "Draw the causal pathway diagram of a model."),
    "validate": (
        "study",
        "Check a study folder: config, tables, model, and the pathways `moclab analyze` would judge.",
    ),
    "new": (
        "study",
        "Start a study folder from a pathway-model template: moclab.yaml, model.yaml, empty data tables.",
    ),
    "example": ("study", "Copy the bundled example study (synthetic data, not real people) to play with."),
    "score": (
        "measures",
        "Score a study's instruments; print scale scores, reliability and aggregation checks per wave.",
    ),
    "simulate": (
        "simulate",
        "Simulate a study of a pathway model: a study folder plus truth.json, the true effects.",
    ),
    "power": (
        "design",
        "Monte Carlo power of a pathway model by number of sites, recipients and waves, and the sample size "
        "needed to reach a target power.",
    ),
    "power-multilevel": (
        "design",
        "Analytic power of two-level mediation designs (2-1-1, 2-2-1, 1-1-1) and the cheapest allocation.",
    ),
    "analyze": (
        "evidence",
        "Judge every pathway of a study on the seven criteria for a mechanism; print the scorecard.",
    ),
    "map": (
        "map",
        "Map the evidence of many studies: mechanisms × criteria, consistency across studies, gaps.",
    ),
    "catalog": (
        "catalog",
        "The field's frameworks (ERIC, CFIR, Proctor, ISP competencies, ...): list, show, search.",
    ),
    "model": ("model", "Pathway models: validate, export, list templates."),
    "qual": (
        "qual",
        "Qualitative evidence: coded interviews (REFI-QDA .qdpx), codebooks, and their analyses.",
    ),
    "import": ("sources", "Create a study folder from data collected elsewhere (REDCap)."),
    "redcap": ("sources", "REDCap: data dictionaries for moclab instruments, and checking exports."),
    "instruments": (
        "measures",
        "Validated questionnaires (AIM, IAM, FIM, ORIC, ICS, ILS, psychological safety): list, show.",
    ),
    "serve": (
        "web",
        "Run the practice platform: ISP teams log their support; a web application on 127.0.0.1.",
    ),
}

_AREAS: dict[str, typer.Typer] = {}


def area_app(module: str) -> typer.Typer:
    """The commands of one area (``moclab.cli.<module>``), registered once on an application of their own."""
    if module not in _AREAS:
        area = typer.Typer()
        importlib.import_module(f"moclab.cli.{module}").register(area)
        _AREAS[module] = area
    return _AREAS[module]


class _Unloaded(TyperCommand):
    """Stands for a command whose module is not imported yet: its name and line of help, for `--help`."""

    def __init__(self, name: str, module: str, summary: str) -> None:
        super().__init__(name=name, help=summary)
        self.module = module


def plain_flags(command: Any) -> Any:
    """Show `command`'s flags (and those of its subcommands) in `--help` without a value type: typer labels
    every option with its type, which for a flag (``--force <bool>``) reads as if it took a value."""
    context = typer.Context(command)
    for param in [*command.params, command.get_help_option(context)]:
        if param is not None and getattr(param, "is_flag", False):
            param.metavar = ""
    for subcommand in getattr(command, "commands", {}).values():
        if not isinstance(subcommand, _Unloaded):
            plain_flags(subcommand)
    return command


class LazyGroup(TyperGroup):
    """The `moclab` group: lists every command of `COMMANDS` and imports an area's module when one of its
    commands is looked up to run (its own help included), never to list them."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False
        for name, (module, summary) in COMMANDS.items():
            self.commands.setdefault(name, _Unloaded(name, module, summary))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if isinstance(command, _Unloaded) and not self._listing:
            loaded = typer.main.get_group(area_app(command.module)).commands
            self.commands.update(
                {name: plain_flags(loaded[name]) for name in list(self.commands) if name in loaded}
            )
            command = self.commands[cmd_name]
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        plain_flags(self)
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="moclab",
    help=(
        "Mechanisms Of Change lab: pathway models, frameworks, studies and tests of"
        " implementation mechanisms."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
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
        sys.exit(exit_code(error))
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
