"""Stage maps, episode profiles (HTML/Markdown, escaped) and the experience pathway graph."""

from __future__ import annotations

import pytest
from qual_builders import build_project

from moclab.errors import QualError
from moclab.qual import example_project_path, read_project
from moclab.qual.pathway import experience_pathway, narrative_sequences
from moclab.qual.profiles import episode_profiles
from moclab.qual.stages import Stage, StageMap

T1 = "R: I trusted the coach.\nR: It felt doable.\nR: We use it now."
T2 = "R: It fit our work.\nR: The team felt safe.\nR: We learned <b>a lot</b> & *more*."


@pytest.fixture
def project():
    return build_project(
        [
            ("int1", T1, [(3, 23, "Trust", "ana"), (27, 42, "Feasibility", "ana"),
                          (46, 60, "Application", "ana")]),
            ("int2", T2, [(3, 19, "Appropriateness", "ana"), (23, 42, "Psychological safety", "ana"),
                          (46, 81, "Knowledge", "ana"), (46, 81, "Other", "ana")]),
            ("int3", "R: Nothing relevant.", []),
        ],
        codes=["Trust", "Psychological safety", "Feasibility", "Appropriateness", "Knowledge", "Application"],
        cases={"P01": (["int1"], {"engagement": "high"}), "P02": (["int2"], {"engagement": "limited"}),
               "P03": (["int3"], {"engagement": "high"})},
        memos={"int1": "Spoke <quickly>."},
    )  # fmt: skip


def test_recipient_pathway_stage_map_matches_codes_by_name(project):
    stages = StageMap.recipient_pathway(project)
    assert [s.id for s in stages.stages] == [
        "implementation-support",
        "affective-response",
        "acceptability-appropriateness-and-feasibility",
        "knowledge-and-application",
        "sustained-capacity-and-outcomes",
    ]
    assert stages.stage_of("Psychological safety") == "affective-response"
    assert stages.stage_of("Application") == "knowledge-and-application"
    assert stages.stage_of("Other") is None
    components = StageMap.recipient_pathway(project, level="component")
    assert components.stage_of("Trust") == "trust" and components.stage("trust").order == 2


def test_bundled_codebook_codes_all_map_to_stages():
    project = read_project(example_project_path())
    stages = StageMap.recipient_pathway(project)
    codable = [project.code_path(c.guid) for c in project.codes if c.codable]
    assert all(stages.stage_of(code) for code in codable)


def test_custom_stage_map_inherits_to_children():
    project = build_project(
        [("s", "abc", [(0, 1, "Child", None)])], codes=[("Parent", None), ("Child", "Parent")]
    )
    stages = StageMap.from_mapping(project, {"Parent": "early"}, ["early", Stage("late", "Late", 2)])
    assert stages.stage_of("Parent/Child") == "early"
    with pytest.raises(QualError, match="unknown stages"):
        StageMap.from_mapping(project, {"Parent": "middle"}, ["early"])


def test_episode_profiles_content_and_aggregate(project):
    profiles = episode_profiles(project)
    first = profiles.profile("P01")
    assert first.attributes == {"engagement": "high"} and first.memos == ("Spoke <quickly>.",)
    assert first.stages_mentioned == [
        "affective-response",
        "acceptability-appropriateness-and-feasibility",
        "knowledge-and-application",
    ]
    quote = first.episodes[1].quotes[0]
    assert (quote.code, quote.text, quote.start) == ("Trust", "I trusted the coach.", 3)
    assert profiles.profile("P02").other_codes == {"Other": 1}
    aggregate = profiles.aggregate("engagement").set_index("stage")
    assert aggregate.loc["affective-response", "interviews"] == 2
    assert aggregate.loc["affective-response", "engagement=high"] == "1/2"
    assert aggregate.loc["sustained-capacity-and-outcomes", "interviews"] == 0
    assert len(profiles.to_frame()) == 6


def test_profiles_html_and_markdown_escape_quotes(project, tmp_path):
    profiles = episode_profiles(project)
    html = profiles.to_html()
    assert "&lt;b&gt;a lot&lt;/b&gt; &amp; *more*" in html and "<b>a lot</b>" not in html
    assert (
        "Spoke &lt;quickly&gt;." in html and "<script" not in html and "http" not in html.split("<body>")[0]
    )
    markdown = profiles.to_markdown()
    assert r"> We learned \<b\>a lot\</b\> & \*more\*." in markdown
    assert "*Not mentioned.*" in markdown
    written = profiles.write(tmp_path / "out")
    assert [p.name for p in written] == ["profiles.html", "profiles.md"]


def test_no_matching_codes_is_a_clear_error():
    project = build_project([("s", "abc", [(0, 1, "Unrelated", None)])])
    with pytest.raises(QualError, match="no code of project"):
        episode_profiles(project)


def test_narrative_order_and_pathway_edges(project):
    sequences = narrative_sequences(project)
    assert sequences[sequences["unit"] == "P02"]["stage"].tolist() == [
        "acceptability-appropriateness-and-feasibility",
        "affective-response",
        "knowledge-and-application",
    ]
    immediate = experience_pathway(project)
    graph = immediate.graph
    affect, perception, knowing = (
        "affective-response",
        "acceptability-appropriateness-and-feasibility",
        "knowledge-and-application",
    )
    assert graph.edges[affect, perception]["weight"] == 1 and graph.edges[affect, perception][
        "interviews"
    ] == ["P01"]
    assert graph.edges[perception, affect]["direction"] == "backward"
    assert graph.edges[perception, knowing]["weight"] == 1
    assert graph.edges[affect, knowing]["interviews"] == ["P02"]  # P02: perception, affect, knowledge
    assert not graph.has_edge(knowing, affect)
    anywhere = experience_pathway(project, precedes="anywhere").graph
    assert anywhere.edges[affect, knowing]["weight"] == 2  # both interviews tell affect before knowledge
    assert anywhere.nodes[affect]["interviews"] == 2 and immediate.info["interviews"] == 3
    table = immediate.sequence_table().set_index("unit")
    assert table.loc["P01", "sequence"].startswith("Affective response")


def test_pathway_median_position_and_multi_source_cases():
    text_a, text_b = "x" * 50, "y" * 50
    project = build_project(
        [
            ("a", text_a, [(40, 45, "Trust", None), (0, 5, "Knowledge", None)]),
            ("b", text_b, [(0, 5, "Trust", None)]),
        ],
        cases={"P": (["a", "b"], {})},
    )
    # first: Knowledge at 0 comes before Trust at 40; median: Trust's starts are 40 and 51 (second source)
    assert narrative_sequences(project)["stage"].tolist() == [
        "knowledge-and-application",
        "affective-response",
    ]
    median = narrative_sequences(project, position="median")
    assert median["position"].tolist() == [0.0, 45.5]


def test_pathway_drawings(project, tmp_path):
    pathway = experience_pathway(project)
    dot = pathway.to_dot()
    assert "rankdir=LR" in dot and "label=1 " in dot and "penwidth" in dot
    svg = pathway.draw(tmp_path / "pathway.svg")
    png = pathway.draw(tmp_path / "pathway.png")
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert png.read_bytes().startswith(b"\x89PNG")
    assert pathway.draw(tmp_path / "pathway.dot").read_text() == dot
    (tmp_path / "notes.png").write_text("my own notes")
    with pytest.raises(Exception, match=r"notes\.png"):
        pathway.draw(tmp_path / "notes.png")
    with pytest.raises(QualError, match="drawing format"):
        pathway.draw(tmp_path / "pathway.pdf")
    assert pathway.to_dict()["edges"][0]["weight"] == 1


def test_results_turn_into_json(project):
    import json

    from moclab.qual.cooccurrence import code_cooccurrence
    from moclab.qual.matrix import code_case_matrix
    from moclab.qual.prevalence import prevalence_by_attribute

    results = [
        episode_profiles(project),
        experience_pathway(project),
        code_case_matrix(project),
        code_cooccurrence(project),
        prevalence_by_attribute(project, "engagement"),
    ]
    for result in results:
        data = json.loads(json.dumps(result.to_dict()))
        assert data["type"] == type(result).__name__
        assert "<div>" in result._repr_html_()
