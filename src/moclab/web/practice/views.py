"""The pages of the practice app: a home page per role, engagements, and the activity log.

Every view goes through `member_view` (moclab.web.practice.access), which checks the role first (403), and
looks objects up only in querysets filtered to the user's organisation and role (404 for anything else).
Templates only display; what they show is prepared here.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from moclab.web.practice import terms
from moclab.web.practice.access import allowed, member_view
from moclab.web.practice.exports import TABLES, build_export, record_export, slug_of, zip_bytes
from moclab.web.practice.forms import (
    REPEATED_FIELDS,
    ActivityFilterForm,
    ActivityForm,
    WeekForm,
    WeekFormSet,
)
from moclab.web.practice.models import Activity, ActivityRevision, Engagement, Role, SupportMode

#: Activities shown per page of an engagement.
PAGE_SIZE = 50
#: Rows of the week's bulk entry besides one per day: for a second entry on a day.
SPARE_ROWS = 3

_FIELD_LABELS = {
    "date": "Date",
    "minutes": "Minutes",
    "isps": "ISPs",
    "recipients": "Recipients",
    "teams": "Teams present",
    "core_components": "Core practice components",
    "competencies": "ISP competencies",
    "strategies": "ERIC strategies",
    "support_mode": "Support mode",
    "note": "Note",
}


@member_view("home")
def home(request: HttpRequest) -> HttpResponse:
    """The first page after login: what the user's role works with."""
    membership = request.membership  # type: ignore[attr-defined]
    if membership.role == Role.SITE_LEAD:
        return render(request, "practice/home_site_lead.html", _site_aggregates(membership.site))
    engagements = _with_totals(Engagement.objects.visible_to(membership))
    context: dict[str, Any] = {"engagements": engagements}
    if membership.role == Role.ISP:
        context["recent"] = (
            Activity.objects.visible_to(membership)
            .filter(isps=membership.user_id)
            .select_related("engagement")
            .order_by("-date", "-id")[:10]
        )
        return render(request, "practice/home_isp.html", context)
    organisation = membership.organisation
    context["counts"] = [
        ("sites", organisation.sites.count()),
        ("engagements", organisation.engagements.count()),
        ("ISPs", organisation.memberships.filter(role=Role.ISP).count()),
        ("recipients", organisation.recipients.count()),
        ("activities", Activity.objects.filter(engagement__organisation=organisation).count()),
    ]
    return render(request, "practice/home_overview.html", context)


@member_view("view_engagements")
def engagement_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    engagements = _with_totals(Engagement.objects.visible_to(membership))
    return render(request, "practice/engagement_list.html", {"engagements": engagements})


@member_view("view_engagements")
def engagement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An engagement and its activities, newest first, 50 a page, filtered by ISP, support mode and month
    (``?isp=<user id>&mode=push&month=2025-06``). The queries do not grow with the rows: the page's ISPs and
    teams come in one query each, its recipients counted in one more."""
    membership = request.membership  # type: ignore[attr-defined]
    engagement = get_object_or_404(Engagement.objects.visible_to(membership).select_related("site"), pk=pk)
    everything = Activity.objects.for_engagement(engagement)
    months = list(everything.dates("date", "month", order="DESC"))
    isps = list(engagement.isps.order_by("username"))
    filters = ActivityFilterForm(request.GET or None, isps=isps, months=months)
    activities = everything
    chosen: dict[str, str] = {}
    if filters.is_valid():
        isp, mode, month = (filters.cleaned_data[name] for name in ("isp", "mode", "month"))
        if isp is not None:
            activities = activities.filter(isps=isp)
            chosen["isp"] = str(isp)
        if mode:
            activities = activities.filter(support_mode=mode)
            chosen["mode"] = mode
        if month:
            first = datetime.date.fromisoformat(f"{month}-01")
            following = (first + datetime.timedelta(days=31)).replace(day=1)
            activities = activities.filter(date__gte=first, date__lt=following)  # the index's range
            chosen["month"] = month
    paginator = Paginator(activities.prefetch_related("isps", "teams"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    recipient_counts = dict(
        Activity.recipients.through.objects.filter(activity_id__in=[activity.pk for activity in page])
        .values("activity_id")
        .annotate(count=Count("id"))
        .values_list("activity_id", "count")
    )
    totals = everything.aggregate(count=Count("id"), minutes=Sum("minutes"))
    shown = activities.aggregate(count=Count("id"), minutes=Sum("minutes")) if chosen else totals
    return render(
        request,
        "practice/engagement_detail.html",
        {
            "engagement": engagement,
            "page": page,
            "rows": [_row(activity, recipient_counts.get(activity.pk, 0)) for activity in page],
            "totals": totals,
            "shown": shown,
            "filters": filters,
            "filtered": bool(chosen),
            "query": urlencode(chosen),
            "isps": isps,
            "may_log": membership.role == Role.ISP,
        },
    )


@member_view("log_activity")
def activity_week(request: HttpRequest, pk: int) -> HttpResponse:
    """Bulk entry for a week (``?week=<any day of it>``, this week by default): a row per day the
    engagement runs and not in the future, and a few spare rows for a second entry on a day; every row
    starts from the engagement's latest entry's mode, teams and terms. Rows left as they were are ignored;
    the rest are saved together in one transaction (each with its revision and audit entry) or, when a row
    is wrong, none is, and the errors name the row."""
    membership = request.membership  # type: ignore[attr-defined]
    engagement = get_object_or_404(Engagement.objects.visible_to(membership), pk=pk)
    today = timezone.localdate()
    try:
        day = datetime.date.fromisoformat(request.GET.get("week", "")) if request.GET.get("week") else today
    except ValueError:
        day = today
    monday = day - datetime.timedelta(days=day.weekday())
    week = [monday + datetime.timedelta(days=offset) for offset in range(7)]
    days = [d for d in week if d <= today and engagement.is_open_on(d)]
    last = Activity.objects.for_engagement(engagement).prefetch_related("teams").first()
    defaults: dict[str, Any] = {}
    if last is not None:
        defaults = {name: getattr(last, name) for name in REPEATED_FIELDS if name != "minutes"}
        defaults["teams"] = [team.pk for team in last.teams.all()]
    initial = [{**defaults, "date": d} for d in days] + [dict(defaults) for _ in range(SPARE_ROWS)]
    formset_options = {
        "queryset": Activity.objects.none(),
        "initial": initial,
        "form_kwargs": {"engagement": engagement},
    }
    if request.method == "POST":
        shared = WeekForm(request.POST, engagement=engagement)
        formset = WeekFormSet(request.POST, **formset_options)
        formset.extra = len(initial)
        if shared.is_valid() and formset.is_valid():
            filled = [form for form in formset.forms if form.has_changed()]
            if filled:
                with transaction.atomic():
                    for form in filled:
                        activity = form.save()
                        activity.isps.set(shared.cleaned_data["isps"])
                        activity.record_revision(request.user)
                minutes = sum(form.cleaned_data["minutes"] for form in filled)
                messages.success(
                    request,
                    f"Logged {len(filled)} activit{'y' if len(filled) == 1 else 'ies'} "
                    f"({minutes} minutes) in the week of {monday:%d %b %Y}.",
                )
                return redirect("practice:engagement_detail", pk=engagement.pk)
            messages.info(request, "Nothing to save: every row was left empty.")
    else:
        shared = WeekForm(initial={"isps": [request.user.pk]}, engagement=engagement)
        formset = WeekFormSet(**formset_options)
        formset.extra = len(initial)
    rows = [
        {"form": form, "number": number, "day": initial[number - 1].get("date")}
        for number, form in enumerate(formset.forms, start=1)
    ]
    problems = [
        f"Row {row['number']}{_day_label(row['form'], row['day'])}: {_errors_text(row['form'])}"
        for row in rows
        if row["form"].errors
    ]
    return render(
        request,
        "practice/activity_week.html",
        {
            "engagement": engagement,
            "shared": shared,
            "formset": formset,
            "rows": rows,
            "problems": problems,
            "monday": monday,
            "sunday": week[-1],
            "previous": (monday - datetime.timedelta(days=7)).isoformat(),
            "next": (monday + datetime.timedelta(days=7)).isoformat() if week[-1] < today else None,
            "last": last,
            "no_components": not terms.entries("core_components"),
        },
    )


@member_view("log_activity")
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Log an activity: today, the ISP themself, and with ``?repeat=last`` the engagement's latest entry's
    minutes, terms and mode."""
    membership = request.membership  # type: ignore[attr-defined]
    engagement = get_object_or_404(Engagement.objects.visible_to(membership), pk=pk)
    last = Activity.objects.for_engagement(engagement).first()
    if request.method == "POST":
        form = ActivityForm(request.POST, engagement=engagement)
        if form.is_valid():
            activity = _save(form, request.user)
            messages.success(request, f"Logged {activity.minutes} minutes on {activity.date:%d %b %Y}.")
            return redirect("practice:engagement_detail", pk=engagement.pk)
    else:
        initial: dict[str, Any] = {"date": timezone.localdate(), "isps": [request.user.pk], "minutes": 60}
        repeating = request.GET.get("repeat") == "last" and last is not None
        if repeating:
            initial.update({name: getattr(last, name) for name in REPEATED_FIELDS})
            initial["teams"] = list(last.teams.values_list("pk", flat=True))
        form = ActivityForm(initial=initial, engagement=engagement)
    return render(
        request,
        "practice/activity_form.html",
        {
            "form": form,
            "engagement": engagement,
            "last": last,
            "repeating": request.method != "POST"
            and request.GET.get("repeat") == "last"
            and last is not None,
            "no_components": not terms.entries("core_components"),
        },
    )


@member_view("view_history")
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One activity as it stands, and the history of its edits."""
    membership = request.membership  # type: ignore[attr-defined]
    activity = get_object_or_404(Activity.objects.visible_to(membership).select_related("engagement"), pk=pk)
    return render(
        request,
        "practice/activity_detail.html",
        {
            "activity": activity,
            "engagement": activity.engagement,
            "current": _described(activity.snapshot()),
            "history": _history(activity),
            "may_edit": membership.role == Role.ISP,
        },
    )


@member_view("log_activity")
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an activity; the earlier versions stay in its history, shown below the form."""
    membership = request.membership  # type: ignore[attr-defined]
    activity = get_object_or_404(Activity.objects.visible_to(membership).select_related("engagement"), pk=pk)
    if request.method == "POST":
        form = ActivityForm(request.POST, instance=activity, engagement=activity.engagement)
        if form.is_valid():
            if form.has_changed():
                _save(form, request.user)
                messages.success(request, "Saved; the earlier version is kept in the history.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("practice:activity_detail", pk=activity.pk)
    else:
        form = ActivityForm(instance=activity, engagement=activity.engagement)
    return render(
        request,
        "practice/activity_form.html",
        {
            "form": form,
            "engagement": activity.engagement,
            "activity": activity,
            "history": _history(activity),
            "no_components": not terms.entries("core_components"),
        },
    )


#: The downloads of the exports page: what the form posts -> (file name suffix, content type).
EXPORT_DOWNLOADS = {
    "all": ("tables.zip", "application/zip"),
    "redcap": ("redcap-activity-log.csv", "text/csv; charset=utf-8"),
    "redcap-dictionary": ("redcap-activity-log-dictionary.csv", "text/csv; charset=utf-8"),
}


@member_view("export")
def exports(request: HttpRequest) -> HttpResponse:
    """The exports page (GET) and its downloads (POST ``what``, and ``names`` for an administrator's export
    with names): every download writes an audit entry."""
    membership = request.membership  # type: ignore[attr-defined]
    organisation = membership.organisation
    may_name = allowed(membership, "export_names")
    if request.method == "POST":
        what = request.POST.get("what", "")
        if what not in EXPORT_DOWNLOADS:
            return HttpResponseBadRequest("unknown export: choose one of the page's downloads")
        names = request.POST.get("names") == "on"
        if names and not may_name:
            raise PermissionDenied("only an administrator may export names")
        export = build_export(organisation, names=names)
        if what == "all":
            content = zip_bytes(export)
        elif what == "redcap":
            content = export.files["redcap/activity_log.csv"]
        else:
            content = export.files["redcap/activity_log_dictionary.csv"]
        record_export(organisation, what, names=names, user=request.user)
        suffix, content_type = EXPORT_DOWNLOADS[what]
        stem = f"moclab-{slug_of(organisation)}-{timezone.localdate():%Y-%m-%d}"
        if names:
            stem += "-with-names"
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{stem}-{suffix}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "practice/exports.html",
        {
            "organisation": organisation,
            "may_name": may_name,
            "tables": list(TABLES.items()),
            "activities": Activity.objects.filter(engagement__organisation=organisation).count(),
        },
    )


# -- helpers -------------------------------------------------------------------------------------------------


def _save(form: ActivityForm, user: Any) -> Activity:
    """Save the form's activity and keep the result as its next revision, in one transaction."""
    with transaction.atomic():
        activity = form.save()
        activity.record_revision(user)
    return activity


def _with_totals(engagements: Any) -> Any:
    return (
        engagements.select_related("site")
        .annotate(
            activity_count=Count("activities"),
            minutes=Sum("activities__minutes"),
            last=Max("activities__date"),
        )
        .order_by("-start", "title")
    )


def _row(activity: Activity, recipient_count: int) -> dict[str, Any]:
    return {
        "activity": activity,
        "recipients": recipient_count,
        "isps": ", ".join(user.get_username() for user in activity.isps.all()),
        "teams": ", ".join(team.name for team in activity.teams.all()),
        "mode": activity.get_support_mode_display(),
        "terms": len(activity.core_components) + len(activity.competencies) + len(activity.strategies),
    }


def _day_label(form: Any, day: datetime.date | None) -> str:
    """`` (Wed 4 Jun)`` for a row: its day, else the date typed in it (a spare row), else nothing."""
    if day is None:
        try:
            day = datetime.date.fromisoformat(str(form["date"].value() or ""))
        except ValueError:
            return ""
    return f" ({day:%a %-d %b})"


def _errors_text(form: Any) -> str:
    """A row's errors in one line: ``minutes: This field is required.; ...``."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            parts.append(f"{label.lower()}: {error}" if label else error)
    return "; ".join(parts)


def _described(data: dict[str, Any]) -> list[tuple[str, str]]:
    """A snapshot as (label, text) pairs for display: catalog ids as names, the mode as its label."""
    shown = []
    for key, label in _FIELD_LABELS.items():
        value = data.get(key)
        if key in terms.TERM_SETS:
            text = "; ".join(terms.names(key, value or [])) or "none"
        elif key == "support_mode":
            text = SupportMode(value).label if value in SupportMode.values else str(value)
        elif isinstance(value, list):
            text = ", ".join(value) or "none"
        else:
            text = str(value) if value not in (None, "") else "none"
        shown.append((label, text))
    return shown


def _history(activity: Activity) -> list[dict[str, Any]]:
    """Each revision, newest first, with what it changed from the one before."""
    revisions = list(ActivityRevision.objects.filter(activity=activity).select_related("saved_by"))
    entries = []
    previous: dict[str, str] | None = None
    for revision in revisions:
        described = dict(_described(revision.data))
        changes = (
            [(label, previous[label], text) for label, text in described.items() if previous[label] != text]
            if previous is not None
            else []
        )
        entries.append(
            {
                "revision": revision,
                "by": revision.saved_by.get_username() if revision.saved_by else "a deleted account",
                "changes": changes,
                "first": previous is None,
            }
        )
        previous = described
    return entries[::-1]


def _site_aggregates(site: Any) -> dict[str, Any]:
    """What a site lead sees: the support their site received, in totals per month, mode and competency;
    no notes, no recipients."""
    activities = Activity.objects.at_site(site)
    since = timezone.localdate() - datetime.timedelta(days=365)
    months = (
        activities.filter(date__gte=since)
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(count=Count("id"), minutes=Sum("minutes"))
        .order_by("month")
    )
    modes = {
        row["support_mode"]: row
        for row in activities.values("support_mode").annotate(count=Count("id"), minutes=Sum("minutes"))
    }
    by_mode = [
        (mode.label, modes.get(mode.value, {}).get("count", 0), modes.get(mode.value, {}).get("minutes") or 0)
        for mode in SupportMode
    ]
    competency_counts: dict[str, int] = {}
    for listed in activities.values_list("competencies", flat=True):
        for competency in listed:
            competency_counts[competency] = competency_counts.get(competency, 0) + 1
    ranked = sorted(competency_counts.items(), key=lambda item: (-item[1], item[0]))
    names = terms.names("competencies", [key for key, _ in ranked])
    totals = activities.aggregate(count=Count("id"), minutes=Sum("minutes"))
    return {
        "site": site,
        "totals": totals,
        "months": list(months),
        "by_mode": by_mode,
        "competencies": list(zip(names, [count for _, count in ranked], strict=True)),
    }
