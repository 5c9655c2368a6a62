"""An organisation's engagement portfolio as a moclab study folder, the bridge from practice to `analyze`.

`export_study(organisation)` reads the platform's tables in a few set-based queries and returns a
`StudyExport`: the files of a study folder (path -> bytes) that `moclab validate` accepts and `moclab
analyze` judges (docs/decisions/0006-evidence-runs.md has the reasons for each mapping):

- ``moclab.yaml``: an observational design (``randomization: none``; the portfolio's site arms when a
  researcher declares them), recipients nested in sites and teams, one wave per wave of the pulse survey
  (``w1``, ``w2``, ... dated by the day the wave opened), the measures the survey's items stand for and an
  ``evidence:`` section that judges the pathways the survey measures, with the strategy as the support dose
  received (``evidence.strategy: dose``: the minutes logged up to the mechanism's wave).
- ``model.yaml``: the chosen pathway-model template, as bundled; the nodes the survey does not measure stay
  in the model (``moclab validate`` warns that they have no data) and their pathways are left out of
  ``evidence.pathways``.
- ``data/recipients.csv``: recipients by pseudonym, with their site and team. No names, no contact details.
- ``data/measures.csv``: the submitted survey answers in long format (recipient, wave, measure, value):
  instrument items under their item ids (``aim_1``), scored by moclab into the measure of their node
  (``acceptability: {instrument: aim}``); a recipient-pathway rating under its node's name (``trust``).
- ``data/activities.csv``: the support log, one row per activity and recipient it reached (named present,
  or a member of a team present), with its minutes, a component, the support mode and every catalog term.
- ``README.md``: what the folder holds and how it was made.

The export is deterministic: the same data give the same bytes (`StudyExport.zip_bytes`, whose SHA-256
identifies a run's data snapshot).
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from django.conf import settings as django_settings
from django.db.models import Count, Q, QuerySet

from moclab.catalog import default_catalog
from moclab.catalog.instruments import default_instruments
from moclab.errors import StudyError
from moclab.model import list_templates, load_template, template_path
from moclab.model.pathway_model import PathwayModel, ResolvedPathway
from moclab.web.audit.models import Action, AuditEntry
from moclab.web.practice.models import Activity, Engagement, Organisation, Recipient, SupportMode
from moclab.web.surveys.items import PATHWAY_SCALE, pathway_key
from moclab.web.surveys.models import Schedule, Survey, SurveyResponse, SurveyWave

__all__ = [
    "DEFAULT_TEMPLATE",
    "StudyExport",
    "export_study",
    "measured_pathways",
    "portfolio_survey",
    "record_study_export",
    "sha256_of",
    "template_choices",
]

#: The pathway-model template a portfolio is judged against unless another is chosen: the recipients'
#: experience pathway (Metz et al. 2024), whose nodes the pulse survey's items measure.
DEFAULT_TEMPLATE = "recipient-pathway"
#: The component of an activity that names no catalog term (the study format needs one per row).
UNSPECIFIED_COMPONENT = "unspecified"
#: Fixed time stamp of the zip's entries, so that the same data give the same bytes (and SHA-256).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: The columns of data/activities.csv, in order.
ACTIVITY_COLUMNS = [
    "date",
    "site",
    "recipient_id",
    "component",
    "minutes",
    "mode",
    "reached",
    "activity",
    "engagement",
    "core_components",
    "competencies",
    "strategies",
]


@dataclass(frozen=True)
class MeasurePlan:
    """One declared measure of the export: its name in moclab.yaml, its declaration, the node it stands
    for (or None), and the data's item names that feed it with the name each is written under."""

    name: str
    spec: dict[str, Any]
    node: str | None
    items: dict[str, str]


@dataclass(frozen=True)
class StudyExport:
    """A study folder in memory: its files (path inside the folder -> bytes) and what it holds.

    Attributes
    ----------
    files : dict of str to bytes
        ``moclab.yaml``, ``model.yaml``, ``README.md``, ``data/*.csv`` (and ``frameworks/*.yaml`` when the
        platform has framework files of its own).
    organisation : str
        The organisation's name.
    template : str
        The pathway-model template (``recipient-pathway``).
    survey : str
        The title of the pulse survey whose answers are the measures.
    pathways : tuple of str
        The pathways ``evidence.pathways`` lists: those whose mechanisms and outcome the survey measures.
    measured : dict of str to str
        Model node -> the measure that stands for it.
    unmeasured : tuple of str
        Model nodes that no measure stands for (besides the strategy, which the support log measures).
    counts : dict of str to int
        ``recipients``, ``sites``, ``teams``, ``waves``, ``responses``, ``measure_rows``, ``activities``,
        ``activity_rows``, ``left_out_answers`` (answers to items the survey no longer asks).
    """

    files: dict[str, bytes]
    organisation: str
    template: str
    survey: str
    pathways: tuple[str, ...]
    measured: dict[str, str]
    unmeasured: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)

    def zip_bytes(self) -> bytes:
        """The folder as one zip (entries sorted, fixed time stamps: the same data give the same bytes)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(self.files):
                entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, self.files[name])
        return buffer.getvalue()

    def write(self, folder: Path) -> list[Path]:
        """Write the files into `folder` (created when missing; the caller checks it first, by the rules of
        docs/cli.md); the paths written."""
        written = []
        for relative, content in sorted(self.files.items()):
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written.append(target)
        return written


def sha256_of(content: bytes) -> str:
    """The SHA-256 of a snapshot's bytes, as 64 hex digits."""
    return hashlib.sha256(content).hexdigest()


# -- the survey and the model -------------------------------------------------------------------------------


def portfolio_survey(organisation: Organisation) -> Survey | None:
    """The survey whose answers a portfolio's study uses by default: the organisation's every-N-weeks survey
    with the most submitted responses (the oldest first on a tie), or None when there is none."""
    return (
        Survey.objects.filter(organisation=organisation, schedule=Schedule.EVERY_N_WEEKS)
        .annotate(
            submitted=Count(
                "waves__invitations__response",
                filter=Q(waves__invitations__response__submitted__isnull=False),
            )
        )
        .order_by("-submitted", "created", "pk")
        .first()
    )


@functools.cache
def _template(name: str) -> PathwayModel:
    """A bundled template, loaded once per process (a `PathwayModel` is immutable; the form lists them all on
    every page)."""
    return load_template(name)


def _node_refs(model: PathwayModel) -> dict[str, list[str]]:
    """Catalog reference -> the model's nodes that carry it, in model order."""
    found: dict[str, list[str]] = {}
    for node in model.nodes:
        for reference in node.all_refs:
            found.setdefault(reference, []).append(node.id)
    return found


def _measure_plans(survey: Survey, model: PathwayModel) -> list[MeasurePlan]:
    """The measures a survey's items stand for, in the survey's order.

    An instrument is scored into one measure: named after the model node whose catalog references include
    the instrument's construct (AIM, ``proctor:acceptability`` -> ``acceptability``), else after the
    instrument. A recipient-pathway rating is a measure of its own: named after the node that references
    its catalog entry (``recipient-pathway:trust`` -> ``trust``) or whose id is the item's field name, unless
    an instrument measures that node already (then ``<item>_rating``, standing for no node).
    """
    references = _node_refs(model)
    nodes = {node.id: node for node in model.nodes}
    registry = default_instruments()
    plans: list[MeasurePlan] = []
    taken: set[str] = set()
    for instrument_id in survey.instruments:
        instrument = registry.get(instrument_id)
        node = next((n for n in references.get(instrument.construct or "", []) if n not in taken), None)
        name = node or instrument_id.replace("-", "_")
        taken.add(name)
        spec: dict[str, Any] = {
            "label": instrument.short_name or instrument.name,
            "instrument": instrument_id,
            "level": instrument.level,
        }
        plans.append(MeasurePlan(name, spec, node, {item.id: item.id for item in instrument.items}))
    catalog = default_catalog()
    for qualified_id in survey.pathway_items:
        entry = catalog.get(qualified_id)
        key = pathway_key(entry)
        candidates = [*references.get(entry.qualified_id, []), *([key] if key in nodes else [])]
        node = next((n for n in candidates if n not in taken), None)
        name = node or (key if key not in taken and key not in nodes else f"{key}_rating")
        taken.add(name)
        level = nodes[node].level if node is not None and nodes[node].level is not None else "individual"
        spec = {
            "label": f"{entry.name} (single-item rating, 1-5)",
            "range": [min(PATHWAY_SCALE), max(PATHWAY_SCALE)],
            "level": str(level),
        }
        plans.append(MeasurePlan(name, spec, node, {key: name}))
    return plans


def _pathway_spec(pathway: ResolvedPathway, measured: set[str], types: dict[str, Any]) -> str | dict | None:
    """The ``evidence.pathways`` entry of a pathway the data can judge (its id, or ``{id, outcome}`` when its
    first outcome is not measured and a later one is), or None when a mechanism or every outcome after the
    mechanisms lacks data. The strategy is the support dose, which the activities table always gives."""
    if not pathway.mechanisms or any(node not in measured for node in pathway.mechanisms):
        return None
    last = max(pathway.nodes.index(node) for node in pathway.mechanisms)
    after = [node for node in pathway.nodes[last + 1 :] if types[node].is_outcome]
    if not after:
        return None
    reachable = [node for node in after if node in measured]
    if not reachable:
        return None
    return pathway.id if reachable[0] == after[0] else {"id": pathway.id, "outcome": reachable[0]}


def measured_pathways(template: str, survey: Survey | None) -> list[str | dict]:
    """The pathways of `template` whose mechanisms and an outcome `survey` asks about (whether or not anyone
    answered yet): what ``evidence.pathways`` would list. Empty without a survey."""
    if survey is None:
        return []
    model = _template(template)
    plans = _measure_plans(survey, model)
    measured = {plan.node for plan in plans if plan.node is not None}
    types = {node.id: node.type for node in model.nodes}
    found = [_pathway_spec(pathway, measured, types) for pathway in model.pathways_resolved()]
    return [spec for spec in found if spec is not None]


def template_choices(survey: Survey | None) -> list[tuple[str, str]]:
    """(template, label) for a form: every bundled template, with how many of its pathways `survey`
    measures (``recipient-pathway: 12 of 12 pathways measured``); the default template first."""
    names = sorted(list_templates(), key=lambda name: name != DEFAULT_TEMPLATE)
    choices = []
    for name in names:
        total = len(_template(name).pathways_resolved())
        measured = len(measured_pathways(name, survey))
        choices.append((name, f"{name} ({measured} of {total} pathways measured by the survey)"))
    return choices


# -- the tables ---------------------------------------------------------------------------------------------


def _joined(ids: Iterable[str]) -> str:
    return ";".join(ids)


def _team_label(site: str, team: str) -> str:
    """A team's id in the study: its site and name (team names repeat across sites)."""
    return f"{site} / {team}"


def _portfolio_recipients(
    organisation: Organisation, portfolio: QuerySet[Engagement], whole: bool
) -> QuerySet[Recipient]:
    """The recipients of the portfolio: every recipient of the organisation for the whole portfolio (those the
    log never reached are the comparison of the dose), else those of the engagements' sites and those
    present at their activities."""
    found = Recipient.objects.filter(organisation=organisation)
    if whole:
        return found
    return found.filter(
        Q(site__in=portfolio.values("site")) | Q(activities__engagement__in=portfolio)
    ).distinct()


def _recipients_frame(found: QuerySet[Recipient], arms: Mapping[str, str] | None) -> pd.DataFrame:
    """The recipients table: pk, pseudonym, site and team names (and the arm of the site), by pseudonym."""
    frame = pd.DataFrame(
        list(found.values_list("pk", "pseudonym", "site__name", "team__name").order_by("pseudonym")),
        columns=["pk", "recipient_id", "site", "team_name"],
    )
    frame["team"] = [
        _team_label(site, team) if isinstance(team, str) else None
        for site, team in zip(frame["site"], frame["team_name"], strict=True)
    ]
    frame = frame.drop(columns="team_name")
    if arms is not None:
        frame["arm"] = frame["site"].map(dict(arms))
    return frame


def _waves_and_measures(
    survey: Survey, found: QuerySet[Recipient], recipients: pd.DataFrame, plans: list[MeasurePlan]
) -> tuple[list[dict[str, Any]], pd.DataFrame, int, int]:
    """The design's waves (those with a submitted answer, by number) and the long measures table; also the
    number of responses and of answers left out (items the survey no longer asks)."""
    answers = pd.DataFrame(
        list(
            SurveyResponse.objects.filter(
                invitation__wave__survey=survey,
                submitted__isnull=False,
                invitation__recipient__in=found.values("pk"),
            ).values_list("invitation__recipient_id", "invitation__wave__number", "values")
        ),
        columns=["pk", "number", "values"],
    )
    if answers.empty:
        raise StudyError(
            f"the survey '{survey.title}' has no submitted answers from the portfolio's recipients yet, so "
            "the study would have no measures",
            hint="export the study once a wave has been answered",
        )
    wide = pd.DataFrame.from_records(answers["values"].tolist(), index=answers.index)
    wide["pk"], wide["number"] = answers["pk"], answers["number"]
    names = {item: name for plan in plans for item, name in plan.items.items()}
    asked = [column for column in wide.columns if column in names]
    left_out = int(wide.drop(columns=[*asked, "pk", "number"]).notna().sum().sum())
    long = wide.melt(id_vars=["pk", "number"], value_vars=asked, var_name="item", value_name="value")
    long = long.dropna(subset=["value"])
    if long.empty:
        raise StudyError(
            f"the answers to the survey '{survey.title}' hold none of the items it asks now",
            hint="export the study once a wave of the survey as it stands has been answered",
        )
    numbers = sorted(long["number"].unique())
    opened = dict(
        SurveyWave.objects.filter(survey=survey, number__in=[int(n) for n in numbers]).values_list(
            "number", "opens"
        )
    )
    waves = []
    for number in numbers:
        day = opened[number].date()
        if waves and day.isoformat() <= waves[-1]["date"]:
            raise StudyError(
                f"waves {waves[-1]['label']} and {number} of the survey '{survey.title}' open on the same "
                "day, so they cannot be told apart in time",
                hint="a study's waves follow one another in time: export a survey whose waves open on "
                "different days",
            )
        waves.append({"id": f"w{number}", "label": f"Wave {number}", "date": day.isoformat()})
    # the order of the table: recipient (by pseudonym), wave, then the survey's own order of items; sorted
    # on integer codes, the text columns taken from them after
    rank = pd.Series(np.arange(len(recipients)), index=recipients["pk"].to_numpy())
    long["rank"] = long["pk"].map(rank).to_numpy()
    long["order"] = pd.Categorical(long["item"], categories=list(names)).codes
    long = long.sort_values(["rank", "number", "order"], kind="stable")
    labels = {number: f"w{number}" for number in numbers}
    values = pd.to_numeric(long["value"], errors="coerce").to_numpy()
    table = pd.DataFrame(
        {
            "recipient_id": recipients["recipient_id"].to_numpy()[long["rank"].to_numpy()],
            "wave": long["number"].map(labels).to_numpy(),
            "measure": np.array(list(names.values()), dtype=object)[long["order"].to_numpy()],
            "value": pd.array(values, dtype="Int64") if _whole(values) else values,
        }
    )
    return waves, table, len(answers), left_out


def _whole(values: np.ndarray) -> bool:
    """Whether every value is a whole number (answers on a scale), to write them without decimals."""
    return bool(np.isfinite(values).all() and (values == np.round(values)).all())


def _activities_frame(
    portfolio: QuerySet[Engagement], found: QuerySet[Recipient], recipients: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """The support log: one row per activity and recipient it reached (named present, or a member of a team
    present), each with the activity's minutes; an activity that reached nobody in the recipients table is
    one row for its site, without a recipient. Also the number of activities."""
    activities = Activity.objects.filter(engagement__in=portfolio)
    log = pd.DataFrame(
        list(
            activities.values_list(
                "pk",
                "engagement_id",
                "date",
                "minutes",
                "support_mode",
                "core_components",
                "competencies",
                "strategies",
                "engagement__site__name",
            )
        ),
        columns=[
            "activity",
            "engagement",
            "date",
            "minutes",
            "mode",
            "core_components",
            "competencies",
            "strategies",
            "engagement_site",
        ],
    )
    if log.empty:
        return pd.DataFrame(columns=ACTIVITY_COLUMNS), 0
    named = pd.DataFrame(
        list(
            Activity.recipients.through.objects.filter(activity__in=activities).values_list(
                "activity_id", "recipient_id"
            )
        ),
        columns=["activity", "pk"],
    )
    teams = pd.DataFrame(
        list(
            Activity.teams.through.objects.filter(activity__in=activities).values_list(
                "activity_id", "team_id", "team__site__name"
            )
        ),
        columns=["activity", "team_pk", "team_site"],
    )
    members = pd.DataFrame(
        list(
            Recipient.objects.filter(pk__in=found.values("pk"), team__isnull=False).values_list(
                "pk", "team_id"
            )
        ),
        columns=["pk", "team_pk"],
    )
    through_team = teams.merge(members, on="team_pk")[["activity", "pk"]]
    reached = pd.concat([named.assign(reached="present"), through_team.assign(reached="team")])
    reached = reached[reached["pk"].isin(recipients["pk"])]
    reached = reached.drop_duplicates(["activity", "pk"], keep="first")
    info = recipients.set_index("pk")[["recipient_id", "site"]]
    reached = reached.join(info, on="pk")
    # an activity that reached no recipient of the table (a team without recipients, no one named) is one
    # row for the site of its team or engagement, when that site is in the study
    nobody = log.loc[~log["activity"].isin(reached["activity"]), ["activity", "engagement_site"]]
    team_site = teams.drop_duplicates("activity").set_index("activity")["team_site"]
    nobody["site"] = nobody["activity"].map(team_site).fillna(nobody["engagement_site"])
    nobody = nobody[nobody["site"].isin(set(recipients["site"]))][["activity", "site"]]
    nobody = nobody.assign(recipient_id=None, reached="site")
    # the activities' own columns, made once per activity (not per recipient reached), in date order
    log = log.sort_values(["date", "activity"], kind="stable").reset_index(drop=True)
    log["position"] = np.arange(len(log))
    log["component"] = [
        str((core or competencies or strategies or [UNSPECIFIED_COMPONENT])[0])
        for core, competencies, strategies in zip(
            log["core_components"], log["competencies"], log["strategies"], strict=True
        )
    ]
    for column in ("core_components", "competencies", "strategies"):
        log[column] = [_joined(terms) for terms in log[column]]
    log["date"] = [day.isoformat() for day in log["date"]]
    rank = pd.Series(np.arange(len(recipients)), index=recipients["pk"].to_numpy())
    reached["rank"] = reached["pk"].map(rank)
    rows = pd.concat(
        [reached[["activity", "recipient_id", "site", "reached", "rank"]], nobody.assign(rank=-1)],
        ignore_index=True,
    )
    rows = rows.merge(log.drop(columns="engagement_site"), on="activity")
    rows = rows.sort_values(["position", "rank"], kind="stable")
    return rows[ACTIVITY_COLUMNS].reset_index(drop=True), len(log)


# -- the folder ---------------------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _config(
    *,
    title: str,
    synthetic: bool,
    description: str,
    citation: str | None,
    sites: list[str],
    teams_complete: bool,
    arms: Mapping[str, str] | None,
    control: str | None,
    strategy_node: str,
    waves: list[dict[str, Any]],
    has_activities: bool,
    plans: list[MeasurePlan],
    pathways: list[str | dict],
    frameworks: list[str],
    evidence: Mapping[str, Any] | None,
) -> dict[str, Any]:
    recipients: dict[str, Any] = {"path": "data/recipients.csv", "id": "recipient_id", "cluster": "site"}
    columns: dict[str, Any] = {"site": {"values": sites}}
    if teams_complete:
        recipients["team"] = "team"
    else:
        columns["team"] = {"type": "string", "label": "Team (not every recipient has one)"}
    if arms is not None:
        recipients["arm"] = "arm"
        columns["arm"] = {
            "type": "category",
            "node": strategy_node,
            "label": "Support arm (declared per site)",
        }
    recipients["columns"] = columns
    design: dict[str, Any] = {"unit": "recipient", "cluster": "site"}
    if teams_complete:
        design["team"] = "team"
    if arms is not None:
        design["randomization"] = {"level": "site", "arms": sorted(set(arms.values())), "control": control}
    else:
        design["randomization"] = {"level": "none"}
    design["waves"] = waves
    tables: dict[str, Any] = {
        "recipients": recipients,
        "measures": {
            "path": "data/measures.csv",
            "recipient": "recipient_id",
            "wave": "wave",
            "measure": "measure",
            "value": "value",
        },
    }
    if has_activities:
        tables["activities"] = {
            "path": "data/activities.csv",
            "date": "date",
            "cluster": "site",
            "recipient": "recipient_id",
            "component": "component",
            "minutes": "minutes",
            "mode": "mode",
            "columns": {"mode": {"values": list(SupportMode.values)}},
        }
    section: dict[str, Any] = {"strategy": "auto" if arms is not None else "dose"}
    if has_activities:
        section["dose"] = {"measure": "minutes", "level": "recipient", "window": "before_mechanism"}
    section["pathways"] = pathways
    section.update(evidence or {})
    config: dict[str, Any] = {
        "format": 1,
        "title": title,
        "synthetic": synthetic,
        "description": description,
    }
    if citation:
        config["citations"] = [citation]
    config["model"] = "model.yaml"
    config["frameworks"] = frameworks
    config["design"] = design
    config["tables"] = tables
    config["measures"] = {plan.name: plan.spec for plan in plans}
    config["evidence"] = section
    return config


_HEADER = """\
# moclab study configuration (format: docs/study-format.md), exported from the practice platform by
# moclab.web.evidence.study_export. Pseudonymised: recipients by pseudonym only; no names, notes or contact
# details. docs/decisions/0006-evidence-runs.md explains how the portfolio maps onto this study.
"""

_README = """\
# {title}

A moclab study folder exported from the practice platform: the engagement portfolio of {organisation}
({engagements} engagement(s), {activities} logged activities), with the answers to the pulse survey
"{survey}" as its measures and the `{template}` pathway-model template as its model.

- `moclab.yaml`: the design ({design}), {wave_count} wave(s) (one per wave of the survey, dated by the day it
  opened), the declared measures and the `evidence:` section `moclab analyze` reads: {strategy}; judged on
  the pathways the survey measures ({pathway_count}).
- `model.yaml`: the `{template}` template as moclab bundles it. Nodes no measure stands for: {unmeasured}.
- `data/recipients.csv`: {recipients} recipients by pseudonym, with their site and team.
- `data/measures.csv`: {measure_rows} answers, one row per recipient, wave and item (instrument items are
  scored by moclab into the measure of their node; a recipient-pathway rating is its own measure).
- `data/activities.csv`: the support log, one row per activity and recipient it reached (`reached`: named
  present, or a member of a team present), with its minutes, a component (its first core practice component,
  ISP competency or ERIC strategy), its support mode and all its catalog terms (`;`-separated).

Pseudonymised: recipients appear by pseudonym only; no names, activity notes, contact details or accounts.

    moclab validate {folder}
    moclab analyze {folder} -o report/
"""


def export_study(
    organisation: Organisation,
    *,
    template: str = DEFAULT_TEMPLATE,
    survey: Survey | None = None,
    engagements: QuerySet[Engagement] | None = None,
    arms: Mapping[str, str] | None = None,
    control: str | None = None,
    evidence: Mapping[str, Any] | None = None,
    synthetic: bool | None = None,
) -> StudyExport:
    """Export an organisation's engagement portfolio as a moclab study folder (in memory).

    Parameters
    ----------
    organisation : Organisation
        Whose data.
    template : str
        The pathway-model template the study tests (``moclab model templates`` lists them).
    survey : Survey, optional
        The pulse survey whose answers are the measures, an every-N-weeks survey of the organisation
        (default: `portfolio_survey`).
    engagements : QuerySet of Engagement, optional
        The portfolio (default: every engagement of the organisation). With a part of them, the recipients
        are those of their sites and those present at their activities.
    arms : mapping of site name to arm, optional
        Arms the portfolio's sites were assigned to (every site of the study needs one); the design is then
        randomized by site and the strategy is the arm (the dose still serves the gradient).
    control : str, optional
        The control arm, one of `arms`' values (required with `arms`).
    evidence : mapping, optional
        Keys added to the ``evidence:`` section (``n_boot``, ``seed``, ...), so that the folder reproduces a
        run's settings.
    synthetic : bool, optional
        Mark the study as synthetic (default: when the platform runs in demo mode, whose data are simulated).

    Returns
    -------
    StudyExport

    Raises
    ------
    StudyError
        No every-N-weeks survey, no submitted answers, no pathway of the template that the survey measures,
        arms that leave a site out, a control that is not an arm, a survey of another organisation.
    ModelError
        An unknown template (with "did you mean").
    """
    model_path = template_path(template)
    template = model_path.stem
    model = _template(template)
    if survey is None:
        survey = portfolio_survey(organisation)
        if survey is None:
            raise StudyError(
                f"{organisation.name} has no pulse survey on an every-N-weeks schedule, so the study would "
                "have no waves",
                hint="build one under Surveys; surveys sent after each activity have a wave per activity, "
                "not common measurement occasions (docs/decisions/0006-evidence-runs.md)",
            )
    if survey.organisation_id != organisation.pk:
        raise StudyError(f"the survey '{survey.title}' belongs to another organisation")
    if survey.schedule != Schedule.EVERY_N_WEEKS:
        raise StudyError(
            f"the survey '{survey.title}' is sent after each activity: its waves are not common measurement "
            "occasions of the recipients",
            hint="choose a survey on an every-N-weeks schedule",
        )
    whole = engagements is None
    portfolio = Engagement.objects.filter(organisation=organisation)
    if engagements is not None:
        portfolio = portfolio.filter(pk__in=engagements.values("pk"))
    _check_arms(arms, control)
    plans = _measure_plans(survey, model)
    found = _portfolio_recipients(organisation, portfolio, whole)
    recipients = _recipients_frame(found, arms)
    if recipients.empty:
        raise StudyError(f"{organisation.name} has no recipients in this portfolio")
    if arms is not None:
        missing = sorted(recipients.loc[recipients["arm"].isna(), "site"].unique())
        if missing:
            raise StudyError(
                f"no arm for the site(s) {', '.join(missing)}",
                hint="give every site of the portfolio an arm, or none (an observational study)",
            )
        present = set(recipients["arm"])
        if len(present) < 2 or control not in present:
            raise StudyError(
                f"the portfolio's sites are in the arm(s) {', '.join(sorted(present))} only: there is "
                f"nothing to compare with the control {control}",
                hint="the sites of the portfolio need the control arm and another",
            )
    waves, measures, responses, left_out = _waves_and_measures(survey, found, recipients, plans)
    answered = set(measures["measure"].unique())
    plans = [plan for plan in plans if set(plan.items.values()) & answered]
    measured = {plan.node: plan.name for plan in plans if plan.node is not None}
    types = {node.id: node.type for node in model.nodes}
    pathways = [
        spec
        for spec in (_pathway_spec(p, set(measured), types) for p in model.pathways_resolved())
        if spec is not None
    ]
    if not pathways:
        raise StudyError(
            f"the survey '{survey.title}' measures no pathway of the template '{template}': each needs its "
            "mechanism(s) and an outcome after them (measured here: "
            f"{', '.join(sorted(measured)) or 'none'})",
            hint="ask the items of a pathway's mechanism and outcome in the survey"
            + ("" if template == DEFAULT_TEMPLATE else f", or choose the template {DEFAULT_TEMPLATE}"),
        )
    activities, activity_count = _activities_frame(portfolio, found, recipients)
    if activities.empty and arms is None:
        raise StudyError(
            f"the portfolio of {organisation.name} has no logged activities that reached its recipients, so "
            "the support dose (the strategy) is unknown",
            hint="export it once support has been logged, or declare the sites' arms",
        )
    strategies = [node.id for node in model.nodes if node.type.value == "strategy"]
    unmeasured = tuple(
        node.id for node in model.nodes if node.id not in measured and node.id not in strategies
    )
    frameworks = _framework_files()
    sites = sorted(recipients["site"].unique())
    teams_complete = bool(recipients["team"].notna().all())
    if arms is not None:
        design_words = f"randomized by site, arms {', '.join(sorted(set(arms.values())))}, control {control}"
        strategy_words = "the strategy is the site's arm; the support dose serves the gradient"
    else:
        design_words = "observational: no randomization"
        strategy_words = (
            "the strategy is the support each recipient received (the minutes of the activities that "
            "reached them, up to the mechanism's wave)"
        )
    title = f"{organisation.name}: engagement portfolio"
    description = (
        f"The engagement portfolio of {organisation.name} on the practice platform: {len(recipients)} "
        f"recipients in {len(sites)} sites, {activity_count} logged activities, and {len(waves)} wave(s) of "
        f"the pulse survey '{survey.title}'. Exported for `moclab analyze` ({design_words}; "
        f"{strategy_words})."
    )
    config = _config(
        title=title,
        synthetic=bool(django_settings.DEMO) if synthetic is None else synthetic,
        description=description,
        citation=model.citation,
        sites=sites,
        teams_complete=teams_complete,
        arms=arms,
        control=control,
        strategy_node=strategies[0] if strategies else "strategy",
        waves=waves,
        has_activities=not activities.empty,
        plans=plans,
        pathways=pathways,
        frameworks=sorted(frameworks),
        evidence=evidence,
    )
    recipient_columns = ["recipient_id", "site", "team"] + (["arm"] if arms is not None else [])
    files = {
        "moclab.yaml": (
            _HEADER + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)
        ).encode("utf-8"),
        "model.yaml": model_path.read_bytes(),
        "data/recipients.csv": _csv(recipients[recipient_columns]),
        "data/measures.csv": _csv(measures),
        **frameworks,
    }
    if not activities.empty:
        files["data/activities.csv"] = _csv(activities)
    counts = {
        "recipients": len(recipients),
        "sites": len(sites),
        "teams": int(recipients["team"].nunique()),
        "waves": len(waves),
        "responses": responses,
        "measure_rows": len(measures),
        "activities": activity_count,
        "activity_rows": len(activities),
        "left_out_answers": left_out,
    }
    files["README.md"] = _README.format(
        title=title,
        organisation=organisation.name,
        engagements=portfolio.count(),
        activities=activity_count,
        survey=survey.title,
        template=template,
        design=design_words,
        strategy=strategy_words,
        wave_count=len(waves),
        pathway_count=len(pathways),
        unmeasured=", ".join(unmeasured) or "none",
        recipients=len(recipients),
        measure_rows=len(measures),
        folder=_slug(organisation.name) + "-study",
    ).encode("utf-8")
    return StudyExport(
        files=files,
        organisation=organisation.name,
        template=template,
        survey=survey.title,
        pathways=tuple(spec if isinstance(spec, str) else spec["id"] for spec in pathways),
        measured=measured,
        unmeasured=unmeasured,
        counts=counts,
    )


def record_study_export(organisation: Organisation, user: Any = None) -> AuditEntry:
    """Write the audit entry of a study-folder export, in the form of the exports' entries
    (`moclab.web.practice.exports.record_export`): the organisation and ``<id>/study``; `user` None for the
    command line."""
    return AuditEntry.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=Action.EXPORT,
        model=organisation._meta.label_lower,
        object_id=f"{organisation.pk}/study",
    )


def _check_arms(arms: Mapping[str, str] | None, control: str | None) -> None:
    if arms is None:
        if control is not None:
            raise StudyError("a control arm without arms", hint="give the sites' arms, or no control")
        return
    values = set(arms.values())
    if len(values) < 2:
        raise StudyError(
            f"arms: {', '.join(sorted(values)) or 'none'}; a comparison needs two arms at least",
            hint="give each site its arm (two arms or more), or none for an observational study",
        )
    if control not in values:
        raise StudyError(
            f"the control arm {control!r} is not one of the arms ({', '.join(sorted(values))})",
            hint="name the comparison arm as the control",
        )


def _framework_files() -> dict[str, bytes]:
    """The platform's own framework files (``MOCLAB_WEB_FRAMEWORKS``: core practice components), copied into
    the study so that the activities' catalog terms resolve there as on the platform."""
    found = {}
    for path in getattr(django_settings, "MOCLAB_FRAMEWORK_FILES", []):
        source = Path(path)
        found[f"frameworks/{source.name}"] = source.read_bytes()
    return found


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "portfolio"
