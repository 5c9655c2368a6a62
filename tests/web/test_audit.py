"""The audit log: every create, change and delete, with who and when, and nothing personal."""

from __future__ import annotations

from django.urls import reverse

from moclab.web.audit.models import Action, AuditEntry
from moclab.web.audit.signals import record
from moclab.web.practice.models import Activity, Recipient, RecipientContact, Role

from .conftest import World
from .test_activities import create_url, form_data


def test_an_activity_logged_and_edited_through_the_pages_is_audited_with_its_user(world: World):
    AuditEntry.objects.all().delete()
    isp = world.users[Role.ISP]
    client = world.client(Role.ISP)
    client.post(create_url(world), form_data(world, note="confidential remark about a person"))
    activity = Activity.objects.for_engagement(world.engagement).first()
    edit = reverse("practice:activity_edit", kwargs={"pk": activity.pk})
    client.post(edit, form_data(world, minutes="40", note="confidential remark about a person"))
    entries = list(AuditEntry.objects.about(activity))
    assert [(e.action, e.user, e.model, e.object_id) for e in entries] == [
        (Action.CREATE, isp, "practice.activity", str(activity.pk)),
        (Action.CHANGE, isp, "practice.activity", str(activity.pk)),
    ]
    # a revision is the activity's own history, not a separate audited record
    assert not AuditEntry.objects.filter(model="practice.activityrevision").exists()


def test_creates_changes_and_deletes_outside_a_request_are_the_systems(world: World):
    AuditEntry.objects.all().delete()
    recipient = Recipient.objects.create(
        organisation=world.organisation, pseudonym="acme-R7", site=world.site
    )
    contact = RecipientContact.objects.create(
        recipient=recipient, name="Sam Private", phone="+44 1234 567890"
    )
    contact.phone = "+44 0000 000000"
    contact.save()
    recipient_pk, contact_pk = str(recipient.pk), str(contact.pk)
    recipient.delete()  # deletes the contact with it
    found = [(e.action, e.model, e.object_id, e.user) for e in AuditEntry.objects.order_by("id")]
    assert found == [
        (Action.CREATE, "practice.recipient", recipient_pk, None),
        (Action.CREATE, "practice.recipientcontact", contact_pk, None),
        (Action.CHANGE, "practice.recipientcontact", contact_pk, None),
        (Action.DELETE, "practice.recipientcontact", contact_pk, None),
        (Action.DELETE, "practice.recipient", recipient_pk, None),
    ]


def test_an_entry_holds_no_personal_data(world: World):
    entry = record(Action.EXPORT, world.recipients[0], user=world.users[Role.RESEARCHER])
    stored = {f.name: getattr(entry, f.attname) for f in AuditEntry._meta.concrete_fields}
    assert set(stored) == {"id", "when", "user", "action", "model", "object_id"}
    assert stored["model"] == "practice.recipient"
    assert stored["object_id"] == str(world.recipients[0].pk)
    text = " ".join(str(e) for e in AuditEntry.objects.all())
    for personal in ("Pat Example", "pat@example.org", "kick-off meeting", "acme-R1"):
        assert personal not in text
    assert f"user {world.users[Role.RESEARCHER].pk} exported practice.recipient" in str(entry)
