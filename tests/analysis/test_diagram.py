"""Path diagrams shared by every mediation result: DOT text, matplotlib drawing, panels per level."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from moclab.analysis import mediate, mediate_glm, multilevel_mediate
from moclab.analysis.diagram import (
    DiagramEdge,
    DiagramNode,
    PathDiagram,
    PathEstimate,
    dot_escape,
    mediation_parts,
    significance_stars,
)

matplotlib.use("Agg")


def test_stars_and_escaping():
    assert [significance_stars(p) for p in (0.0005, 0.005, 0.03, 0.2, None, float("nan"))] == [
        "***",
        "**",
        "*",
        "",
        "",
        "",
    ]
    assert dot_escape('a "b" \\ c') == 'a \\"b\\" \\\\ c'


def test_mediation_triangle_layout_and_labels():
    paths = [PathEstimate("x", "m", "a", 0.456, 0.0001), PathEstimate("m", "y", "b", -0.2, 0.04)]
    nodes, edges = mediation_parts("x", ["m"], "y", paths, direct="c' = 0.10 (c = 0.01)")
    assert [(n.id, n.position) for n in nodes] == [("x", (0.0, 0.0)), ("m", (0.5, 1.0)), ("y", (1.0, 0.0))]
    assert [(e.label, e.plot_label, e.label_at) for e in edges] == [
        ("a = 0.46***", "0.46***", 0.72),
        ("b = -0.20*", "-0.20*", 0.28),
        ("c' = 0.10 (c = 0.01)", None, 0.5),
    ]
    assert edges[-1].label_shift == -0.13


def test_serial_chain_bends_arrows_that_skip_a_mediator():
    paths = [
        PathEstimate("x", "m1", "a", 0.5),
        PathEstimate("m1", "m2", "d", 0.4),
        PathEstimate("m1", "m3", "d", 0.1),
        PathEstimate("m3", "y", "b", 0.3),
    ]
    nodes, edges = mediation_parts("x", ["m1", "m2", "m3"], "y", paths, serial=True)
    positions = {n.id: n.position for n in nodes}
    assert positions["m2"][1] > positions["m1"][1]  # the arch
    bends = {(e.source, e.target): e.bend for e in edges}
    assert bends[("m1", "m3")] == 0.3 and bends[("m1", "m2")] == 0.0


def test_panels_become_dot_clusters_and_plot_headings():
    within = mediation_parts(
        "x", ["m"], "y", [PathEstimate("x", "m", "a", 1.0)], group="Within", id_suffix=" (w)"
    )
    between = mediation_parts(
        "x", ["m"], "y", [PathEstimate("m", "y", "b", 2.0)], group="Between", id_suffix=" (b)", x_offset=1.6
    )
    diagram = PathDiagram(
        tuple(within[0] + between[0]),
        tuple(within[1] + between[1]),
        title="two levels",
        same_rank=(("x (w)", "y (w)"),),
    )
    dot = diagram.to_dot()
    assert "subgraph cluster_0 {" in dot and 'label="Within";' in dot and 'label="Between";' in dot
    assert '"x (w)" [label="x"];' in dot and '{ rank=same; "x (w)"; "y (w)"; }' in dot
    assert '"m (b)" -> "y (b)" [label="b = 2.00"];' in dot
    ax = diagram.plot()
    texts = [t.get_text() for t in ax.texts]
    assert {"Within", "Between", "1.00", "2.00"} <= set(texts) and texts.count("x") == 2
    assert ax.get_xlim()[1] == pytest.approx(2.6 + 0.15) and ax.get_title() == "two levels"


def test_invalid_diagrams_are_refused():
    node = DiagramNode("a", (0.0, 0.0))
    with pytest.raises(ValueError, match="unique"):
        PathDiagram((node, node), ())
    with pytest.raises(ValueError, match="unknown nodes"):
        PathDiagram((node,), (DiagramEdge("a", "b", "x"),))


def test_mediation_result_diagram_is_the_shared_one():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"coaching": rng.integers(0, 2, 200)})
    df["trust"] = 0.5 * df.coaching + rng.normal(size=200)
    df["adoption"] = 0.4 * df.trust + rng.normal(size=200)
    result = mediate(df, x="coaching", m="trust", y="adoption", ci="delta")
    a = result.effect("a[trust]")
    assert (
        f'"coaching" -> "trust" [label="a = {a.estimate:.2f}{significance_stars(a.p)}"];' in result.to_dot()
    )
    assert result.to_dot() == result.diagram().to_dot()
    texts = [t.get_text() for t in result.plot().texts]
    assert any(t.startswith("c' = ") for t in texts)


def test_causal_mediation_result_has_a_diagram():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, 400)
    m = 0.5 * x + rng.normal(size=400)
    y = (rng.random(400) < 1 / (1 + np.exp(-(-0.5 + 0.4 * x + 0.8 * m)))).astype(int)
    frame = pd.DataFrame({"coaching": x, "trust": m, "adopted": y})
    result = mediate_glm(frame, x="coaching", m="trust", y="adopted", outcome_model="logit", n_mc=200, seed=2)
    dot = result.to_dot()
    b = result.outcome_model.loc["trust"]
    assert f'"trust" -> "adopted" [label="b (logit) = {b.estimate:.2f}{significance_stars(b.p)}"];' in dot
    assert f"ADE = {result.effect('ade').estimate:.2f}" in dot
    ax = result.plot()
    assert "ACME" in ax.get_title() and "probability scale" in ax.get_title()
    # The p-values behind the stars are statsmodels' (z for logit, t for OLS).
    assert b.p == pytest.approx(2 * stats.norm.sf(abs(b.estimate / b.se)), rel=1e-8)


def _sites(seed: int, within_x: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = np.repeat(np.arange(20), 12)
    x = (
        rng.normal(size=240) + rng.normal(size=20)[site]
        if within_x
        else np.repeat(rng.integers(0, 2, 20), 12)
    )
    m = 0.5 * x + rng.normal(0, 0.5, 20)[site] + rng.normal(size=240)
    y = 0.4 * m + rng.normal(0, 0.5, 20)[site] + rng.normal(size=240)
    return pd.DataFrame({"site": site, "x": x, "m": m, "y": y})


def test_multilevel_2_1_1_diagram_has_between_and_within_panels():
    result = multilevel_mediate(_sites(2, False), x="x", m="m", y="y", cluster="site", n_mc=1000, seed=1)
    dot = result.to_dot()
    indirect = result.effect("indirect")
    assert f'label="Between clusters: indirect = {indirect.estimate:.2f}' in dot
    assert 'label="Within clusters";' in dot
    b_within = result.effect("b_within")
    assert f'"m (within)" -> "y (within)" [label="b = {b_within.estimate:.2f}' in dot
    assert f'"x (between)" -> "m (between)" [label="a = {result.effect("a").estimate:.2f}' in dot
    assert "20 clusters" in result.plot().get_title()


def test_multilevel_1_1_1_diagram_separates_levels():
    frame = _sites(3, True)
    result = multilevel_mediate(
        frame, x="x", m="m", y="y", cluster="site", random_slopes=False, n_mc=1000, seed=1
    )
    dot = result.to_dot()
    assert '"x (within)" -> "m (within)"' in dot and '"x (between)" -> "m (between)"' in dot
    total = result.effect("total")
    assert f"(c = {total.estimate:.2f})" in dot
    pooled = multilevel_mediate(
        frame, x="x", m="m", y="y", cluster="site", random_slopes=False, center="none", n_mc=1000, seed=1
    )
    assert "subgraph" not in pooled.to_dot() and '"x" -> "m"' in pooled.to_dot()
