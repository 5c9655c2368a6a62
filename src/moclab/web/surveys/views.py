"""The surveys' pages for members: building and scheduling a survey, following its waves and each wave's
invitations (by recipient pseudonym only), pausing, resuming and deleting it, and downloading the answers
for REDCap (administrators and researchers, through `member_view`). The recipient's page behind a personal
link is `moclab.web.surveys.recipient`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from moclab.web.practice.access import member_view
from moclab.web.practice.exports import (
    REDCAP_SURVEY_FORM,
    csv_bytes,
    record_export,
    redcap_pulse_surveys,
    slug_of,
)
from moclab.web.surveys.forms import RESPONSE_STATES, SurveyForm, WaveFilterForm
from moclab.web.surveys.models import Invitation, Schedule, Survey, SurveyResponse, SurveyWave

#: Invitations shown per page of a wave.
PAGE_SIZE = 50

#: Each response state (`RESPONSE_STATES`) as a filter of a wave's invitations: no response yet, consented
#: with nothing answered, answered partly (saved, not submitted), submitted.
STATE_FILTERS: dict[str, Q] = {
    "none": Q(response__isnull=True),
    "consented": Q(response__isnull=False, response__submitted__isnull=True, response__values={}),
    "partial": Q(response__isnull=False, response__submitted__isnull=True) & ~Q(response__values={}),
    "submitted": Q(response__submitted__isnull=False),
}

#: The REDCap downloads of the surveys' export page: what the form posts -> (file name suffix, which of
#: `redcap_pulse_surveys`' two frames).
SURVEY_DOWNLOADS = {
    "redcap-surveys": ("redcap-pulse-survey.csv", 0),
    "redcap-surveys-dictionary": ("redcap-pulse-survey-dictionary.csv", 1),
}


@member_view("manage_surveys")
def survey_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    surveys = (
        Survey.objects.visible_to(membership)
        .select_related("site")
        .annotate(
            wave_count=Count("waves", distinct=True),
            invited=Count("waves__invitations"),
            answered=Count("waves__invitations", filter=Q(waves__invitations__answered__isnull=False)),
        )
    )
    return render(request, "surveys/survey_list.html", {"surveys": [_with_rate(s) for s in surveys]})


@member_view("manage_surveys")
def survey_create(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = SurveyForm(request.POST or None, organisation=membership.organisation)
    if request.method == "POST" and form.is_valid():
        survey = form.save()
        messages.success(request, f"Survey “{survey.title}” saved with {len(survey.items())} items.")
        return redirect("surveys:survey_detail", pk=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form})


@member_view("manage_surveys")
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    survey = get_object_or_404(Survey.objects.visible_to(membership), pk=pk)
    form = SurveyForm(request.POST or None, instance=survey, organisation=membership.organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Survey saved.")
        return redirect("surveys:survey_detail", pk=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form, "survey": survey})


@member_view("manage_surveys")
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A survey's items, schedule and consent version, and its waves with their response rates."""
    membership = request.membership  # type: ignore[attr-defined]
    survey = get_object_or_404(Survey.objects.visible_to(membership).select_related("site"), pk=pk)
    now = timezone.now()
    waves = survey.waves.with_rates(now).select_related("activity").order_by("-number")
    return render(
        request,
        "surveys/survey_detail.html",
        {
            "survey": survey,
            "items": survey.items(),
            "consent": survey.consent,
            "every_n_weeks": survey.schedule == Schedule.EVERY_N_WEEKS,
            "waves": [_with_rate(wave, now=now) for wave in waves],
        },
    )


@member_view("manage_surveys")
def wave_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """A wave's invitations by recipient pseudonym (never a name, an address or the link's token): when each
    was due, sent, reminded, opened and answered and the state of its response, filtered by that state
    (``?state=partial``), 50 a page. The queries do not grow with the rows."""
    membership = request.membership  # type: ignore[attr-defined]
    survey = get_object_or_404(Survey.objects.visible_to(membership), pk=pk)
    wave = get_object_or_404(SurveyWave.objects.select_related("activity"), survey=survey, number=number)
    invitations = Invitation.objects.filter(wave=wave)
    counts = invitations.aggregate(
        total=Count("id"), **{state: Count("id", filter=rule) for state, rule in STATE_FILTERS.items()}
    )
    filters = WaveFilterForm(request.GET or None)
    state = filters.cleaned_data["state"] if filters.is_valid() else ""
    shown = invitations.filter(STATE_FILTERS[state]) if state else invitations
    paginator = Paginator(
        shown.select_related("recipient", "response").order_by("recipient__pseudonym", "id"), PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "surveys/wave_detail.html",
        {
            "survey": survey,
            "wave": wave,
            "open_now": wave.is_open(),
            "page": page,
            "rows": [(invitation, RESPONSE_STATES[response_state(invitation)]) for invitation in page],
            "counts": [(label, counts[key]) for key, label in RESPONSE_STATES.items()],
            "total": counts["total"],
            "shown": counts[state] if state else counts["total"],
            "filters": filters,
            "filtered": bool(state),
            "query": urlencode({"state": state} if state else {}),
        },
    )


def response_state(invitation: Invitation) -> str:
    """The state of an invitation's response, a key of `RESPONSE_STATES` (as `STATE_FILTERS` selects it)."""
    try:
        response = invitation.response
    except SurveyResponse.DoesNotExist:
        return "none"
    if response.is_submitted:
        return "submitted"
    return "partial" if response.values else "consented"


@member_view("manage_surveys")
def survey_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause (POST ``active=0``) or resume (``active=1``) a survey; GET says what that does. A paused survey
    opens no waves, mails no invitations or reminders (`moclab.web.surveys.scheduling`), and its open waves'
    links say it is paused."""
    membership = request.membership  # type: ignore[attr-defined]
    survey = get_object_or_404(Survey.objects.visible_to(membership), pk=pk)
    if request.method == "POST":
        wanted = request.POST.get("active")
        if wanted not in ("0", "1"):
            return HttpResponseBadRequest("say active=0 (pause) or active=1 (resume)")
        active = wanted == "1"
        if survey.active != active:  # a repeated post changes nothing and writes no audit entry
            survey.active = active
            survey.save(update_fields=["active"])
        messages.success(request, f"Survey “{survey.title}” {'resumed' if active else 'paused'}.")
        return redirect("surveys:survey_detail", pk=survey.pk)
    return render(request, "surveys/survey_active.html", {"survey": survey})


@member_view("manage_surveys")
def survey_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a survey with everything it holds (consent versions, waves, invitations, answers), after a
    confirmation page that counts them; the survey, each consent version and each wave deleted is audited
    (invitations and responses are not audited models)."""
    membership = request.membership  # type: ignore[attr-defined]
    survey = get_object_or_404(Survey.objects.visible_to(membership), pk=pk)
    held = survey_holdings(survey)
    if request.method == "POST":
        title = survey.title
        with transaction.atomic():
            survey.delete()
        messages.success(
            request,
            f"Survey “{title}” deleted, with {_counted(held['waves'], 'wave')}, "
            f"{_counted(held['invitations'], 'invitation')} and {_counted(held['responses'], 'response')}.",
        )
        return redirect("surveys:survey_list")
    return render(request, "surveys/survey_delete.html", {"survey": survey, "held": held})


def survey_holdings(survey: Survey) -> dict[str, int]:
    """What deleting `survey` deletes with it: consent versions, waves, invitations and responses (all, and
    the submitted ones)."""
    responses = SurveyResponse.objects.filter(invitation__wave__survey=survey)
    return {
        "consents": survey.consents.count(),
        "waves": survey.waves.count(),
        "invitations": Invitation.objects.filter(wave__survey=survey).count(),
        "responses": responses.count(),
        "submitted": responses.filter(submitted__isnull=False).count(),
    }


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@member_view("export")
def survey_export(request: HttpRequest) -> HttpResponse:
    """The surveys' answers for REDCap: GET the page, POST ``what`` for the records or the data dictionary of
    the instrument `REDCAP_SURVEY_FORM` (recipients by pseudonym; nothing names a member). Every download is
    audited as an export of the organisation (``<organisation id>/redcap-surveys``)."""
    membership = request.membership  # type: ignore[attr-defined]
    organisation = membership.organisation
    if request.method == "POST":
        what = request.POST.get("what", "")
        if what not in SURVEY_DOWNLOADS:
            return HttpResponseBadRequest("unknown export: choose one of the page's downloads")
        suffix, which = SURVEY_DOWNLOADS[what]
        content = csv_bytes(redcap_pulse_surveys(organisation)[which])
        record_export(organisation, what, names=False, user=request.user)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        stem = f"moclab-{slug_of(organisation)}-{timezone.localdate():%Y-%m-%d}"
        response["Content-Disposition"] = f'attachment; filename="{stem}-{suffix}"'
        response["Cache-Control"] = "no-store"
        return response
    responses = SurveyResponse.objects.filter(invitation__wave__survey__organisation=organisation)
    return render(
        request,
        "surveys/survey_export.html",
        {"instrument": REDCAP_SURVEY_FORM, "responses": responses.count()},
    )


def _with_rate(row: Any, now: Any = None) -> Any:
    """Attach the share answered (of those invited), as a whole percentage, and whether a wave is open."""
    row.rate = round(100 * row.answered / row.invited) if row.invited else None
    if now is not None:
        row.open_now = row.is_open(now)
    return row
