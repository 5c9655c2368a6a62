"""`moclab catalog` commands: list frameworks and their entries, show one entry, search by name, check files.

The commands only parse arguments, load the catalog (bundled files, ``--path`` files and folders, and
``MOCLAB_FRAMEWORKS``) and print with rich; all logic lives in `moclab.catalog`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from moclab.catalog import Catalog, Entry, Framework, check_files

catalog_app = typer.Typer(
    name="catalog",
    help="The field's frameworks (ERIC, CFIR, Proctor, ISP competencies, ...): list, show, search.",
    no_args_is_help=True,
)

PathOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--path",
        "-p",
        help="Your own framework file or folder of them (repeatable); MOCLAB_FRAMEWORKS is read too.",
    ),
]

NOT_VERIFIED_STYLE = "yellow"


def _console() -> Console:
    # Piped or captured output would otherwise be cut at 80 columns; 120 keeps tables readable in files.
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 120
    return Console(highlight=False, width=width)


def _load(paths: list[Path] | None) -> Catalog:
    return Catalog.load(paths or ())


def _marker(entry: Entry) -> Text:
    if entry.verified:
        return Text("")
    label = "not verified (by elimination)" if entry.verification == "by_elimination" else "not verified"
    return Text(label, style=NOT_VERIFIED_STYLE)


def _kind_summary(framework: Framework) -> str:
    parts = []
    for kind, listed in framework.kind_counts().items():
        published = framework.counts.get(kind)
        shown = f"{listed} of {published}" if published is not None and published != listed else str(listed)
        parts.append(f"{kind} {shown}")
    return ", ".join(parts) if parts else "none"


@catalog_app.command("list")
def list_command(
    framework: Annotated[
        str | None, typer.Argument(help="A framework id (e.g. eric, cfir2) to list its entries.")
    ] = None,
    path: PathOption = None,
) -> None:
    """List the frameworks, or the entries of one framework as a tree."""
    catalog = _load(path)
    console = _console()
    if framework is None:
        _print_frameworks(console, catalog)
    else:
        _print_tree(console, catalog, catalog.framework(framework))


def _print_frameworks(console: Console, catalog: Catalog) -> None:
    table = Table(title="Frameworks in the catalog", title_justify="left")
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("name", ratio=3)
    table.add_column("entries", ratio=2)
    table.add_column("version", no_wrap=True)
    table.add_column("cite as", ratio=2)
    table.add_column("not verified", justify="right")
    for framework in catalog.frameworks.values():
        unverified = framework.unverified_count
        name = Text(framework.name)
        if not framework.bundled:
            name.append(f"\n(from {framework.files[0]})", style="dim")
        elif len(framework.files) > 1:
            name.append(f"\n(+ entries from {', '.join(framework.files[1:])})", style="dim")
        table.add_row(
            framework.id,
            name,
            _kind_summary(framework),
            framework.version or "",
            framework.cite_as,
            Text(str(unverified), style=NOT_VERIFIED_STYLE) if unverified else Text("0"),
        )
    console.print(table)
    console.print("Entries of one framework: moclab catalog list ID   One entry: moclab catalog show eric:33")


def _label(entry: Entry) -> Text:
    text = Text()
    if entry.number is not None:
        text.append(f"{entry.number}. ", style="dim")
    text.append(entry.name, style="bold" if entry.kind in ("domain", "cluster", "stage") else "")
    text.append(f"  {entry.qualified_id}", style="cyan")
    if entry.kind:
        text.append(f"  {entry.kind}", style="dim")
    marker = _marker(entry)
    if marker:
        text.append("  ")
        text.append(marker)
    return text


def _print_tree(console: Console, catalog: Catalog, framework: Framework) -> None:
    title = Text(framework.name, style="bold")
    title.append(f"  ({framework.id}; {framework.cite_as})", style="dim")
    tree = Tree(title)

    def add(node: Tree, ref: str) -> None:
        for child in catalog.children(ref):
            add(node.add(_label(child)), child.qualified_id)

    add(tree, framework.id)
    console.print(tree)
    console.print(f"{_kind_summary(framework)}")
    if not framework.entries:
        console.print(
            Text(
                "No entries are bundled for this framework. Add them in your own file with "
                f"'extends: {framework.id}' (see docs/catalog.md).",
                style=NOT_VERIFIED_STYLE,
            )
        )
    if framework.notes and (framework.unverified_count or not framework.entries):
        console.print(Text(f"Not verified: {framework.notes}", style=NOT_VERIFIED_STYLE))


@catalog_app.command("show")
def show_command(
    ref: Annotated[str, typer.Argument(help="An entry id (eric:facilitation, eric:33) or a framework id.")],
    path: PathOption = None,
) -> None:
    """Show everything about one entry (or one framework): parents, children, citation, verification."""
    catalog = _load(path)
    console = _console()
    if ":" not in ref and ref.strip().lower() in catalog.frameworks:
        _print_framework(console, catalog.framework(ref))
    else:
        _print_entry(console, catalog, catalog.get(ref))


def _fields_table() -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    return table


def _print_entry(console: Console, catalog: Catalog, entry: Entry) -> None:
    framework = catalog.framework(entry.framework)
    table = _fields_table()
    ids = entry.qualified_id
    if entry.number is not None:
        ids += f"  (also {entry.framework}:{entry.number})"
    table.add_row("id", ids)
    table.add_row("name", escape(entry.name))
    table.add_row("kind", entry.kind)
    table.add_row("framework", f"{escape(framework.name)} ({framework.id})")
    chain = [framework.name, *(a.name for a in catalog.ancestors(entry.qualified_id)), entry.name]
    table.add_row("path", escape(" > ".join(chain)))
    if entry.aliases:
        table.add_row("also known as", escape("; ".join(entry.aliases)))
    if entry.description:
        table.add_row("description", escape(entry.description) + " [dim](moclab's words)[/]")
    style = "green" if entry.verified else NOT_VERIFIED_STYLE
    table.add_row("verification", Text(entry.verification_text, style=style))
    if entry.source:
        table.add_row("source note", escape(entry.source))
    children = catalog.children(entry.qualified_id)
    if children:
        listing = Text()
        for i, child in enumerate(children):
            if i:
                listing.append("\n")
            listing.append(child.name)
            listing.append(f"  {child.qualified_id}", style="cyan")
        table.add_row(f"contains ({len(children)})", listing)
    table.add_row("cite", escape(entry.citation))
    if framework.doi:
        table.add_row("doi", framework.doi)
    table.add_row("defined in", escape(entry.defined_in))
    console.print(table)


def _print_framework(console: Console, framework: Framework) -> None:
    table = _fields_table()
    table.add_row("id", framework.id)
    table.add_row("name", escape(framework.name))
    table.add_row("version", escape(framework.version or ""))
    table.add_row("entries", _kind_summary(framework))
    table.add_row("cite", escape(framework.citation))
    for label, value in (("doi", framework.doi), ("url", framework.url), ("licence", framework.licence)):
        if value:
            table.add_row(label, escape(value))
    for source in framework.sources:
        table.add_row("see also", escape(source))
    if framework.description:
        table.add_row("description", escape(framework.description))
    if framework.unverified_count:
        table.add_row(
            "verification",
            Text(
                f"{framework.unverified_count} of {len(framework.entries)} entries not verified",
                style=NOT_VERIFIED_STYLE,
            ),
        )
    if framework.notes:
        table.add_row("notes", Text(framework.notes, style=NOT_VERIFIED_STYLE))
    table.add_row("files", escape("\n".join(framework.files)))
    console.print(table)
    console.print(f"Entries: moclab catalog list {framework.id}")


@catalog_app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="Words to look for; typos and abbreviations are fine.")],
    framework: Annotated[str | None, typer.Option("--framework", "-f", help="Only this framework.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="Only this kind (e.g. strategy).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most results to show.")] = 10,
    path: PathOption = None,
) -> None:
    """Search entry names, aliases and descriptions, tolerating typos ("facilitaton")."""
    catalog = _load(path)
    console = _console()
    if framework is not None:
        catalog.framework(framework)  # an unknown framework is an error with suggestions, not "no results"
    hits = catalog.search(text, framework=framework, limit=limit, kind=kind)
    if not hits:
        console.print(f"No entries match {text!r}; try other words, or: moclab catalog list", markup=False)
        return
    table = Table(title=f"Search: {escape(text)}", title_justify="left")
    table.add_column("score", justify="right")
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("name", min_width=20, ratio=1)
    table.add_column("kind")
    for entry, score in hits:
        name = Text(entry.name)
        marker = _marker(entry)
        if marker:
            name.append("\n")
            name.append(marker)
        table.add_row(f"{score:.0f}", entry.qualified_id, name, entry.kind)
    console.print(table)


@catalog_app.command("check")
def check_command(
    paths: Annotated[list[Path], typer.Argument(help="Framework files or folders to check.")],
) -> None:
    """Check your own framework files against the bundled catalog and report every problem with its line."""
    console = _console()
    for framework in check_files(paths):
        own = [e for e in framework.entries if not e.defined_in.startswith("moclab/catalog/data/")]
        verb = "adds to" if framework.bundled else "defines"
        console.print(
            f"ok: {verb} framework '{framework.id}' ({len(own)} entr{'y' if len(own) == 1 else 'ies'}; "
            f"{_kind_summary(framework)})",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    """Add the `catalog` commands to the application."""
    app.add_typer(catalog_app, name="catalog")
