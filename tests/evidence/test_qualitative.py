"""Coded interviews in the plausibility criterion: counting, quotes, code matching, the study section, the
simulated demo study, and `moclab analyze`."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.errors import ValidationError
from moclab.evidence import QualitativeEvidence, Status, analyze
from moclab.evidence.qualitative import joint_display, qualitative_support_from_project
from moclab.evidence.rules import LinkBacking, PathSign, judge_plausibility
from moclab.evidence.verdicts import QualitativeQuote
from moclab.model import load_template, model_from_dict
from moclab.qual import example_project_path, read_project, write_project
from moclab.qual.project import Case, Code, Coding, Project, Selection, TextSource, User, stable_guid
from moclab.study import example_path, load_study

from .helpers import cross_sectional, write_study

TRUST = "isp_support__trust__acceptability"
MODEL = model_from_dict(
    {
        "model": "tiny",
        "nodes": [
            {"id": "coaching", "type": "strategy"},
            {"id": "trust", "type": "mechanism"},
            {"id": "acceptability", "type": "proximal outcome"},
        ],
        "edges": [{"from": "coaching", "to": "trust"}, {"from": "trust", "to": "acceptability"}],
    },
    catalog=None,
)


def tiny_project() -> Project:
    """Five interviews, hand-coded so that the counts can be read off:

    ====  ==============================================  =========================================
    I1    trust (A) at 0, acceptability (A) at 20          trust told first: supports
    I2    acceptability (A) at 0, trust (A) at 30          both, the other order
    I3    trust/Reliability (A) at 0, acceptability (B)    trust first, but acceptability only by B
    I4    one passage coded trust and acceptability (A)    a tie: told together, counts as support
    I5    two sources: acceptability in the first (A),     the outcome is told first: the second
          trust in the second (A)                          source comes later in the interview
    ====  ==============================================  =========================================
    """
    project = Project("tiny")
    users = {name: User(stable_guid("user", name), name) for name in ("A", "B")}
    project.users = list(users.values())
    codes = {
        "Trust": Code(stable_guid("code", "trust"), "Trust"),
        "Acceptability": Code(stable_guid("code", "acc"), "Acceptability"),
        "Did not help": Code(stable_guid("code", "no"), "Did not help"),
    }
    codes["Reliability"] = Code(stable_guid("code", "rel"), "Reliability", parent=codes["Trust"].guid)
    project.codes = list(codes.values())

    def source(name: str, text: str, spans: list[tuple[int, int, tuple[str, ...], str]]) -> TextSource:
        made = TextSource(stable_guid("source", name), name, text)
        for number, (start, end, names, coder) in enumerate(spans):
            codings = [
                Coding(stable_guid("coding", name, str(number), c), codes[c].guid, creator=users[coder].guid)
                for c in names
            ]
            made.selections.append(
                Selection(
                    stable_guid("sel", name, str(number)),
                    start,
                    end,
                    creator=users[coder].guid,
                    codings=codings,
                )
            )
        return made

    sources = [
        source("I1", "I trust them fully. Later I came to accept the method.", [
            (0, 19, ("Trust",), "A"), (20, 55, ("Acceptability",), "A")]),
        source("I2", "I liked the method from day one. Only later did I trust them.", [
            (0, 32, ("Acceptability",), "A"), (33, 61, ("Trust",), "A")]),
        source("I3", "They always showed up. The method then made sense.", [
            (0, 22, ("Reliability",), "A"), (23, 51, ("Acceptability",), "B")]),
        source("I4", "Because I trusted them I accepted it.", [(0, 37, ("Trust", "Acceptability"), "A")]),
        source("I5a", "The method seemed fine to us.", [(0, 29, ("Acceptability",), "A")]),
        source("I5b", "Trust came much later.", [(0, 22, ("Trust",), "A")]),
    ]  # fmt: skip
    project.sources = sources
    members = {"I1": ["I1"], "I2": ["I2"], "I3": ["I3"], "I4": ["I4"], "I5": ["I5a", "I5b"]}
    project.cases = [
        Case(stable_guid("case", name), name, sources=[stable_guid("source", s) for s in parts])
        for name, parts in members.items()
    ]
    return project


# -- counting on a hand-coded project ---------------------------------------------------------------------


def test_hand_counted_support_on_a_tiny_project():
    support = qualitative_support_from_project(tiny_project(), MODEL)
    evidence = support.evidence("trust", "acceptability")
    assert evidence.status == "supports"
    assert evidence.counts == {
        "interviews": 5,
        "mechanism": 5,
        "outcome": 5,  # I3 counts: coder B coded acceptability there
        "both": 5,
        "mechanism_first": 3,  # I1, I3, I4
        "other_order": 2,  # I2, I5
        "contradicting": 0,
        "min_interviews": 2,
    }
    assert evidence.interviews == ("I1", "I3", "I4")
    assert evidence.summary == (
        "3 of 5 interviews tell trust before acceptability (both told in 5, in another order in 2; 2 needed)"
    )
    assert evidence.sources == ("tiny",)
    assert [quote.interview for quote in evidence.quotes] == ["I1", "I3", "I4"]
    assert evidence.quotes[0].text == "I trust them fully. […] Later I came to accept the method."
    assert evidence.quotes[0].codes == ("Trust", "Acceptability")
    assert evidence.quotes[1].codes == ("Trust/Reliability", "Acceptability")  # a sub-code counts for trust
    assert evidence.quotes[2].text == "Because I trusted them I accepted it."  # one passage, quoted once


def test_coders_threshold_and_quote_limit_change_the_counts():
    one_coder = qualitative_support_from_project(
        tiny_project(), MODEL, {"coders": ["A"], "min_interviews": 3, "max_quotes": 1}
    )
    evidence = one_coder.evidence("trust", "acceptability")
    assert evidence.counts["outcome"] == 4 and evidence.counts["both"] == 4
    assert evidence.counts["mechanism_first"] == 2  # I3's acceptability was coded by B only
    assert evidence.status == "none"
    assert evidence.summary.startswith("too few: 2 of 5 interviews tell trust before acceptability")
    assert evidence.quotes == ()
    by_source = qualitative_support_from_project(tiny_project(), MODEL, {"unit": "source"})
    counts = by_source.evidence("trust", "acceptability").counts
    assert counts["interviews"] == 6 and counts["both"] == 4  # I5a and I5b are two interviews now
    quoted = qualitative_support_from_project(tiny_project(), MODEL, {"max_quotes": 1})
    assert len(quoted.evidence("trust", "acceptability").quotes) == 1


def test_contradiction_codes_are_the_only_way_to_contradict():
    def marked(*interviews: str) -> Project:
        project = tiny_project()
        no_help = next(code for code in project.codes if code.name == "Did not help")
        for name in interviews:
            selection = project.source(name).selections[0]
            selection.codings.append(Coding(stable_guid("contra", name), no_help.guid))
        return project

    settings = {"contradictions": {"trust->acceptability": "Did not help"}}
    fewer = qualitative_support_from_project(marked("I2", "I5b"), MODEL, settings)
    evidence = fewer.evidence("trust", "acceptability")
    assert evidence.counts["contradicting"] == 2 and evidence.counts["mechanism_first"] == 3
    assert evidence.status == "supports"  # 3 tell it, more than the 2 that contradict it
    assert "2 marked as contradicting it" in evidence.summary
    tied = qualitative_support_from_project(marked("I2", "I5b", "I3"), MODEL, settings)
    contradicted = tied.evidence("trust", "acceptability")
    assert contradicted.status == "contradicts"  # as many contradict as tell it: the doubt wins
    assert contradicted.interviews == ("I2", "I3", "I5")
    assert contradicted.summary == (
        "3 of 5 interviews say the link did not hold (I2, I3, I5), "
        "against 3 telling trust before acceptability"
    )
    thin = qualitative_support_from_project(
        marked("I2", "I5b", "I3"), MODEL, {**settings, "min_interviews": 4}
    )
    assert thin.evidence("trust", "acceptability").status == "none"


def test_a_contradiction_code_filed_under_the_mechanism_does_not_tell_it():
    project = tiny_project()
    trust = next(code for code in project.codes if code.name == "Trust")
    no_help = next(code for code in project.codes if code.name == "Did not help")
    no_help.parent = trust.guid  # "Trust/Did not help"
    project.invalidate()
    first = project.source("I2").selections[0]  # I2 tells acceptability first, at position 0
    first.codings.append(Coding(stable_guid("contra", "I2"), no_help.guid))
    settings = {"contradictions": {"trust->acceptability": "Trust/Did not help"}}
    support = qualitative_support_from_project(project, MODEL, settings)
    assert support.node_codes["trust"] == ("Trust", "Trust/Reliability")
    evidence = support.evidence("trust", "acceptability")
    assert evidence.counts["mechanism_first"] == 3 and evidence.counts["contradicting"] == 1
    # without the contradiction setting the sub-code is just another trust code: I2 now ties, and supports
    plain = qualitative_support_from_project(project, MODEL).evidence("trust", "acceptability")
    assert plain.counts["mechanism_first"] == 4 and "I2" in plain.interviews


def test_outcome_first_is_not_a_contradiction_without_codes():
    project = tiny_project()
    # keep only the interviews that tell acceptability first
    project.cases = [case for case in project.cases if case.name in ("I2", "I5")]
    project.sources = [s for s in project.sources if s.name in ("I2", "I5a", "I5b")]
    evidence = qualitative_support_from_project(project, MODEL).evidence("trust", "acceptability")
    assert evidence.status == "none" and evidence.counts["other_order"] == 2


# -- the bundled example project -----------------------------------------------------------------------


def independent_counts(mechanism: str, outcome: str) -> tuple[int, int]:
    """(interviews coding both, interviews where the mechanism's first passage starts no later than the
    outcome's), counted straight from the codings frame (every example interview is one source)."""
    frame = read_project(example_project_path()).codings_frame()
    first = frame.groupby(["case", "code_name"])["start"].min().unstack()
    both = first[[mechanism, outcome]].dropna()
    return len(both), int((both[mechanism] <= both[outcome]).sum())


@pytest.mark.parametrize(
    ("mechanism", "code", "outcome", "outcome_code"),
    [
        ("trust", "Trust", "acceptability", "Acceptability"),
        ("credibility", "Credibility", "acceptability", "Acceptability"),
        ("psych_safety", "Psychological safety", "appropriateness", "Appropriateness"),
        ("positive_emotion", "Positive emotion", "feasibility", "Feasibility"),
        ("knowledge", "Knowledge", "application", "Application"),
    ],
)
def test_the_example_project_counts_match_the_codings(mechanism, code, outcome, outcome_code):
    support = qualitative_support_from_project(example_project_path(), load_template("recipient-pathway"))
    evidence = support.evidence(mechanism, outcome)
    both, first = independent_counts(code, outcome_code)
    assert evidence.counts["both"] == both and evidence.counts["mechanism_first"] == first
    assert evidence.counts["interviews"] == 12
    assert evidence.status == ("supports" if first >= 2 else "none")


def test_the_example_tells_trust_before_acceptability_with_quotes_from_its_interviews():
    project = read_project(example_project_path())
    support = qualitative_support_from_project(project, load_template("recipient-pathway"))
    assert support.node_codes["trust"] == ("Affective response to implementation support/Trust",)
    evidence = support.evidence("trust", "acceptability")
    assert evidence.status == "supports" and evidence.counts["mechanism_first"] == 6
    assert len(evidence.quotes) == 3
    texts = {case.name: project.source(case.sources[0]).text for case in project.cases}
    for quote in evidence.quotes:
        assert quote.interview in evidence.interviews
        for part in quote.text.split(" […] "):
            assert part.removesuffix(" …") in " ".join(texts[quote.interview].split())


def test_a_resolved_pathway_is_read_up_to_its_first_outcome():
    model = load_template("recipient-pathway")
    support = qualitative_support_from_project(example_project_path(), model)
    pathway = next(p for p in model.pathways_resolved() if p.id == TRUST)
    assert pathway.outcome == "better_outcomes"  # derived pathways run to a final outcome
    assert support(pathway).summary == support.evidence("trust", "acceptability").summary
    data = json.loads(json.dumps(support.to_dict()))
    assert data["interviews"][:2] == ["R01", "R02"] and data["settings"]["min_interviews"] == 2
    assert {"node": "credibility", "codes": "Affective response to implementation support/Credibility",
            "interviews": 5} in data["nodes"]  # fmt: skip
    assert "Coded interviews of" in support._repr_html_()


def test_codes_named_in_the_settings_replace_the_matching():
    model = load_template("recipient-pathway")
    project = example_project_path()
    by_ref = qualitative_support_from_project(
        project, model, {"codes": {"trust": "recipient-pathway:credibility"}}
    )
    assert by_ref.node_codes["trust"] == ("Affective response to implementation support/Credibility",)
    assert "credibility" not in by_ref.node_codes  # the code went to the node that named it
    by_path = qualitative_support_from_project(
        project, model, {"codes": {"trust": ["Affective response to implementation support/Trust"]}}
    )
    assert by_path.evidence("trust", "acceptability").counts["mechanism_first"] == 6
    off = qualitative_support_from_project(project, model, {"auto_match": False, "codes": {"trust": "Trust"}})
    assert set(off.node_codes) == {"trust"}
    uncoded = off.evidence("trust", "acceptability")
    assert uncoded.status == "none" and "no code of" in uncoded.summary and "acceptability" in uncoded.summary


def test_unknown_codes_and_coders_are_named():
    with pytest.raises(ValidationError) as caught:
        qualitative_support_from_project(
            example_project_path(),
            load_template("recipient-pathway"),
            {
                "codes": {"trust": "Trusst"},
                "coders": ["Coder C"],
                "contradictions": {"trust->acceptability": "Nope"},
            },
        )
    messages = [str(problem) for problem in caught.value.problems]
    assert len(messages) == 3
    assert "no coder 'Coder C'" in messages[0] and "Coder A, Coder B" in messages[0]
    assert "no code 'Trusst'" in messages[1] and "did you mean 'Trust'" in messages[1]
    assert "'qualitative.codes.trust'" in messages[1]
    assert "no code 'Nope'" in messages[2]
    with pytest.raises(ValidationError, match="min_interviews"):
        qualitative_support_from_project(
            example_project_path(), load_template("recipient-pathway"), {"min_interviews": 0}
        )


# -- the verdict ------------------------------------------------------------------------------------------


def test_plausibility_reads_counts_and_status():
    links = [LinkBacking("coaching", "trust"), LinkBacking("trust", "acceptability")]
    supports = QualitativeEvidence(
        "supports", "3 of 5 interviews tell it", ("p.qdpx",), {"mechanism_first": 3, "interviews": 5}
    )
    verdict = judge_plausibility(links, [PathSign("a", 1, None)], supports, level=0.95)
    assert verdict.statistic == "0 of 2 links backed; 3 of 5 interviews tell it"
    assert "the qualitative support stands in for the link-specific sources" in verdict.reason
    assert verdict.status is Status.PARTLY_MET  # the directions could not be estimated
    assert verdict.evidence["qualitative"]["counts"]["interviews"] == 5
    contradicts = QualitativeEvidence("contradicts", "2 of 5 interviews say the link did not hold")
    backed = [LinkBacking("coaching", "trust", 1, ("x",)), LinkBacking("trust", "acceptability", 1, ("x",))]
    against = judge_plausibility(backed, [PathSign("a", 1, None)], contradicts, level=0.95)
    assert against.status is Status.NOT_MET
    assert against.reason.startswith("the qualitative evidence contradicts the pathway")
    assert "re-read the interviews" in against.design_change
    assert against.statistic == "2 of 2 links backed"


def test_qualitative_evidence_stays_backward_compatible():
    plain = QualitativeEvidence("supports", "told often", ("a.qdpx",))
    assert plain.to_dict() == {
        "status": "supports",
        "summary": "told often",
        "sources": ["a.qdpx"],
        "counts": {},
        "quotes": [],
        "interviews": [],
    }
    quote = QualitativeQuote("R01", 'a <b> "c"', "Interview R01", ("Trust",))
    full = QualitativeEvidence("supports", "x", (), {"interviews": 2}, (quote,), ("R01",))
    assert json.loads(json.dumps(full.to_dict()))["quotes"][0] == {
        "interview": "R01",
        "text": 'a <b> "c"',
        "source": "Interview R01",
        "codes": ["Trust"],
    }


# -- studies ----------------------------------------------------------------------------------------------


def add_section(folder: Path, project: Path | Project, section: str = "") -> None:
    (folder / "qual").mkdir(exist_ok=True)
    if isinstance(project, Project):
        write_project(project, folder / "qual" / "project.qdpx")
    else:
        shutil.copyfile(project, folder / "qual" / "project.qdpx")
    with (folder / "moclab.yaml").open("a", encoding="utf-8") as config:
        config.write("\nqualitative:\n  project: qual/project.qdpx\n" + section)


def test_a_study_with_the_section_gets_supporting_evidence_in_analyze_json(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(example_path(), folder)
    add_section(folder, example_project_path())
    result = CliRunner().invoke(
        app, ["analyze", str(folder), "-p", TRUST, "--n-boot", "200", "--seed", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    pathway = json.loads(result.stdout)["scorecard"]["pathways"][0]
    plausibility = next(v for v in pathway["verdicts"] if v["criterion"] == "plausibility")
    qualitative = plausibility["evidence"]["qualitative"]
    assert qualitative["status"] == "supports"
    assert qualitative["counts"]["mechanism_first"] == 6 and qualitative["sources"] == ["qual/project.qdpx"]
    assert len(qualitative["quotes"]) == 3
    assert "6 of 12 interviews tell trust before acceptability" in plausibility["reason"]
    assert plausibility["statistic"].endswith("6 of 12 interviews tell it")
    assert pathway["qualitative"] == qualitative


def test_interview_support_can_meet_plausibility_for_unbacked_links(tmp_path):
    """Nodes that no template or catalog knows: plausibility is not met, until interviews tell the link."""
    model = {
        "model": "own",
        "nodes": [
            {"id": "mentoring", "type": "strategy"},
            {"id": "rapport", "type": "mechanism"},
            {"id": "uptake", "type": "proximal outcome"},
        ],
        "edges": [{"from": "mentoring", "to": "rapport"}, {"from": "rapport", "to": "uptake"}],
    }
    recipients, long = cross_sectional(per_site=200, seed=5)
    long["measure"] = long["measure"].replace(
        {"coaching": "mentoring", "trust": "rapport", "acceptability": "uptake"}
    )
    folder = write_study(
        tmp_path / "own", recipients=recipients, measures=long, waves=[{"id": "w1"}], model_dict=model
    )
    pathway = "mentoring__rapport__uptake"
    without = analyze(folder, n_boot=200, seed=1, show_progress=False)
    assert without.scorecard.verdict(pathway, "plausibility").status is Status.NOT_MET
    project = tiny_project()
    project.codes[0].name, project.codes[1].name = "Rapport", "Uptake"
    project.invalidate()
    add_section(folder, project)
    study = load_study(folder, show_progress=False)
    evidence = analyze(study, n_boot=200, seed=1, show_progress=False)
    verdict = evidence.scorecard.verdict(pathway, "plausibility")
    assert verdict.status is Status.MET
    assert evidence.scorecard.pathway(pathway).qualitative.counts["mechanism_first"] == 3
    # an explicit function still wins over the study's section
    given = analyze(
        study,
        n_boot=200,
        seed=1,
        show_progress=False,
        qualitative_support=lambda p: QualitativeEvidence("contradicts", "said otherwise"),
    )
    assert given.scorecard.verdict(pathway, "plausibility").status is Status.NOT_MET
    table = joint_display(evidence)
    assert table.loc[0, "link"] == "rapport → uptake" and table.loc[0, "interviews"] == "3 of 5"
    assert table.loc[0, "qualitative"] == "supports" and table.loc[0, "plausibility"] == "met"
    assert table.loc[0, "indirect"] == evidence.scorecard.verdict(pathway, "strong_association").estimate


def test_codes_the_project_lacks_are_reported_at_their_line(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(example_path(), folder)
    config = folder / "moclab.yaml"
    add_section(folder, example_project_path(), "  codes:\n    trust: Trusst\n")
    line = config.read_text(encoding="utf-8").split("\n").index("    trust: Trusst") + 1
    study = load_study(folder, show_progress=False)
    with pytest.raises(ValidationError) as caught:
        analyze(study, pathways=[TRUST], n_boot=200, seed=1, show_progress=False)
    (problem,) = caught.value.problems
    assert problem.line == line and problem.file.endswith("moclab.yaml")
    assert "no code 'Trusst'" in problem.message


def test_a_broken_archive_is_reported_at_the_project_line(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(example_path(), folder)
    add_section(folder, example_project_path())
    archive = folder / "qual" / "project.qdpx"
    with zipfile.ZipFile(archive, "w") as broken:
        broken.writestr("notes.txt", "no project.qde in here")
    study = load_study(folder, show_progress=False)
    with pytest.raises(ValidationError) as caught:
        analyze(study, pathways=[TRUST], n_boot=200, seed=1, show_progress=False)
    (problem,) = caught.value.problems
    assert "the qualitative project cannot be read" in problem.message and problem.line is not None


# -- the simulated demo study ----------------------------------------------------------------------------


def test_the_recipient_pathway_simulation_ships_the_interviews(tmp_path):
    from moclab.simulate import compile_simulation, simulate_study
    from moclab.simulate.spec import spec_from_dict

    spec = compile_simulation("recipient-pathway").spec
    # the default generates its interviews (tests/simulate/test_simulate_interviews.py); `example` copies
    assert spec.qualitative == "simulated"
    example = spec_from_dict({**spec.to_yaml_dict(), "qualitative": "example"})
    small = example.with_design(sites=6, recipients={"range": [10, 12]})
    folder = simulate_study("recipient-pathway", small, seed=2).write(tmp_path / "sim")
    assert (folder / "qual" / "project.qdpx").read_bytes() == example_project_path().read_bytes()
    config = yaml.safe_load((folder / "moclab.yaml").read_text(encoding="utf-8"))
    assert config["qualitative"] == {"project": "qual/project.qdpx"}
    study = load_study(folder, show_progress=False)
    evidence = analyze(study, pathways=[TRUST], n_boot=200, seed=1, show_progress=False)
    assert evidence.scorecard.pathway(TRUST).qualitative.status == "supports"


def test_simulation_specs_without_the_key_write_no_interviews_and_bad_paths_are_located(tmp_path):
    from moclab.simulate import compile_simulation, simulate_study
    from moclab.simulate.spec import loads_spec

    plain = {
        "design": {"sites": 4, "recipients": 8, "waves": {"count": 2}},
        "paths": {"isp_support->trust": 0.3},
    }
    folder = simulate_study("recipient-pathway", plain, seed=1).write(tmp_path / "plain")
    assert not (folder / "qual").exists()
    assert "qualitative" not in yaml.safe_load((folder / "moclab.yaml").read_text(encoding="utf-8"))
    text = "design:\n  sites: 4\n  recipients: 8\nqualitative: missing.qdpx\n"
    with pytest.raises(ValidationError) as caught:
        compile_simulation("recipient-pathway", loads_spec(text, "spec.yaml"))
    (problem,) = [p for p in caught.value.problems if "qualitative" in p.message]
    assert problem.line == 4 and "was not found" in problem.message and "example" in problem.hint


def test_the_report_shows_the_quotes_escaped(example_study, tmp_path):
    from moclab.report import write_report

    hostile = QualitativeQuote(
        "R<1>", 'They said <script>alert("x")</script> & left', "Interview R1", ("Trust",)
    )

    def support(pathway):
        return QualitativeEvidence(
            "supports",
            "2 of 3 interviews tell it",
            ("p.qdpx",),
            {"mechanism_first": 2},
            (hostile,),
            ("R<1>",),
        )

    evidence = analyze(
        example_study, pathways=[TRUST], n_boot=200, seed=1, qualitative_support=support, show_progress=False
    )
    page = write_report(evidence, tmp_path / "report", study=example_study, show_progress=False)
    text = page.read_text(encoding="utf-8")
    assert "<script>alert" not in text
    assert "They said &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; left" in text
    assert 'data-interview="R&lt;1&gt;"' in text and "As told in the interviews (p.qdpx" in text
    data = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    pathway = data["scorecard"]["pathways"][0]
    assert pathway["qualitative"]["quotes"][0]["text"] == hostile.text
