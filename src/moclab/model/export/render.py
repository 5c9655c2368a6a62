"""Drawing a model to a file, the format chosen by the file's suffix.

``.svg``, ``.png`` and ``.pdf`` are rendered by Graphviz ``dot``; ``.dot``/``.gv`` is the DOT text and
``.mmd`` the Mermaid text. Rendering goes through ``graphviz.Digraph.pipe`` so that only the requested file
is written (no stray ``.gv`` source next to it), and through `write_output`, which never overwrites a
non-diagram.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

import graphviz

from moclab.errors import MoclabError, ModelError
from moclab.model.export.dot import AnnotationKey, Highlight, build_diagram
from moclab.model.export.files import write_output
from moclab.model.export.mermaid import to_mermaid
from moclab.model.pathway_model import PathwayModel

#: Suffix -> kind of output.
DIAGRAM_FORMATS: dict[str, str] = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
}


def diagram_format(path: str | Path) -> str:
    """The kind of diagram a file name asks for; a ModelError listing the suffixes when it is none of them."""
    suffix = Path(path).suffix.lower()
    if suffix not in DIAGRAM_FORMATS:
        raise ModelError(
            f"cannot tell the diagram format from '{Path(path).name}'",
            hint=f"end the file name with one of {', '.join(DIAGRAM_FORMATS)}",
        )
    return DIAGRAM_FORMATS[suffix]


def render(
    model: PathwayModel,
    path: str | Path,
    highlight: Highlight | None = None,
    edge_labels: Mapping[AnnotationKey, str] | None = None,
    node_notes: Mapping[str, str] | None = None,
) -> Path:
    """Draw the model's causal pathway diagram to `path` (SVG, PNG, PDF, DOT or Mermaid by suffix).

    Parameters
    ----------
    model : PathwayModel
        The model to draw.
    path : str or Path
        Output file; an existing file is replaced only if it is a diagram of the same format.
    highlight, edge_labels, node_notes
        Annotations, see `moclab.model.export.dot.build_diagram` (not shown in Mermaid output).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ModelError
        Unknown suffix, a file that must not be overwritten, or Graphviz missing or failing.

    Examples
    --------
    >>> from moclab.model import load_template, render
    >>> model = load_template("mechanism-criteria", catalog=None)
    >>> path = render(model, "pathway.svg")  # drawn by Graphviz's dot
    >>> svg = path.read_text(encoding="utf-8")
    >>> path.name, svg.startswith("<?xml"), "Knowledge acquisition" in svg
    ('pathway.svg', True, True)
    >>> render(model, "pathway.mmd").read_text(encoding="utf-8").splitlines()[0]  # Mermaid, no Graphviz
    "%% pathway model 'mechanism-criteria' drawn by moclab"
    """
    kind = diagram_format(path)
    if kind == "mermaid":
        return write_output(path, to_mermaid(model), kind)
    graph = build_diagram(model, highlight, edge_labels, node_notes)
    if kind == "dot":
        return write_output(path, graph.source, kind)
    content = pipe_graphviz(graph, kind, what="the model", text_formats=".dot or .mmd")
    return write_output(path, content, kind)


def pipe_graphviz(
    graph: graphviz.Digraph,
    kind: str,
    *,
    what: str,
    text_formats: str = ".dot",
    error: type[MoclabError] = ModelError,
) -> bytes:
    """Lay out and draw `graph` with Graphviz as `kind` (svg, png, pdf); a missing or failing `dot` is an
    `error` (of the caller's area) naming `what` was drawn and the text formats that need no Graphviz."""
    try:
        return graph.pipe(format=kind)
    except graphviz.ExecutableNotFound:
        raise error(
            "Graphviz is not installed (the 'dot' program was not found)",
            hint="install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
            f"or write a {text_formats} file instead",
        ) from None
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip()
        raise error(f"Graphviz could not draw {what}: {detail or exc}") from None
