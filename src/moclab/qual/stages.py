"""Stage maps: which pathway stage each code of a project stands for, and the order of the stages.

Episode profiles and the experience pathway read interviews stage by stage. A `StageMap` assigns codes (by
path) to stages and orders the stages from left to right. The default follows the recipients' experience
pathway of Metz et al. (2024): implementation support → affective response (positive emotion, psychological
safety, trust, credibility) → acceptability, appropriateness and feasibility → knowledge and application →
sustained capacity and outcomes, taken from the catalog framework ``recipient-pathway`` and the model template
of the same name. A code is matched to a stage or component when its name (or an alias, compared in slug form,
or a catalog reference ``recipient-pathway:<id>`` in its description) names it; codes below a matched code
inherit its stage, so an inductive sub-code under "Trust" counts for the affective response.

`match_codes` is that matching on its own, for any targets (the evidence layer uses it to find the codes that
stand for the nodes of a pathway model).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from moclab.errors import QualError
from moclab.qual._common import check_choice, code_ancestors, code_labels
from moclab.qual.project import Project

RECIPIENT_PATHWAY = "recipient-pathway"
LEVELS = ("stage", "component")
# A catalog reference written in a code's description: ``framework:entry-id`` (lower-case slugs).
_CATALOG_REF = re.compile(r"(?<![\w:/-])([a-z][a-z0-9-]*:[a-z0-9][a-z0-9-]*)(?![\w:/-])")
# The first box of the Metz et al. (2024) figure: the support itself (a strategy node of the template, not a
# stage of the catalog framework).
_SUPPORT = ("implementation-support", "Implementation support")


@dataclass(frozen=True)
class Stage:
    """One stage of a pathway: ``order`` is its column from left to right (stages may share a column)."""

    id: str
    label: str
    order: int
    group: str | None = None


@dataclass(frozen=True)
class StageMap:
    """Codes (by path) → stage ids, and the stages in pathway order.

    Attributes
    ----------
    stages : tuple of Stage
        In pathway order (by ``order``, then as listed).
    codes : Mapping[str, str]
        Code path → stage id; codes not listed belong to no stage and are left out of profiles and pathways.
    name : str
        What the map follows (``"recipient-pathway"`` or ``"custom"``).
    citation : str or None
        The source of the stages.
    """

    stages: tuple[Stage, ...]
    codes: Mapping[str, str]
    name: str = "custom"
    citation: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [stage.id for stage in self.stages]
        if len(set(ids)) != len(ids):
            raise QualError(f"stage ids repeat: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}")
        unknown = sorted(set(self.codes.values()) - set(ids))
        if unknown:
            raise QualError(
                f"codes are mapped to unknown stages: {', '.join(unknown)}", hint=f"stages: {', '.join(ids)}"
            )

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise QualError(f"no stage '{stage_id}'", hint=f"stages: {', '.join(s.id for s in self.stages)}")

    def stage_of(self, code_path: str) -> str | None:
        """The stage id of a code path, or None."""
        return self.codes.get(code_path)

    @property
    def rank(self) -> dict[str, int]:
        """Stage id → position in pathway order (0-based), used to break ties and to sort."""
        return {stage.id: i for i, stage in enumerate(self.stages)}

    def to_frame(self) -> pd.DataFrame:
        """One row per mapped code: code, stage, stage_label, order."""
        labels = {stage.id: stage for stage in self.stages}
        return pd.DataFrame(
            [
                {"code": code, "stage": sid, "stage_label": labels[sid].label, "order": labels[sid].order}
                for code, sid in self.codes.items()
            ],
            columns=["code", "stage", "stage_label", "order"],
        )

    @classmethod
    def from_mapping(
        cls,
        project: Project,
        mapping: Mapping[str, str],
        stages: Sequence[str | Stage] | None = None,
        *,
        inherit: bool = True,
    ) -> StageMap:
        """A stage map from ``{code: stage}``, codes given by name, path or GUID.

        Parameters
        ----------
        project : Project
            The project whose codes are mapped.
        mapping : Mapping[str, str]
            Code → stage id (or label).
        stages : sequence of str or Stage, optional
            The stages in pathway order; by default the stages as first met in `mapping`. A string is both
            the id and the label; each stage gets its own column unless `Stage` objects say otherwise.
        inherit : bool
            Codes below a mapped code (children, grandchildren) belong to its stage unless mapped themselves.
        """
        if stages is None:
            stages = list(dict.fromkeys(mapping.values()))
        built = tuple(
            stage if isinstance(stage, Stage) else Stage(str(stage), str(stage), i + 1)
            for i, stage in enumerate(stages)
        )
        direct = {project.code(code).guid: stage for code, stage in mapping.items()}
        return cls(built, _inherit(project, direct, inherit), "custom")

    @classmethod
    def recipient_pathway(cls, project: Project, level: str = "stage") -> StageMap:
        """The stages of the recipients' experience pathway (Metz et al. 2024) matched to the project's codes.

        Parameters
        ----------
        project : Project
            Codes are matched by name, alias or catalog reference (see the module documentation).
        level : {"stage", "component"}
            ``"stage"``: implementation support and the four stages of the pathway (5 columns).
            ``"component"``: the components (positive emotion, psychological safety, trust, credibility,
            acceptability, ...), each in the column of its stage.
        """
        from moclab.catalog import default_catalog, slugify
        from moclab.model import load_template

        check_choice(level, LEVELS, "stage level")
        catalog = default_catalog()
        framework = catalog.framework(RECIPIENT_PATHWAY)
        entries = list(framework.entries)
        stage_entries = sorted((e for e in entries if e.kind == "stage"), key=lambda e: e.number or 0)
        names: dict[str, str] = {}  # slug of a name, alias or id -> entry id (or the support stage)
        for entry in entries:
            for text in (entry.id, entry.name, *entry.aliases):
                names.setdefault(slugify(text), entry.id)
        template = load_template(RECIPIENT_PATHWAY, catalog=None)
        for node in template.nodes:
            refs = [ref.split(":", 1)[1] for ref in node.all_refs if ref.startswith(f"{RECIPIENT_PATHWAY}:")]
            target = refs[0] if refs else (_SUPPORT[0] if node.type.value == "strategy" else None)
            if target is not None:
                for text in (node.id, node.display_label):
                    names.setdefault(slugify(text), target)
        names.setdefault(slugify(_SUPPORT[1]), _SUPPORT[0])
        parent_of = {entry.id: entry.parent for entry in entries}

        support = Stage(_SUPPORT[0], _SUPPORT[1], 1)
        if level == "stage":
            stages = (support, *(Stage(e.id, e.name, (e.number or 0) + 1) for e in stage_entries))
        else:
            components = [
                Stage(c.id, c.name, (s.number or 0) + 1, group=s.id)
                for s in stage_entries
                for c in entries
                if c.parent == s.id
            ]
            stages = (support, *components)
        known = {stage.id for stage in stages}

        def target_of(entry_id: str) -> str | None:
            if level == "stage":
                return entry_id if entry_id in known else parent_of.get(entry_id)
            return entry_id if entry_id in known else None  # a stage-level code has no single component

        refs = {f"{RECIPIENT_PATHWAY}:{entry_id}": entry_id for entry_id in parent_of}
        direct: dict[str, str] = {}
        for guid, entry_id in match_codes(project, refs, names).items():
            stage_id = target_of(entry_id)
            if stage_id is not None:
                direct[guid] = stage_id
        return cls(
            stages,
            _inherit(project, direct, True),
            RECIPIENT_PATHWAY,
            framework.citation,
            {"level": level, "matched_codes": len(direct)},
        )


def catalog_refs(text: str | None) -> list[str]:
    """The catalog references (``framework:entry-id``) written in a text, in order, without repeats.

    >>> catalog_refs("Trust.\\nCatalog: recipient-pathway:trust (Metz et al. 2024).")
    ['recipient-pathway:trust']
    """
    return list(dict.fromkeys(_CATALOG_REF.findall((text or "").lower())))


def match_codes(project: Project, refs: Mapping[str, str], names: Mapping[str, str]) -> dict[str, str]:
    """Which target each code of a project stands for, by catalog reference or by name.

    A code is matched by the first catalog reference in its description that `refs` knows (a codebook
    generated by ``moclab qual codebook`` writes ``Catalog: recipient-pathway:trust`` there); failing that,
    by its name compared in slug form (`moclab.catalog.slugify`) with the keys of `names`, which hold the
    slugs of the targets' ids, names and aliases. Codes below a matched code are not matched here (see
    `StageMap.from_mapping` for inheritance).

    Parameters
    ----------
    project : Project
        The codes to match.
    refs : Mapping[str, str]
        Catalog reference (``"recipient-pathway:trust"``, lower case) → target.
    names : Mapping[str, str]
        Slug of a name or alias (``"psychological-safety"``) → target.

    Returns
    -------
    dict
        Code GUID → target, for the codes that matched.
    """
    from moclab.catalog import slugify

    found: dict[str, str] = {}
    for code in project.codes:
        by_ref = next((refs[ref] for ref in catalog_refs(code.description) if ref in refs), None)
        target = by_ref if by_ref is not None else names.get(slugify(code.name))
        if target is not None:
            found[code.guid] = target
    return found


def _inherit(project: Project, direct: Mapping[str, str], inherit: bool) -> dict[str, str]:
    """Code path → stage for the directly mapped codes and (with `inherit`) their descendants."""
    labels = code_labels(project)
    result: dict[str, str] = {}
    chains = code_ancestors(project)
    for code in project.codes:
        chain = chains[code.guid] if inherit else [code.guid]
        for guid in chain:  # nearest mapped ancestor (or the code itself) wins
            if guid in direct:
                result[labels[code.guid]] = direct[guid]
                break
    return result


def default_stage_map(project: Project, stages: StageMap | None = None) -> StageMap:
    """`stages` if given, else the recipient-pathway stage map; an error when no code matches any stage."""
    stage_map = stages if stages is not None else StageMap.recipient_pathway(project)
    if not stage_map.codes:
        raise QualError(
            f"no code of project '{project.name}' belongs to a stage of the {stage_map.name} map",
            hint="name codes after the stages (e.g. from `moclab qual codebook recipient-pathway`) or pass a "
            "stage map: StageMap.from_mapping(project, {'My code': 'Stage'})",
        )
    return stage_map
