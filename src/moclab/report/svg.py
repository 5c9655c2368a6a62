"""Figures as inline SVG: matplotlib figures and Graphviz graphs rendered in memory, made fit to inline.

A page holds many SVG documents, so each one is cleaned before it is inlined: the XML prolog, DOCTYPE,
comments and metadata go; every ``id`` (and every reference to it, ``url(#...)`` and ``href="#..."``) gets a
prefix unique to the figure, since matplotlib and Graphviz number their elements the same way in every
figure (``figure_1``, ``node1``) and duplicate ids would break clip paths; the root element gets
``role="img"`` and an accessible name. Matplotlib writes text as ``<text>`` (``svg.fonttype: none``): smaller
files, selectable and searchable text, drawn in the reader's sans-serif font.

There is no library for the id rewriting; it is a few regular expressions over SVG that matplotlib and
Graphviz themselves wrote (well-formed, attributes in double quotes), not over arbitrary markup.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from typing import Any

__all__ = ["MATPLOTLIB_STYLE", "SvgError", "axes_svg", "graph_svg", "inline_svg", "scale_svg"]

#: matplotlib settings for report figures: text as text, deterministic ids, the usual sans-serif fonts.
MATPLOTLIB_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "moclab-report",
    "font.family": "sans-serif",
    "font.size": 9.5,
    "figure.dpi": 100,
}

#: No <metadata> block (it names the creator by URL and adds nothing a reader needs).
_NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}

_ID = re.compile(r'\bid="([^"]+)"')
_URL_REFERENCE = re.compile(r"url\(#([^)\s]+)\)")
_HREF_REFERENCE = re.compile(r'\b((?:xlink:)?href)="#([^"]+)"')
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)
# What must never reach the page from a figure (the page's CSP forbids scripts anyway).
_FORBIDDEN = re.compile(
    r"<\s*(?:script|foreignObject|iframe|image)\b|<[^>]*(?:\son[a-z]+\s*=|javascript:|\bhref=\"(?!#))", re.I
)


class SvgError(ValueError):
    """A figure that cannot be inlined safely (not SVG, or holding scripts or external references)."""


def inline_svg(document: str, prefix: str, label: str) -> str:
    """Make an SVG document fit to inline in an HTML page.

    Parameters
    ----------
    document : str
        The SVG as written by matplotlib or Graphviz (with or without XML prolog).
    prefix : str
        Prepended to every id of the figure (letters, digits and hyphens), unique on the page.
    label : str
        The accessible name of the figure (``aria-label``); escaped here.

    Returns
    -------
    str
        The ``<svg>`` element.

    Raises
    ------
    SvgError
        When the document holds no ``<svg>`` element, or holds a script, an event handler or a reference
        to anything outside itself.

    Examples
    --------
    >>> inline_svg('<?xml version="1.0"?><svg id="a"><use href="#a"/></svg>', "f1", "A <figure>")
    '<svg role="img" aria-label="A &lt;figure&gt;" id="f1-a"><use href="#f1-a"/></svg>'
    """
    start = document.find("<svg")
    if start < 0:
        raise SvgError("the figure is not an SVG document")
    body = _METADATA.sub("", _COMMENT.sub("", document[start:])).strip()
    if _FORBIDDEN.search(body):
        raise SvgError("the figure holds a script or an external reference")
    body = _ID.sub(lambda match: f'id="{prefix}-{match.group(1)}"', body)
    body = _URL_REFERENCE.sub(lambda match: f"url(#{prefix}-{match.group(1)})", body)
    body = _HREF_REFERENCE.sub(lambda match: f'{match.group(1)}="#{prefix}-{match.group(2)}"', body)
    name = html.escape(label, quote=True)
    return body.replace("<svg", f'<svg role="img" aria-label="{name}"', 1)


_ROOT = re.compile(r"<svg\b[^>]*>")
_SIZE = re.compile(r'\b(width|height)="([0-9.]+)(pt|px)?"')


def scale_svg(document: str, factor: float) -> str:
    """Scale the displayed size of an SVG (its root ``width`` and ``height``; the viewBox keeps the drawing).

    Examples
    --------
    >>> scale_svg('<svg width="100pt" height="50pt" viewBox="0 0 100 50"><g/></svg>', 0.5)
    '<svg width="50pt" height="25pt" viewBox="0 0 100 50"><g/></svg>'
    """
    root = _ROOT.search(document)
    if root is None or "viewBox" not in root.group(0):
        return document
    tag = _SIZE.sub(
        lambda m: f'{m.group(1)}="{float(m.group(2)) * factor:g}{m.group(3) or ""}"', root.group(0)
    )
    return document[: root.start()] + tag + document[root.end() :]


def axes_svg(draw: Callable[[], Any]) -> str:
    """Run `draw` (which returns a matplotlib Axes on a new figure) and return the figure as SVG text.

    The drawing runs under `MATPLOTLIB_STYLE`; the figure is closed afterwards, whatever happens, so a long
    report does not pile figures up in pyplot's memory.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(MATPLOTLIB_STYLE):
        figure = None
        try:
            axes = draw()
            figure = axes.figure
            buffer = io.StringIO()
            # bbox "tight": long labels (site names in a forest plot) are kept, not cut at the figure's edge
            figure.savefig(buffer, format="svg", bbox_inches="tight", metadata=_NO_METADATA)
        finally:
            if figure is not None:
                plt.close(figure)
    return buffer.getvalue()


def graph_svg(graph: Any) -> str:
    """A `graphviz.Digraph` (or `graphviz.Source`) rendered to SVG text by Graphviz ``dot``."""
    return graph.pipe(format="svg", encoding="utf-8")
