"""The report is offline and safe: no scripts, no external references, hostile text escaped, SVG cleaned."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from moclab.evidence import analyze
from moclab.report import build_report
from moclab.report.svg import SvgError, inline_svg, scale_svg
from moclab.study import example_path, load_study

from .helpers import QUICK, TRUST
from .html_tree import parse

HOSTILE = """<script>alert("pwned")</script> & <img src=x onerror=alert(1)> 'quoted'"""


@pytest.mark.parametrize("which", ["example", "simulated"])
def test_the_page_loads_nothing_from_outside_and_runs_no_script(request, which):
    report = request.getfixturevalue(f"{which}_report")
    page = parse(report.html)
    assert page.find_all("script") == []
    assert page.find_all("link") == [] and page.find_all("iframe") == [] and page.find_all("img") == []
    for element in page.iter():
        for name, value in element.attrs.items():
            value = value or ""
            assert not name.startswith("on"), (element.tag, name)
            if name in ("src", "srcset", "action", "poster", "data"):
                pytest.fail(f"<{element.tag} {name}={value!r}> loads something")
            if name == "xlink:href":
                assert value.startswith("#"), value  # SVG markers reused within the figure
            if name == "href" and not value.startswith("#"):
                # the only links that leave the page are the references' DOIs, and only as text links
                assert re.fullmatch(r"https://doi\.org/\S+", value), value
                assert element.attrs.get("class") == "citation-link"
                assert any(a.attrs.get("id") == "references" for a in element.ancestors())
            if name == "style":
                assert "url(" not in value.replace("url(#", ""), value
    style = page.find("style").text()
    assert "@import" not in style and "url(" not in style and "http" not in style
    csp = page.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    outside = re.findall(r"https?://[^\s\"'<>]+", report.html)
    allowed = {link.attrs["href"] for link in page.find_all("a", class_="citation-link")}
    # besides the DOI links: the SVG namespaces, which are names, not addresses that are loaded
    assert set(outside) - allowed <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_a_hostile_study_title_and_model_title_are_escaped(tmp_path: Path):
    folder = tmp_path / "study"
    shutil.copytree(example_path(), folder)
    for name in ("moclab.yaml", "model.yaml"):
        config = folder / name
        text = config.read_text(encoding="utf-8")
        quoted = HOSTILE.replace("'", "''")
        text = re.sub(r'^title: ".*"$', f"title: '{quoted}'", text, count=1, flags=re.MULTILINE)
        config.write_text(text, encoding="utf-8")
    study = load_study(folder, show_progress=False)
    assert study.title == HOSTILE and study.model.title == HOSTILE
    evidence = analyze(study, pathways=[TRUST], **QUICK)
    report = build_report(evidence, study, show_progress=False)
    page = parse(report.html)
    assert page.find_all("script") == [] and page.find_all("img") == []
    assert page.find("title").text() == HOSTILE
    assert page.find("h1").text() == HOSTILE
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in report.html
    # the model's title reaches the page as escaped text too, and its diagram is still drawn
    assert all(figure.svg is not None for figure in report.figures)
    assert HOSTILE in page.find("section", id="summary").text()
    assert report.data["study"]["title"] == HOSTILE


def test_inline_svg_prefixes_ids_and_references():
    document = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- made by hand -->\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<metadata><title>x</title></metadata><defs><clipPath id="c1"><rect/></clipPath></defs>'
        '<g id="figure_1" clip-path="url(#c1)"><use xlink:href="#figure_1"/><text>one = 1</text></g></svg>'
    )
    svg = inline_svg(document, "fig3", 'Caption "with" <markup>')
    assert svg.startswith('<svg role="img" aria-label="Caption &quot;with&quot; &lt;markup&gt;"')
    assert 'id="fig3-c1"' in svg and "url(#fig3-c1)" in svg and 'xlink:href="#fig3-figure_1"' in svg
    assert "<metadata>" not in svg and "<!--" not in svg and "DOCTYPE" not in svg
    assert "<text>one = 1</text>" in svg  # text that merely looks like an attribute is kept


@pytest.mark.parametrize(
    "document",
    [
        "<svg><script>alert(1)</script></svg>",
        '<svg><g onload="alert(1)"/></svg>',
        '<svg><a xlink:href="https://example.org/x"><text>t</text></a></svg>',
        '<svg><image href="data:image/png;base64,AAAA"/></svg>',
        "<svg><foreignObject><div/></foreignObject></svg>",
        "<html>not a figure</html>",
    ],
)
def test_inline_svg_refuses_what_must_not_reach_the_page(document):
    with pytest.raises(SvgError):
        inline_svg(document, "f", "label")


def test_scale_svg_changes_the_displayed_size_only():
    document = '<svg width="1640pt" height="539pt" viewBox="0.00 0.00 1640.19 539.00"><g/></svg>'
    assert scale_svg(document, 0.8).startswith('<svg width="1312pt" height="431.2pt" viewBox="0.00 0.00')
    without_view_box = '<svg width="10pt" height="5pt"><g/></svg>'
    assert scale_svg(without_view_box, 0.5) == without_view_box
