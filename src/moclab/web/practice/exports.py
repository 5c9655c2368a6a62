"""Exports of an organisation's data: every table as CSV and Parquet, and the activity log and the pulse
surveys' answers as REDCap records CSVs with their data dictionaries, pseudonymised by default.

`build_export(organisation)` returns the files of an export (a path inside the export -> its bytes):

- ``csv/<table>.csv`` and ``parquet/<table>.parquet``: one file per table of the organisation (`TABLES`);
  lists of catalog ids are joined with ``;``.
- ``redcap/activity_log.csv`` and ``redcap/activity_log_dictionary.csv``: one record per activity, in
  REDCap's raw export format (checkbox fields as ``field___code`` columns of 0 and 1, a
  ``activity_log_complete`` status column), with the dictionary to upload in REDCap
  (Project Setup > Data Dictionary > Upload) before importing the records.
- ``redcap/pulse_survey.csv`` and ``redcap/pulse_survey_dictionary.csv``: one record per survey response
  (the instrument ``pulse_survey``, a REDCap project of its own: its records are responses, not
  activities), each item a radio field with its scale's values as choices.
- ``README.txt``: what the export holds and how it was pseudonymised.

Pseudonymised by default: recipients appear only as their pseudonym; members (ISPs, whoever saved a
revision) as a stable pseudonym made from their account's database id (`member_pseudonym`, ``M0007``), and
activity notes (free text, which may name people) are left out, with a ``has_note`` column instead. With
``names=True`` (administrators only, `moclab.web.practice.access`) members appear by user name and notes as
written. Contact details (`RecipientContact`) and account details (first and last names, e-mail addresses,
passwords) are never exported, nor are the survey invitations' tokens (each is the key to a recipient's
answers). `write_zip` and `write_folder` write an export; the caller writes the audit
entry (`record_export`).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from django.utils import timezone

from moclab.study.sources.redcap_dictionary import DICTIONARY_COLUMNS, checkbox_column
from moclab.web.audit.models import Action, AuditEntry
from moclab.web.practice import terms
from moclab.web.practice.models import (
    Activity,
    ActivityRevision,
    Engagement,
    Membership,
    Organisation,
    Recipient,
    Site,
    SupportMode,
    Team,
)
from moclab.web.surveys.items import SurveyItem, survey_items
from moclab.web.surveys.models import ConsentText, Invitation, Survey, SurveyResponse, SurveyWave

#: The REDCap form (instrument) of the activity log.
REDCAP_FORM = "activity_log"
#: The REDCap form (instrument) of the pulse surveys' responses.
REDCAP_SURVEY_FORM = "pulse_survey"
#: The export kinds, as the audit log names them (`record_export`).
KINDS = ("all", "redcap", "redcap-dictionary", "redcap-surveys", "redcap-surveys-dictionary")
#: The tables of an export, in the order of its README.
TABLES: dict[str, str] = {
    "organisation": "the organisation: id, name, when it was created",
    "sites": "its sites",
    "teams": "the teams of its sites",
    "members": "its members: pseudonym (user name with names), role, the site a site lead leads",
    "engagements": "its engagements: the site or system supported, start and end",
    "engagement_isps": "which ISP works on which engagement",
    "recipients": "recipients by pseudonym, with their site and team (never their contact details)",
    "activities": "the activity log: date, minutes, support mode, catalog ids (';'-separated)",
    "activity_isps": "which ISPs gave each activity",
    "activity_recipients": "which recipients were present at each activity",
    "activity_teams": "which teams were present at each activity",
    "activity_revisions": "every saved version of each activity (who saved it, when, its values)",
    "surveys": "its pulse surveys: what they ask (instrument ids, pathway ids, item field names), whom, when",
    "survey_consents": "every version of each survey's consent text",
    "survey_waves": "each survey's waves: number, when open, the activity that opened it",
    "survey_invitations": "who was invited to each wave (recipient pseudonyms; never the link's token) and "
    "when it was due, sent, reminded, opened, answered",
    "survey_responses": "the answers: one row per response, the consent version agreed to, one column per "
    "item (its field name) holding the value",
}


def member_pseudonym(user_id: int | None) -> str:
    """The stable pseudonym of a member's account in exports: ``M`` and its database id (``M0007``)."""
    return "" if user_id is None else f"M{user_id:04d}"


@dataclass(frozen=True)
class Export:
    """An export's files (path inside the export -> bytes) and what it holds."""

    files: dict[str, bytes]
    organisation: str
    names: bool
    counts: dict[str, int]


def slug_of(organisation: Organisation) -> str:
    """The organisation's name as the command line names it: lower case, words joined by ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", organisation.name.lower()).strip("-")


def find_organisation(slug: str) -> Organisation | None:
    """The organisation whose `slug_of` (or exact name) is `slug`, or None."""
    for organisation in Organisation.objects.all():
        if slug in (slug_of(organisation), organisation.name):
            return organisation
    return None


# -- the tables ----------------------------------------------------------------------------------------------


class _People:
    """How members appear in one export: pseudonyms, or user names with ``names``."""

    def __init__(self, organisation: Organisation, names: bool) -> None:
        self.names = names
        self.usernames: dict[int, str] = dict(
            Membership.objects.filter(organisation=organisation).values_list("user_id", "user__username")
        )
        self._by_username = {name: user_id for user_id, name in self.usernames.items()}

    def shown(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if self.names:
            return self.usernames.get(user_id, member_pseudonym(user_id))
        return member_pseudonym(user_id)

    def shown_username(self, username: str) -> str:
        """A user name stored in a revision's values, as the export shows it."""
        user_id = self._by_username.get(username)
        # an account that left the organisation: its name is not shown, even with names
        return "unknown" if user_id is None else self.shown(user_id)


def _frame(rows: list[dict[str, Any]], columns: list[str], integers: Iterable[str] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in integers:
        frame[column] = frame[column].astype("Int64")
    return frame


def _joined(ids: Iterable[str]) -> str:
    return ";".join(ids)


def organisation_tables(organisation: Organisation, *, names: bool = False) -> dict[str, pd.DataFrame]:
    """Every table of `organisation`, as data frames (see `TABLES`), pseudonymised unless `names`."""
    people = _People(organisation, names)
    sites = Site.objects.filter(organisation=organisation).order_by("id")
    teams = Team.objects.filter(site__organisation=organisation).order_by("id")
    members = Membership.objects.filter(organisation=organisation).order_by("user_id")
    engagements = Engagement.objects.filter(organisation=organisation).order_by("id")
    recipients = Recipient.objects.filter(organisation=organisation).order_by("id")
    activities = Activity.objects.filter(engagement__organisation=organisation).order_by("id")
    pseudonyms = dict(recipients.values_list("id", "pseudonym"))
    activity_columns = [
        "activity_id", "engagement_id", "date", "minutes", "support_mode", "core_components", "competencies",
        "strategies", "has_note", *(["note"] if names else []), "created",
    ]  # fmt: skip
    tables = {
        "organisation": _frame(
            [
                {
                    "organisation_id": organisation.pk,
                    "name": organisation.name,
                    "created": organisation.created,
                }
            ],
            ["organisation_id", "name", "created"],
        ),
        "sites": _frame(
            [{"site_id": site.pk, "name": site.name} for site in sites], ["site_id", "name"], ["site_id"]
        ),
        "teams": _frame(
            [{"team_id": team.pk, "site_id": team.site_id, "name": team.name} for team in teams],
            ["team_id", "site_id", "name"],
            ["team_id", "site_id"],
        ),
        "members": _frame(
            [
                {"member": people.shown(member.user_id), "role": member.role, "site_id": member.site_id}
                for member in members
            ],
            ["member", "role", "site_id"],
            ["site_id"],
        ),
        "engagements": _frame(
            [
                {
                    "engagement_id": engagement.pk,
                    "title": engagement.title,
                    "site_id": engagement.site_id,
                    "system": engagement.system,
                    "start": engagement.start,
                    "end": engagement.end,
                }
                for engagement in engagements
            ],
            ["engagement_id", "title", "site_id", "system", "start", "end"],
            ["engagement_id", "site_id"],
        ),
        "engagement_isps": _frame(
            [
                {"engagement_id": engagement_id, "isp": people.shown(user_id)}
                for engagement_id, user_id in Engagement.isps.through.objects.filter(
                    engagement__organisation=organisation
                )
                .order_by("engagement_id", "user_id")
                .values_list("engagement_id", "user_id")
            ],
            ["engagement_id", "isp"],
            ["engagement_id"],
        ),
        "recipients": _frame(
            [
                {
                    "recipient": recipient.pseudonym,
                    "site_id": recipient.site_id,
                    "team_id": recipient.team_id,
                }
                for recipient in recipients
            ],
            ["recipient", "site_id", "team_id"],
            ["site_id", "team_id"],
        ),
        "activities": _frame(
            [
                {
                    "activity_id": activity.pk,
                    "engagement_id": activity.engagement_id,
                    "date": activity.date,
                    "minutes": activity.minutes,
                    "support_mode": activity.support_mode,
                    "core_components": _joined(activity.core_components),
                    "competencies": _joined(activity.competencies),
                    "strategies": _joined(activity.strategies),
                    "has_note": bool(activity.note),
                    "note": activity.note,
                    "created": activity.created,
                }
                for activity in activities
            ],
            activity_columns,
            ["activity_id", "engagement_id", "minutes"],
        ),
        "activity_isps": _links(
            Activity.isps.through, organisation, "user_id", "isp", lambda user_id: people.shown(user_id)
        ),
        "activity_recipients": _links(
            Activity.recipients.through, organisation, "recipient_id", "recipient", pseudonyms.__getitem__
        ),
        "activity_teams": _links(Activity.teams.through, organisation, "team_id", "team_id", int),
        "activity_revisions": _revisions(organisation, people),
        **_survey_tables(organisation),
    }
    return tables


def _links(through: Any, organisation: Organisation, key: str, column: str, shown: Any) -> pd.DataFrame:
    pairs = (
        through.objects.filter(activity__engagement__organisation=organisation)
        .order_by("activity_id", key)
        .values_list("activity_id", key)
    )
    integers = ["activity_id", column] if column.endswith("_id") else ["activity_id"]
    return _frame(
        [{"activity_id": activity_id, column: shown(value)} for activity_id, value in pairs],
        ["activity_id", column],
        integers,
    )


def _revisions(organisation: Organisation, people: _People) -> pd.DataFrame:
    """Each saved version of each activity, its values as stored then (user names as the export shows
    members, the note only with names)."""
    columns = [
        "activity_id", "number", "saved_by", "saved_at", "date", "minutes", "isps", "recipients", "teams",
        "core_components", "competencies", "strategies", "support_mode", "has_note",
        *(["note"] if people.names else []),
    ]  # fmt: skip
    rows = []
    revisions = ActivityRevision.objects.filter(activity__engagement__organisation=organisation).order_by(
        "activity_id", "number"
    )
    for revision in revisions:
        data = revision.data
        rows.append(
            {
                "activity_id": revision.activity_id,
                "number": revision.number,
                "saved_by": people.shown(revision.saved_by_id),
                "saved_at": revision.saved_at,
                "date": data.get("date", ""),
                "minutes": data.get("minutes"),
                "isps": _joined(people.shown_username(name) for name in data.get("isps", [])),
                "recipients": _joined(data.get("recipients", [])),
                "teams": _joined(data.get("teams", [])),
                "core_components": _joined(data.get("core_components", [])),
                "competencies": _joined(data.get("competencies", [])),
                "strategies": _joined(data.get("strategies", [])),
                "support_mode": data.get("support_mode", ""),
                "has_note": bool(data.get("note")),
                "note": data.get("note", ""),
            }
        )
    return _frame(rows, columns, ["activity_id", "number", "minutes"])


# -- pulse surveys -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AskedItem:
    """An item as the survey exports show it: its field name, the item (None for a field answered once but
    no longer asked by any survey) and its wording (with "[X]" where the surveys give it different
    subjects)."""

    key: str
    item: SurveyItem | None
    label: str


def _asked_items(surveys: list[Survey], responses: list[SurveyResponse]) -> list[_AskedItem]:
    """Every item of the organisation's surveys, once, in the order of the surveys (by id) and of their
    items, then the field names answered that no survey asks any more (sorted)."""
    items: dict[str, SurveyItem] = {}
    wordings: dict[str, set[str]] = {}
    neutral: dict[str, str] = {}
    for survey in surveys:
        asked = survey.items()
        for item, plain in zip(asked, survey_items(survey.instruments, survey.pathway_items), strict=True):
            items.setdefault(item.key, item)
            wordings.setdefault(item.key, set()).add(item.question)
            neutral.setdefault(item.key, plain.question)
    found = [
        _AskedItem(key, item, item.question if len(wordings[key]) == 1 else neutral[key])
        for key, item in items.items()
    ]
    dropped = sorted({key for response in responses for key in response.values} - set(items))
    return found + [_AskedItem(key, None, f"{key} (no longer asked by its survey)") for key in dropped]


def _survey_responses(organisation: Organisation) -> list[SurveyResponse]:
    return list(
        SurveyResponse.objects.filter(invitation__wave__survey__organisation=organisation)
        .select_related("invitation__wave", "invitation__recipient")
        .order_by("invitation_id")
    )


#: The columns of the surveys table.
_SURVEY_COLUMNS = [
    "survey_id", "title", "subject", "instruments", "pathway_items", "items", "site_id", "schedule",
    "every_weeks", "start_date", "expiry_days", "reminder_days", "active", "created",
]  # fmt: skip
#: The columns of the survey_responses table before its items' columns.
_RESPONSE_COLUMNS = [
    "invitation_id", "survey_id", "wave_id", "recipient", "consent_version", "consented", "saved",
    "submitted",
]  # fmt: skip


def _survey_tables(organisation: Organisation) -> dict[str, pd.DataFrame]:
    """The pulse surveys' tables (see `TABLES`): recipients by pseudonym, invitations without their token."""
    surveys = list(Survey.objects.filter(organisation=organisation).order_by("id"))
    responses = _survey_responses(organisation)
    asked = _asked_items(surveys, responses)
    invitations = (
        Invitation.objects.filter(wave__survey__organisation=organisation)
        .select_related("wave", "recipient")
        .order_by("id")
    )
    times = ["due", "sent", "reminded", "opened", "answered"]
    item_keys = [entry.key for entry in asked]
    return {
        "surveys": _frame(
            [
                {
                    "survey_id": survey.pk,
                    "title": survey.title,
                    "subject": survey.subject,
                    "instruments": _joined(survey.instruments),
                    "pathway_items": _joined(survey.pathway_items),
                    "items": _joined(item.key for item in survey.items()),
                    "site_id": survey.site_id,
                    "schedule": survey.schedule,
                    "every_weeks": survey.every_weeks,
                    "start_date": survey.start_date,
                    "expiry_days": survey.expiry_days,
                    "reminder_days": survey.reminder_days,
                    "active": survey.active,
                    "created": survey.created,
                }
                for survey in surveys
            ],
            _SURVEY_COLUMNS,
            ["survey_id", "site_id", "every_weeks", "expiry_days", "reminder_days"],
        ),
        "survey_consents": _frame(
            [
                {"survey_id": survey_id, "version": version, "text": text, "created": created}
                for survey_id, version, text, created in ConsentText.objects.filter(
                    survey__organisation=organisation
                )
                .order_by("survey_id", "version")
                .values_list("survey_id", "version", "text", "created")
            ],
            ["survey_id", "version", "text", "created"],
            ["survey_id", "version"],
        ),
        "survey_waves": _frame(
            [
                {
                    "wave_id": wave.pk,
                    "survey_id": wave.survey_id,
                    "number": wave.number,
                    "opens": wave.opens,
                    "closes": wave.closes,
                    "activity_id": wave.activity_id,
                }
                for wave in SurveyWave.objects.filter(survey__organisation=organisation).order_by("id")
            ],
            ["wave_id", "survey_id", "number", "opens", "closes", "activity_id"],
            ["wave_id", "survey_id", "number", "activity_id"],
        ),
        "survey_invitations": _frame(
            [
                {
                    "invitation_id": invitation.pk,
                    "wave_id": invitation.wave_id,
                    "survey_id": invitation.wave.survey_id,
                    "recipient": invitation.recipient.pseudonym,
                    **{name: getattr(invitation, name) for name in times},
                }
                for invitation in invitations
            ],
            ["invitation_id", "wave_id", "survey_id", "recipient", *times],
            ["invitation_id", "wave_id", "survey_id"],
        ),
        "survey_responses": _frame(
            [
                {
                    "invitation_id": response.invitation_id,
                    "survey_id": response.invitation.wave.survey_id,
                    "wave_id": response.invitation.wave_id,
                    "recipient": response.invitation.recipient.pseudonym,
                    "consent_version": response.consent_version,
                    "consented": response.consented,
                    "saved": response.saved,
                    "submitted": response.submitted,
                    **{key: response.values.get(key) for key in item_keys},
                }
                for response in responses
            ],
            [*_RESPONSE_COLUMNS, *item_keys],
            ["invitation_id", "survey_id", "wave_id", "consent_version", *item_keys],
        ),
    }


# -- REDCap --------------------------------------------------------------------------------------------------


def _redcap_code(text: str) -> str:
    """A REDCap choice code from a catalog id or pseudonym: lower case, other characters than a-z, 0-9 _."""
    return re.sub(r"[^a-z0-9]", "_", text.lower())


def _term_choices(field: str, used: Iterable[str]) -> dict[str, tuple[str, str]]:
    """catalog id -> (REDCap code, label) for a term field: the catalog's terms, then ids in the data that
    the catalog no longer has; codes are the id without its framework, made unique."""
    choices: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    known = [(entry.qualified_id, terms.label(entry)) for entry in terms.entries(field)]
    for qualified_id, label in [*known, *[(i, i) for i in used]]:
        if qualified_id in choices:
            continue
        code = base = _redcap_code(qualified_id.split(":", 1)[-1])
        number = 2
        while code in taken:
            code, number = f"{base}_{number}", number + 1
        taken.add(code)
        choices[qualified_id] = (code, label.replace("|", "/"))
    return choices


def _dictionary_row(
    name: str, field_type: str, label: str, *, form: str = REDCAP_FORM, **values: str
) -> dict[str, str]:
    cells = {"field_name": name, "form_name": form, "field_type": field_type, "field_label": label}
    cells.update(values)
    return {header: cells.get(api, "") for api, header in DICTIONARY_COLUMNS}


def _choice_text(choices: Iterable[tuple[str, str]]) -> str:
    return " | ".join(f"{code}, {label}" for code, label in choices)


def redcap_activity_log(
    organisation: Organisation, *, names: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The activity log as a REDCap raw records export and its data dictionary: (records, dictionary).

    One record per activity (``record_id`` is the activity's id); ``date`` (date_ymd), ``minutes``
    (integer), ``support_mode`` (radio), the engagement, site, teams and recipients present (pseudonyms,
    as text), and checkbox fields ``isps``, ``core_components``, ``competencies`` and ``strategies``, whose
    export columns are ``field___code`` holding 1 (ticked) or 0, as REDCap exports checkboxes. A ticked ISP's
    code is their member pseudonym (label: the pseudonym, or the user name with `names`). The note is a
    field only with `names`.
    """
    people = _People(organisation, names)
    activities = list(
        Activity.objects.filter(engagement__organisation=organisation)
        .select_related("engagement")
        .prefetch_related("isps", "teams", "recipients")
        .order_by("id")
    )
    isp_ids = sorted(
        {user.pk for activity in activities for user in activity.isps.all()}
        | set(
            Membership.objects.filter(organisation=organisation, role="isp").values_list("user_id", flat=True)
        )
    )
    isp_choices = {
        user_id: (_redcap_code(member_pseudonym(user_id)), people.shown(user_id)) for user_id in isp_ids
    }
    term_choices = {
        field: _term_choices(field, [i for activity in activities for i in getattr(activity, field)])
        for field in terms.TERM_SETS
    }
    mode_choices = [(mode.value, mode.label) for mode in SupportMode]

    validation = "text_validation_type_or_show_slider_number"
    dictionary = [
        _dictionary_row("record_id", "text", "Activity (platform id)"),
        _dictionary_row("engagement_id", "text", "Engagement (platform id)", **{validation: "integer"}),
        _dictionary_row(
            "site_id", "text", "Site (platform id; empty for a system)", **{validation: "integer"}
        ),
        _dictionary_row("date", "text", "Date", required_field="y", **{validation: "date_ymd"}),
        _dictionary_row(
            "minutes",
            "text",
            "Minutes",
            text_validation_min="1",
            text_validation_max=str(24 * 60),
            required_field="y",
            **{validation: "integer"},
        ),
        _dictionary_row(
            "support_mode",
            "radio",
            "Support mode (Metz et al. 2022)",
            select_choices_or_calculations=_choice_text(mode_choices),
            required_field="y",
        ),
        _dictionary_row(
            "isps",
            "checkbox",
            "ISPs",
            select_choices_or_calculations=_choice_text(isp_choices.values()),
            identifier="y" if names else "",
        ),
        _dictionary_row("teams", "text", "Teams present (platform ids, ';'-separated)"),
        _dictionary_row("recipients", "notes", "Recipients present (pseudonyms, ';'-separated)"),
    ]
    for field, term in terms.TERM_SETS.items():
        if term_choices[field]:
            dictionary.append(
                _dictionary_row(
                    field,
                    "checkbox",
                    f"{term.label} (moclab catalog, framework {term.framework})",
                    select_choices_or_calculations=_choice_text(term_choices[field].values()),
                )
            )
    if names:
        dictionary.append(_dictionary_row("note", "notes", "Note", identifier="y"))

    records = []
    for activity in activities:
        ticked_isps = {user.pk for user in activity.isps.all()}
        row: dict[str, Any] = {
            "record_id": activity.pk,
            "engagement_id": activity.engagement_id,
            "site_id": activity.engagement.site_id if activity.engagement.site_id is not None else "",
            "date": activity.date.isoformat(),
            "minutes": activity.minutes,
            "support_mode": activity.support_mode,
        }
        for user_id, (code, _label) in isp_choices.items():
            row[checkbox_column("isps", code)] = int(user_id in ticked_isps)
        row["teams"] = _joined(str(team.pk) for team in sorted(activity.teams.all(), key=lambda t: t.pk))
        row["recipients"] = _joined(sorted(recipient.pseudonym for recipient in activity.recipients.all()))
        for field, choices in term_choices.items():
            ticked = set(getattr(activity, field))
            for qualified_id, (code, _label) in choices.items():
                row[checkbox_column(field, code)] = int(qualified_id in ticked)
        if names:
            row["note"] = activity.note
        row[f"{REDCAP_FORM}_complete"] = 2
        records.append(row)
    columns = ["record_id", "engagement_id", "site_id", "date", "minutes", "support_mode"]
    columns += [checkbox_column("isps", code) for code, _ in isp_choices.values()]
    columns += ["teams", "recipients"]
    for field, choices in term_choices.items():
        columns += [checkbox_column(field, code) for code, _ in choices.values()]
    columns += ["note"] if names else []
    columns.append(f"{REDCAP_FORM}_complete")
    frame = pd.DataFrame(records, columns=columns)
    return frame, pd.DataFrame(dictionary, columns=[header for _, header in DICTIONARY_COLUMNS])


def _redcap_time(value: datetime.datetime | None) -> str:
    """A time as REDCap's datetime_seconds_ymd validation writes it (``2025-03-04 09:30:00``), in UTC."""
    if value is None:
        return ""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _item_choices(item: SurveyItem) -> str:
    """An item's scale as REDCap choices: its own values (0-4 stays 0-4, so answers keep the published
    scoring), labelled with the scale's anchor where it has one and the number elsewhere."""
    return _choice_text((str(value), item.labels.get(value, str(value))) for value in item.values)


def redcap_pulse_surveys(organisation: Organisation) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pulse surveys' responses as a REDCap raw records export and its data dictionary: (records,
    dictionary), the instrument `REDCAP_SURVEY_FORM`, a REDCap project of its own.

    One record per response (``record_id`` is its invitation's id): the survey, the wave's number, the
    recipient's pseudonym, the consent version agreed to and when, when submitted (empty for a partial
    response), then one radio field per item, named by its field name (``aim_1``, ``trust``), labelled with
    its wording and with its scale's values as choices. ``pulse_survey_complete`` is 2 (complete) for a
    submitted response and 0 (incomplete) for one saved partly. Items are optional (a recipient may skip
    any), so none is a required field.
    """
    surveys = list(Survey.objects.filter(organisation=organisation).order_by("id"))
    responses = _survey_responses(organisation)
    asked = _asked_items(surveys, responses)
    validation = "text_validation_type_or_show_slider_number"
    form = REDCAP_SURVEY_FORM
    dictionary = [
        _dictionary_row("record_id", "text", "Invitation (platform id)", form=form),
        _dictionary_row("survey_id", "text", "Survey (platform id)", form=form, **{validation: "integer"}),
        _dictionary_row(
            "wave", "text", "Wave (its number in the survey)", form=form, **{validation: "integer"}
        ),
        _dictionary_row("recipient", "text", "Recipient (pseudonym)", form=form),
        _dictionary_row(
            "consent_version", "text", "Consent text version agreed to", form=form, **{validation: "integer"}
        ),
        _dictionary_row(
            "consented", "text", "Consented (UTC)", form=form, **{validation: "datetime_seconds_ymd"}
        ),
        _dictionary_row(
            "submitted",
            "text",
            "Submitted (UTC; empty while saved partly)",
            form=form,
            **{validation: "datetime_seconds_ymd"},
        ),
    ]
    source = ""
    for entry in asked:
        if entry.item is None:
            dictionary.append(
                _dictionary_row(entry.key, "text", entry.label, form=form, **{validation: "integer"})
            )
            continue
        header = entry.item.source if entry.item.source != source else ""
        source = entry.item.source
        dictionary.append(
            _dictionary_row(
                entry.key,
                "radio",
                entry.label,
                form=form,
                section_header=header,
                select_choices_or_calculations=_item_choices(entry.item),
                field_note=entry.item.hint,
                field_annotation=f"moclab: {entry.item.source}",
            )
        )
    records = []
    for response in responses:
        invitation = response.invitation
        row: dict[str, Any] = {
            "record_id": invitation.pk,
            "survey_id": invitation.wave.survey_id,
            "wave": invitation.wave.number,
            "recipient": invitation.recipient.pseudonym,
            "consent_version": response.consent_version,
            "consented": _redcap_time(response.consented),
            "submitted": _redcap_time(response.submitted),
        }
        for entry in asked:
            value = response.values.get(entry.key)
            row[entry.key] = "" if value is None else value
        row[f"{form}_complete"] = 2 if response.is_submitted else 0
        records.append(row)
    columns = [
        "record_id", "survey_id", "wave", "recipient", "consent_version", "consented", "submitted",
        *(entry.key for entry in asked), f"{form}_complete",
    ]  # fmt: skip
    frame = pd.DataFrame(records, columns=columns)
    return frame, pd.DataFrame(dictionary, columns=[header for _, header in DICTIONARY_COLUMNS])


# -- writing -------------------------------------------------------------------------------------------------


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as the export's CSV: UTF-8, a header row, Unix line ends, dates as ``YYYY-MM-DD``."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n", date_format="%Y-%m-%d")
    return buffer.getvalue().encode("utf-8")


def _timestamps_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and times as ISO text in the CSV (Parquet keeps them typed); a missing time (pandas' NaT, which
    is a datetime too) stays empty."""
    shown = frame.copy()
    for column in shown.columns:
        if shown[column].map(lambda value: isinstance(value, datetime.datetime)).any():
            shown[column] = shown[column].map(
                lambda value: (
                    value.isoformat()
                    if isinstance(value, datetime.datetime) and not pd.isna(value)
                    else value
                )
            )
    return shown


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    typed = frame.copy()
    for column in typed.columns:
        values = typed[column].dropna()
        if len(values) and values.map(lambda value: isinstance(value, datetime.datetime)).all():
            typed[column] = pd.to_datetime(typed[column], utc=True)
        elif len(values) and values.map(lambda value: isinstance(value, datetime.date)).all():
            typed[column] = pd.to_datetime(typed[column]).dt.date
    buffer = io.BytesIO()
    typed.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def _readme(organisation: Organisation, names: bool, counts: Mapping[str, int]) -> bytes:
    made = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
    how = (
        "WITH NAMES (asked by an administrator): members appear by user name and activity notes as written. "
        "Keep this export as you keep the platform's own data."
        if names
        else "PSEUDONYMISED: recipients appear by pseudonym, members (ISPs, whoever saved a revision) as "
        "M + their account's id (M0007), and activity notes are left out (has_note says if there was one)."
    )
    lines = [
        f"moclab practice platform export of {organisation.name}, made {made}.",
        "",
        how,
        "Contact details of recipients and account details (names, e-mail addresses) are never exported.",
        "",
        "csv/ and parquet/: one file per table (the same rows in both formats); ids are the platform's.",
    ]
    lines += [f"  {name} ({counts[name]} rows): {what}" for name, what in TABLES.items()]
    lines += [
        "",
        "redcap/activity_log.csv: the activity log as a REDCap raw records export, one record per",
        "activity; checkbox fields (ISPs, core practice components, ISP competencies, ERIC strategies)",
        "are field___code columns of 1 (ticked) and 0. redcap/activity_log_dictionary.csv is its data",
        "dictionary: upload it in REDCap (Project Setup > Data Dictionary), then import the records.",
        "",
        "redcap/pulse_survey.csv: the pulse surveys' responses as REDCap records (a REDCap project of its",
        "own), one record per response: survey, wave, recipient pseudonym, consent version, when consented",
        "and submitted, and one radio field per item (its field name, e.g. aim_1) holding the value;",
        "pulse_survey_complete is 2 when submitted, 0 when saved partly. redcap/pulse_survey_dictionary.csv",
        "is its data dictionary. Survey invitations' personal-link tokens are never exported.",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def build_export(organisation: Organisation, *, names: bool = False) -> Export:
    """Every file of an export of `organisation` (see the module docstring), pseudonymised unless `names`."""
    tables = organisation_tables(organisation, names=names)
    files: dict[str, bytes] = {}
    counts = {name: len(frame) for name, frame in tables.items()}
    files["README.txt"] = _readme(organisation, names, counts)
    for name, frame in tables.items():
        files[f"csv/{name}.csv"] = csv_bytes(_timestamps_as_text(frame))
    for name, frame in tables.items():
        files[f"parquet/{name}.parquet"] = _parquet_bytes(frame)
    records, dictionary = redcap_activity_log(organisation, names=names)
    files["redcap/activity_log.csv"] = csv_bytes(records)
    files["redcap/activity_log_dictionary.csv"] = csv_bytes(dictionary)
    records, dictionary = redcap_pulse_surveys(organisation)
    files[f"redcap/{REDCAP_SURVEY_FORM}.csv"] = csv_bytes(records)
    files[f"redcap/{REDCAP_SURVEY_FORM}_dictionary.csv"] = csv_bytes(dictionary)
    return Export(files=files, organisation=organisation.name, names=names, counts=counts)


def zip_bytes(export: Export) -> bytes:
    """The export as one zip file, its files under a folder named for the organisation."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in export.files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def write_folder(export: Export, folder: Path) -> list[Path]:
    """Write the export's files into `folder` (already checked and created); the paths written."""
    written = []
    for relative, content in export.files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written


def record_export(organisation: Organisation, kind: str, *, names: bool, user: Any = None) -> AuditEntry:
    """Write the audit entry of an export: who (`user`, None for the command line), when, and what: the
    model ``practice.organisation`` and the id ``<organisation id>/<kind>`` (``+names`` when with names;
    `KINDS`: ``3/all``, ``3/redcap+names``, ``3/redcap-surveys``), since an entry has no field for it."""
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    return AuditEntry.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=Action.EXPORT,
        model=organisation._meta.label_lower,
        object_id=f"{organisation.pk}/{kind}{'+names' if names else ''}",
    )
