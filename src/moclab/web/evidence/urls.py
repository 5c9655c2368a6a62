"""The evidence pages' URLs (every view goes through `moclab.web.practice.access.member_view`)."""

from django.urls import path

from moclab.web.evidence import views

app_name = "evidence"

urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("runs/", views.run_start, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/report/", views.run_report, name="run_report"),
    path("runs/<int:pk>/report.json", views.run_report_json, name="run_report_json"),
    path("runs/<int:pk>/snapshot/", views.run_snapshot, name="run_snapshot"),
    path("runs/<int:pk>/rerun/", views.run_rerun, name="run_rerun"),
    path("runs/<int:pk>/changes/", views.run_changes, name="run_changes"),
    path("study/", views.study_download, name="study_download"),
]
