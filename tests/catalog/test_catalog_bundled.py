"""The bundled frameworks hold the published counts, structure and verification marks."""

from __future__ import annotations

from collections import Counter

from moclab.catalog import Catalog
from moclab.catalog.loader import DATA_DIR, bundled_files

ERIC_CLUSTERS = [
    ("use-evaluative-and-iterative-strategies", 10, "verified"),
    ("provide-interactive-assistance", 4, "verified"),
    ("adapt-and-tailor-to-context", 4, "verified"),
    ("develop-stakeholder-interrelationships", 17, "verified_secondary"),
    ("train-and-educate-stakeholders", 11, "verified_secondary"),
    ("support-clinicians", 5, "by_elimination"),
    ("engage-consumers", 5, "verified_secondary"),
    ("utilize-financial-strategies", 9, "by_elimination"),
    ("change-infrastructure", 8, "by_elimination"),
]


def test_bundled_frameworks_in_index_order(catalog: Catalog) -> None:
    assert list(catalog.frameworks) == [
        "eric",
        "cfir2",
        "cfir2009",
        "proctor",
        "isp-competencies",
        "isp-principles",
        "albers-mechanisms",
        "recipient-pathway",
        "kazdin-criteria",
        "cpd-elements",
        "eis",
    ]
    assert all(framework.bundled for framework in catalog.frameworks.values())


def test_every_data_file_is_listed_in_the_index() -> None:
    listed = {path.name for path in bundled_files()}
    present = {path.name for path in DATA_DIR.glob("*.yaml")} - {"index.yaml"}
    assert listed == present


def test_eric_has_73_strategies_in_9_clusters_with_published_sizes(catalog: Catalog) -> None:
    clusters = catalog.entries("eric", kind="cluster")
    assert [c.id for c in clusters] == [cid for cid, _, _ in ERIC_CLUSTERS]
    assert [len(catalog.children(c.qualified_id)) for c in clusters] == [10, 4, 4, 17, 11, 5, 5, 9, 8]
    strategies = catalog.entries("eric", kind="strategy")
    assert len(strategies) == 73
    assert sorted(s.number for s in strategies) == list(range(1, 74))
    assert all(s.parent_id in {c.qualified_id for c in clusters} for s in strategies)


def test_eric_verification_marks_follow_the_reference(catalog: Catalog) -> None:
    for cluster_id, _, level in ERIC_CLUSTERS:
        cluster = catalog.get(f"eric:{cluster_id}")
        assert cluster.verification == level
        members = {s.verification for s in catalog.children(cluster.qualified_id)}
        if level == "by_elimination":
            assert members == {"by_elimination"}
            assert not cluster.verified
        elif cluster_id == "develop-stakeholder-interrelationships":
            assert members == {"verified", "verified_secondary"}
        else:
            assert members == {level}
    unverified = [e.qualified_id for e in catalog.entries("eric") if not e.verified]
    assert len(unverified) == 3 + 22
    assert "eric:remind-clinicians" in unverified
    assert catalog.get("eric:facilitation").verified


def test_eric_known_numbers_names_and_waltz_spellings(catalog: Catalog) -> None:
    assert catalog.get("eric:33").name == "Facilitation"
    assert catalog.get("eric:4").name == "Assess for readiness and identify barriers and facilitators"
    assert catalog.get("eric:73").name == "Work with educational institutions"
    assert catalog.get("eric:56").aliases == ("Purposefully reexamine the implementation",)
    assert catalog.get("eric:18").aliases == ("Conduct local need assessment",)
    assert catalog.get("eric:62").parent == "change-infrastructure"


def test_cfir2_has_48_constructs_and_19_subconstructs_in_5_domains(catalog: Catalog) -> None:
    domains = catalog.entries("cfir2", kind="domain")
    assert [d.name for d in domains] == [
        "Innovation",
        "Outer Setting",
        "Inner Setting",
        "Individuals",
        "Implementation Process",
    ]
    constructs = catalog.entries("cfir2", kind="construct")
    assert len(constructs) == 48
    assert len(catalog.entries("cfir2", kind="subconstruct")) == 19
    per_domain = Counter(catalog.ancestors(c.qualified_id)[0].id for c in constructs)
    assert per_domain == {
        "innovation": 8,
        "outer-setting": 7,
        "inner-setting": 11,
        "individuals": 13,
        "implementation-process": 9,
    }
    assert len(catalog.children("cfir2:roles-subdomain")) == 9
    assert [c.name for c in catalog.children("cfir2:characteristics-subdomain")] == [
        "Need",
        "Capability",
        "Opportunity",
        "Motivation",
    ]
    assert [s.name for s in catalog.children("cfir2:culture")] == [
        "Human Equality-Centeredness",
        "Recipient-Centeredness",
        "Deliverer-Centeredness",
        "Learning-Centeredness",
    ]


def test_cfir2_repeated_names_have_parent_qualified_ids(catalog: Catalog) -> None:
    deliverers = [e for e in catalog.entries("cfir2") if e.name == "Innovation Deliverers"]
    assert [(e.id, e.kind) for e in deliverers] == [
        ("innovation-deliverers", "construct"),
        ("assessing-needs-innovation-deliverers", "subconstruct"),
        ("engaging-innovation-deliverers", "subconstruct"),
    ]
    assert catalog.get("cfir2:reflecting-and-evaluating-innovation").parent == "reflecting-and-evaluating"
    assert catalog.get("cfir2:innovation").kind == "domain"


def test_cfir2009_has_39_constructs_in_5_domains(catalog: Catalog) -> None:
    domains = catalog.entries("cfir2009", kind="domain")
    assert len(domains) == 5
    subconstructs = catalog.entries("cfir2009", kind="subconstruct")
    constructs = catalog.entries("cfir2009", kind="construct") + subconstructs
    assert len(constructs) == 39
    per_domain = Counter(catalog.ancestors(c.qualified_id)[0].name for c in constructs)
    assert per_domain == {
        "Intervention Characteristics": 8,
        "Outer Setting": 4,
        "Inner Setting": 14,
        "Characteristics of Individuals": 5,
        "Process": 8,
    }
    assert len(catalog.children("cfir2009:implementation-climate")) == 6
    assert len(catalog.children("cfir2009:readiness-for-implementation")) == 3
    assert len(catalog.children("cfir2009:engaging")) == 4
    assert {e.verification for e in subconstructs} == {"verified_secondary"}


def test_proctor_has_8_implementation_outcomes(catalog: Catalog) -> None:
    outcomes = catalog.entries("proctor", kind="implementation outcome")
    assert [o.name for o in outcomes] == [
        "Acceptability",
        "Adoption",
        "Appropriateness",
        "Feasibility",
        "Fidelity",
        "Implementation cost",
        "Penetration",
        "Sustainability",
    ]
    assert all(o.verification == "verified" for o in outcomes)
    assert len(catalog.entries("proctor", kind="service outcome")) == 6
    assert len(catalog.entries("proctor", kind="client outcome")) == 3


def test_isp_competencies_15_in_3_domains_and_6_principles(catalog: Catalog) -> None:
    domains = catalog.entries("isp-competencies", kind="domain")
    assert [(d.name, len(catalog.children(d.qualified_id))) for d in domains] == [
        ("Co-creation and engagement", 5),
        ("Ongoing improvement", 6),
        ("Sustaining change", 4),
    ]
    assert len(catalog.entries("isp-competencies", kind="competency")) == 15
    principles = catalog.entries("isp-principles", kind="principle")
    assert [p.name for p in principles] == [
        "Be empathetic",
        "Be curious",
        "Be committed",
        "Advance equity",
        "Use critical thinking",
        "Embrace cross-disciplinary approaches",
    ]


def test_kazdin_criteria_cpd_elements_and_albers_mechanisms(catalog: Catalog) -> None:
    assert [c.name for c in catalog.entries("kazdin-criteria")] == [
        "Strong association",
        "Specificity",
        "Consistency",
        "Experimental manipulation",
        "Timeline",
        "Gradient",
        "Plausibility or coherence",
    ]
    assert [e.id for e in catalog.entries("cpd-elements")] == [
        "strategy",
        "determinant",
        "mechanism",
        "mediator",
        "precondition",
        "moderator",
        "proximal-outcome",
        "distal-outcome",
    ]
    assert [m.id for m in catalog.entries("albers-mechanisms", kind="mechanism")] == [
        "trust",
        "learning",
        "learning-reflection-and-support",
        "boundary-spanning",
        "motivation",
    ]


def test_recipient_pathway_stages_in_order_with_their_components(catalog: Catalog) -> None:
    stages = catalog.entries("recipient-pathway", kind="stage")
    assert [(s.number, s.id) for s in stages] == [
        (1, "affective-response"),
        (2, "acceptability-appropriateness-and-feasibility"),
        (3, "knowledge-and-application"),
        (4, "sustained-capacity-and-outcomes"),
    ]
    assert [c.id for c in catalog.children("recipient-pathway:affective-response")] == [
        "positive-emotion",
        "psychological-safety",
        "trust",
        "credibility",
    ]
    assert len(catalog.children("recipient-pathway:2")) == 3


def test_eis_stub_records_counts_but_no_invented_names(catalog: Catalog) -> None:
    eis = catalog.framework("eis")
    assert eis.entries == ()
    assert dict(eis.counts) == {"core practice component": 10, "practice principle": 8}
    assert eis.verification == "unverified"
    assert "Aldridge" in eis.citation
    assert "not verified" in (eis.notes or "")


def test_every_entry_carries_its_framework_citation_and_location(catalog: Catalog) -> None:
    for entry in catalog:
        framework = catalog.framework(entry.framework)
        assert entry.citation == framework.citation != ""
        assert entry.defined_in.startswith(f"moclab/catalog/data/{framework.files[0].rsplit('/', 1)[-1]}:")
        assert entry.verification in {"verified", "verified_secondary", "by_elimination", "unverified"}
    assert len(catalog) == 280
