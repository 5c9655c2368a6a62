"""Diagrams and exports of pathway models: Graphviz (SVG, PNG, PDF, DOT), Mermaid, lavaan and DAGitty.

- `render(model, path)` draws the causal pathway diagram, the format chosen by the file's suffix;
- `to_dot`, `to_mermaid` give diagram text; `build_diagram` the `graphviz.Digraph` itself;
- `to_lavaan` and `to_dagitty` let a user continue in R (lavaan, dagitty) or on dagitty.net;
- `write_output` writes any of these without overwriting a file that is not an earlier output of the same
kind.
"""

from moclab.model.export.dagitty import to_dagitty
from moclab.model.export.dot import AnnotationKey, Highlight, build_diagram, to_dot
from moclab.model.export.files import write_output
from moclab.model.export.lavaan import to_lavaan
from moclab.model.export.mermaid import to_mermaid
from moclab.model.export.render import DIAGRAM_FORMATS, diagram_format, render

__all__ = [
    "DIAGRAM_FORMATS",
    "AnnotationKey",
    "Highlight",
    "build_diagram",
    "diagram_format",
    "render",
    "to_dagitty",
    "to_dot",
    "to_lavaan",
    "to_mermaid",
    "write_output",
]
