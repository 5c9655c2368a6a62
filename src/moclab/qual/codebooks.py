"""Codebooks: read them (REFI-QDA `.qdc`, YAML, CSV, or the codes of a project) and build deductive ones
from the catalog (ISP competencies, CFIR 2.0, Proctor's outcomes, the recipients' experience pathway).

A deductive codebook turns a framework into codes an analyst imports into NVivo, ATLAS.ti, MAXQDA or
QualCoder before coding: the framework's hierarchy becomes the code hierarchy (domains, stages and outcome
types as folders that are not coded themselves), each code's description carries moclab's short description,
the catalog id (``cfir2:tension-for-change``) and the citation, and each code's GUID is the uuid5 of its
catalog id in moclab's namespace (`moclab.qual.project.stable_guid`), so a codebook generated again, on any
machine, has the same GUIDs and codings made with it can be matched back to the catalog.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pydantic

from moclab.errors import ProblemList, QualError, display_path
from moclab.qual.project import Code, Project, Set, canonical_guid, stable_guid
from moclab.qual.safety import decode_text
from moclab.yamlio import load_yaml, parse_model

# Kinds of catalog entries that group others; their codes are folders (isCodable="false").
GROUPING_KINDS = frozenset({"domain", "subdomain", "outcome type", "stage", "cluster"})
# One colour per top-level group (colour-blind-safe Okabe-Ito palette, then two greys).
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2", "#F0E442", "#999999", "#555555")
DEDUCTIVE_FRAMEWORKS = {
    "isp-competencies": "ISP core competencies (Metz et al. 2021): 3 domains, 15 competencies",
    "cfir2": "CFIR 2.0 (Damschroder et al. 2022): domains, constructs and subconstructs",
    "proctor": "Implementation, service and client outcomes (Proctor et al. 2011)",
    "recipient-pathway": "Recipients' experience pathway (Metz et al. 2024): stages and the model's nodes",
}
_COLOUR = re.compile(r"^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")


def catalog_guid(qualified_id: str) -> str:
    """The GUID of a catalog entry's code: uuid5 of its qualified id (``"cfir2:tension-for-change"``)."""
    return stable_guid(qualified_id)


# ===== deductive codebooks =========================================================================


def _description(text: str | None, reference: str, citation: str, verified: bool) -> str:
    parts = [text.strip()] if text else []
    parts.append(f"Catalog: {reference} ({citation}).")
    if not verified:
        parts.append("Not verified against the source.")
    return "\n".join(parts)


def framework_codebook(framework: str, catalog: object | None = None) -> Project:
    """A deductive codebook of one catalog framework, as a project holding only codes.

    Parameters
    ----------
    framework : str
        A framework id of the catalog (``"isp-competencies"``, ``"cfir2"``, ``"proctor"``, ``"eric"``, a user
        framework...). ``"recipient-pathway"`` builds the pathway codebook (`recipient_pathway_codebook`).
    catalog : Catalog, optional
        Defaults to `moclab.catalog.default_catalog()`.

    Examples
    --------
    >>> book = framework_codebook("isp-competencies")
    >>> sum(not code.codable for code in book.codes), sum(code.codable for code in book.codes)
    (3, 15)
    """
    from moclab.catalog import Catalog, default_catalog

    cat: Catalog = catalog if catalog is not None else default_catalog()  # type: ignore[assignment]
    if framework == "recipient-pathway":
        return recipient_pathway_codebook(cat)
    fw = cat.framework(framework)
    citation = fw.cite_as
    colours: dict[str, str] = {}
    codes: list[Code] = []
    for entry in fw.entries:
        top = entry.id
        parent = entry.parent
        while parent is not None:
            top = parent
            parent = next((e.parent for e in fw.entries if e.id == parent), None)
        colour = colours.setdefault(top, PALETTE[len(colours) % len(PALETTE)])
        codes.append(
            Code(
                guid=catalog_guid(entry.qualified_id),
                name=entry.name,
                color=colour,
                description=_description(entry.description, entry.qualified_id, citation, entry.verified),
                parent=catalog_guid(entry.parent_id) if entry.parent_id else None,
                codable=entry.kind not in GROUPING_KINDS,
            )
        )
    return Project(name=f"{fw.name} codebook", origin="moclab catalog", codes=codes, description=fw.citation)


def recipient_pathway_codebook(catalog: object | None = None) -> Project:
    """The codebook of the recipients' experience pathway (Metz et al. 2024) for coding interviews.

    Built from the model template ``recipient-pathway``: "Implementation support" (the template's strategy
    node), then the four stages of the catalog framework as folders, each holding the template's nodes that
    refer to one of its components (positive emotion, psychological safety, trust, credibility; acceptability,
    appropriateness, feasibility; knowledge, application; sustained capacity, better outcomes). Code names are
    the catalog names; descriptions name the model node and the catalog id. Engagement length, the template's
    moderator, is a case variable, not a code.

    Examples
    --------
    >>> from moclab.qual import recipient_pathway_codebook
    >>> book = recipient_pathway_codebook()
    >>> book.name, len(book.codes)
    ('Recipient pathway codebook', 16)
    >>> book.code_path(book.code("Trust").guid)
    'Affective response to implementation support/Trust'
    >>> [book.code(guid).name for guid in book.sets[0].member_codes]
    ['Positive emotion', 'Psychological safety', 'Trust', 'Credibility']
    """
    from moclab.catalog import Catalog, default_catalog
    from moclab.model import load_template

    cat: Catalog = catalog if catalog is not None else default_catalog()  # type: ignore[assignment]
    fw = cat.framework("recipient-pathway")
    template = load_template("recipient-pathway", catalog=None)
    citation = fw.cite_as
    codes: list[Code] = []
    for node in template.nodes:
        if node.type.value == "strategy":
            codes.append(
                Code(
                    guid=stable_guid("model", template.id, node.id),
                    name="Implementation support",
                    color=PALETTE[-1],
                    description=f"{node.description or node.display_label}\nModel node: {node.id} "
                    f"(template {template.id}).",
                )
            )
    stages = sorted((e for e in fw.entries if e.kind == "stage"), key=lambda e: e.number or 0)
    for index, stage in enumerate(stages):
        colour = PALETTE[index % len(PALETTE)]
        stage_guid = catalog_guid(stage.qualified_id)
        codes.append(
            Code(
                guid=stage_guid,
                name=stage.name,
                color=colour,
                description=_description(
                    f"Stage {stage.number} of the pathway. {stage.description or ''}".strip(),
                    stage.qualified_id,
                    citation,
                    stage.verified,
                ),
                codable=False,
            )
        )
        for node in template.nodes:
            refs = [ref for ref in node.all_refs if ref.startswith("recipient-pathway:")]
            entry = cat.resolve(refs[0]) if refs else None
            if entry is None or entry.parent != stage.id:
                continue
            text = f"{node.display_label}. {node.description or entry.description or ''}".strip()
            codes.append(
                Code(
                    guid=catalog_guid(entry.qualified_id),
                    name=entry.name,
                    color=colour,
                    description=_description(
                        f"{text}\nModel node: {node.id} (template {template.id}).",
                        entry.qualified_id,
                        citation,
                        entry.verified,
                    ),
                    parent=stage_guid,
                )
            )
    stage_set = Set(
        guid=stable_guid("set", "recipient-pathway", "affective-response"),
        name="Affective response",
        description="The four affective responses to implementation support (Metz et al. 2024).",
        member_codes=[
            c.guid for c in codes if c.parent == catalog_guid("recipient-pathway:affective-response")
        ],
    )
    return Project(
        name="Recipient pathway codebook",
        origin="moclab catalog",
        codes=codes,
        sets=[stage_set],
        description=fw.citation,
    )


# ===== reading codebooks ===========================================================================


class _CodeSpec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    name: str = pydantic.Field(min_length=1)
    description: str | None = None
    color: str | None = pydantic.Field(default=None, pattern=_COLOUR.pattern)
    codable: bool = True
    guid: str | None = None
    codes: list[_CodeSpec] = []


class _CodebookSpec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    codes: list[_CodeSpec] = pydantic.Field(min_length=1)


def _yaml_codebook(path: Path) -> Project:
    label = display_path(path)
    spec = parse_model(_CodebookSpec, load_yaml(path), label, f"codebook {label}")
    codes: list[Code] = []
    problems = ProblemList(f"codebook {label}")

    def add(items: list[_CodeSpec], parent: Code | None, prefix: str) -> None:
        names: set[str] = set()
        for item in items:
            path_name = f"{prefix}{item.name}"
            if item.name in names:
                problems.add(f"code '{path_name}' is listed twice under the same parent", file=label)
            names.add(item.name)
            try:
                guid = canonical_guid(item.guid) if item.guid else stable_guid("code", path_name)
            except QualError as error:
                problems.add(f"code '{path_name}': {error.message}", file=label)
                guid = stable_guid("code", path_name)
            code = Code(
                guid=guid,
                name=item.name,
                color=item.color,
                description=item.description,
                parent=parent.guid if parent else None,
                codable=item.codable,
            )
            codes.append(code)
            add(item.codes, code, f"{path_name}/")

    add(spec.codes, None, "")
    problems.raise_if_any()
    return Project(name=spec.name or path.stem, codes=codes, description=spec.description)


def _truthy(value: str) -> bool | None:
    text = value.strip().lower()
    if text in ("", "true", "yes", "1", "y"):
        return True
    if text in ("false", "no", "0", "n"):
        return False
    return None


def _csv_codebook(path: Path) -> Project:
    """A CSV codebook: columns ``name`` (required), ``parent`` (the parent's name or GUID), ``description``,
    ``color``, ``codable``, ``guid``; the header is row 0 and problems name the data row."""
    label = display_path(path)
    text = decode_text(path.read_bytes(), label)
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "name" not in columns:
        raise QualError(
            f"{label}: a CSV codebook needs a 'name' column (found: {', '.join(columns) or 'none'})",
            hint="columns: name, parent, description, color, codable, guid",
        )
    problems = ProblemList(f"codebook {label}")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, raw in enumerate(reader, start=1):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if row.get("name"):
            rows.append((number, row))
        else:
            problems.add("the code has no name", file=label, row=number, field="name")
    by_key: dict[str, list[int]] = {}
    for index, (_, row) in enumerate(rows):
        by_key.setdefault(row["name"], []).append(index)
        if row.get("guid"):
            by_key.setdefault(row["guid"].strip("{}").lower(), []).append(index)
    parent_of: dict[int, int | None] = {}
    for index, (number, row) in enumerate(rows):
        parent = row.get("parent", "")
        matches = (by_key.get(parent, []) or by_key.get(parent.strip("{}").lower(), [])) if parent else []
        if parent and not matches:
            problems.add(
                f"parent '{parent}' is not a code of the codebook", file=label, row=number, field="parent"
            )
        elif len(matches) > 1:
            problems.add(
                f"parent '{parent}' names {len(matches)} codes",
                file=label,
                row=number,
                field="parent",
                hint="give the parent's guid instead of its name",
            )
        parent_of[index] = matches[0] if len(matches) == 1 else None

    def path_of(index: int) -> str:
        names, seen, current = [], set(), index
        while current is not None and current not in seen:
            seen.add(current)
            names.append(rows[current][1]["name"])
            current = parent_of[current]
        if current is not None:
            problems.add("the parents form a loop", file=label, row=rows[index][0], field="parent")
        return "/".join(reversed(names))

    guids: list[str] = []
    seen_paths: set[str] = set()
    for index, (number, row) in enumerate(rows):
        full = path_of(index)
        if full in seen_paths:
            problems.add(f"code '{full}' is listed twice", file=label, row=number, field="name")
        seen_paths.add(full)
        try:
            guids.append(canonical_guid(row["guid"]) if row.get("guid") else stable_guid("code", full))
        except QualError as error:
            problems.add(error.message, file=label, row=number, field="guid")
            guids.append(stable_guid("code", full))
    codes: list[Code] = []
    for index, (number, row) in enumerate(rows):
        colour = row.get("color") or None
        if colour and not _COLOUR.match(colour):
            problems.add(f"color '{colour}' is not #RRGGBB", file=label, row=number, field="color")
        codable = _truthy(row.get("codable", ""))
        if codable is None:
            problems.add(
                f"codable '{row['codable']}' is not true or false", file=label, row=number, field="codable"
            )
        parent_index = parent_of[index]
        codes.append(
            Code(
                guid=guids[index],
                name=row["name"],
                color=colour,
                description=row.get("description") or None,
                parent=guids[parent_index] if parent_index is not None else None,
                codable=codable is not False,
            )
        )
    problems.raise_if_any()
    return Project(name=path.stem, codes=codes)


def read_codebook(path: str | Path) -> Project:
    """A codebook as a project holding codes (and code sets): `.qdc`, `.yaml`/`.yml`, `.csv`, or the codebook
    of a `.qdpx`/`.qde` project.

    YAML form::

        name: Recipient pathway
        codes:
          - name: Affective response
            codable: false
            color: "#E69F00"
            codes:
              - {name: Trust, description: Trusting relationships with the ISPs}

    Codes without a ``guid`` get one derived from their path, so reading the file again gives the same GUIDs.

    Examples
    --------
    >>> from pathlib import Path
    >>> from moclab.qual import read_codebook, stable_guid
    >>> text = '''
    ... name: Recipient pathway
    ... codes:
    ...   - name: Affective response
    ...     codable: false
    ...     codes:
    ...       - {name: Trust, description: Trusting relationships with the ISPs}
    ...       - {name: Psychological safety}
    ... '''
    >>> _ = Path("codebook.yaml").write_text(text, encoding="utf-8")
    >>> book = read_codebook("codebook.yaml")
    >>> [book.code_path(code.guid) for code in book.codes]
    ['Affective response', 'Affective response/Trust', 'Affective response/Psychological safety']
    >>> book.code("Trust").guid == stable_guid("code", "Affective response/Trust")
    True
    """
    from moclab.qual.refi.reader import read_codebook_xml, read_qde, read_qdpx

    file = Path(path)
    if not file.is_file():
        raise QualError(f"{display_path(file)}: no such file")
    suffix = file.suffix.lower()
    if suffix == ".qdc":
        return read_codebook_xml(file)
    if suffix in (".yaml", ".yml"):
        return _yaml_codebook(file)
    if suffix == ".csv":
        return _csv_codebook(file)
    if suffix in (".qdpx", ".qde"):
        project = read_qdpx(file) if suffix == ".qdpx" else read_qde(file)
        return Project(
            name=project.name, codes=project.codes, sets=[s for s in project.sets if s.member_codes]
        )
    raise QualError(
        f"{display_path(file)}: a codebook must be .qdc, .yaml, .csv, .qdpx or .qde, not '{suffix}'"
    )
