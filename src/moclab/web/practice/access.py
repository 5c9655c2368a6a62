"""Who may do what: the one place every view of the practice app goes through.

A view is wrapped in `member_view(action)`: it requires a logged-in user with a membership (else the login
page, or 403 for an account without an organisation), refuses an action outside the user's role with 403,
and only then runs, with ``request.membership`` set so that the view looks objects up in querysets already
filtered to the user's organisation and role (`Engagement.objects.visible_to`): an object of another
organisation is therefore a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from moclab.web.practice.models import Membership, Role

#: Actions and the roles allowed them (docs/platform.md, "Roles").
PERMISSIONS: dict[str, frozenset[str]] = {
    # the home page: each role sees its own
    "home": frozenset(Role.values),
    # engagements and their activities (pseudonymous recipients only)
    "view_engagements": frozenset({Role.ADMINISTRATOR, Role.RESEARCHER, Role.ISP}),
    # logging and editing activities: the ISPs of the engagement
    "log_activity": frozenset({Role.ISP}),
    # an activity's history of edits
    "view_history": frozenset({Role.ADMINISTRATOR, Role.RESEARCHER, Role.ISP}),
    # exports of the organisation's data, pseudonymised (moclab.web.practice.exports)
    "export": frozenset({Role.ADMINISTRATOR, Role.RESEARCHER}),
    # an export with members' user names and activity notes
    "export_names": frozenset({Role.ADMINISTRATOR}),
    # build, edit and schedule pulse surveys; the waves with their response rates (moclab.web.surveys)
    "manage_surveys": frozenset({Role.ADMINISTRATOR, Role.RESEARCHER}),
    # dashboards of dose, modes and the recipient pathway (moclab.web.dashboards): each role sees its own
    # scope (a site lead its site's aggregates only), recipients' aggregates always behind small-cell
    # suppression
    "view_dashboards": frozenset(Role.values),
    # the portfolio as a moclab study folder, and evidence runs of `analyze` on it (moclab.web.evidence)
    "analyze": frozenset({Role.ADMINISTRATOR, Role.RESEARCHER}),
    # members: invite, change roles, deactivate; the audit log's page
    "manage_members": frozenset({Role.ADMINISTRATOR}),
}


def membership_of(user: Any) -> Membership | None:
    """The membership of a logged-in user, or None (anonymous, or an account without an organisation)."""
    if not user.is_authenticated:
        return None
    try:
        return Membership.objects.select_related("organisation", "site").get(user=user)
    except Membership.DoesNotExist:
        return None


def allowed(membership: Membership, action: str) -> bool:
    """Whether `membership`'s role may do `action` (a key of `PERMISSIONS`)."""
    return membership.role in PERMISSIONS[action]


def member_view(action: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a view: login required, membership required, `action` allowed to the role (403 otherwise)."""
    if action not in PERMISSIONS:
        raise ValueError(f"unknown action {action!r}")

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_of(request.user)
            if membership is None:
                raise PermissionDenied("this account belongs to no organisation")
            if not allowed(membership, action):
                raise PermissionDenied(f"a {membership.get_role_display().lower()} may not do this")
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapped.moclab_action = action  # type: ignore[attr-defined]
        return wrapped

    return decorate


def membership_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: the user's membership (for the navigation), or None."""
    membership = getattr(request, "membership", None)
    if membership is None and hasattr(request, "user"):
        membership = membership_of(request.user)
    return {"membership": membership, "can": _Can(membership)}


class _Can:
    """``{% if can.log_activity %}`` in a template: whether the user's role allows an action."""

    def __init__(self, membership: Membership | None) -> None:
        self._membership = membership

    def __getattr__(self, action: str) -> bool:
        if action.startswith("_") or action not in PERMISSIONS:
            raise AttributeError(action)
        return self._membership is not None and allowed(self._membership, action)
