"""The recipient's page: a personal link, no login. The token in the path is the key.

This page carries a survey wave's load (every recipient opens it, consents, saves and submits through it), so
it is built to cost little per request:

- one query finds everything the page shows (`find_visit`): the invitation, its wave, survey and organisation,
  the survey's current consent text, the invitation's response, and whether the recipient already agreed to
  that consent text in an earlier wave of the same survey;
- a recipient who agreed to the current consent text in an earlier wave goes straight to the questions: the
  consent is asked once per version of its text, not once per wave (a new version asks again; the response
  records the version and when it was agreed to);
- a submit is answered with the thank-you page itself rather than a redirect to it (one request less per
  recipient); reloading it posts again, which the idempotent submit answers with "already sent";
- no CSRF token: the page's only credential is the unguessable token in its own path, not a cookie a browser
  would send on another site's behalf, so a forged cross-site post needs the token and could as well be sent
  directly (docs/decisions/0007). Members' pages keep Django's CSRF protection.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from moclab.web.practice.models import Organisation
from moclab.web.surveys.forms import AnswerForm
from moclab.web.surveys.models import (
    ConsentText,
    Invitation,
    Survey,
    SurveyResponse,
    SurveyWave,
    answer_with_consent,
    record_consent,
    save_answers,
)

#: Longer tokens are refused before the database is asked (a token is 32 characters; the column holds 64).
MAX_TOKEN = 64


@dataclass(frozen=True)
class Visit:
    """What the recipient's page needs about one personal link (`find_visit`)."""

    invitation: Invitation  # with .wave, .wave.survey and .wave.survey.organisation attached
    consent: ConsentText | None  # the survey's current consent text
    response: SurveyResponse | None  # None before consent
    #: when the recipient agreed to the current consent text in an earlier wave of this survey, or None
    agreed_before: datetime.datetime | None

    @property
    def survey(self) -> Survey:
        return self.invitation.wave.survey


@cache
def _visit_sql() -> str:
    """The one query of `find_visit`, built from the models' table and column names.

    Written as SQL rather than through the ORM: compiling a five-table select with two subqueries costs the
    ORM about a millisecond of CPU on every request of the page, more than the query itself (profiled under
    benchmarks/bench_platform.py's load), and the statement never changes."""
    tables = {
        name: model._meta.db_table
        for name, model in {
            "invitation": Invitation,
            "wave": SurveyWave,
            "survey": Survey,
            "organisation": Organisation,
            "consent": ConsentText,
            "response": SurveyResponse,
        }.items()
    }
    return (
        "SELECT i.id, i.opened, i.recipient_id, w.id, w.number, w.opens, w.closes,"
        " s.id, s.title, s.subject, s.instruments, s.pathway_items, s.active, o.id, o.name,"
        " c.version, c.text, r.id, r.consent_version, r.consented, r.{values}, r.saved, r.submitted,"
        " (SELECT MIN(r2.consented) FROM {response} r2"
        "   JOIN {invitation} i2 ON r2.invitation_id = i2.id"
        "   JOIN {wave} w2 ON i2.wave_id = w2.id"
        "   WHERE i2.recipient_id = i.recipient_id AND w2.survey_id = s.id AND i2.id <> i.id"
        "   AND r2.consent_version = c.version)"
        " FROM {invitation} i"
        " JOIN {wave} w ON i.wave_id = w.id"
        " JOIN {survey} s ON w.survey_id = s.id"
        " JOIN {organisation} o ON s.organisation_id = o.id"
        " LEFT JOIN {consent} c ON c.survey_id = s.id"
        "   AND c.version = (SELECT MAX(c2.version) FROM {consent} c2 WHERE c2.survey_id = s.id)"
        " LEFT JOIN {response} r ON r.invitation_id = i.id"
        " WHERE i.token = %s"
    ).format(values=connection.ops.quote_name("values"), **tables)


def _moment(value: Any) -> datetime.datetime | None:
    """A timestamp as the engine returns it from raw SQL (SQLite: text, or naive in UTC; PostgreSQL: aware)
    made an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


def _json(value: Any) -> Any:
    """A JSON column from raw SQL: text on SQLite and psycopg's Django set-up, decoded here."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _fetch_one(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """The first row of `sql`. On PostgreSQL as a prepared statement of the connection (Django's cursors bind
    parameters on the client, so PostgreSQL would plan the query again on every request: half a millisecond
    of its CPU for this one, seven times its execution); elsewhere through Django's cursor."""
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def find_visit(token: str) -> Visit | None:
    """Everything the page shows about `token`'s invitation, in one query; None for an unknown token."""
    if len(token) > MAX_TOKEN:
        return None
    row = _fetch_one(_visit_sql(), [token])
    if row is None:
        return None
    (
        invitation_id, opened, recipient_id, wave_id, number, opens, closes,
        survey_id, title, subject, instruments, pathway_items, active, organisation_id, organisation_name,
        consent_version, consent_text, response_id, agreed_version, consented, values, saved, submitted,
        agreed_before,
    ) = row  # fmt: skip
    survey = Survey(
        id=survey_id,
        organisation_id=organisation_id,
        title=title,
        subject=subject,
        instruments=_json(instruments),
        pathway_items=_json(pathway_items),
        active=bool(active),
    )
    survey.organisation = Organisation(id=organisation_id, name=organisation_name)
    wave = SurveyWave(
        id=wave_id, survey_id=survey_id, number=number, opens=_moment(opens), closes=_moment(closes)
    )
    wave.survey = survey
    invitation = Invitation(
        id=invitation_id, wave_id=wave_id, recipient_id=recipient_id, opened=_moment(opened)
    )
    invitation.wave = wave
    consent = (
        None
        if consent_version is None
        else ConsentText(survey_id=survey_id, version=consent_version, text=consent_text)
    )
    response = (
        None
        if response_id is None
        else SurveyResponse(
            id=response_id,
            invitation_id=invitation_id,
            consent_version=agreed_version,
            consented=_moment(consented),
            values=_json(values) or {},
            saved=_moment(saved),
            submitted=_moment(submitted),
        )
    )
    return Visit(invitation, consent, response, _moment(agreed_before))


@csrf_exempt
@never_cache
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """The personal link: consent, the form with partial saves, the thank-you page."""
    visit = find_visit(token)
    if visit is None:
        return _closed(request, "unknown", status=404)
    invitation, consent, response = visit.invitation, visit.consent, visit.response
    survey, wave = visit.survey, invitation.wave
    now = timezone.now()
    if response is not None and response.is_submitted:
        return render(request, "surveys/thanks.html", {"survey": survey, "again": request.method == "POST"})
    if wave.opens > now:
        return _closed(request, "not_yet", status=404)
    if invitation.is_expired(now):
        return _closed(request, "expired", status=410, closes=wave.closes)
    if not survey.active:
        return _closed(request, "paused", status=410, survey=survey)
    if consent is None:
        return _closed(request, "unknown", status=404)
    invitation.mark_opened(now)
    action = request.POST.get("action") if request.method == "POST" else None
    agreed = response is not None and response.consent_version == consent.version
    if not agreed and visit.agreed_before is None:
        if action == "consent":
            record_consent(invitation, consent, now, response=response)
            return redirect("survey_page", token=token)
        return render(
            request,
            "surveys/consent.html",
            {"survey": survey, "consent": consent, "renewed": response is not None, "wave": wave},
        )
    items = survey.items()
    form = AnswerForm(request.POST if action in ("save", "submit") else None, items=items)
    saved_values = response.values if response is not None else {}
    if action in ("save", "submit") and form.is_valid():
        answered = form.answered()
        if action == "submit" and not answered and not saved_values:
            form.add_error(None, "Answer at least one question before submitting, or close the page.")
        else:
            submit = action == "submit"
            if response is None:  # agreed in an earlier wave: the consent is recorded with the first answers
                assert visit.agreed_before is not None
                response, changed = answer_with_consent(
                    invitation, consent, answered, submit=submit, consented=visit.agreed_before, now=now
                )
            else:
                if not agreed:  # agreed to an older version here, to this one in an earlier wave
                    response = record_consent(
                        invitation, consent, now, response=response, consented=visit.agreed_before
                    )
                changed = save_answers(response, answered, submit=submit, now=now)
            if submit:  # the thanks page at once: a repeated post changes nothing (idempotent)
                return render(request, "surveys/thanks.html", {"survey": survey, "again": not changed})
            messages.success(request, "Your answers so far are saved. You can come back to this link later.")
            return redirect("survey_page", token=token)
    return render(
        request,
        "surveys/answer_form.html",
        {
            "survey": survey,
            "wave": wave,
            "form": form,
            "rows": form.rows(saved_values),
            "answered_count": len(saved_values),
            "item_count": len(items),
        },
    )


def _closed(request: HttpRequest, reason: str, *, status: int, **context: Any) -> HttpResponse:
    return render(request, "surveys/closed.html", {"reason": reason, **context}, status=status)
