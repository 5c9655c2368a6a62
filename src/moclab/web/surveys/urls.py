"""The surveys' pages for members (every view goes through `moclab.web.practice.access.member_view`)."""

from django.urls import path

from moclab.web.surveys import views

app_name = "surveys"

urlpatterns = [
    path("", views.survey_list, name="survey_list"),
    path("new/", views.survey_create, name="survey_create"),
    path("<int:pk>/", views.survey_detail, name="survey_detail"),
    path("<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("<int:pk>/waves/<int:number>/", views.wave_detail, name="wave_detail"),
    path("<int:pk>/active/", views.survey_active, name="survey_active"),
    path("<int:pk>/delete/", views.survey_delete, name="survey_delete"),
    path("export/", views.survey_export, name="survey_export"),
]
