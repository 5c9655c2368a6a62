"""From practice to evidence: the portfolio exported as a moclab study folder (checked table by table against
the platform's rows, and on the demo organisation against `moclab validate` and `moclab analyze`), evidence
runs (the task run here, its snapshot, its report and scorecard against `analyze` on that snapshot, failures
recorded with their message), what changed between two runs on different data, and the pages."""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from django.test import Client
from django.urls import reverse
from typer.testing import CliRunner

from moclab.errors import ModelError, StudyError
from moclab.evidence import analyze, plan_pathways, resolve_settings
from moclab.evidence.frames import pathway_data, study_tables
from moclab.model import template_path
from moclab.study import load_study, validate_study
from moclab.web.audit.models import Action, AuditEntry
from moclab.web.demo import build_demo
from moclab.web.evidence.models import EvidenceRun, RunStatus
from moclab.web.evidence.scorecards import compact_scorecard, scorecard_changes
from moclab.web.evidence.study_export import StudyExport, export_study, sha256_of
from moclab.web.evidence.tasks import (
    create_run,
    execute_run,
    fail_interrupted_runs,
    run_settings,
    start_run,
)
from moclab.web.practice.models import Activity, Engagement, Organisation, Recipient, Role, SupportMode
from moclab.web.surveys.models import Invitation, Survey, SurveyResponse, SurveyWave

from .conftest import World

#: The day the demo's year ends (so its dates are fixed).
TODAY = datetime.date(2026, 12, 7)
WAVE_OPENS = [
    datetime.datetime(2025, 2, 3, 8, tzinfo=datetime.UTC),
    datetime.datetime(2025, 4, 7, 8, tzinfo=datetime.UTC),
]
#: The small world's submitted answers: (recipient index, wave number) -> values.
ANSWERS = {
    (0, 1): {"aim_1": 3, "aim_2": 4, "aim_3": 4, "aim_4": 5, "trust": 2},
    (1, 1): {"aim_1": 2, "aim_2": 2, "aim_3": 3, "aim_4": 3, "trust": 3},
    (2, 1): {"aim_1": 4, "aim_2": 4, "aim_3": 4, "aim_4": 4},  # trust skipped
    (3, 1): {"aim_1": 5, "aim_2": 5, "aim_3": 4, "aim_4": 5, "trust": 5},
    (0, 2): {"aim_1": 4, "aim_2": 5, "aim_3": 5, "aim_4": 5, "trust": 4},
    (1, 2): {"aim_1": 3, "aim_2": 3, "aim_3": 3, "aim_4": 4, "trust": 4},
    (2, 2): {"aim_1": 4, "aim_2": 5, "aim_3": 4, "aim_4": 4, "trust": 3},
}


def add_survey(world: World, *, answers: dict[tuple[int, int], dict[str, int]] = ANSWERS) -> Survey:
    """A four-weekly survey of AIM and the trust rating with two waves: every recipient invited, `answers`
    submitted, and R9's second wave saved but not submitted (it must not count)."""
    survey = Survey.objects.create(
        organisation=world.organisation,
        title="acme pulse",
        instruments=["aim"],
        pathway_items=["recipient-pathway:trust"],
        every_weeks=9,
        start_date=WAVE_OPENS[0].date(),
    )
    survey.set_consent("Voluntary.")
    for number, opens in enumerate(WAVE_OPENS, start=1):
        wave = SurveyWave.objects.create(
            survey=survey, number=number, opens=opens, closes=opens + datetime.timedelta(days=14)
        )
        for index, recipient in enumerate(world.recipients):
            invitation = Invitation.objects.create(wave=wave, recipient=recipient, due=opens, sent=opens)
            values = answers.get((index, number))
            answered = opens + datetime.timedelta(days=2)
            if values is not None:
                SurveyResponse.objects.create(
                    invitation=invitation,
                    consent_version=1,
                    consented=answered,
                    values=values,
                    saved=answered,
                    submitted=answered,
                )
            elif index == 3 and number == 2:
                SurveyResponse.objects.create(
                    invitation=invitation,
                    consent_version=1,
                    consented=answered,
                    values={"aim_1": 1, "trust": 1},
                    saved=answered,
                )
    return survey


@pytest.fixture
def surveyed(world: World) -> World:
    """The small world with its survey, and a second activity: the south site's team (which has no
    recipients) after the second wave, reaching no one by name."""
    world.extra["survey"] = add_survey(world)
    later = Activity.objects.create(
        engagement=world.engagement,
        date=datetime.date(2025, 5, 10),
        minutes=30,
        core_components=[],
        competencies=[],
        strategies=["eric:facilitation"],
        support_mode=SupportMode.PUSH,
    )
    later.isps.set([world.users[Role.ISP]])
    later.teams.set([world.other_team])
    world.extra["later"] = later
    return world


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def table(files: dict[str, bytes], name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(files[name]), dtype=str, keep_default_na=False)


# -- the export ---------------------------------------------------------------------------------------------


def test_the_export_holds_exactly_the_portfolio_s_rows(surveyed: World):
    world = surveyed
    export = export_study(world.organisation)
    files = export.files
    assert sorted(files) == [
        "README.md",
        "data/activities.csv",
        "data/measures.csv",
        "data/recipients.csv",
        "moclab.yaml",
        "model.yaml",
    ]
    # recipients by pseudonym, with site and team (R9 has none)
    assert table(files, "data/recipients.csv").values.tolist() == [
        ["acme-R1", "acme north", "acme north / Intake"],
        ["acme-R2", "acme north", "acme north / Intake"],
        ["acme-R3", "acme north", "acme north / Intake"],
        ["acme-R9", "acme south", ""],
    ]
    # the submitted answers only, in long format, waves by number; the unsubmitted one is left out
    measures = table(files, "data/measures.csv")
    expected = []
    pseudonyms = ["acme-R1", "acme-R2", "acme-R3", "acme-R9"]
    for index in range(4):
        for number in (1, 2):
            values = ANSWERS.get((index, number), {})
            expected += [
                [pseudonyms[index], f"w{number}", item, str(value)] for item, value in values.items()
            ]
    assert measures.values.tolist() == expected
    # the activity reached R1 and R2 by name and R3 through the team present; the later one reached no one
    activities = table(files, "data/activities.csv")
    first, later = world.activity.pk, world.extra["later"].pk
    engagement = world.engagement.pk
    assert activities.values.tolist() == [
        ["2025-03-04", "acme north", "acme-R1", "isp-competencies:facilitation", "45", "push_pull", "present",
         str(first), str(engagement), "", "isp-competencies:facilitation", "eric:facilitation"],
        ["2025-03-04", "acme north", "acme-R2", "isp-competencies:facilitation", "45", "push_pull", "present",
         str(first), str(engagement), "", "isp-competencies:facilitation", "eric:facilitation"],
        ["2025-03-04", "acme north", "acme-R3", "isp-competencies:facilitation", "45", "push_pull", "team",
         str(first), str(engagement), "", "isp-competencies:facilitation", "eric:facilitation"],
        ["2025-05-10", "acme south", "", "eric:facilitation", "30", "push", "site",
         str(later), str(engagement), "", "", "eric:facilitation"],
    ]  # fmt: skip
    config = yaml.safe_load(files["moclab.yaml"])
    assert config["design"]["randomization"] == {"level": "none"}
    assert config["design"]["waves"] == [
        {"id": "w1", "label": "Wave 1", "date": "2025-02-03"},
        {"id": "w2", "label": "Wave 2", "date": "2025-04-07"},
    ]
    assert "team" not in config["design"]  # not every recipient has a team
    assert config["measures"] == {
        "acceptability": {"label": "AIM", "instrument": "aim", "level": "individual"},
        "trust": {"label": "Trust (single-item rating, 1-5)", "range": [1, 5], "level": "individual"},
    }
    # the one pathway of twelve whose mechanism (trust) and outcome (acceptability) the survey measures
    assert config["evidence"] == {
        "strategy": "dose",
        "dose": {"measure": "minutes", "level": "recipient", "window": "before_mechanism"},
        "pathways": ["isp_support__trust__acceptability"],
    }
    assert export.pathways == ("isp_support__trust__acceptability",)
    assert export.measured == {"acceptability": "acceptability", "trust": "trust"}
    assert files["model.yaml"] == template_path("recipient-pathway").read_bytes()
    assert export.counts == {
        "recipients": 4,
        "sites": 2,
        "teams": 1,
        "waves": 2,
        "responses": 7,
        "measure_rows": 34,
        "activities": 2,
        "activity_rows": 4,
        "left_out_answers": 0,
    }


def test_the_export_validates_and_is_the_same_bytes_each_time(surveyed: World, tmp_path: Path):
    first = export_study(surveyed.organisation).zip_bytes()
    assert export_study(surveyed.organisation).zip_bytes() == first
    assert sha256_of(first) == hashlib.sha256(first).hexdigest()
    folder = tmp_path / "study"
    export_study(surveyed.organisation).write(folder)
    report = validate_study(folder, show_progress=False)
    assert report.summary.n_recipients == 4
    (plan,) = plan_pathways(report.study, resolve_settings(report.study.config.evidence))
    assert plan.coding.kind == "activity_dose"
    assert (plan.mechanisms, plan.outcome) == (("trust",), "acceptability")


def test_the_export_is_pseudonymised(surveyed: World):
    text = b"".join(export_study(surveyed.organisation).files.values()).decode()
    for secret in ("Pat Example", "pat@example.org", "kick-off meeting", *surveyed.users.values()):
        assert str(secret) not in text


def test_arms_declared_by_a_researcher_make_a_site_randomized_study(surveyed: World, tmp_path: Path):
    export = export_study(
        surveyed.organisation, arms={"acme north": "intensive", "acme south": "usual"}, control="usual"
    )
    config = yaml.safe_load(export.files["moclab.yaml"])
    assert config["design"]["randomization"] == {
        "level": "site",
        "arms": ["intensive", "usual"],
        "control": "usual",
    }
    assert config["tables"]["recipients"]["columns"]["arm"]["node"] == "isp_support"
    assert config["evidence"]["strategy"] == "auto"
    assert table(export.files, "data/recipients.csv")["arm"].tolist() == ["intensive"] * 3 + ["usual"]
    export.write(tmp_path / "study")
    study = load_study(tmp_path / "study", show_progress=False)
    (plan,) = plan_pathways(study, resolve_settings(study.config.evidence))
    assert plan.coding.text == "arm: 1 = intensive, 0 = usual"


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "message"),
    [
        ("no survey", {}, StudyError, "has no pulse survey on an every-N-weeks schedule"),
        ("after activities", {}, StudyError, "is sent after each activity"),
        ("no answers", {}, StudyError, "has no submitted answers"),
        (None, {"template": "isp-mechanisms"}, StudyError, "measures no pathway of the template"),
        (None, {"template": "recipient-pathwya"}, ModelError, "did you mean 'recipient-pathway'"),
        (None, {"arms": {"acme north": "a", "acme south": "b"}, "control": "c"}, StudyError, "not one of"),
        (None, {"arms": {"acme north": "a", "elsewhere": "b"}, "control": "b"}, StudyError, "acme south"),
        (None, {"control": "usual"}, StudyError, "a control arm without arms"),
    ],
)
def test_an_export_that_cannot_be_made_says_why(
    surveyed: World, change: str | None, kwargs: dict[str, Any], error: type, message: str
):
    survey = surveyed.extra["survey"]
    if change == "no survey":
        survey.delete()
    elif change == "after activities":
        kwargs = {"survey": survey}
        Survey.objects.filter(pk=survey.pk).update(schedule="after_activity")
        survey.refresh_from_db()
    elif change == "no answers":
        SurveyResponse.objects.all().update(submitted=None)
    with pytest.raises(error, match=message):
        export_study(surveyed.organisation, **kwargs)


def test_a_part_of_the_portfolio_has_the_recipients_of_its_sites_and_activities(surveyed: World):
    south = Engagement.objects.create(
        organisation=surveyed.organisation,
        title="south support",
        site=surveyed.other_site,
        start=datetime.date(2025, 1, 1),
    )
    # the south engagement (R9's site) has no activity yet: without a log there is no dose to judge
    with pytest.raises(StudyError, match="has no logged activities"):
        export_study(surveyed.organisation, engagements=Engagement.objects.filter(pk=south.pk))
    # nor is there a comparison when its one site is in one arm
    with pytest.raises(StudyError, match=r"in the arm\(s\) usual only"):
        export_study(
            surveyed.organisation,
            engagements=Engagement.objects.filter(pk=south.pk),
            arms={"acme south": "usual", "elsewhere": "intensive"},
            control="usual",
        )
    north = export_study(
        surveyed.organisation, engagements=Engagement.objects.filter(pk=surveyed.engagement.pk)
    )
    # the north engagement: its site's recipients; its later activity reached the south team, whose site is
    # not in this study, so it is left out
    assert table(north.files, "data/recipients.csv")["recipient_id"].tolist() == [
        "acme-R1",
        "acme-R2",
        "acme-R3",
    ]
    assert table(north.files, "data/activities.csv")["site"].tolist() == ["acme north"] * 3


def test_with_arms_a_portfolio_without_a_log_is_a_study_of_the_arms(surveyed: World, tmp_path: Path):
    Activity.objects.all().delete()
    export = export_study(
        surveyed.organisation, arms={"acme north": "intensive", "acme south": "usual"}, control="usual"
    )
    assert "data/activities.csv" not in export.files
    assert "activities" not in yaml.safe_load(export.files["moclab.yaml"])["tables"]
    export.write(tmp_path / "study")
    study = validate_study(tmp_path / "study", show_progress=False).study
    (plan,) = plan_pathways(study, resolve_settings(study.config.evidence))
    assert plan.coding.kind == "arm"


def test_answers_to_items_the_survey_no_longer_asks_are_left_out_and_counted(surveyed: World):
    survey = surveyed.extra["survey"]
    response = SurveyResponse.objects.filter(submitted__isnull=False).first()
    SurveyResponse.objects.filter(pk=response.pk).update(values={**response.values, "iam_1": 3, "iam_2": 4})
    export = export_study(surveyed.organisation)
    assert export.counts["left_out_answers"] == 2
    assert not {"iam_1", "iam_2"} & set(table(export.files, "data/measures.csv")["measure"])
    Survey.objects.filter(pk=survey.pk).update(instruments=["fim"], pathway_items=[])
    with pytest.raises(StudyError, match="hold none of the items it asks now"):
        export_study(surveyed.organisation)


def test_a_survey_of_another_organisation_is_refused(surveyed: World, other_world: World):
    with pytest.raises(StudyError, match="belongs to another organisation"):
        export_study(other_world.organisation, survey=surveyed.extra["survey"])


# -- the demo organisation: validate and analyze ------------------------------------------------------------


@pytest.fixture
def demo(db: None) -> Organisation:
    build_demo(today=TODAY, evidence=False)
    return Organisation.objects.get()


def test_the_demo_portfolio_passes_validate_and_analyze_judges_it(demo: Organisation, tmp_path: Path):
    from moclab.cli.main import app

    folder = tmp_path / "demo-study"
    export = export_study(demo, evidence={"n_boot": 100, "seed": 3})
    export.write(folder)
    done = CliRunner().invoke(app, ["validate", str(folder)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "12 pathways ready for `moclab analyze`" in done.output
    evidence = analyze(folder, show_progress=False)
    assert len(evidence.pathways) == 12
    assert all(len(pathway.verdicts) == 7 and pathway.n > 200 for pathway in evidence.pathways)
    # the strategy is the support each recipient received: the minutes of the activities they were named
    # at or whose team was there, up to the mechanism's wave; counted here from the platform's rows, one
    # recipient at a time
    study = load_study(folder, show_progress=False)
    plan = plan_pathways(study, resolve_settings(study.config.evidence))[0]
    data = pathway_data(study, plan, resolve_settings(study.config.evidence), study_tables(study))
    until = datetime.date.fromisoformat(study.config.design.waves[1].date.isoformat())
    dose = data.frame.set_index("recipient_id")["isp_support"]
    checked = 0
    for recipient in Recipient.objects.filter(organisation=demo).order_by("pseudonym")[::25]:
        present = set(recipient.activities.values_list("pk", flat=True))
        if recipient.team_id is not None:
            present |= set(Activity.objects.filter(teams=recipient.team_id).values_list("pk", flat=True))
        reached = Activity.objects.filter(engagement__organisation=demo, date__lte=until, pk__in=present)
        expected = sum(activity.minutes for activity in reached)
        assert dose[recipient.pseudonym] == expected, recipient.pseudonym
        checked += expected > 0
    assert checked >= 3  # some of those checked did receive support


# -- runs ---------------------------------------------------------------------------------------------------


def test_a_run_keeps_its_snapshot_report_and_the_scorecard_analyze_gives(demo: Organisation, tmp_path: Path):
    researcher = Organisation.objects.get().memberships.get(role=Role.RESEARCHER).user
    settings = run_settings(template="recipient-pathway", survey=None, n_boot=100, seed=11)
    run = execute_run(create_run(demo, settings, user=researcher).pk)
    assert run.status == RunStatus.FINISHED, run.error
    assert (run.progress, run.progress_text) == (1.0, "done")
    assert run.started <= run.finished
    snapshot = bytes(run.snapshot)
    assert run.snapshot_sha256 == hashlib.sha256(snapshot).hexdigest()
    # the snapshot is the study folder: moclab analyze on it (the same seed, read from its moclab.yaml)
    # gives the scorecard the run kept
    folder = tmp_path / "snapshot"
    with zipfile.ZipFile(io.BytesIO(snapshot)) as archive:
        archive.extractall(folder)
    config = yaml.safe_load((folder / "moclab.yaml").read_text())
    assert (config["evidence"]["n_boot"], config["evidence"]["seed"]) == (100, 11)
    again = analyze(folder, show_progress=False)
    assert compact_scorecard(again) == run.scorecard
    assert len(run.scorecard["pathways"]) == 12
    assert "<!DOCTYPE html>" in run.report_html
    assert all(pathway["id"] in run.report_html for pathway in run.scorecard["pathways"])
    assert '"seed": 11' in run.report_json

    # a rerun after new data: five recipients who answered everything at both waves lose their second
    # wave; every pathway analysed them, so each loses exactly five recipients
    items = len(Survey.objects.get().items())
    complete = [
        pk
        for pk in SurveyResponse.objects.filter(invitation__wave__number=2, submitted__isnull=False)
        .values_list("invitation__recipient", flat=True)
        .order_by("invitation__recipient")
        if all(
            len(values) == items
            for values in SurveyResponse.objects.filter(invitation__recipient=pk).values_list(
                "values", flat=True
            )
        )
        and SurveyResponse.objects.filter(invitation__recipient=pk).count() == 2
    ][:5]
    assert len(complete) == 5
    SurveyResponse.objects.filter(invitation__recipient__in=complete, invitation__wave__number=2).delete()
    second = execute_run(create_run(demo, dict(run.settings), user=researcher).pk)
    assert second.status == RunStatus.FINISHED, second.error
    assert second.previous() == run and run.previous() is None
    assert second.snapshot_sha256 != run.snapshot_sha256
    changes = scorecard_changes(run.scorecard, second.scorecard)
    before = {pathway["id"]: pathway["n"] for pathway in run.scorecard["pathways"]}
    assert [change.pathway for change in changes] == list(before)
    for change in changes:
        assert (change.n_before, change.n_after) == (before[change.pathway], before[change.pathway] - 5)
        assert change.changed
    # the pages say so
    client = Client()
    client.force_login(researcher)
    page = client.get(reverse("evidence:run_changes", kwargs={"pk": second.pk})).content.decode()
    assert f'From <a href="{reverse("evidence:run_detail", kwargs={"pk": run.pk})}">run {run.pk}</a>' in page
    assert "on new data" in page and "12 of 12 pathways changed" in page
    n = before[changes[0].pathway]
    assert f"<td><del>{n}</del></td><td><ins>{n - 5}</ins>" in page


def test_scorecard_changes_compare_pathway_by_pathway_and_criterion_by_criterion():
    def card(*pathways: tuple[str, str, int, dict[str, str]]) -> dict[str, Any]:
        return {
            "pathways": [
                {"id": key, "label": key.upper(), "conclusion": grade, "n": n, "criteria": {
                    criterion: {"status": status} for criterion, status in criteria.items()
                }}
                for key, grade, n, criteria in pathways
            ]
        }  # fmt: skip

    before = card(
        ("a", "suggestive", 100, {"strong_association": "met", "timeline": "not met"}),
        ("gone", "not supported", 90, {"strong_association": "not met"}),
    )
    after = card(
        ("a", "suggestive", 120, {"strong_association": "partly met", "timeline": "not met"}),
        ("new", "suggestive", 80, {"strong_association": "met"}),
    )
    changes = {change.pathway: change for change in scorecard_changes(before, after)}
    assert list(changes) == ["a", "new", "gone"]
    a = changes["a"]
    assert (a.conclusion_before, a.conclusion_after, a.n_before, a.n_after) == (
        "suggestive",
        "suggestive",
        100,
        120,
    )
    statuses = {c.criterion: (c.before, c.after) for c in a.criteria}
    assert statuses["strong_association"] == ("met", "partly met")
    assert statuses["timeline"] == ("not met", "not met")
    assert statuses["gradient"] == (None, None)
    assert a.changed_criteria == 1 and a.changed
    assert (changes["new"].n_before, changes["new"].conclusion_before, changes["new"].n_after) == (
        None,
        None,
        80,
    )
    assert (changes["gone"].n_after, changes["gone"].label) == (None, "GONE")
    unchanged = scorecard_changes(after, after)
    assert not any(change.changed for change in unchanged)


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        ("no survey", "has no pulse survey on an every-N-weeks schedule"),
        ("survey deleted", "of this run no longer exists"),
        ("bug", "internal error (RuntimeError): the disk is on fire"),
        ("invalid study", "moclab.yaml"),
    ],
)
def test_a_failed_run_records_its_message_never_a_traceback(
    surveyed: World, monkeypatch: pytest.MonkeyPatch, break_it: str, message: str
):
    survey = surveyed.extra["survey"]
    run = create_run(
        surveyed.organisation,
        run_settings(template="recipient-pathway", survey=survey if break_it == "survey deleted" else None),
    )
    if break_it in ("no survey", "survey deleted"):
        survey.delete()
    elif break_it == "invalid study":
        broken_study = StudyExport(
            {"moclab.yaml": b"title: 3\n"}, "acme", "recipient-pathway", "", (), {}, ()
        )
        monkeypatch.setattr("moclab.web.evidence.tasks.export_study", lambda *a, **k: broken_study)
    else:

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the disk is on fire\nsecond line")

        monkeypatch.setattr("moclab.web.evidence.tasks.export_study", broken)
    run = execute_run(run.pk)
    assert run.status == RunStatus.FAILED
    assert message in run.error and "Traceback" not in run.error and "second line" not in run.error
    assert "moclab-evidence-" not in run.error  # no scratch folder
    assert run.finished is not None and not run.report_html
    # a run that is not queued is left as it is
    assert execute_run(run.pk).error == run.error


def test_runs_left_running_by_a_stopped_worker_are_failed(surveyed: World):
    settings = run_settings(template="recipient-pathway", survey=None)
    running = create_run(surveyed.organisation, settings)
    queued = create_run(surveyed.organisation, settings)
    EvidenceRun.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING)
    assert fail_interrupted_runs() == 1
    running.refresh_from_db()
    queued.refresh_from_db()
    assert running.status == RunStatus.FAILED and "interrupted" in running.error
    assert queued.status == RunStatus.QUEUED


def test_starting_a_run_enqueues_its_task_after_commit(
    surveyed: World, django_capture_on_commit_callbacks: Any
):
    from django_tasks_db.models import DBTaskResult

    settings = run_settings(template="recipient-pathway", survey=surveyed.extra["survey"], n_boot=200)
    assert settings["survey"] == surveyed.extra["survey"].pk and 0 <= settings["seed"] < 2**31
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(surveyed.organisation, settings)
        assert not DBTaskResult.objects.exists()  # not before the run is committed
    (task,) = DBTaskResult.objects.all()
    assert task.task_path == "moclab.web.evidence.tasks.run_evidence"
    assert task.args_kwargs == {"args": [run.pk], "kwargs": {}}
    run.refresh_from_db()
    assert run.task_id == str(task.id) and run.status == RunStatus.QUEUED


# -- the pages ----------------------------------------------------------------------------------------------


def finished_run(world: World, **changes: Any) -> EvidenceRun:
    """A finished run of `world` without running an analysis: a report page, a snapshot, a scorecard."""
    fields = {
        "organisation": world.organisation,
        "started_by": world.users[Role.RESEARCHER],
        "status": RunStatus.FINISHED,
        "progress": 1.0,
        "progress_text": "done",
        "settings": {"template": "recipient-pathway", "survey": None, "survey_title": None, "n_boot": 100,
                     "seed": 5},
        "snapshot": b"PK-the-snapshot",
        "snapshot_sha256": hashlib.sha256(b"PK-the-snapshot").hexdigest(),
        "snapshot_counts": {"recipients": 4, "sites": 2, "waves": 2, "responses": 7, "activities": 2},
        "report_html": "<!DOCTYPE html><html><head><style>p{color:red}</style></head><body><p>the report "
                       f"of {world.organisation.name}</p></body></html>",
        "report_json": '{"seed": 5}',
        "scorecard": {"seed": 5, "n_boot": 100, "pathways": [{
            "id": "p", "label": "isp_support → trust → acceptability", "n": 40, "conclusion": "suggestive",
            "criteria": {"strong_association": {"status": "met"}, "timeline": {"status": "not testable"}},
        }]},
        "started": datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC),
        "finished": datetime.datetime(2026, 1, 5, 9, 2, tzinfo=datetime.UTC),
    }  # fmt: skip
    fields.update(changes)
    return EvidenceRun.objects.create(**fields)


def test_the_runs_page_lists_runs_and_offers_the_form(surveyed: World):
    run = finished_run(surveyed)
    page = surveyed.client(Role.RESEARCHER).get(reverse("evidence:run_list")).content.decode()
    assert f'href="{reverse("evidence:run_detail", kwargs={"pk": run.pk})}">Run {run.pk}</a>' in page
    assert "1 met, 0 partly, 0 not met, 1 not testable" in page
    assert 'name="template"' in page and "recipient-pathway (1 of 12 pathways measured by the survey)" in page
    assert 'name="n_boot"' in page and 'value="1000"' in page
    assert f'<option value="{surveyed.extra["survey"].pk}" selected>acme pulse</option>' in page


def test_starting_a_run_from_the_page(
    surveyed: World, settings: Any, django_capture_on_commit_callbacks: Any
):
    # the immediate backend runs the task as it is enqueued: here it fails fast (the survey has no
    # answers), which the run's page then says
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    SurveyResponse.objects.all().update(submitted=None)
    client = surveyed.client(Role.RESEARCHER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("evidence:run_start"),
            {
                "template": "recipient-pathway",
                "survey": surveyed.extra["survey"].pk,
                "n_boot": 150,
                "seed": 9,
            },
        )
    run = EvidenceRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "evidence:run_detail", kwargs={"pk": run.pk}
    )
    assert run.settings == {
        "template": "recipient-pathway",
        "survey": surveyed.extra["survey"].pk,
        "survey_title": "acme pulse",
        "n_boot": 150,
        "seed": 9,
    }
    assert run.started_by == surveyed.users[Role.RESEARCHER] and run.status == RunStatus.FAILED
    assert AuditEntry.objects.filter(
        action=Action.CREATE, model="evidence.evidencerun", object_id=str(run.pk)
    )
    page = client.get(response["Location"]).content.decode()
    assert "The run failed" in page and "has no submitted answers" in page
    assert 'http-equiv="refresh"' not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"template": "nonsense", "n_boot": 1000}, "Select a valid choice"),
        ({"template": "recipient-pathway", "n_boot": 50}, "greater than or equal to 100"),
        ({"template": "recipient-pathway", "n_boot": 1000, "seed": -1}, "greater than or equal to 0"),
    ],
)
def test_a_bad_run_form_starts_nothing(surveyed: World, data: dict[str, Any], message: str):
    data = {**data, "survey": surveyed.extra["survey"].pk}
    response = surveyed.client(Role.RESEARCHER).post(reverse("evidence:run_start"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not EvidenceRun.objects.exists()


def test_a_running_run_s_page_refreshes_and_shows_its_progress(surveyed: World):
    run = create_run(surveyed.organisation, run_settings(template="recipient-pathway", survey=None))
    EvidenceRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, progress=0.42, progress_text="judging pathway 5 of 12: x"
    )
    page = surveyed.client(Role.ADMINISTRATOR).get(reverse("evidence:run_detail", kwargs={"pk": run.pk}))
    text = page.content.decode()
    assert '<meta http-equiv="refresh" content="3">' in text
    assert 'value="42"' in text and "judging pathway 5 of 12: x" in text
    assert "The evidence report" not in text


def test_a_finished_run_shows_its_report_in_a_sandboxed_frame(surveyed: World):
    run = finished_run(surveyed)
    client = surveyed.client(Role.RESEARCHER)
    page = client.get(reverse("evidence:run_detail", kwargs={"pk": run.pk}))
    text = page.content.decode()
    report_url = reverse("evidence:run_report", kwargs={"pk": run.pk})
    assert f'<iframe src="{report_url}" title="Evidence report of run {run.pk}" sandbox' in text
    assert "http-equiv" not in text and "first finished run" in text
    assert page["Content-Security-Policy"].startswith("default-src 'self'")  # the platform's, untouched
    assert page["X-Frame-Options"] == "DENY"
    report = client.get(report_url)
    assert report.content.decode() == run.report_html
    policy = report["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "frame-ancestors 'self'" in policy
    assert policy.endswith("sandbox") and "script-src" not in policy  # default-src 'none' forbids scripts
    assert report["X-Frame-Options"] == "SAMEORIGIN"
    data = client.get(reverse("evidence:run_report_json", kwargs={"pk": run.pk}))
    assert data.content == b'{"seed": 5}' and "attachment" in data["Content-Disposition"]


def test_an_unfinished_run_has_no_report(surveyed: World):
    run = finished_run(surveyed, status=RunStatus.RUNNING)
    client = surveyed.client(Role.RESEARCHER)
    assert client.get(reverse("evidence:run_report", kwargs={"pk": run.pk})).status_code == 404
    assert client.get(reverse("evidence:run_report_json", kwargs={"pk": run.pk})).status_code == 404


def test_the_snapshot_download_is_audited(surveyed: World):
    run = finished_run(surveyed)
    response = surveyed.client(Role.RESEARCHER).post(reverse("evidence:run_snapshot", kwargs={"pk": run.pk}))
    assert response.status_code == 200 and response.content == b"PK-the-snapshot"
    assert response["Content-Type"] == "application/zip"
    assert f"run-{run.pk}-study-{run.snapshot_sha256[:12]}.zip" in response["Content-Disposition"]
    entry = AuditEntry.objects.get(action=Action.EXPORT)
    assert (entry.user, entry.model, entry.object_id) == (
        surveyed.users[Role.RESEARCHER],
        "evidence.evidencerun",
        str(run.pk),
    )


def test_the_study_download_is_the_export_and_is_audited(surveyed: World):
    response = surveyed.client(Role.ADMINISTRATOR).post(reverse("evidence:study_download"))
    assert response.status_code == 200
    assert unzip(response.content) == export_study(surveyed.organisation).files
    entry = AuditEntry.objects.get(action=Action.EXPORT)
    assert (entry.model, entry.object_id) == ("practice.organisation", f"{surveyed.organisation.pk}/study")


def test_a_study_download_that_cannot_be_made_says_why(world: World):
    client = world.client(Role.RESEARCHER)
    response = client.post(reverse("evidence:study_download"), follow=True)
    assert "The study folder could not be exported" in response.content.decode()
    assert "has no pulse survey" in response.content.decode()
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()


def test_a_rerun_keeps_the_settings_and_the_seed(surveyed: World, django_capture_on_commit_callbacks: Any):
    run = finished_run(surveyed)
    client = surveyed.client(Role.ADMINISTRATOR)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("evidence:run_rerun", kwargs={"pk": run.pk}))
    rerun = EvidenceRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == reverse("evidence:run_detail", kwargs={"pk": rerun.pk})
    assert rerun.settings == run.settings and rerun.status == RunStatus.QUEUED
    assert rerun.started_by == surveyed.users[Role.ADMINISTRATOR]


def test_the_navigation_shows_evidence_to_those_who_may_analyze(surveyed: World):
    link = f'href="{reverse("evidence:run_list")}">Evidence</a>'
    for role in (Role.ADMINISTRATOR, Role.RESEARCHER, Role.ISP, Role.SITE_LEAD):
        page = surveyed.client(role).get(reverse("practice:home")).content.decode()
        assert (link in page) == (role in (Role.ADMINISTRATOR, Role.RESEARCHER)), role
