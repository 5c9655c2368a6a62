"""The evidence run as a background task: export the snapshot, run the scorecard, render the report.

`start_run` creates an `EvidenceRun` and enqueues `run_evidence` on Django's tasks framework (the
database-backed backend of django-tasks-db; `moclab serve` starts its worker, ``python -m django
db_worker``). The worker calls `execute_run`, which the demo builder and the tests call directly:

1. the portfolio is exported as a study folder (`moclab.web.evidence.study_export`) with the run's settings
   in its ``evidence:`` section, zipped and kept as the run's data snapshot with its SHA-256;
2. the snapshot is loaded as `moclab analyze` loads it (`moclab.study.load_study`) and judged with
   `moclab.evidence.analyze`, one pathway at a time so that the page can show how far it is (each
   pathway's analyses depend only on the study and the seed, so the verdicts are those of one call);
3. the report is rendered by `moclab.report.build_report` (the page of ``moclab analyze -o``, and
   report.json), and the compact scorecard is kept for the lists and the comparison of runs.

A moclab error (a study that does not validate, a survey with no answers) fails the run with its message;
anything else fails it with a one-line "internal error" (the traceback goes to the server's log only).
"""

from __future__ import annotations

import io
import logging
import secrets
import tempfile
import zipfile
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from moclab.errors import MoclabError
from moclab.web.evidence.models import EvidenceRun, RunStatus
from moclab.web.evidence.scorecards import compact_scorecard
from moclab.web.evidence.study_export import export_study, sha256_of
from moclab.web.practice.models import Organisation
from moclab.web.surveys.models import Survey

if TYPE_CHECKING:
    from moclab.evidence import StudyEvidence
    from moclab.report import Report

if find_spec("django.tasks"):  # Django 6
    from django.tasks import task
else:  # the backport on Django 5.2
    from django_tasks import task

logger = logging.getLogger(__name__)

#: Resamples of a run unless asked otherwise: enough for stable percentile intervals in a few minutes.
DEFAULT_RESAMPLES = 1000
#: The share of the progress bar each step takes: export, load and check, the pathways, the report.
_EXPORTED, _LOADED, _ANALYSED = 0.05, 0.15, 0.85


def run_settings(
    *, template: str, survey: Survey | None, n_boot: int = DEFAULT_RESAMPLES, seed: int | None = None
) -> dict[str, Any]:
    """The settings a run records: the template, the survey (id and title; None for the default), the
    resamples and the seed (drawn now when not given, so that every run can be repeated exactly)."""
    return {
        "template": template,
        "survey": survey.pk if survey is not None else None,
        "survey_title": survey.title if survey is not None else None,
        "n_boot": int(n_boot),
        "seed": int(seed) if seed is not None else secrets.randbelow(2**31 - 1),
    }


def create_run(organisation: Organisation, settings: dict[str, Any], *, user: Any = None) -> EvidenceRun:
    """A queued run with `settings` (see `run_settings`), started by `user`; nothing runs it yet."""
    return EvidenceRun.objects.create(
        organisation=organisation,
        started_by=user if user is not None and user.is_authenticated else None,
        settings=settings,
        progress_text="waiting for the worker",
    )


def start_run(organisation: Organisation, settings: dict[str, Any], *, user: Any = None) -> EvidenceRun:
    """Create a queued run and enqueue its task once the run is committed (the worker may pick it up at
    once, and must find it)."""
    run = create_run(organisation, settings, user=user)

    def enqueue() -> None:
        result = run_evidence.enqueue(run.pk)
        EvidenceRun.objects.filter(pk=run.pk).update(task_id=str(result.id)[:64])

    transaction.on_commit(enqueue)
    return run


@task()
def run_evidence(run_id: int) -> str:
    """The background task: run evidence run `run_id` (see `execute_run`); its final status."""
    return execute_run(run_id).status


def execute_run(run_id: int) -> EvidenceRun:
    """Run a queued run to its end (finished or failed) and return it. A run that is not queued (taken by
    another worker, or done) is returned as it is."""
    claimed = EvidenceRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started=timezone.now(), progress=0.0, progress_text="starting"
    )
    run = EvidenceRun.objects.get(pk=run_id)
    if not claimed:
        return run
    try:
        _execute(run)
    except MoclabError as error:
        _fail(run, str(error))
    except Exception as error:
        logger.exception("evidence run %s failed", run.pk)
        _fail(run, f"internal error ({type(error).__name__}): {error}".splitlines()[0])
    return run


def fail_interrupted_runs() -> int:
    """Fail the runs left running by a worker that stopped (the server was stopped or killed mid-run), so
    that their pages stop waiting; how many. Called when `moclab serve` starts its worker: no other worker
    runs them then. Queued runs stay queued: the worker picks them up."""
    interrupted = EvidenceRun.objects.filter(status=RunStatus.RUNNING)
    return interrupted.update(
        status=RunStatus.FAILED,
        finished=timezone.now(),
        progress_text="failed",
        error="interrupted: the server stopped while the run was running; start it again (Rerun)",
    )


def _fail(run: EvidenceRun, message: str) -> None:
    run.status = RunStatus.FAILED
    run.error = message
    run.finished = timezone.now()
    run.progress_text = "failed"
    run.save(update_fields=["status", "error", "finished", "progress_text"])


def _execute(run: EvidenceRun) -> None:
    snapshot = _take_snapshot(run)
    evidence, report = _judge(run, snapshot)
    run.report_html = report.html
    run.report_json = report.json_text()
    run.scorecard = compact_scorecard(evidence)
    run.status = RunStatus.FINISHED
    run.finished = timezone.now()
    run.progress, run.progress_text = 1.0, "done"
    run.save(
        update_fields=[
            "report_html",
            "report_json",
            "scorecard",
            "status",
            "finished",
            "progress",
            "progress_text",
        ]
    )


def _take_snapshot(run: EvidenceRun) -> bytes:
    """Export the portfolio with the run's settings (its resamples and seed in the ``evidence:`` section)
    and keep the zip on the run, with its SHA-256 and counts."""
    settings = run.settings
    survey = None
    if settings.get("survey") is not None:
        survey = Survey.objects.filter(organisation=run.organisation_id, pk=settings["survey"]).first()
        if survey is None:
            raise MoclabError(
                f"the survey '{settings.get('survey_title')}' of this run no longer exists",
                hint="start a new run with another survey",
            )
    run.report_progress(0.0, "exporting the portfolio as a study folder")
    export = export_study(
        run.organisation,
        template=settings["template"],
        survey=survey,
        evidence={"n_boot": settings["n_boot"], "seed": settings["seed"]},
    )
    snapshot = export.zip_bytes()
    run.snapshot, run.snapshot_sha256, run.snapshot_counts = snapshot, sha256_of(snapshot), export.counts
    run.save(update_fields=["snapshot", "snapshot_sha256", "snapshot_counts"])
    return snapshot


def _judge(run: EvidenceRun, snapshot: bytes) -> tuple[StudyEvidence, Report]:
    """Load the snapshot as `moclab analyze` does, judge its pathways one at a time (reporting progress) and
    render the report: the `StudyEvidence` and the `Report`."""
    from moclab.evidence import EvidenceScorecard, StudyEvidence, analyze, resolve_settings
    from moclab.report import build_report
    from moclab.study import load_study

    run.report_progress(_EXPORTED, "checking the study (as moclab validate does)")
    with tempfile.TemporaryDirectory(prefix="moclab-evidence-") as scratch:
        folder = Path(scratch) / "study"
        with zipfile.ZipFile(io.BytesIO(snapshot)) as archive:
            archive.extractall(folder)
        try:
            study = load_study(folder, show_progress=False)
            settings = resolve_settings(study.config.evidence)
            pathways = [spec.id for spec in settings.pathways or ()]
            if not pathways:
                raise MoclabError("the study lists no pathway to judge (evidence.pathways)")
            parts = []
            for number, pathway in enumerate(pathways):
                share = _LOADED + (_ANALYSED - _LOADED) * number / len(pathways)
                run.report_progress(share, f"judging pathway {number + 1} of {len(pathways)}: {pathway}")
                parts.append(analyze(study, pathways=[pathway], show_progress=False))
            evidence = StudyEvidence(
                study={**parts[0].study, "path": f"snapshot {run.snapshot_sha256[:12]}"},
                settings=settings,
                scorecard=EvidenceScorecard(tuple(p for part in parts for p in part.pathways)),
                warnings=tuple(dict.fromkeys(w for part in parts for w in part.warnings)),
                elapsed=sum(part.elapsed for part in parts),
            )
            run.report_progress(_ANALYSED, "writing the report")
            return evidence, build_report(evidence, study, show_progress=False)
        except MoclabError as error:
            # the messages name the files of the scratch folder: name them as in the snapshot instead
            raise MoclabError(
                str(error).replace(f"{folder}/", "").replace(str(folder), "the snapshot")
            ) from None
