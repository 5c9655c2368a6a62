"""The shared HTML page of moclab's outputs: one jinja2 environment, one stylesheet, one base template.

Every self-contained page moclab writes (the evidence report, the power page of `moclab power`) can extend
``base.html.j2`` or call `render_page`, so they look alike, print alike and stay offline: the stylesheet is
inlined, a Content-Security-Policy forbids scripts and network loads, and autoescaping is on. The number
filters (`format_number`, `format_interval`, `format_p`) are shared so a number reads the same everywhere.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from moclab import __version__
from moclab.errors import require

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "TocEntry",
    "decimals_for",
    "environment",
    "format_interval",
    "format_number",
    "format_p",
    "format_p_text",
    "format_percent",
    "render_page",
    "stylesheet",
    "unsign_zeros",
]

#: A table-of-contents entry: ``{"id": anchor, "label": text, "children": [entries]}``.
TocEntry = Mapping[str, Any]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def decimals_for(*values: Any) -> int:
    """The decimals that print a group of numbers read together (an estimate, its SE and its interval).

    Three decimals, the house rule for effects (mostly between 0.01 and 10); when the largest of the values
    is below 0.01, as many as give it two significant digits (a dose-response slope per minute of support
    can be 0.0004, which three decimals would print as 0.000). Missing values and zeros are ignored.

    Examples
    --------
    >>> decimals_for(0.21), decimals_for(0.00367, 0.015), decimals_for(0.00367), decimals_for(0.00041)
    (3, 3, 4, 5)
    """
    finite = [abs(float(v)) for v in values if _finite(v) and v != 0]
    if not finite:
        return 3
    largest = max(finite)
    if largest >= 0.01:
        return 3
    return min(1 - math.floor(math.log10(largest)), 10)


def _fixed(value: float, places: int) -> str:
    """`value` with `places` decimals; a value that rounds to zero prints "0.000", never "-0.000"."""
    text = f"{value:.{places}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_number(value: Any, decimals: int | None = None) -> str:
    """A number as every moclab page prints it; "—" when missing.

    Parameters
    ----------
    value : float, int or None
        Integers print as they are; floats with `decimals` decimals.
    decimals : int, optional
        Default: `decimals_for` the value alone (three, more for values below 0.01). Pass
        ``decimals_for(estimate, se, low, high)`` to print the numbers of one row alike.

    Examples
    --------
    >>> format_number(0.12345), format_number(0.000412), format_number(-0.0001, 3), format_number(12)
    ('0.123', '0.00041', '0.000', '12')
    """
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if not _finite(value):
        return "—"
    return _fixed(float(value), decimals_for(value) if decimals is None else decimals)


def format_interval(low: Any, high: Any, decimals: int | None = None) -> str:
    """``[low, high]`` with the same decimals at both ends; "—" when either end is missing.

    Examples
    --------
    >>> format_interval(0.0821, 0.30204), format_interval(-0.00004, 0.00127)
    ('[0.082, 0.302]', '[0.0000, 0.0013]')
    """
    if not (_finite(low) and _finite(high)):
        return "—"
    places = decimals_for(low, high) if decimals is None else decimals
    return f"[{_fixed(float(low), places)}, {_fixed(float(high), places)}]"


def format_p(value: Any) -> str:
    """A p-value as APA style prints it: "< .001", ".032", "> .999"; "—" when missing.

    Examples
    --------
    >>> format_p(0.00002), format_p(0.0321), format_p(0.99995), format_p(None)
    ('< .001', '.032', '> .999', '—')
    """
    if not _finite(value):
        return "—"
    if value < 0.001:
        return "< .001"
    if value >= 0.9995:  # would print as 1.000
        return "> .999"
    return f"{value:.3f}".removeprefix("0")


def format_p_text(value: Any) -> str:
    """A p-value in a sentence: "p < .001", "p = .032"; "p —" when missing.

    Examples
    --------
    >>> format_p_text(0.0004), format_p_text(0.21)
    ('p < .001', 'p = .210')
    """
    text = format_p(value)
    return f"p {text}" if text.startswith(("<", ">", "—")) else f"p = {text}"


def format_percent(value: Any, decimals: int = 1) -> str:
    """A share (0-1) as a percentage with `decimals` decimals; "—" when missing.

    Examples
    --------
    >>> format_percent(0.0957), format_percent(-0.00001)
    ('9.6%', '0.0%')
    """
    if not _finite(value):
        return "—"
    return f"{_fixed(100 * float(value), decimals)}%"


_SIGNED_ZERO = re.compile(r"(?<![\w.])-(0(?:\.0+)?)(?![\d.])")


def unsign_zeros(text: str) -> str:
    """`text` with every signed zero ("-0.000", "-0") unsigned: for sentences other layers wrote.

    Examples
    --------
    >>> unsign_zeros("trend -0.000 [-0.005, 0.005]; a-0.0 stays; -0.0004 stays")
    'trend 0.000 [-0.005, 0.005]; a-0.0 stays; -0.0004 stays'
    """
    return _SIGNED_ZERO.sub(r"\1", text)


@functools.lru_cache(maxsize=1)
def stylesheet() -> str:
    """The CSS of every moclab page (``templates/report.css``), to inline in a ``<style>`` element."""
    return resources.files("moclab.report").joinpath("templates", "report.css").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment of moclab's pages: the package's templates, autoescaping, strict undefined.

    Raises `moclab.errors.MissingExtraError` when jinja2 (the ``report`` extra) is not installed.
    """
    jinja2 = require("jinja2", "report", "the HTML report")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("moclab.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = format_number
    env.filters["interval"] = format_interval
    env.filters["pval"] = format_p
    env.filters["ptext"] = format_p_text
    env.filters["percent"] = format_percent
    env.filters["value"] = _data_value
    env.filters["unsign"] = unsign_zeros
    env.globals["decimals_for"] = decimals_for
    return env


def _data_value(value: Any) -> str:
    """The exact value for a ``data-value`` attribute (Python's shortest round-trip repr), "" when missing."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if not _finite(value):
        return ""
    return repr(float(value))


def page_context(
    title: str,
    *,
    subtitle: str | None = None,
    banner: str | None = None,
    toc: Sequence[TocEntry] = (),
    generated: datetime.datetime | str | None = None,
    footer_note: str | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The variables ``base.html.j2`` reads, for templates that extend it."""
    if isinstance(generated, datetime.datetime):
        generated = generated.strftime("%Y-%m-%d %H:%M")
    return {
        "title": title,
        "subtitle": subtitle,
        "banner": banner,
        "toc": list(toc),
        "generated": generated,
        "footer_note": footer_note,
        "lang": lang,
        "version": __version__,
        "css": _markup(stylesheet()),
    }


def render_page(
    title: str,
    body_html: str,
    *,
    subtitle: str | None = None,
    banner: str | None = None,
    toc: Sequence[TocEntry] = (),
    generated: datetime.datetime | str | None = None,
    footer_note: str | None = None,
    lang: str = "en",
) -> str:
    """A complete, self-contained HTML page in moclab's house style around `body_html`.

    Parameters
    ----------
    title : str
        The page title (``<title>`` and the heading); escaped.
    body_html : str
        The content of ``<main>``, inserted as it is: the caller must have escaped any text it holds (build
        it with a jinja2 template with autoescaping, or `html.escape`). Inline SVG figures are welcome.
    subtitle, banner : str, optional
        A line under the title; a highlighted note above it (e.g. "Synthetic data"). Escaped.
    toc : sequence of mappings
        Table of contents: ``{"id": "section-anchor", "label": "Section", "children": [...]}``.
    generated : datetime or str, optional
        When the page was written, shown in the footer.
    footer_note : str, optional
        One more sentence for the footer. Escaped.
    lang : str
        The page's language (``<html lang>``).

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> page = render_page("Power <draft>", "<p>Power is 0.83.</p>", banner="Synthetic data")
    >>> "<title>Power &lt;draft&gt;</title>" in page, "<p>Power is 0.83.</p>" in page
    (True, True)
    """
    context = page_context(
        title,
        subtitle=subtitle,
        banner=banner,
        toc=toc,
        generated=generated,
        footer_note=footer_note,
        lang=lang,
    )
    return environment().get_template("base.html.j2").render(body=_markup(body_html), **context)


def _markup(html_text: str) -> Any:
    """Text the page template inserts unescaped (markupsafe comes with jinja2)."""
    return require("markupsafe", "report", "the HTML report").Markup(html_text)
