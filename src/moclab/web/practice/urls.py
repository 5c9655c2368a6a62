"""The practice app's URLs (every view goes through `moclab.web.practice.access.member_view`)."""

from django.urls import path

from moclab.web.practice import views

app_name = "practice"

urlpatterns = [
    path("", views.home, name="home"),
    path("engagements/", views.engagement_list, name="engagement_list"),
    path("engagements/<int:pk>/", views.engagement_detail, name="engagement_detail"),
    path("engagements/<int:pk>/log/", views.activity_create, name="activity_create"),
    path("engagements/<int:pk>/week/", views.activity_week, name="activity_week"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("exports/", views.exports, name="exports"),
]
