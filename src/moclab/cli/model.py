"""`moclab` commands for the model area."""

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
