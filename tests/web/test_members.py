"""Members and the audit log's page, for administrators: inviting a member with a one-time set-password link
(shown, and mailed when there is an address), the set-password page (public, single use), changing roles
(a site lead needs a site; never the last administrator, never one's own), deactivating rather than
deleting, everything audited; the audit log's page (newest first, filters, pages, the organisation's
entries only, no personal data beyond user names). Who may open these pages at all is walked in
tests/web/test_permissions.py."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from moclab.web.audit.models import Action, AuditEntry
from moclab.web.audit.signals import record
from moclab.web.practice.members import (
    OWNED_MODELS,
    MemberRuleError,
    _owned,
    change_role,
    organisation_entries,
    set_active,
)
from moclab.web.practice.models import Membership, Organisation, Role

from .conftest import PASSWORD, World, build_world

User = get_user_model()
NEW_PASSWORD = "violet-harbour-lantern-42"


@pytest.fixture(autouse=True)
def _mail_in_memory(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def invite(world: World, **fields: str) -> Any:
    data = {"username": "newcomer", "email": "", "role": Role.RESEARCHER, "site": ""}
    data.update(fields)
    return world.client(Role.ADMINISTRATOR).post(reverse("practice:member_invite"), data)


def link_in(page: str) -> str:
    """The set-password link a page shows (its path)."""
    found = re.search(r'id="set-password-link" value="https?://[^/]+(/members/password/[^"]+)"', page)
    assert found, page
    return found.group(1)


def log_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()
    return client


def membership_of(world: World, role: str) -> Membership:
    return world.users[role].membership


# -- the list ------------------------------------------------------------------------------------------------


def test_the_list_shows_every_member_with_role_site_and_account(world: World, other_world: World):
    User.objects.filter(pk=world.users[Role.ISP].pk).update(is_active=False)
    page = world.client(Role.ADMINISTRATOR).get(reverse("practice:member_list")).content.decode()
    cells = r"\s*<td>([^<]*)</td>" * 3
    rows = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>' + cells, page)
    assert rows == [
        ("acme-administrator", "Administrator", "", "active"),
        ("acme-isp", "ISP", "", "deactivated"),
        ("acme-researcher", "Researcher", "", "active"),
        ("acme-site_lead", "Site lead", "acme north", "active"),
    ]
    assert "zenith" not in page


# -- inviting and the set-password link ----------------------------------------------------------------------


def test_an_invitation_makes_the_account_shows_and_mails_the_link(world: World):
    AuditEntry.objects.all().delete()
    response = invite(
        world, username="lee", email="lee@example.org", role=Role.SITE_LEAD, site=str(world.site.pk)
    )
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    page = response.content.decode()
    assert "lee is invited" in page and "was e-mailed" in page
    user = User.objects.get(username="lee")
    assert not user.has_usable_password() and user.is_active
    assert (user.membership.organisation, user.membership.role, user.membership.site) == (
        world.organisation,
        Role.SITE_LEAD,
        world.site,
    )
    path = link_in(page)
    (message,) = mail.outbox
    assert message.to == ["lee@example.org"] and f"http://testserver{path}" in message.body
    administrator = world.users[Role.ADMINISTRATOR]
    assert sorted((e.user, e.action, e.model, e.object_id) for e in AuditEntry.objects.all()) == sorted(
        [
            (administrator, "create", "auth.user", str(user.pk)),
            (administrator, "create", "practice.membership", str(user.membership.pk)),
            (administrator, "change", "auth.user", f"{user.pk}/password-link"),
        ]
    )


def test_without_an_address_the_link_is_only_shown(world: World):
    page = invite(world, username="kim").content.decode()
    assert "has no e-mail address: send the link yourself" in page and link_in(page)
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"username": "acme-isp"}, "this user name is taken"),
        ({"username": "ACME-ISP"}, "this user name is taken"),
        ({"username": "two words"}, "Enter a valid username"),
        ({"role": Role.SITE_LEAD}, "a site lead needs the site they lead"),
        ({"role": "owner"}, "Select a valid choice"),
        ({"email": "not-an-address"}, "Enter a valid email address"),
    ],
)
def test_a_bad_invitation_makes_nothing(world: World, fields: dict[str, str], error: str):
    users = User.objects.count()
    page = invite(world, **fields).content.decode()
    assert error in page
    assert User.objects.count() == users and mail.outbox == []


def test_a_site_of_another_organisation_is_refused(world: World, other_world: World):
    page = invite(world, role=Role.SITE_LEAD, site=str(other_world.site.pk)).content.decode()
    assert "Select a valid choice" in page and not User.objects.filter(username="newcomer").exists()


def test_the_link_sets_the_password_once(world: World):
    path = link_in(invite(world, username="lee").content.decode())
    visitor = Client()  # no login: the link is the key
    opened = visitor.get(path)
    # Django moves the token into the session, so the form's address (and any Referer) holds no token
    form_path = re.sub(r"/[^/]+/$", "/set-password/", path)
    assert opened.status_code == 302 and opened["Location"] == form_path
    form = visitor.get(form_path).content.decode()
    assert "Your user name is <strong>lee</strong>" in form
    weak = visitor.post(form_path, {"new_password1": "short", "new_password2": "short"}).content.decode()
    assert "This password is too short" in weak
    done = visitor.post(
        form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert done.redirect_chain == [(reverse("login"), 302)]
    assert "Password set. Log in as lee." in done.content.decode()
    user = User.objects.get(username="lee")
    assert user.check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.filter(model="auth.user", object_id=str(user.pk), action=Action.CHANGE).get()
    assert entry.user == user
    # spent: the link, in this browser or another, no longer works
    for client in (visitor, Client()):
        again = client.get(path, follow=True).content.decode()
        assert "This link is not valid" in again and "new_password1" not in again
    assert "This link is not valid" in visitor.get(form_path).content.decode()
    log_in("lee", NEW_PASSWORD)


def test_a_wrong_or_deactivated_accounts_link_does_not_work(world: World):
    path = link_in(invite(world, username="lee").content.decode())
    forged = re.sub(r"/([^/]+)/$", "/0-0000000000000000/", path)
    assert "This link is not valid" in Client().get(forged).content.decode()
    assert "This link is not valid" in Client().get("/members/password/zz/abc/").content.decode()
    User.objects.filter(username="lee").update(is_active=False)
    assert "This link is not valid" in Client().get(path, follow=True).content.decode()


def test_a_new_link_for_a_member_is_mailed_and_audited(world: World):
    isp = world.users[Role.ISP]
    isp.email = "isp@example.org"
    isp.save()
    client = world.client(Role.ADMINISTRATOR)
    url = reverse("practice:member_link", args=[membership_of(world, Role.ISP).pk])
    assert "Make the link" in client.get(url).content.decode()
    path = link_in(client.post(url).content.decode())
    assert mail.outbox[0].to == ["isp@example.org"] and path in mail.outbox[0].body
    assert AuditEntry.objects.filter(model="auth.user", object_id=f"{isp.pk}/password-link").count() == 1
    # the member sets a new password with it; the old one no longer logs in
    visitor = Client()
    form_path = visitor.get(path)["Location"]
    visitor.post(form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    log_in("acme-isp", NEW_PASSWORD)
    assert Client().post(reverse("login"), {"username": "acme-isp", "password": PASSWORD}).status_code == 200


# -- roles ---------------------------------------------------------------------------------------------------


def edit(world: World, role_of_member: str, **data: str) -> Any:
    url = reverse("practice:member_edit", args=[membership_of(world, role_of_member).pk])
    return world.client(Role.ADMINISTRATOR).post(url, {"site": "", **data})


def test_a_role_changes_and_a_site_lead_needs_a_site(world: World):
    AuditEntry.objects.all().delete()
    refused = edit(world, Role.RESEARCHER, role=Role.SITE_LEAD).content.decode()
    assert "a site lead needs the site they lead" in refused
    assert membership_of(world, Role.RESEARCHER).role == Role.RESEARCHER
    assert edit(world, Role.RESEARCHER, role=Role.SITE_LEAD, site=str(world.other_site.pk)).status_code == 302
    changed = Membership.objects.get(user=world.users[Role.RESEARCHER])
    assert (changed.role, changed.site) == (Role.SITE_LEAD, world.other_site)
    # back to another role: the site goes, even when the form still sends one
    edit(world, Role.RESEARCHER, role=Role.ISP, site=str(world.other_site.pk))
    changed.refresh_from_db()
    assert (changed.role, changed.site) == (Role.ISP, None)
    edit(world, Role.RESEARCHER, role=Role.ISP)  # saved as it is: nothing changes, nothing is audited
    entries = AuditEntry.objects.about(changed)
    assert [(e.user, e.action) for e in entries] == [(world.users[Role.ADMINISTRATOR], "change")] * 2


def test_an_administrator_cannot_change_their_own_role(world: World):
    page = edit(world, Role.ADMINISTRATOR, role=Role.RESEARCHER).content.decode()
    assert "you cannot change your own role: another administrator of the organisation can" in page
    assert membership_of(world, Role.ADMINISTRATOR).role == Role.ADMINISTRATOR
    assert not AuditEntry.objects.about(membership_of(world, Role.ADMINISTRATOR)).filter(action="change")


def test_an_administrator_demotes_another_while_one_remains(world: World):
    edit(world, Role.RESEARCHER, role=Role.ADMINISTRATOR)
    assert Membership.objects.filter(organisation=world.organisation, role=Role.ADMINISTRATOR).count() == 2
    other = Client()
    other.force_login(world.users[Role.RESEARCHER])  # now an administrator
    url = reverse("practice:member_edit", args=[membership_of(world, Role.ADMINISTRATOR).pk])
    assert other.post(url, {"role": Role.ISP, "site": ""}).status_code == 302
    assert Membership.objects.get(user=world.users[Role.ADMINISTRATOR]).role == Role.ISP


def test_the_last_administrator_is_never_demoted_or_deactivated(world: World):
    """Through the pages an administrator cannot act on themselves, so the rule's own case is a request
    made on a role that has just changed (two administrators demoting each other at once): `change_role`
    and `set_active` refuse it, counting active administrators only."""
    admin = membership_of(world, Role.ADMINISTRATOR)
    stale = world.users[Role.RESEARCHER]  # acting as if it were still an administrator
    with pytest.raises(MemberRuleError, match="acme-administrator is the organisation's last administrator"):
        change_role(admin, Role.RESEARCHER, None, by=stale)
    with pytest.raises(MemberRuleError, match="last administrator"):
        set_active(admin, False, by=stale)
    # a deactivated second administrator does not count
    second = membership_of(world, Role.ISP)
    change_role(second, Role.ADMINISTRATOR, None, by=world.users[Role.ADMINISTRATOR])
    set_active(second, False, by=world.users[Role.ADMINISTRATOR])
    with pytest.raises(MemberRuleError, match="last administrator"):
        change_role(admin, Role.ISP, None, by=stale)
    # an active second one does: then the first may go
    set_active(second, True, by=world.users[Role.ADMINISTRATOR])
    change_role(admin, Role.ISP, None, by=stale)
    assert Membership.objects.get(pk=admin.pk).role == Role.ISP
    with pytest.raises(MemberRuleError, match="acme-isp is the organisation's last administrator"):
        set_active(Membership.objects.get(pk=second.pk), False, by=stale)


# -- deactivating --------------------------------------------------------------------------------------------


def test_deactivating_ends_the_sessions_and_logins_and_is_audited(world: World):
    AuditEntry.objects.all().delete()
    isp_session = world.client(Role.ISP)
    assert isp_session.get(reverse("practice:home")).status_code == 200
    membership = membership_of(world, Role.ISP)
    url = reverse("practice:member_active", args=[membership.pk])
    administrator = world.client(Role.ADMINISTRATOR)
    assert "Deactivate the account" in administrator.get(url).content.decode()
    done = administrator.post(url, {"active": "0"}, follow=True)
    assert "The account of acme-isp is deactivated." in done.content.decode()
    isp = User.objects.get(pk=world.users[Role.ISP].pk)
    assert not isp.is_active and Membership.objects.filter(pk=membership.pk).exists()  # kept, not deleted
    assert isp_session.get(reverse("practice:home")).status_code == 302  # sent to the login
    assert Client().post(reverse("login"), {"username": "acme-isp", "password": PASSWORD}).status_code == 200
    administrator.post(url, {"active": "1"})
    log_in("acme-isp", PASSWORD)
    entries = AuditEntry.objects.filter(model="auth.user", object_id=str(isp.pk)).order_by("id")
    assert [(e.user, e.action) for e in entries] == [(world.users[Role.ADMINISTRATOR], "change")] * 2
    assert administrator.post(url, {"active": "yes"}).status_code == 400


def test_an_administrator_cannot_deactivate_themselves(world: World):
    url = reverse("practice:member_active", args=[membership_of(world, Role.ADMINISTRATOR).pk])
    done = world.client(Role.ADMINISTRATOR).post(url, {"active": "0"}, follow=True)
    assert "Not changed: you cannot deactivate your own account" in done.content.decode()
    assert User.objects.get(pk=world.users[Role.ADMINISTRATOR].pk).is_active


# -- the audit log's page ------------------------------------------------------------------------------------


def entry(minute: int, user: Any, action: str, model: str, object_id: Any) -> AuditEntry:
    """An audit entry made `minute` minutes after noon on 1 May 2025."""
    when = datetime.datetime(2025, 5, 1, 12, tzinfo=datetime.UTC) + datetime.timedelta(minutes=minute)
    return AuditEntry.objects.create(
        when=when, user=user, action=action, model=model, object_id=str(object_id)
    )


def audit_rows(page: str) -> list[tuple[str, ...]]:
    return re.findall(
        r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>",
        page,
    )


def test_the_audit_page_shows_the_organisations_entries_newest_first(world: World, other_world: World):
    AuditEntry.objects.all().delete()
    admin, isp = world.users[Role.ADMINISTRATOR], world.users[Role.ISP]
    membership = membership_of(world, Role.ISP)
    made = [
        entry(0, isp, "create", "practice.activity", world.activity.pk),
        entry(1, None, "create", "practice.recipient", world.recipients[0].pk),
        entry(2, admin, "change", "practice.membership", membership.pk),
        entry(3, None, "export", "practice.organisation", f"{world.organisation.pk}/all"),
    ]
    # another organisation's: by its members, and by the system about its records
    entry(0, other_world.users[Role.ISP], "create", "practice.activity", other_world.activity.pk)
    entry(0, None, "change", "practice.recipient", other_world.recipients[0].pk)
    entry(0, None, "export", "practice.organisation", f"{other_world.organisation.pk}/all")
    assert set(organisation_entries(world.organisation)) == set(made)
    page = world.client(Role.ADMINISTRATOR).get(reverse("practice:audit_log")).content.decode()
    assert audit_rows(page) == [
        ("1 May 2025 12:03:00", "the system", "exported", "Organisation", f"{world.organisation.pk}/all"),
        ("1 May 2025 12:02:00", "acme-administrator", "changed", "Membership (acme-isp)", str(membership.pk)),
        ("1 May 2025 12:01:00", "the system", "created", "Recipient", str(world.recipients[0].pk)),
        ("1 May 2025 12:00:00", "acme-isp", "created", "Activity", str(world.activity.pk)),
    ]
    assert "zenith" not in page


def test_the_audit_page_filters_and_pages(world: World):
    AuditEntry.objects.all().delete()
    admin, isp = world.users[Role.ADMINISTRATOR], world.users[Role.ISP]
    for minute in range(120):  # the ISP edits the activity 120 times, one a minute
        entry(minute, isp, "change", "practice.activity", world.activity.pk)
    entry(0, admin, "create", "practice.site", world.site.pk)
    entry(0, None, "delete", "practice.team", world.team.pk)
    client = world.client(Role.ADMINISTRATOR)
    url = reverse("practice:audit_log")
    first = client.get(url).content.decode()
    assert len(audit_rows(first)) == 50 and "page 1 of 3" in first
    assert audit_rows(first)[0][0] == "1 May 2025 13:59:00"
    changes = client.get(url, {"action": "change", "page": 3}).content.decode()
    assert len(audit_rows(changes)) == 20 and "120 entries match." in changes
    assert "?action=change&amp;page=2" in changes
    by_admin = client.get(url, {"user": str(admin.pk)}).content.decode()
    assert [row[3] for row in audit_rows(by_admin)] == ["Site"]
    by_system = client.get(url, {"user": "system"}).content.decode()
    assert [(row[1], row[2], row[3]) for row in audit_rows(by_system)] == [("the system", "deleted", "Team")]
    teams = client.get(url, {"model": "practice.team"}).content.decode()
    assert len(audit_rows(teams)) == 1
    nobody = client.get(url, {"model": "practice.site", "user": str(isp.pk)}).content.decode()
    assert audit_rows(nobody) == [] and "No entries match these filters." in nobody
    # a member of another organisation is not a choice of the filter
    zenith = build_world("zenith")
    wrong = client.get(url, {"user": str(zenith.users[Role.ISP].pk)}).content.decode()
    assert "Select a valid choice" in wrong


def test_the_audit_page_holds_no_personal_data_beyond_user_names(world: World):
    """The page of a busy organisation (invitations, role changes, exports, a contact changed) shows user
    names, but no contact detail, e-mail address, account name or note."""
    for user in world.users.values():
        user.first_name, user.last_name, user.email = "Firstname", "Surname", f"{user.username}@acme.example"
        user.save()
    invite(world, username="lee", email="lee@example.org")
    edit(world, Role.RESEARCHER, role=Role.ISP)
    contact = world.recipients[0].contact
    contact.phone = "+44 20 7946 0000"
    contact.save()
    record(Action.CHANGE, contact, user=world.users[Role.ADMINISTRATOR])
    world.client(Role.RESEARCHER).post("/exports/", {"what": "all"})
    page = world.client(Role.ADMINISTRATOR).get(reverse("practice:audit_log")).content.decode()
    assert "lee" in page and "acme-researcher" in page
    personal = ["Firstname", "Surname", "@acme.example", "lee@example.org", "Pat Example", "pat@example.org"]
    for word in [*personal, "+44 20", "kick-off meeting"]:
        assert word not in page, word


def test_every_audited_model_has_its_organisations_objects():
    """A model added to the audit signals needs a rule here saying which organisation its objects belong to
    (else the system's entries about it would not show on the audit page)."""
    assert set(OWNED_MODELS) == set(_owned(Organisation(pk=0)))
