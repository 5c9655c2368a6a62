"""The records and their validation: catalog ids, roles and sites, engagements, recipients, revisions."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from moclab.web.practice.models import (
    Activity,
    Engagement,
    Membership,
    Recipient,
    Role,
    SupportMode,
)
from moclab.web.practice.terms import CatalogIdsValidator, entries, grouped_choices

from .conftest import World


def test_catalog_ids_are_checked_against_the_catalog(world: World):
    activity = world.activity
    activity.full_clean()  # the fixture's ids are real catalog ids
    activity.strategies = ["eric:facilitation", "eric:no-such-strategy"]
    with pytest.raises(ValidationError) as caught:
        activity.full_clean()
    assert caught.value.message_dict["strategies"] == [
        "eric:no-such-strategy: not among the eric strategies of the catalog (eric, kind strategy)"
    ]
    activity.strategies = ["eric:facilitation", "eric:facilitation"]
    with pytest.raises(ValidationError, match="ERIC strategies lists an id twice"):
        activity.full_clean()
    activity.strategies = "eric:facilitation"
    with pytest.raises(ValidationError, match="must be a list of catalog ids"):
        activity.full_clean()
    activity.strategies = ["eric:facilitation"]
    activity.competencies = ["isp-competencies:co-creation-and-engagement"]  # a domain, not a competency
    with pytest.raises(ValidationError, match="not among the isp competencies"):
        activity.full_clean()


def test_the_term_sets_come_from_the_catalog():
    competencies = [entry.qualified_id for entry in entries("competencies")]
    assert len(competencies) == 15 and "isp-competencies:facilitation" in competencies
    assert len(entries("strategies")) == 73
    assert entries("core_components") == []  # the bundled eis framework lists no names
    groups = dict(grouped_choices("competencies"))
    assert list(groups) == ["Co-creation and engagement", "Ongoing improvement", "Sustaining change"]
    assert ("isp-competencies:co-design", "Co-design") in groups["Co-creation and engagement"]
    assert CatalogIdsValidator("strategies") == CatalogIdsValidator("strategies")
    with pytest.raises(ValueError, match="unknown term set"):
        CatalogIdsValidator("moods")


def test_a_site_lead_needs_a_site_of_their_organisation(world: World, other_world: World):
    lead = Membership.objects.get(user=world.users[Role.SITE_LEAD])
    lead.site = None
    with pytest.raises(ValidationError, match="a site lead needs the site they lead"):
        lead.full_clean()
    lead.site = other_world.site
    with pytest.raises(ValidationError, match="the site belongs to another organisation"):
        lead.full_clean()
    isp = Membership.objects.get(user=world.users[Role.ISP])
    isp.site = world.site
    with pytest.raises(ValidationError, match="only a site lead has a site"):
        isp.full_clean()
    # the database refuses a site lead without a site too
    lead.site = None
    with pytest.raises(IntegrityError), transaction.atomic():
        lead.save()


def test_an_engagement_supports_a_site_or_a_system_within_its_dates(world: World, other_world: World):
    start = datetime.date(2025, 1, 1)
    bare = Engagement(organisation=world.organisation, title="nothing", start=start)
    with pytest.raises(ValidationError, match="supports a site or a system"):
        bare.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        bare.save()
    backwards = Engagement(
        organisation=world.organisation,
        title="t",
        system="county",
        start=start,
        end=datetime.date(2024, 1, 1),
    )
    with pytest.raises(ValidationError, match="ends before it starts"):
        backwards.full_clean()
    foreign = Engagement(organisation=world.organisation, title="t", site=other_world.site, start=start)
    with pytest.raises(ValidationError, match="another organisation"):
        foreign.full_clean()
    system = Engagement(organisation=world.organisation, title="t", system="county", start=start)
    system.full_clean()
    assert system.supported == "county"
    assert world.engagement.supported == "acme north"
    assert world.engagement.is_open_on(datetime.date(2025, 1, 1))
    assert not world.engagement.is_open_on(datetime.date(2024, 12, 31))


def test_recipients_are_pseudonyms_unique_in_their_organisation(world: World, other_world: World):
    same = Recipient(organisation=world.organisation, pseudonym="acme-R1", site=world.site)
    with pytest.raises(ValidationError, match="already exists"):
        same.full_clean()
    # the same pseudonym in another organisation is another person
    Recipient.objects.create(
        organisation=other_world.organisation, pseudonym="acme-R1", site=other_world.site
    )
    misplaced = Recipient(
        organisation=world.organisation, pseudonym="x", site=world.site, team=world.other_team
    )
    with pytest.raises(ValidationError, match="the team works at another site"):
        misplaced.full_clean()
    # contact details live apart: the recipient itself has no name or e-mail field
    fields = {f.name for f in Recipient._meta.get_fields()}
    assert "name" not in fields and "email" not in fields
    assert world.recipients[0].contact.email == "pat@example.org"


def test_activity_querysets_say_what_they_select(world: World, other_world: World):
    second = Activity.objects.create(
        engagement=world.engagement, date=datetime.date(2025, 5, 1), minutes=20, support_mode=SupportMode.PUSH
    )
    assert list(Activity.objects.for_engagement(world.engagement)) == [second, world.activity]
    isp = Membership.objects.get(user=world.users[Role.ISP])
    assert set(Activity.objects.visible_to(isp)) == {second, world.activity}
    lead = Membership.objects.get(user=world.users[Role.SITE_LEAD])
    assert list(Activity.objects.visible_to(lead)) == []
    assert set(Activity.objects.at_site(world.site)) == {second, world.activity}
    assert list(Activity.objects.at_site(other_world.site)) == [other_world.activity]


def test_revisions_number_the_saved_versions(world: World):
    activity = world.activity
    activity.minutes = 90
    activity.save()
    second = activity.record_revision(world.users[Role.ISP])
    assert second.number == 2
    assert second.data == {
        "date": "2025-03-04",
        "minutes": 90,
        "isps": ["acme-isp"],
        "recipients": ["acme-R1", "acme-R2"],
        "teams": ["acme north / Intake"],
        "core_components": [],
        "competencies": ["isp-competencies:facilitation"],
        "strategies": ["eric:facilitation"],
        "support_mode": "push_pull",
        "note": "kick-off meeting",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        type(second).objects.create(activity=activity, number=2, data={})
