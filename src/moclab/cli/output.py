"""How every `moclab` command reports a problem: one readable message on stderr, never a traceback.

`moclab.cli.main.run` uses `print_error` for errors that escape a command; commands that must exit with a
status of their own (and work under a test runner, which bypasses `run`) wrap their work in `errors_exit`.
Both exit with `exit_code`: 2 for a `UsageError`, 1 for any other moclab error (docs/cli.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from typer._click.globals import get_current_context  # typer bundles its own copy of click

from moclab.errors import MoclabError, Problem, UsageError, ValidationError


def error_console() -> Console:
    """A console on stderr (made per call: a test runner swaps the streams)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_problems(console: Console, problems: list[Problem]) -> None:
    """One line per problem: severity, where (file:line, row, column, element), what is wrong, what to do."""
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{style}]{problem.severity:<7}[/] ", end="")
        console.print(str(problem), markup=False)


def print_error(error: MoclabError) -> None:
    """A moclab error on stderr: a validation error as its count and one line per problem."""
    console = error_console()
    if isinstance(error, ValidationError):
        errors = [p for p in error.problems if p.severity == "error"]
        console.print(f"[bold red]{error.what}[/]: {len(errors)} problem(s) found", markup=True)
        for problem in error.problems:
            colour = "red" if problem.severity == "error" else "yellow"
            console.print(f"  [{colour}]-[/] ", end="", markup=True)
            console.print(str(problem), markup=False)
    else:
        console.print("[bold red]error:[/] ", end="", markup=True)
        console.print(str(error), markup=False)


def exit_code(error: MoclabError) -> int:
    """The exit status of a moclab error (docs/cli.md): 2 for a usage error, 1 for a problem in the input."""
    return 2 if isinstance(error, UsageError) else 1


@contextmanager
def errors_exit() -> Iterator[None]:
    """Print a moclab error raised inside the block (see `print_error`) and exit with its `exit_code`."""
    try:
        yield
    except MoclabError as error:
        if _debugging():
            raise
        print_error(error)
        raise typer.Exit(exit_code(error)) from None


def _debugging() -> bool:
    """Whether ``moclab --debug`` was given: a moclab error then shows its traceback too."""
    context = get_current_context(silent=True)
    return bool(context is not None and context.find_root().params.get("debug"))
