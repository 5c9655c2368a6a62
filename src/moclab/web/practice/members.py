"""Members and the audit log, for administrators: the organisation's members with their role and site,
inviting a member, changing a role, deactivating an account, a new set-password link; the audit log's page;
and the set-password page an invited member opens (public: the link's token is the key).

An invited member's account is made without a password (an unusable one); the invitation is a one-time
link to set it, made with Django's `PasswordResetTokenGenerator` (`default_token_generator`): the token is
signed with the secret key over the account's password hash and last login, so setting the password (or
logging in) spends it, and it expires after ``PASSWORD_RESET_TIMEOUT`` (three days by default). The
administrator is shown the link to pass on, and it is e-mailed when the account has an address.

The rules (`change_role`, `set_active`): a site lead needs a site (and only a site lead has one); an
administrator changes neither their own role nor deactivates their own account; and no change leaves the
organisation without an active administrator, checked under a lock of its administrators' rows so that two
administrators demoting each other at once cannot both succeed. Accounts are deactivated
(``is_active = False``: no login, their sessions end), never deleted: their name stays on what they did.

Every change is in the audit log: the membership's saves through the audit signals, the account's
creation, (de)activation and password through `moclab.web.audit.signals.record` (Django's `User` is not
among the signal-audited models), and each set-password link made as ``auth.user <id>/password-link``.
"""

from __future__ import annotations

import smtplib
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode
from django.views.decorators.cache import never_cache

from moclab.errors import MoclabError
from moclab.web.audit.models import Action, AuditEntry
from moclab.web.audit.signals import AUDITED, record
from moclab.web.practice.access import member_view
from moclab.web.practice.models import (
    Activity,
    Engagement,
    Membership,
    Organisation,
    Recipient,
    RecipientContact,
    Role,
    Site,
    Team,
)
from moclab.web.surveys.models import ConsentText, Survey, SurveyWave

#: Audit entries shown per page.
PAGE_SIZE = 50
#: The model label of accounts in the audit log.
USER_LABEL = "auth.user"


class MemberRuleError(MoclabError):
    """A change to a member that the rules forbid (the message says which and what to do)."""


# -- the rules -----------------------------------------------------------------------------------------------


def _keeps_an_administrator(membership: Membership) -> None:
    """Refuse a change that takes `membership` away from the organisation's active administrators when it
    is the last one. The administrators' rows are locked until the transaction ends (PostgreSQL; SQLite
    writes one transaction at a time anyway)."""
    administrators = Membership.objects.select_for_update(of=("self",)).filter(
        organisation=membership.organisation_id, role=Role.ADMINISTRATOR, user__is_active=True
    )
    if [administrator.pk for administrator in administrators] == [membership.pk]:
        raise MemberRuleError(
            f"{membership.user.get_username()} is the organisation's last administrator",
            hint="make another member an administrator first",
        )


def change_role(membership: Membership, role: str, site: Site | None, *, by: Any) -> Membership:
    """Give `membership` the role `role` (and `site`, for a site lead; ignored otherwise), as `by`.

    Raises `MemberRuleError` when `by` changes their own role or the change would leave no administrator,
    and Django's `ValidationError` for a site lead without a site or a site of another organisation."""
    site = site if role == Role.SITE_LEAD else None
    if (role, site) == (membership.role, membership.site):
        return membership  # nothing changes: no save, no audit entry
    if membership.user_id == by.pk and role != membership.role:
        raise MemberRuleError(
            "you cannot change your own role", hint="another administrator of the organisation can"
        )
    with transaction.atomic():
        if membership.role == Role.ADMINISTRATOR and role != Role.ADMINISTRATOR:
            _keeps_an_administrator(membership)
        membership.role = role
        membership.site = site
        membership.full_clean()
        membership.save()
    return membership


def set_active(membership: Membership, active: bool, *, by: Any) -> None:
    """Reactivate or deactivate the account of `membership` (``is_active``; never deleted), as `by`.

    Raises `MemberRuleError` when `by` deactivates their own account or the last active administrator."""
    user = membership.user
    if user.is_active == active:
        return
    if not active and user.pk == by.pk:
        raise MemberRuleError(
            "you cannot deactivate your own account", hint="another administrator of the organisation can"
        )
    with transaction.atomic():
        if not active and membership.role == Role.ADMINISTRATOR:
            _keeps_an_administrator(membership)
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(Action.CHANGE, user, user=by)


def invite_member(
    organisation: Organisation, *, username: str, email: str, role: str, site: Site | None, by: Any
) -> Any:
    """Make an account without a password and its membership of `organisation`; the account's creation is
    audited (the membership's through the audit signals). `set_password_link` makes its invitation."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, email=email, password=None)
        membership = Membership(
            user=user, organisation=organisation, role=role, site=site if role == Role.SITE_LEAD else None
        )
        membership.full_clean()
        membership.save()
        record(Action.CREATE, user, user=by)
    return user


def set_password_link(request: HttpRequest, user: Any, *, by: Any) -> str:
    """A one-time link (absolute, on the address the administrator uses) to set `user`'s password; making
    it is audited as ``auth.user <id>/password-link``."""
    path = reverse(
        "practice:set_password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    AuditEntry.objects.create(
        user=by, action=Action.CHANGE, model=USER_LABEL, object_id=f"{user.pk}/password-link"
    )
    return request.build_absolute_uri(path)


def mail_link(user: Any, link: str, organisation: Organisation, *, invited: bool) -> bool:
    """E-mail the set-password link to `user`'s address through Django's mail backend: True when sent,
    False when the account has no address or the mail server refused (the administrator passes it on)."""
    if not user.email:
        return False
    opening = (
        f"You are invited to {organisation.name} on moclab practice, as {user.get_username()}."
        if invited
        else f"A new link to set your password on moclab practice ({organisation.name}), as "
        f"{user.get_username()}."
    )
    body = "\n".join(
        [
            "Hello,",
            "",
            opening,
            "Set your password with this link (it works once, for a few days; do not pass it on):",
            "",
            link,
            "",
            "Then log in with your user name and the password you chose.",
        ]
    )
    try:
        send_mail("Your moclab practice account", body, None, [user.email])
    except (smtplib.SMTPException, OSError):
        return False
    return True


# -- the audit log's scope -----------------------------------------------------------------------------------


def _owned(organisation: Organisation) -> dict[str, models.QuerySet]:
    """model label -> the organisation's objects of that model, for every audited model."""
    return {
        "practice.organisation": Organisation.objects.filter(pk=organisation.pk),
        "practice.site": Site.objects.filter(organisation=organisation),
        "practice.team": Team.objects.filter(site__organisation=organisation),
        "practice.membership": Membership.objects.filter(organisation=organisation),
        "practice.engagement": Engagement.objects.filter(organisation=organisation),
        "practice.recipient": Recipient.objects.filter(organisation=organisation),
        "practice.recipientcontact": RecipientContact.objects.filter(recipient__organisation=organisation),
        "practice.activity": Activity.objects.filter(engagement__organisation=organisation),
        "surveys.survey": Survey.objects.filter(organisation=organisation),
        "surveys.consenttext": ConsentText.objects.filter(survey__organisation=organisation),
        "surveys.surveywave": SurveyWave.objects.filter(survey__organisation=organisation),
        USER_LABEL: get_user_model().objects.filter(membership__organisation=organisation),
    }


#: The models the audit log's page knows whose objects belong to an organisation.
OWNED_MODELS = (*(label.lower() for label in AUDITED), USER_LABEL)


def organisation_entries(organisation: Organisation) -> models.QuerySet[AuditEntry]:
    """The audit entries an administrator of `organisation` sees: everything its members did, and what the
    system (no user: the scheduled job, the command line) did to the organisation's present records and
    exports. An entry about a record deleted by the system is not attributable any more and not shown."""
    members = Membership.objects.filter(organisation=organisation).values("user_id")
    about = Q(model="practice.organisation", object_id__startswith=f"{organisation.pk}/")  # its exports
    for label, objects in _owned(organisation).items():
        keys = objects.annotate(key=Cast("pk", output_field=CharField())).values("key")
        about |= Q(model=label, object_id__in=keys)
    return AuditEntry.objects.filter(Q(user__in=members) | about)


def _model_choices() -> list[tuple[str, str]]:
    return [("", "Every record")] + [
        (label, apps.get_model(label)._meta.verbose_name.capitalize()) for label in OWNED_MODELS
    ]


# -- forms ---------------------------------------------------------------------------------------------------


class _SiteField(forms.ModelChoiceField):
    def __init__(self, organisation: Organisation) -> None:
        super().__init__(
            queryset=Site.objects.filter(organisation=organisation),
            required=False,
            empty_label="No site",
            label="Site",
            help_text="The site a site lead leads (site leads only; ignored for the other roles).",
        )


class InviteForm(forms.Form):
    """A new member: user name, e-mail address (optional: the link is shown either way), role, site."""

    username = forms.CharField(max_length=150, label="User name")
    email = forms.EmailField(required=False, label="E-mail address (optional)")
    role = forms.ChoiceField(choices=Role.choices, label="Role")

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["site"] = _SiteField(organisation)
        self.fields["username"].help_text = get_user_model().username_validator.message

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        get_user_model().username_validator(username)
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError("this user name is taken: choose another")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("role") == Role.SITE_LEAD and cleaned.get("site") is None:
            self.add_error("site", "a site lead needs the site they lead")
        return cleaned


class RoleForm(forms.Form):
    """A member's role and, for a site lead, site."""

    role = forms.ChoiceField(choices=Role.choices, label="Role")

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"] = _SiteField(organisation)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("role") == Role.SITE_LEAD and cleaned.get("site") is None:
            self.add_error("site", "a site lead needs the site they lead")
        return cleaned


class AuditFilterForm(forms.Form):
    """The audit log's filters: a model, an action, a member (or the system); each optional."""

    model = forms.ChoiceField(required=False, label="Record")
    action = forms.ChoiceField(
        choices=[("", "Every action"), *Action.choices], required=False, label="Action"
    )
    user = forms.ChoiceField(required=False, label="By")

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = _model_choices()
        self.fields["user"].choices = [("", "Anyone"), ("system", "The system")] + [
            (str(user_id), username) for user_id, username in members
        ]


# -- pages ---------------------------------------------------------------------------------------------------


def _membership(request: HttpRequest, pk: int) -> Membership:
    """A membership of the administrator's organisation (404 for any other)."""
    organisation = request.membership.organisation  # type: ignore[attr-defined]
    return get_object_or_404(
        Membership.objects.select_related("user", "site").filter(organisation=organisation), pk=pk
    )


def _status(user: Any) -> str:
    if not user.is_active:
        return "deactivated"
    return "active" if user.has_usable_password() else "invited (no password set yet)"


@member_view("manage_members")
def member_list(request: HttpRequest) -> HttpResponse:
    """The organisation's members: user name, role, site, whether active, invited or deactivated."""
    organisation = request.membership.organisation  # type: ignore[attr-defined]
    members = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user", "site")
        .order_by("user__username")
    )
    rows = [{"membership": member, "status": _status(member.user)} for member in members]
    return render(request, "practice/member_list.html", {"rows": rows, "organisation": organisation})


@never_cache
@member_view("manage_members")
def member_invite(request: HttpRequest) -> HttpResponse:
    """Invite a member: the account and its membership are made, and the page shows the one-time link to
    set a password (mailed too when an address is given)."""
    organisation = request.membership.organisation  # type: ignore[attr-defined]
    form = InviteForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = invite_member(
            organisation,
            username=data["username"],
            email=data["email"],
            role=data["role"],
            site=data["site"],
            by=request.user,
        )
        return _link_page(request, user, organisation, invited=True)
    return render(request, "practice/member_invite.html", {"form": form})


@member_view("manage_members")
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A member's role and site, with the buttons to deactivate (or reactivate) the account and to make a
    new set-password link."""
    membership = _membership(request, pk)
    organisation = membership.organisation
    initial = {"role": membership.role, "site": membership.site_id}
    form = RoleForm(request.POST or None, initial=initial, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            change_role(membership, form.cleaned_data["role"], form.cleaned_data["site"], by=request.user)
        except MemberRuleError as error:
            form.add_error(None, f"{error.message}: {error.hint}")
        else:
            messages.success(
                request, f"{membership.user.get_username()} is now {membership.get_role_display()}."
            )
            return redirect("practice:member_list")
    return render(
        request,
        "practice/member_edit.html",
        {
            "membership": membership,
            "form": form,
            "status": _status(membership.user),
            "yourself": membership.user_id == request.user.pk,
        },
    )


@member_view("manage_members")
def member_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (POST ``active=0``) or reactivate (``active=1``) a member's account; GET says what that
    does."""
    membership = _membership(request, pk)
    if request.method == "POST":
        wanted = request.POST.get("active")
        if wanted not in ("0", "1"):
            return HttpResponseBadRequest("say active=0 (deactivate) or active=1 (reactivate)")
        try:
            set_active(membership, wanted == "1", by=request.user)
        except MemberRuleError as error:
            messages.error(request, f"Not changed: {error.message}; {error.hint}.")
            return redirect("practice:member_edit", pk=membership.pk)
        done = "reactivated" if wanted == "1" else "deactivated"
        messages.success(request, f"The account of {membership.user.get_username()} is {done}.")
        return redirect("practice:member_list")
    return render(
        request,
        "practice/member_active.html",
        {"membership": membership, "yourself": membership.user_id == request.user.pk},
    )


@never_cache
@member_view("manage_members")
def member_link(request: HttpRequest, pk: int) -> HttpResponse:
    """A new one-time link for a member to set their password (lost invitation, forgotten password): GET
    asks, POST makes it (and mails it when the account has an address)."""
    membership = _membership(request, pk)
    if request.method == "POST":
        if not membership.user.is_active:
            messages.error(request, "Reactivate the account first: a deactivated account cannot log in.")
            return redirect("practice:member_edit", pk=membership.pk)
        return _link_page(request, membership.user, membership.organisation, invited=False)
    return render(request, "practice/member_link.html", {"membership": membership, "link": None})


def _link_page(request: HttpRequest, user: Any, organisation: Organisation, *, invited: bool) -> HttpResponse:
    link = set_password_link(request, user, by=request.user)
    mailed = mail_link(user, link, organisation, invited=invited)
    membership = Membership.objects.select_related("user", "site").get(user=user)
    return render(
        request,
        "practice/member_link.html",
        {"membership": membership, "link": link, "mailed": mailed, "invited": invited},
    )


@member_view("manage_members")
def audit_log(request: HttpRequest) -> HttpResponse:
    """The organisation's audit entries (`organisation_entries`), newest first, 50 a page, filtered by
    record (model), action and who (``?model=practice.activity&action=change&user=7``). Entries show the
    user name of who acted and the model and id of the record: nothing of its content."""
    organisation = request.membership.organisation  # type: ignore[attr-defined]
    members = list(
        Membership.objects.filter(organisation=organisation)
        .order_by("user__username")
        .values_list("user_id", "user__username")
    )
    usernames = dict(members)
    filters = AuditFilterForm(request.GET or None, members=members)
    entries = organisation_entries(organisation)
    chosen: dict[str, str] = {}
    if filters.is_valid():
        chosen = {name: value for name, value in filters.cleaned_data.items() if value}
        if "model" in chosen:
            entries = entries.filter(model=chosen["model"])
        if "action" in chosen:
            entries = entries.filter(action=chosen["action"])
        if chosen.get("user") == "system":
            entries = entries.filter(user__isnull=True)
        elif "user" in chosen:
            entries = entries.filter(user_id=int(chosen["user"]))
    page = Paginator(entries.order_by("-when", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    memberships = dict(
        Membership.objects.filter(organisation=organisation).values_list("pk", "user__username")
    )
    names = dict(_model_choices())
    rows = [
        {
            "entry": entry,
            "who": usernames.get(entry.user_id, "a former member") if entry.user_id else "the system",
            "model": names.get(entry.model, entry.model),
            "account": _account_of(entry, usernames, memberships),
        }
        for entry in page
    ]
    return render(
        request,
        "practice/audit_log.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "filtered": bool(chosen),
            "query": urlencode(chosen),
        },
    )


def _account_of(entry: AuditEntry, usernames: dict[int, str], memberships: dict[int, str]) -> str:
    """The user name an entry about an account or a membership concerns (user names may be shown)."""
    key = entry.object_id.split("/", 1)[0]
    if not key.isdigit():
        return ""
    if entry.model == USER_LABEL:
        return usernames.get(int(key), "")
    if entry.model == "practice.membership":
        return memberships.get(int(key), "")
    return ""


class SetPasswordView(PasswordResetConfirmView):
    """The page an invited member (or one sent a new link) opens to set a password: Django's own, with the
    token moved from the address into the session before the form shows (so it never leaks in a Referer),
    Django's password validators, and an audit entry when the password is set. A deactivated account's
    link does not work."""

    template_name = "practice/member_password.html"
    success_url = reverse_lazy("login")

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record(Action.CHANGE, form.user, user=form.user)
        messages.success(self.request, f"Password set. Log in as {form.user.get_username()}.")
        return response
