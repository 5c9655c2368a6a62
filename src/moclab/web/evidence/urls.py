"""The evidence pages' URLs (every view goes through `moclab.web.practice.access.member_view`)."""

from django.urls import path

app_name = "evidence"

urlpatterns: list = []
