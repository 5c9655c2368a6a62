"""What the dashboards read from the database: the viewer's scope, and an organisation's data as a few
pandas frames, each from one query that aggregates or lists rows in the database (never one query per row).

Scope (docs/platform.md, "Roles"): administrators and researchers see the whole organisation; an ISP the
engagements they work on (`Engagement.objects.visible_to`) and the sites of those; a site lead the engagements
with their site and their site's recipients only.

`organisation_data` reads everything the dashboards of one organisation show into an `OrganisationData`:
the activity log in monthly aggregates (for the dose and mode charts), the minutes each recipient received,
who was present at which ISP's sessions, and the survey invitations with their answers. It is kept in memory
per data state (`data_state`): a new activity, edit, invitation or answer changes the state, so the next
request reads afresh; anything else (a recipient moved to another team) shows after `STATE_TTL` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import connections
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth

from moclab.web.practice.models import (
    Activity,
    ActivityRevision,
    Engagement,
    Membership,
    Recipient,
    Role,
    Site,
    Team,
)
from moclab.web.surveys.models import Invitation, Schedule, SurveyWave

#: Seconds a computed data state is trusted without reading the database's state again.
STATE_TTL = 300
#: A response counts as "after a session" of an ISP when its recipient was present at one of the ISP's
#: activities in the days before they submitted it (docs/platform.md, "Dashboards").
AFTER_DAYS = 30


# -- scope ---------------------------------------------------------------------------------------------------


def engagements_in_scope(membership: Membership) -> Any:
    """The engagements whose dashboards `membership` may open: those of `visible_to`, and for a site lead
    the engagements with their site."""
    if membership.role == Role.SITE_LEAD:
        return Engagement.objects.filter(organisation=membership.organisation_id, site=membership.site_id)
    return Engagement.objects.visible_to(membership)


def sites_in_scope(membership: Membership) -> list[Site]:
    """The sites whose aggregates `membership` may see: every site of the organisation (administrators,
    researchers), the sites of an ISP's engagements, a site lead's own site."""
    sites = Site.objects.filter(organisation=membership.organisation_id)
    if membership.role == Role.SITE_LEAD:
        return list(sites.filter(pk=membership.site_id))
    if membership.role == Role.ISP:
        return list(sites.filter(engagements__isps=membership.user_id).distinct())
    return list(sites)


def teams_of(site: Site) -> list[Team]:
    return list(Team.objects.filter(site=site).order_by("name"))


def isps_in_scope(membership: Membership) -> list[Any]:
    """The ISPs whose practice view `membership` may open: themself (an ISP), every ISP of the organisation
    (administrators, researchers), none (a site lead)."""
    isps = Membership.objects.filter(organisation=membership.organisation_id, role=Role.ISP)
    if membership.role == Role.ISP:
        isps = isps.filter(user=membership.user_id)
    elif membership.role == Role.SITE_LEAD:
        return []
    return [m.user for m in isps.select_related("user").order_by("user__username")]


def whole_group(membership: Membership) -> tuple[Any, ...]:
    """The group a dashboard shows when no site is chosen: the organisation, an ISP's portfolio (the
    recipients of their engagements), a site lead's site."""
    if membership.role == Role.SITE_LEAD:
        return ("site", membership.site_id)
    if membership.role == Role.ISP:
        return ("isp", membership.user_id)
    return ("org",)


# -- the organisation's data ---------------------------------------------------------------------------------


@dataclass
class OrganisationData:
    """An organisation's data as the dashboards use it; frames are empty (with their columns) when there is
    nothing to show.

    Attributes
    ----------
    state : tuple
        The data state this was read at (`data_state`).
    log : pandas.DataFrame
        The activity log aggregated by engagement, month, support mode and the lists of terms: columns
        engagement, month (a Timestamp, the first of the month), support_mode, core_components,
        competencies (lists of catalog ids), minutes, activities.
    isp_log : pandas.DataFrame
        The same per ISP (an activity with two ISPs counts for each): columns isp and the above.
    dose : pandas.Series
        Minutes each recipient received (present by name or with their team), by recipient id; recipients
        never present are absent (0 minutes).
    recipients : pandas.DataFrame
        Every recipient: index id, columns site, team (nullable).
    engagement_recipients : dict
        Engagement id -> the recipient ids it supports: its site's recipients, or for a system the
        recipients present at its activities.
    isp_engagements : dict
        ISP user id -> their engagement ids (every ISP of the organisation, with or without one).
    answers : pandas.DataFrame
        One row per invitation of the organisation's surveys: invitation, recipient, survey, period (the
        wave's label key), answered (bool), submitted (date or NaT), then one column per item field with
        the submitted value (NaN unanswered).
    periods : dict
        Survey id -> its periods in order: (period key, label) pairs; an every-N-weeks wave is a period,
        an after-activity survey's waves are grouped by the month they opened.
    after : dict
        ISP user id -> the invitation ids answered after one of their sessions (`AFTER_DAYS`).
    """

    state: tuple[Any, ...]
    log: pd.DataFrame
    isp_log: pd.DataFrame
    dose: pd.Series
    recipients: pd.DataFrame
    engagement_recipients: dict[int, frozenset[int]]
    isp_engagements: dict[int, frozenset[int]]
    answers: pd.DataFrame
    periods: dict[int, list[tuple[tuple[Any, ...], str]]]
    after: dict[int, frozenset[int]]


def data_state(organisation_id: int) -> tuple[Any, ...]:
    """What changes when the dashboards' data does: counts and latest ids and times of the activity log, its
    revisions (edits), recipients (and where they are), engagements (and their ISPs) and survey invitations
    and answers (five small queries)."""
    activities = Activity.objects.filter(engagement__organisation=organisation_id).aggregate(
        count=Count("id"), last=Max("id")
    )
    revisions = ActivityRevision.objects.filter(activity__engagement__organisation=organisation_id).aggregate(
        count=Count("id"), last=Max("id")
    )
    # the sums of the site and team ids change when a recipient moves (almost always: a swap does not)
    people = Recipient.objects.filter(organisation=organisation_id).aggregate(
        count=Count("id"), last=Max("id"), sites=Sum("site_id"), teams=Sum("team_id")
    )
    engagements = Engagement.objects.filter(organisation=organisation_id).aggregate(
        count=Count("id"), last=Max("id"), isps=Count("isps"), sites=Sum("site_id")
    )
    invitations = Invitation.objects.filter(wave__survey__organisation=organisation_id).aggregate(
        count=Count("id"),
        last=Max("id"),
        answers=Count("id", filter=Q(answered__isnull=False)),
        latest=Max("answered"),
    )
    return (
        tuple(activities.values()),
        tuple(revisions.values()),
        tuple(people.values()),
        tuple(engagements.values()),
        tuple(invitations.values()),
    )


_MEMO: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 8


def memoised(key: tuple[Any, ...], build: Any) -> Any:
    """`build()` once per `key` for `STATE_TTL` seconds, in this process (a few keys kept): the dashboards'
    data and its protection are rebuilt only when the data state changes."""
    now = time.monotonic()
    with _MEMO_LOCK:
        found = _MEMO.get(key)
        if found is not None and now - found[0] < STATE_TTL:
            _MEMO.move_to_end(key)
            return found[1]
    value = build()
    with _MEMO_LOCK:
        _MEMO[key] = (now, value)
        _MEMO.move_to_end(key)
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return value


#: The last value built per key, with the data state it was built at (`latest`), and the keys a thread is
#: rebuilding now.
_LATEST: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
_REFRESHING: set[tuple[Any, ...]] = set()


def latest(
    key: tuple[Any, ...], organisation_id: int, build: Callable[[], tuple[tuple[Any, ...], Any]]
) -> Any:
    """The value `build()` makes (it returns the data state it read and the value), kept per `key`.

    When the organisation's data state is the kept value's, the kept value. When the data has moved on since,
    with ``MOCLAB_DASHBOARD_REFRESH = "background"`` (the default) the kept value at once while a thread of
    this process builds the new one (a page after new data answers in milliseconds and shows the new data a
    few seconds later, rather than every viewer after every change waiting for the rebuild: about ten
    seconds for a portfolio of 20,000 answers, benchmarks/bench_dashboards.py); with ``"inline"`` (the
    tests, where a thread cannot see the test's transaction) the caller waits for the rebuild. The first
    value of a key is always built at once. A kept value is a whole earlier state (its data and its
    protection together), never a mix of two."""
    state = data_state(organisation_id)
    with _MEMO_LOCK:
        kept = _LATEST.get(key)
    if kept is not None and kept[0] == state:
        return kept[1]
    if kept is None or getattr(settings, "MOCLAB_DASHBOARD_REFRESH", "background") != "background":
        return _keep(key, build())
    with _MEMO_LOCK:
        start = key not in _REFRESHING
        _REFRESHING.add(key)
    if start:
        threading.Thread(target=_refresh, args=(key, build), daemon=True, name="dashboards-refresh").start()
    return kept[1]


def refreshing() -> bool:
    """Whether a thread is rebuilding some kept value now."""
    with _MEMO_LOCK:
        return bool(_REFRESHING)


def _keep(key: tuple[Any, ...], built: tuple[tuple[Any, ...], Any]) -> Any:
    with _MEMO_LOCK:
        _LATEST[key] = built
    return built[1]


def _refresh(key: tuple[Any, ...], build: Callable[[], tuple[tuple[Any, ...], Any]]) -> None:
    """Rebuild `key` in this thread, then close the thread's database connection."""
    try:
        _keep(key, build())
    finally:
        with _MEMO_LOCK:
            _REFRESHING.discard(key)
        connections.close_all()


#: What else keeps values computed from the data (the pages of `moclab.web.dashboards.views`): cleared by
#: `forget`.
_KEPT_ELSEWHERE: list[Callable[[], None]] = []


def also_forget(clear: Callable[[], None]) -> None:
    """Have `forget` call `clear` too."""
    _KEPT_ELSEWHERE.append(clear)


def forget() -> None:
    """Drop every kept data state, protection and page (a restored database, a test starting afresh)."""
    with _MEMO_LOCK:
        _MEMO.clear()
        _LATEST.clear()
    for clear in _KEPT_ELSEWHERE:
        clear()


def organisation_data(organisation_id: int) -> OrganisationData:
    """The organisation's dashboard data at its current data state (read once per state)."""
    state = data_state(organisation_id)
    return memoised(("data", organisation_id, state), lambda: _read(organisation_id, state))


def _read(organisation_id: int, state: tuple[Any, ...]) -> OrganisationData:
    recipients = pd.DataFrame.from_records(
        Recipient.objects.filter(organisation=organisation_id).values_list("id", "site_id", "team_id"),
        columns=["id", "site", "team"],
    ).set_index("id")
    recipients["team"] = recipients["team"].astype("Int64")
    engagements = list(Engagement.objects.filter(organisation=organisation_id).values_list("id", "site_id"))
    presence = _presence(organisation_id, recipients)
    engagement_recipients = {}
    for engagement_id, site_id in engagements:
        if site_id is not None:
            ids = recipients.index[recipients["site"] == site_id]
        else:
            ids = presence.loc[presence["engagement"] == engagement_id, "recipient"].unique()
        engagement_recipients[engagement_id] = frozenset(int(i) for i in ids)
    isp_engagements: dict[int, set[int]] = {
        user_id: set()
        for user_id in Membership.objects.filter(organisation=organisation_id, role=Role.ISP).values_list(
            "user_id", flat=True
        )
    }
    for user_id, engagement_id in Engagement.isps.through.objects.filter(
        engagement__organisation=organisation_id
    ).values_list("user_id", "engagement_id"):
        isp_engagements.setdefault(user_id, set()).add(engagement_id)
    dose = presence.drop_duplicates(["activity", "recipient"]).groupby("recipient")["minutes"].sum()
    answers, periods = _answers(organisation_id)
    return OrganisationData(
        state=state,
        log=_log(organisation_id),
        isp_log=_log(organisation_id, per_isp=True),
        dose=dose,
        recipients=recipients,
        engagement_recipients=engagement_recipients,
        isp_engagements={user: frozenset(ids) for user, ids in isp_engagements.items()},
        answers=answers,
        periods=periods,
        after=_after(organisation_id, presence, answers),
    )


def _log(organisation_id: int, *, per_isp: bool = False) -> pd.DataFrame:
    """The activity log aggregated in the database by engagement, month, mode and the term lists (identical
    lists group together), per ISP when asked."""
    fields = ["engagement_id", "month", "support_mode", "core_components", "competencies"]
    if per_isp:
        fields.insert(0, "isps")
    rows = (
        Activity.objects.filter(engagement__organisation=organisation_id)
        .annotate(month=TruncMonth("date"))
        .values(*fields)
        .annotate(minutes=Sum("minutes"), activities=Count("id"))
        .order_by()
    )
    columns = ["isp"] * per_isp + ["engagement", "month", "support_mode", "core_components", "competencies"]
    frame = pd.DataFrame.from_records(
        [[row[name] for name in fields] + [row["minutes"], row["activities"]] for row in rows],
        columns=[*columns, "minutes", "activities"],
    )
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def _presence(organisation_id: int, recipients: pd.DataFrame) -> pd.DataFrame:
    """Who was at which activity: recipients named, and the recipients of the teams present (one row per
    activity, recipient and ISP of the activity; columns activity, engagement, date, minutes, recipient,
    isp)."""
    activities = pd.DataFrame.from_records(
        Activity.objects.filter(engagement__organisation=organisation_id).values_list(
            "id", "engagement_id", "date", "minutes"
        ),
        columns=["activity", "engagement", "date", "minutes"],
    )
    named = pd.DataFrame.from_records(
        Activity.recipients.through.objects.filter(
            activity__engagement__organisation=organisation_id
        ).values_list("activity_id", "recipient_id"),
        columns=["activity", "recipient"],
    )
    teams = pd.DataFrame.from_records(
        Activity.teams.through.objects.filter(activity__engagement__organisation=organisation_id).values_list(
            "activity_id", "team_id"
        ),
        columns=["activity", "team"],
    )
    members = recipients["team"].dropna().astype(int).rename("team").reset_index()
    by_team = teams.merge(members, on="team")[["activity", "id"]].rename(columns={"id": "recipient"})
    present = pd.concat([named, by_team], ignore_index=True).drop_duplicates()
    isps = pd.DataFrame.from_records(
        Activity.isps.through.objects.filter(activity__engagement__organisation=organisation_id).values_list(
            "activity_id", "user_id"
        ),
        columns=["activity", "isp"],
    )
    return present.merge(activities, on="activity").merge(isps, on="activity", how="left")


def _answers(organisation_id: int) -> tuple[pd.DataFrame, dict[int, list[tuple[tuple[Any, ...], str]]]]:
    """Every invitation of the organisation's surveys with its submitted answers (one query), and each
    survey's periods."""
    waves = list(
        SurveyWave.objects.filter(survey__organisation=organisation_id)
        .select_related("survey")
        .order_by("survey_id", "number")
    )
    period_of: dict[int, tuple[Any, ...]] = {}
    periods: dict[int, dict[tuple[Any, ...], str]] = {}
    for wave in waves:
        if wave.survey.schedule == Schedule.AFTER_ACTIVITY:
            key: tuple[Any, ...] = ("month", f"{wave.opens:%Y-%m}")
            label = f"{wave.opens:%b %Y}"
        else:
            key, label = ("wave", wave.number), f"Wave {wave.number} ({wave.opens:%-d %b %Y})"
        period_of[wave.pk] = key
        periods.setdefault(wave.survey_id, {})[key] = label
    rows = Invitation.objects.filter(wave__survey__organisation=organisation_id).values_list(
        "id", "recipient_id", "wave__survey_id", "wave_id", "response__submitted", "response__values"
    )
    records, values = [], []
    for invitation, recipient, survey, wave, submitted, answered_values in rows:
        answered = submitted is not None
        records.append((invitation, recipient, survey, period_of[wave], answered, submitted))
        values.append(answered_values if answered and isinstance(answered_values, dict) else {})
    frame = pd.DataFrame.from_records(
        records, columns=["invitation", "recipient", "survey", "period", "answered", "submitted"]
    )
    items = pd.DataFrame.from_records(values, index=frame.index).apply(pd.to_numeric, errors="coerce")
    frame = pd.concat([frame, items], axis=1)
    frame["submitted"] = pd.to_datetime(frame["submitted"], utc=True)
    return frame, {survey: list(found.items()) for survey, found in periods.items()}


def _after(organisation_id: int, presence: pd.DataFrame, answers: pd.DataFrame) -> dict[int, frozenset[int]]:
    """ISP -> the invitations answered within `AFTER_DAYS` days after one of their sessions with the
    recipient (the latest session on or before the submission, found with an as-of merge per ISP)."""
    found: dict[int, frozenset[int]] = {}
    done = answers.loc[answers["answered"], ["invitation", "recipient", "submitted"]].copy()
    if done.empty or presence.empty:
        return found
    done["day"] = done["submitted"].dt.tz_convert(None).dt.normalize().astype("datetime64[ns]")
    done = done.sort_values("day")
    sessions = presence.dropna(subset=["isp"])[["isp", "recipient", "date"]].drop_duplicates()
    sessions["day"] = pd.to_datetime(sessions["date"]).astype("datetime64[ns]")
    for isp, mine in sessions.groupby("isp"):
        latest = pd.merge_asof(
            done,
            mine[["recipient", "day"]].rename(columns={"day": "session"}).sort_values("session"),
            left_on="day",
            right_on="session",
            by="recipient",
            direction="backward",
        )
        near = latest["session"].notna() & (
            latest["day"] - latest["session"] <= pd.Timedelta(days=AFTER_DAYS)
        )
        found[int(isp)] = frozenset(int(i) for i in latest.loc[near, "invitation"])
    return found
