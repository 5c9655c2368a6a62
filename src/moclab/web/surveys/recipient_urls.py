"""The recipient's page: a personal link, no login (the token is the key; see `recipient.survey_page`)."""

from django.urls import path

from moclab.web.surveys import recipient

urlpatterns = [
    path("<str:token>/", recipient.survey_page, name="survey_page"),
]
