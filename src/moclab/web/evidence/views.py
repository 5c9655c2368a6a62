"""The evidence pages: the runs of `moclab analyze` on the organisation's portfolio, each run's progress and
report, the data snapshot, what changed since the run before, and the portfolio as a study folder.

Every view goes through `member_view("analyze")` (administrators and researchers) and looks runs up among
the member's organisation's only (another organisation's run is a 404). The report is a page of its own with
its inline stylesheet (moclab.report), so it is served from its own URL with a policy that allows that
stylesheet and nothing else (no script, no network, sandboxed) and shown in a sandboxed frame on the run's
page; every other page keeps the platform's policy. Downloads of data (the snapshot, the study folder) are
recorded in the audit log, like the exports. Pages answer one method (GET to read, POST to act), 405 else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from moclab.errors import MoclabError
from moclab.web.audit.models import Action
from moclab.web.audit.signals import record
from moclab.web.evidence.forms import RunForm
from moclab.web.evidence.models import EvidenceRun, RunStatus
from moclab.web.evidence.scorecards import CRITERION_NAMES, scorecard_changes
from moclab.web.evidence.study_export import (
    DEFAULT_TEMPLATE,
    export_study,
    portfolio_survey,
    record_study_export,
)
from moclab.web.evidence.tasks import run_settings, start_run
from moclab.web.practice.access import member_view
from moclab.web.practice.exports import slug_of
from moclab.web.practice.models import Organisation

#: Seconds between two refreshes of a run's page while it is queued or running.
REFRESH_SECONDS = 3
#: The policy of the report's own page: its inline stylesheet and data: images, nothing else; framed by the
#: platform's pages only; sandboxed (no script, no form, an origin of its own) even when opened directly.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)


def _run(request: HttpRequest, pk: int) -> EvidenceRun:
    membership = request.membership  # type: ignore[attr-defined]
    return get_object_or_404(EvidenceRun.objects.visible_to(membership), pk=pk)


def _stem(organisation: Organisation) -> str:
    return f"moclab-{slug_of(organisation)}"


@member_view("analyze")
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """The organisation's runs, newest first, and the form that starts one."""
    membership = request.membership  # type: ignore[attr-defined]
    organisation = membership.organisation
    form = RunForm(organisation=organisation)
    return _list_page(request, form)


def _list_page(request: HttpRequest, form: RunForm, status: int = 200) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    runs = list(EvidenceRun.objects.visible_to(membership).listed().select_related("started_by"))
    for run in runs:
        run.counts = _verdict_counts(run.scorecard)  # type: ignore[attr-defined]
    return render(
        request,
        "evidence/run_list.html",
        {
            "runs": runs,
            "form": form,
            "has_survey": portfolio_survey(membership.organisation) is not None,
        },
        status=status,
    )


def _verdict_counts(scorecard: dict[str, Any] | None) -> dict[str, int] | None:
    """How many verdicts of a scorecard are met, partly met, not met and not testable (keys in field form:
    ``partly_met``)."""
    if not scorecard:
        return None
    counts = dict.fromkeys(("met", "partly_met", "not_met", "not_testable"), 0)
    for pathway in scorecard["pathways"]:
        for verdict in pathway["criteria"].values():
            counts[verdict["status"].replace(" ", "_")] += 1
    return counts


@member_view("analyze")
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    """Start a run with the form's settings (a new seed unless one is given)."""
    membership = request.membership  # type: ignore[attr-defined]
    form = RunForm(request.POST, organisation=membership.organisation)
    if not form.is_valid():
        return _list_page(request, form, status=400)
    settings = run_settings(
        template=form.cleaned_data["template"],
        survey=form.cleaned_data["survey"],
        n_boot=form.cleaned_data["n_boot"],
        seed=form.cleaned_data["seed"],
    )
    run = start_run(membership.organisation, settings, user=request.user)
    record(Action.CREATE, run, request.user)
    return redirect("evidence:run_detail", pk=run.pk)


@member_view("analyze")
@require_POST
def run_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """Run again with the same settings, seed included, on the data as they are now."""
    earlier = _run(request, pk)
    run = start_run(earlier.organisation, dict(earlier.settings), user=request.user)
    record(Action.CREATE, run, request.user)
    return redirect("evidence:run_detail", pk=run.pk)


@member_view("analyze")
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A run: its progress while it runs (the page refreshes itself), then its report in a frame, its
    snapshot and what changed since the run before; or why it failed."""
    run = _run(request, pk)
    previous = run.previous() if run.status == RunStatus.FINISHED else None
    changes = scorecard_changes(previous.scorecard, run.scorecard) if previous and run.scorecard else []
    return render(
        request,
        "evidence/run_detail.html",
        {
            "run": run,
            "refresh": REFRESH_SECONDS if run.is_active else None,
            "percent": round(run.progress * 100),
            "previous": previous,
            "changed": [change for change in changes if change.changed],
            "counts": _verdict_counts(run.scorecard),
            "same_data": previous is not None and previous.snapshot_sha256 == run.snapshot_sha256,
            # 64 hex digits break over lines on a phone only where the page allows it
            "sha_parts": [run.snapshot_sha256[i : i + 16] for i in range(0, len(run.snapshot_sha256), 16)],
        },
    )


@member_view("analyze")
@require_GET
@xframe_options_sameorigin
def run_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The report page of a finished run, as moclab.report wrote it, under its own policy."""
    run = get_object_or_404(
        EvidenceRun.objects.visible_to(request.membership),  # type: ignore[attr-defined]
        pk=pk,
        status=RunStatus.FINISHED,
    )
    response = HttpResponse(run.report_html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = REPORT_POLICY
    response["Cache-Control"] = "private, no-store"
    return response


@member_view("analyze")
@require_GET
def run_report_json(request: HttpRequest, pk: int) -> HttpResponse:
    """report.json of a finished run (every number of the report), as a download."""
    run = get_object_or_404(
        EvidenceRun.objects.visible_to(request.membership),  # type: ignore[attr-defined]
        pk=pk,
        status=RunStatus.FINISHED,
    )
    response = HttpResponse(run.report_json, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{_stem(run.organisation)}-run-{run.pk}-report.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


@member_view("analyze")
@require_POST
def run_snapshot(request: HttpRequest, pk: int) -> HttpResponse:
    """The data snapshot of a run (the study folder it analysed, zipped), recorded in the audit log."""
    run = _run(request, pk)
    if not run.snapshot:
        messages.error(request, "This run has no data snapshot (it failed before the export).")
        return redirect("evidence:run_detail", pk=run.pk)
    record(Action.EXPORT, run, request.user)
    response = HttpResponse(bytes(run.snapshot), content_type="application/zip")
    name = f"{_stem(run.organisation)}-run-{run.pk}-study-{run.snapshot_sha256[:12]}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@member_view("analyze")
@require_GET
def run_changes(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed from the run before (same organisation and template) to this one: per pathway its
    conclusion and n, and per criterion the verdict, before and after."""
    run = _run(request, pk)
    previous = run.previous() if run.status == RunStatus.FINISHED else None
    changes = scorecard_changes(previous.scorecard, run.scorecard) if previous and run.scorecard else []
    return render(
        request,
        "evidence/run_changes.html",
        {
            "run": run,
            "previous": previous,
            "changes": changes,
            "criteria": [name for _, name in CRITERION_NAMES],
            "changed_count": sum(change.changed for change in changes),
            "same_data": previous is not None and previous.snapshot_sha256 == run.snapshot_sha256,
        },
    )


@member_view("analyze")
@require_POST
def study_download(request: HttpRequest) -> HttpResponse:
    """The organisation's portfolio as a moclab study folder (zip) for `moclab validate` and `moclab
    analyze`, with the default template and survey; recorded in the audit log like the exports."""
    membership = request.membership  # type: ignore[attr-defined]
    organisation = membership.organisation
    try:
        export = export_study(organisation, template=request.POST.get("template") or DEFAULT_TEMPLATE)
    except MoclabError as error:
        messages.error(request, f"The study folder could not be exported: {error}")
        return redirect("evidence:run_list")
    record_study_export(organisation, request.user)
    response = HttpResponse(export.zip_bytes(), content_type="application/zip")
    name = f"{_stem(organisation)}-study-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
