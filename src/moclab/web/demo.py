"""The demo organisation of `moclab serve --demo`: sites, teams, ISPs, recipients and a year of activities.

The sites, teams, recipients and the support log come from a simulated study of the recipient pathway
(`moclab.simulate`, its default spec with fewer sites): each row of its activities table (date, site,
minutes, ISP competency) becomes a logged activity, dated so that the year ends yesterday. What the
simulator does not model is drawn with the same seed: which ISPs and which team were there, a few recipients
present, an ERIC strategy that goes with the competency, and the support mode, which moves from push to
co-creation over an engagement (Metz et al. 2022). Everything is synthetic; the pseudonyms are the
simulator's ids.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The demo accounts, their role and (for the site lead) the site; all share `DEMO_PASSWORD`.
DEMO_ACCOUNTS = (
    ("admin", "administrator", "Ada", "Admin"),
    ("researcher", "researcher", "Rosa", "Research"),
    ("isp1", "isp", "Ines", "Support"),
    ("isp2", "isp", "Ilan", "Support"),
    ("isp3", "isp", "Ivy", "Support"),
    ("lead", "site_lead", "Leo", "Lead"),
)
DEMO_PASSWORD = "moclab-demo"
DEMO_ORGANISATION = "Demo implementation support team (synthetic)"

#: An ERIC strategy that plausibly goes with each ISP competency the simulator logs (for the demo only).
STRATEGY_OF_COMPETENCY = {
    "isp-competencies:facilitation": "eric:facilitation",
    "isp-competencies:co-learning": "eric:create-a-learning-collaborative",
    "isp-competencies:co-design": "eric:conduct-local-consensus-discussions",
    "isp-competencies:tailoring-support": "eric:tailor-strategies",
    "isp-competencies:building-capacity": "eric:conduct-ongoing-training",
    "isp-competencies:growing-and-sustaining-relationships": "eric:build-a-coalition",
}


@dataclass(frozen=True)
class DemoSummary:
    """What the demo builder made."""

    organisation: str
    sites: int
    teams: int
    recipients: int
    engagements: int
    activities: int
    first_day: datetime.date
    last_day: datetime.date
    lead_site: str


def build_demo(*, sites: int = 6, seed: int = 2024, today: datetime.date | None = None) -> DemoSummary:
    """Create the demo organisation in the configured (empty) database and return what was made.

    Django must be set up (`moclab.web.server.configure`) and the database migrated.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from moclab.model import find_model, load_model
    from moclab.simulate import compile_simulation, default_spec
    from moclab.web.audit.models import Action, AuditEntry
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

    model = load_model(find_model("recipient-pathway"))
    plan = compile_simulation(model, default_spec(model).with_design(sites=sites))
    study = plan.study(seed)
    rng = np.random.default_rng(seed)
    today = today or datetime.date.today()
    log = study.activities.copy()
    log["day"] = log["date"].dt.date
    shift = (today - datetime.timedelta(days=1)) - max(log["day"])
    log["day"] = [day + shift for day in log["day"]]
    log = log[log["day"] > today - datetime.timedelta(days=366)]

    User = get_user_model()
    with transaction.atomic():
        organisation = Organisation.objects.create(name=DEMO_ORGANISATION)
        site_ids = sorted(study.recipients["site"].unique())
        site_of = {
            code: Site.objects.create(organisation=organisation, name=f"Site {code}") for code in site_ids
        }
        team_of: dict[str, Team] = {}
        for code in sorted(study.recipients["team"].dropna().unique()):
            site_code, team_name = code.split("-", 1)
            team_of[code] = Team.objects.create(site=site_of[site_code], name=f"Team {team_name}")
        recipients = Recipient.objects.bulk_create(
            Recipient(
                organisation=organisation,
                pseudonym=row.recipient_id,
                site=site_of[row.site],
                team=team_of.get(row.team),
            )
            for row in study.recipients.itertuples()
        )
        password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
        users = {}
        lead_site = site_of[site_ids[0]]
        for username, role, first, last in DEMO_ACCOUNTS:
            user = User.objects.create(username=username, first_name=first, last_name=last, password=password)
            Membership.objects.create(
                user=user,
                organisation=organisation,
                role=role,
                site=lead_site if role == "site_lead" else None,
            )
            users[username] = user
        isps = [users["isp1"], users["isp2"], users["isp3"]]
        start = min(log["day"]) if len(log) else today
        engagements = {}
        # each ISP works with two sites in three: isp1 and isp2 with the first, isp2 and isp3 the next...
        pair_of = {code: [isps[index % 3], isps[(index + 1) % 3]] for index, code in enumerate(site_ids)}
        for code in site_ids:
            engagement = Engagement.objects.create(
                organisation=organisation,
                title=f"Implementation support to {site_of[code].name}",
                site=site_of[code],
                start=start,
            )
            engagement.isps.set(pair_of[code])
            engagements[code] = engagement
        teams_at = {
            code: [team for key, team in team_of.items() if key.startswith(f"{code}-")] for code in site_ids
        }
        recipients_of: dict[int, list[Recipient]] = {}
        for recipient in recipients:
            if recipient.team_id is not None:
                recipients_of.setdefault(recipient.team_id, []).append(recipient)
        modes = np.array([SupportMode.PUSH, SupportMode.PUSH_PULL, SupportMode.CO_CREATION])
        span = max((today - start).days, 1)
        activities, isp_links, team_links, recipient_links = [], [], [], []
        rows = list(log.itertuples())
        for row in rows:
            engagement = engagements[row.site]
            progress = (row.day - start).days / span
            # support moves from push towards co-creation over the engagement (Metz et al. 2022)
            weights = np.array([0.6 * (1 - progress) + 0.1, 0.3, 0.5 * progress + 0.1])
            activities.append(
                Activity(
                    engagement=engagement,
                    date=row.day,
                    minutes=int(row.minutes),
                    competencies=[row.component],
                    strategies=[STRATEGY_OF_COMPETENCY[row.component]]
                    if row.component in STRATEGY_OF_COMPETENCY
                    else [],
                    support_mode=str(rng.choice(modes, p=weights / weights.sum())),
                )
            )
        Activity.objects.bulk_create(activities)
        # who was there: mostly the engagement's first ISP, a team of the site and a few of its recipients
        present_of: list[tuple[list[Any], list[Team], list[Recipient]]] = []
        for row, activity in zip(rows, activities, strict=True):
            pair = pair_of[row.site]
            present = [pair[0]] if rng.random() < 0.8 else pair
            isp_links += [Activity.isps.through(activity_id=activity.pk, user_id=user.pk) for user in present]
            team = (
                teams_at[row.site][int(rng.integers(len(teams_at[row.site])))] if teams_at[row.site] else None
            )
            chosen: list[Recipient] = []
            if team is not None:
                team_links.append(Activity.teams.through(activity_id=activity.pk, team_id=team.pk))
                pool = recipients_of.get(team.pk, [])
                if pool:
                    count = min(len(pool), int(rng.integers(1, 5)))
                    chosen = [pool[i] for i in rng.choice(len(pool), size=count, replace=False)]
            recipient_links += [
                Activity.recipients.through(activity_id=activity.pk, recipient_id=r.pk) for r in chosen
            ]
            present_of.append((present, [team] if team else [], chosen))
        Activity.isps.through.objects.bulk_create(isp_links)
        Activity.teams.through.objects.bulk_create(team_links)
        Activity.recipients.through.objects.bulk_create(recipient_links)
        revisions = []
        for activity, (present, teams, chosen) in zip(activities, present_of, strict=True):
            revisions.append(
                ActivityRevision(
                    activity=activity,
                    number=1,
                    saved_by=present[0],
                    saved_at=datetime.datetime.combine(activity.date, datetime.time(17), tzinfo=datetime.UTC),
                    data={
                        "date": activity.date.isoformat(),
                        "minutes": activity.minutes,
                        "isps": sorted(user.get_username() for user in present),
                        "recipients": sorted(r.pseudonym for r in chosen),
                        "teams": sorted(str(team) for team in teams),
                        "core_components": [],
                        "competencies": activity.competencies,
                        "strategies": activity.strategies,
                        "support_mode": activity.support_mode,
                        "note": "",
                    },
                )
            )
        ActivityRevision.objects.bulk_create(revisions)
        # Bulk inserts send no signals: the demo's records are logged here, as made by the system.
        AuditEntry.objects.bulk_create(
            AuditEntry(action=Action.CREATE, model=obj._meta.label_lower, object_id=str(obj.pk))
            for obj in [*recipients, *activities]
        )
    return DemoSummary(
        organisation=organisation.name,
        sites=len(site_of),
        teams=len(team_of),
        recipients=len(recipients),
        engagements=len(engagements),
        activities=len(activities),
        first_day=start,
        last_day=max((a.date for a in activities), default=today),
        lead_site=lead_site.name,
    )
