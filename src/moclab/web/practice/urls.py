"""The practice app's URLs (every view goes through `moclab.web.practice.access.member_view`)."""

from django.urls import path

from moclab.web.practice import members, views

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
    path("members/", members.member_list, name="member_list"),
    path("members/invite/", members.member_invite, name="member_invite"),
    path("members/<int:pk>/", members.member_edit, name="member_edit"),
    path("members/<int:pk>/active/", members.member_active, name="member_active"),
    path("members/<int:pk>/link/", members.member_link, name="member_link"),
    path("audit/", members.audit_log, name="audit_log"),
    # public: the invited member's one-time link (no login; the token is the key), outside the permission
    # walk of tests/web/test_permissions.py (PUBLIC there) and tested in tests/web/test_members.py
    path("members/password/<uidb64>/<token>/", members.SetPasswordView.as_view(), name="set_password"),
]
