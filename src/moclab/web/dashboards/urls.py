"""The dashboards' URLs (every view goes through `moclab.web.practice.access.member_view`)."""

from django.urls import path

app_name = "dashboards"

urlpatterns: list = []
