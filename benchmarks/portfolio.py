"""A large synthetic portfolio for the platform's benchmarks (issue 14): by default 200 engagements over 24
months with their logged activities, and a pulse survey whose waves hold 20,000 submitted responses.

Built with `bulk_create` into the database Django is configured with (the caller migrates it first); the
values are random draws (numpy, seeded), not a model of anything: the benchmarks time aggregation and
export, which depend on the rows' number and shape, not on what they say.

Shape: 40 sites of 5 teams each, 20 recipients per team (4,000 recipients), 30 ISPs; each engagement
supports one site (5 per site) for the 24 months, with 6 to 10 activities a month, each by one or two of the
engagement's ISPs, with one or two teams and up to four recipients present, one to three ISP competencies,
an ERIC strategy and a support mode whose mix moves from push towards co-creation over the months. The survey
asks AIM's four items and the recipient-pathway trust rating every 4 weeks (26 waves); its invitations go to
every recipient, and as many of them are answered (submitted, consented to version 1) as the responses asked
for, spread evenly over the waves.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import numpy as np

COMPETENCIES = (
    "isp-competencies:facilitation",
    "isp-competencies:co-learning",
    "isp-competencies:co-design",
    "isp-competencies:tailoring-support",
    "isp-competencies:building-capacity",
    "isp-competencies:growing-and-sustaining-relationships",
)
STRATEGIES = (
    "eric:facilitation",
    "eric:create-a-learning-collaborative",
    "eric:conduct-local-consensus-discussions",
    "eric:tailor-strategies",
    "eric:conduct-ongoing-training",
    "eric:build-a-coalition",
)
MODES = ("push", "push_pull", "co_creation")
ITEMS = ("aim_1", "aim_2", "aim_3", "aim_4", "trust")
START = datetime.date(2024, 1, 1)


@dataclass(frozen=True)
class Portfolio:
    """What was built: the organisation, a member of each role, and the counts."""

    organisation: Any
    members: dict[str, Any]  # role -> user
    engagement: Any  # one engagement (for per-engagement pages)
    site: Any  # one site (the site lead's)
    counts: dict[str, int]


def build_portfolio(
    *, engagements: int = 200, months: int = 24, responses: int = 20_000, seed: int = 2026
) -> Portfolio:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from moclab.web.practice.models import (
        Activity,
        Engagement,
        Membership,
        Organisation,
        Recipient,
        Role,
        Site,
        Team,
    )
    from moclab.web.surveys.models import Invitation, Survey, SurveyResponse, SurveyWave

    rng = np.random.default_rng(seed)
    organisation = Organisation.objects.create(name="Benchmark portfolio (synthetic)")
    site_count = max(1, engagements // 5)
    sites = Site.objects.bulk_create(
        [Site(organisation=organisation, name=f"Site {i:03d}") for i in range(site_count)]
    )
    teams = Team.objects.bulk_create([Team(site=site, name=f"Team {j}") for site in sites for j in range(5)])
    recipients = Recipient.objects.bulk_create(
        [
            Recipient(organisation=organisation, site=team.site, team=team, pseudonym=f"P{i:06d}")
            for i, team in enumerate(t for t in teams for _ in range(20))
        ],
        batch_size=5_000,
    )
    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    password = make_password("benchmark-only-password")  # hashed once: the hasher is slow by design
    isps = User.objects.bulk_create([User(username=f"isp{i:02d}", password=password) for i in range(30)])
    Membership.objects.bulk_create(
        [Membership(user=user, organisation=organisation, role=Role.ISP) for user in isps]
    )
    members = {"isp": isps[0]}
    for role in (Role.ADMINISTRATOR, Role.RESEARCHER, Role.SITE_LEAD):
        user = User.objects.create(username=f"bench-{role}", password=password)
        Membership.objects.create(
            user=user, organisation=organisation, role=role, site=sites[0] if role == Role.SITE_LEAD else None
        )
        members[str(role)] = user

    end = START + datetime.timedelta(days=round(months * 30.44))
    made = Engagement.objects.bulk_create(
        [
            Engagement(
                organisation=organisation,
                title=f"Engagement {i:03d}",
                site=sites[i % site_count],
                start=START,
            )
            for i in range(engagements)
        ]
    )
    through = Engagement.isps.through
    engagement_isps = {e.pk: [isps[(i * 3 + k) % len(isps)] for k in range(2)] for i, e in enumerate(made)}
    through.objects.bulk_create(
        [
            through(engagement_id=pk, user_id=user.pk)
            for pk, users in engagement_isps.items()
            for user in users
        ]
    )
    teams_of = {site.pk: [t for t in teams if t.site_id == site.pk] for site in sites}
    recipients_of = {team.pk: [r for r in recipients if r.team_id == team.pk] for team in teams}

    activities: list[Activity] = []
    links: list[tuple[int, list[Any], list[Any], list[Any]]] = []  # index, isps, teams, recipients
    for engagement in made:
        for month in range(months):
            first = START.replace(
                year=START.year + (START.month - 1 + month) // 12, month=(START.month - 1 + month) % 12 + 1
            )
            share = month / max(1, months - 1)  # from push towards co-creation
            weights = np.array([1.0 - 0.7 * share, 0.5, 0.2 + 0.8 * share])
            for _ in range(int(rng.integers(6, 11))):
                day = first + datetime.timedelta(days=int(rng.integers(0, 28)))
                chosen = rng.choice(len(COMPETENCIES), size=int(rng.integers(1, 4)), replace=False)
                site_teams = teams_of[engagement.site_id]
                present = [
                    site_teams[int(k)]
                    for k in rng.choice(len(site_teams), size=int(rng.integers(1, 3)), replace=False)
                ]
                people = recipients_of[present[0].pk]
                who = [
                    people[int(k)]
                    for k in rng.choice(len(people), size=int(rng.integers(0, 5)), replace=False)
                ]
                activities.append(
                    Activity(
                        engagement=engagement,
                        date=day,
                        minutes=int(rng.integers(15, 181)),
                        competencies=[COMPETENCIES[int(k)] for k in chosen],
                        strategies=[STRATEGIES[int(chosen[0])]],
                        support_mode=MODES[int(rng.choice(3, p=weights / weights.sum()))],
                    )
                )
                isp_list = engagement_isps[engagement.pk][: int(rng.integers(1, 3))]
                links.append((len(activities) - 1, isp_list, present, who))
    Activity.objects.bulk_create(activities, batch_size=5_000)
    a_isps, a_teams, a_recipients = Activity.isps.through, Activity.teams.through, Activity.recipients.through
    a_isps.objects.bulk_create(
        [a_isps(activity_id=activities[i].pk, user_id=u.pk) for i, us, _, _ in links for u in us],
        batch_size=10_000,
    )
    a_teams.objects.bulk_create(
        [a_teams(activity_id=activities[i].pk, team_id=t.pk) for i, _, ts, _ in links for t in ts],
        batch_size=10_000,
    )
    a_recipients.objects.bulk_create(
        [a_recipients(activity_id=activities[i].pk, recipient_id=r.pk) for i, _, _, rs in links for r in rs],
        batch_size=10_000,
    )

    survey = Survey.objects.create(
        organisation=organisation,
        title="Pulse (synthetic)",
        subject="the support we receive",
        instruments=["aim"],
        pathway_items=["recipient-pathway:trust"],
        schedule="every_n_weeks",
        every_weeks=4,
        start_date=START,
        expiry_days=14,
    )
    consent = survey.set_consent("Synthetic benchmark data: nobody was asked anything.")
    wave_count = max(1, (end - START).days // 28)
    per_wave = -(-responses // wave_count)
    answered_total = 0
    for number in range(1, wave_count + 1):
        opens = timezone.make_aware(
            datetime.datetime.combine(START + datetime.timedelta(weeks=4 * (number - 1)), datetime.time(9))
        )
        wave = SurveyWave.objects.create(
            survey=survey, number=number, opens=opens, closes=opens + datetime.timedelta(days=14)
        )
        invitations = Invitation.objects.bulk_create(
            [Invitation(wave=wave, recipient=r, due=opens, sent=opens) for r in recipients], batch_size=5_000
        )
        take = min(per_wave, responses - answered_total)
        chosen = rng.choice(len(invitations), size=take, replace=False)
        done = opens + datetime.timedelta(days=2)
        values = rng.integers(1, 6, size=(take, len(ITEMS)))
        SurveyResponse.objects.bulk_create(
            [
                SurveyResponse(
                    invitation=invitations[int(k)],
                    consent_version=consent.version,
                    consented=done,
                    values=dict(zip(ITEMS, map(int, row), strict=True)),
                    saved=done,
                    submitted=done,
                )
                for k, row in zip(chosen, values, strict=True)
            ],
            batch_size=5_000,
        )
        Invitation.objects.filter(pk__in=[invitations[int(k)].pk for k in chosen]).update(
            opened=done, answered=done
        )
        answered_total += take
    counts = {
        "sites": len(sites),
        "teams": len(teams),
        "recipients": len(recipients),
        "engagements": len(made),
        "activities": len(activities),
        "waves": wave_count,
        "invitations": wave_count * len(recipients),
        "responses": answered_total,
    }
    return Portfolio(organisation, members, made[0], sites[0], counts)
