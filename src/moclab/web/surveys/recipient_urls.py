"""The recipient's page: a personal link, no login (the token is the key; see `views.survey_page`)."""

from django.urls import path

from moclab.web.surveys import views

urlpatterns = [
    path("<str:token>/", views.survey_page, name="survey_page"),
]
