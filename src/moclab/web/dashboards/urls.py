"""The dashboards' URLs (every view goes through `moclab.web.practice.access.member_view`); each chart is an
SVG image at ``.../chart/<name>.svg`` with its page's filters and ``size=narrow|wide``."""

from django.urls import path

from moclab.web.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("support/", views.support, name="support"),
    path("support/chart/<slug:name>.svg", views.support_chart, name="support_chart"),
    path("engagements/<int:pk>/", views.engagement, name="engagement"),
    path("engagements/<int:pk>/chart/<slug:name>.svg", views.engagement_chart, name="engagement_chart"),
    path("pathway/", views.pathway, name="pathway"),
    path("pathway/chart/<slug:name>.svg", views.pathway_chart, name="pathway_chart"),
    path("practice/", views.practice_index, name="practice_index"),
    path("practice/<int:user_id>/", views.practice, name="practice"),
    path("practice/<int:user_id>/chart/<slug:name>.svg", views.practice_chart, name="practice_chart"),
]
