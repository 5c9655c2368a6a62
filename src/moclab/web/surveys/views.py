"""The surveys' pages: building and scheduling a survey and following its waves (administrators and
researchers, through `member_view`), and the recipient's page behind a personal link (no login).

The recipient's page finds its invitation by the token alone, with a constant-time database lookup of a
192-bit random value: an unknown token is a 404 page, a closed wave a 410 page, never a traceback. It shows
the consent screen until the current consent version is agreed to, then the form (saved partially with
"Save and finish later", sent with "Submit"), then the thank-you page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from moclab.web.practice.access import member_view
from moclab.web.surveys.forms import AnswerForm, SurveyForm
from moclab.web.surveys.models import (
    Invitation,
    Schedule,
    Survey,
    SurveyResponse,
    record_consent,
    save_answers,
)


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


def _with_rate(row: Any, now: Any = None) -> Any:
    """Attach the share answered (of those invited), as a whole percentage, and whether a wave is open."""
    row.rate = round(100 * row.answered / row.invited) if row.invited else None
    if now is not None:
        row.open_now = row.is_open(now)
    return row


# -- the recipient's page ------------------------------------------------------------------------------------


def find_invitation(token: str) -> tuple[Invitation, SurveyResponse | None] | None:
    """The invitation of `token` with its wave, survey and organisation and its response (None before
    consent), in one query; None for an unknown token.

    The recipient's page runs on every request of a survey wave: no ORDER BY here (the token is unique, and
    the models' default orderings would join two more tables to sort one row)."""
    if len(token) > 64:
        return None
    found = list(
        Invitation.objects.select_related("wave__survey__organisation", "response")
        .filter(token=token)
        .order_by()[:1]
    )
    if not found:
        return None
    try:
        response: SurveyResponse | None = found[0].response
    except SurveyResponse.DoesNotExist:
        response = None
    return found[0], response


@never_cache
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """The personal link: consent, the form with partial saves, the thank-you page (no login)."""
    found = find_invitation(token)
    if found is None:
        return _closed(request, "unknown", status=404)
    invitation, response = found
    now = timezone.now()
    survey = invitation.wave.survey
    if response is not None and response.is_submitted:
        return render(request, "surveys/thanks.html", {"survey": survey, "again": request.method == "POST"})
    if invitation.wave.opens > now:
        return _closed(request, "not_yet", status=404)
    if invitation.is_expired(now):
        return _closed(request, "expired", status=410, closes=invitation.wave.closes)
    invitation.mark_opened(now)
    consent = survey.consent
    if consent is None:
        return _closed(request, "unknown", status=404)
    action = request.POST.get("action") if request.method == "POST" else None
    if response is None or response.consent_version != consent.version:
        if action == "consent":
            record_consent(invitation, consent, now, response=response)
            return redirect("survey_page", token=token)
        return render(
            request,
            "surveys/consent.html",
            {"survey": survey, "consent": consent, "renewed": response is not None, "wave": invitation.wave},
        )
    items = survey.items()
    form = AnswerForm(request.POST if action in ("save", "submit") else None, items=items)
    if action in ("save", "submit") and form.is_valid():
        answered = form.answered()
        if action == "submit" and not answered and not response.values:
            form.add_error(None, "Answer at least one question before submitting, or close the page.")
        else:
            save_answers(response, answered, submit=action == "submit", now=now)
            if action == "submit":
                return redirect("survey_page", token=token)
            messages.success(request, "Your answers so far are saved. You can come back to this link later.")
            return redirect("survey_page", token=token)
    return render(
        request,
        "surveys/answer_form.html",
        {
            "survey": survey,
            "wave": invitation.wave,
            "form": form,
            "rows": form.rows(response.values),
            "answered_count": len(response.values),
            "item_count": len(items),
        },
    )


def _closed(request: HttpRequest, reason: str, *, status: int, **context: Any) -> HttpResponse:
    return render(request, "surveys/closed.html", {"reason": reason, **context}, status=status)
