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
    survey_waves: int = 0
    survey_answers: int = 0
    evidence_run: int | None = None
    evidence_status: str = ""
    evidence_pathways: int = 0


def build_demo(
    *, sites: int = 6, seed: int = 2024, today: datetime.date | None = None, evidence: bool = True
) -> DemoSummary:
    """Create the demo organisation in the configured (empty) database and return what was made.

    With `evidence`, the demo ends with one evidence run of `moclab analyze` on its portfolio, run here
    (not by the worker), so the Evidence page shows a finished report at once (`_demo_evidence_run`).
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
        waves, answers = _demo_survey(organisation, study, recipients, shift, today, rng)
        # Bulk inserts send no signals: the demo's records are logged here, as made by the system.
        AuditEntry.objects.bulk_create(
            AuditEntry(action=Action.CREATE, model=obj._meta.label_lower, object_id=str(obj.pk))
            for obj in [*recipients, *activities, *waves]
        )
    run = _demo_evidence_run(organisation, users["researcher"], seed) if evidence and waves else None
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
        survey_waves=len(waves),
        survey_answers=answers,
        evidence_run=run.pk if run is not None else None,
        evidence_status=run.status if run is not None else "",
        evidence_pathways=len(run.scorecard["pathways"]) if run is not None and run.scorecard else 0,
    )


#: Resamples of the demo's evidence run: few, so that the demo starts in seconds (a run from the Evidence
#: page asks for more).
DEMO_RESAMPLES = 200


def _demo_evidence_run(organisation: Any, researcher: Any, seed: int) -> Any:
    """One evidence run of the demo portfolio (the recipient-pathway model, the demo survey), started by the
    researcher and run to its end in this process, so that the demo opens with a finished report."""
    from moclab.web.evidence.study_export import DEFAULT_TEMPLATE, portfolio_survey
    from moclab.web.evidence.tasks import create_run, execute_run, run_settings

    settings = run_settings(
        template=DEFAULT_TEMPLATE,
        survey=portfolio_survey(organisation),
        n_boot=DEMO_RESAMPLES,
        seed=seed,
    )
    return execute_run(create_run(organisation, settings, user=researcher).pk)


#: The demo survey: the instruments and pathway ratings the simulator measures.
DEMO_SURVEY_INSTRUMENTS = ["aim", "iam", "fim", "team-psychological-safety"]
DEMO_SURVEY_PATHWAY = [
    "recipient-pathway:positive-emotion",
    "recipient-pathway:trust",
    "recipient-pathway:credibility",
    "recipient-pathway:knowledge",
    "recipient-pathway:application",
    "recipient-pathway:sustained-implementation-capacity",
]
#: Simulator measures whose name differs from the survey item's field name.
_ITEM_OF_MEASURE = {"sustained_capacity": "sustained_implementation_capacity"}


def _demo_survey(
    organisation: Any,
    study: Any,
    recipients: list[Any],
    shift: datetime.timedelta,
    today: datetime.date,
    rng: Any,
) -> tuple[list[Any], int]:
    """A pulse survey whose past waves are the simulated study's waves that fall before today, dated with
    the activities' shift (baseline and 6 months; the 12-month wave falls after today): each recipient
    invited, those the simulator measured answering with its values (rounded to the response scale; a
    missing value is a skipped item), some others having opened the link only. Recipients get synthetic
    contact details (example.org) so that the console shows the reminders."""
    from moclab.web.practice.models import RecipientContact
    from moclab.web.surveys.models import Invitation, Survey, SurveyResponse, SurveyWave

    RecipientContact.objects.bulk_create(
        RecipientContact(
            recipient=recipient,
            name=f"Demo recipient {recipient.pseudonym}",
            email=f"{recipient.pseudonym.lower()}@example.org",
        )
        for recipient in recipients
    )
    measures = study.measures.dropna(subset=["value"])
    wave_days = {
        wave: min(group["date"]).date() + shift
        for wave, group in study.measures.groupby("wave", observed=True)
        if len(group)
    }
    past = sorted((day, wave) for wave, day in wave_days.items() if day < today)
    if not past:
        return [], 0
    every_weeks = max(1, round((past[-1][0] - past[0][0]).days / 7 / max(len(past) - 1, 1)))
    survey = Survey.objects.create(
        organisation=organisation,
        title="Pulse: how is the support going?",
        subject="the implementation support we receive",
        instruments=DEMO_SURVEY_INSTRUMENTS,
        pathway_items=DEMO_SURVEY_PATHWAY,
        schedule="every_n_weeks",
        every_weeks=every_weeks,
        start_date=past[0][0],
        expiry_days=14,
        reminder_days=3,
    )
    survey.set_consent(
        "This demo survey asks how the implementation support you receive is going. Taking part is "
        "voluntary; you may skip any question. Your answers are stored under a pseudonymous code, apart from "
        "your name and e-mail address. (Synthetic: every answer here was simulated.)"
    )
    scales = {item.key: item.values for item in survey.items()}
    by_pseudonym = {recipient.pseudonym: recipient for recipient in recipients}
    waves, answers = [], 0
    for number, (day, wave_id) in enumerate(past, start=1):
        opens = datetime.datetime.combine(day, datetime.time(8), tzinfo=datetime.UTC)
        wave = SurveyWave.objects.create(
            survey=survey,
            number=number,
            opens=opens,
            closes=opens + datetime.timedelta(days=survey.expiry_days),
        )
        waves.append(wave)
        values_of: dict[str, dict[str, int]] = {}
        for row in measures[measures["wave"] == wave_id].itertuples():
            key = _ITEM_OF_MEASURE.get(row.measure, row.measure)
            if key in scales:
                low, high = scales[key][0], scales[key][-1]
                values_of.setdefault(row.recipient_id, {})[key] = int(min(high, max(low, round(row.value))))
        invitations, responses = [], []
        for recipient in recipients:
            values = values_of.get(recipient.pseudonym)
            # opened within ten days of the invitation, and before today
            latest = datetime.datetime.combine(today, datetime.time(0), tzinfo=datetime.UTC)
            opened = min(opens + datetime.timedelta(hours=float(rng.uniform(1, 24 * 10))), latest)
            answered = opened + datetime.timedelta(minutes=float(rng.uniform(3, 12)))
            looked = values is not None or rng.random() < 0.3
            invitation = Invitation(
                wave=wave,
                recipient=by_pseudonym[recipient.pseudonym],
                due=opens,
                sent=opens,
                reminded=None
                if values is not None
                else opens + datetime.timedelta(days=survey.reminder_days),
                opened=opened if looked else None,
                answered=answered if values is not None else None,
            )
            invitations.append(invitation)
            if values is not None:
                responses.append((invitation, values, opened, answered))
        Invitation.objects.bulk_create(invitations)
        SurveyResponse.objects.bulk_create(
            SurveyResponse(
                invitation=invitation,
                consent_version=1,
                consented=opened,
                values=values,
                saved=answered,
                submitted=answered,
            )
            for invitation, values, opened, answered in responses
        )
        answers += len(responses)
    return waves, answers
