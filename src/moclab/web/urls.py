"""The platform's URLs: login and logout, the health check, the static files, the practice app and the
pulse surveys (the members' pages, and the recipient's page behind a personal link)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.static import serve

from moclab.web import health
from moclab.web.settings import STATIC_ROOT

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The app serves its own few static files (no CDN).
    re_path(r"^static/(?P<path>.+)$", serve, {"document_root": STATIC_ROOT}),
    # pulse surveys: the members' pages, and the recipient's personal link (no login)
    path("surveys/", include("moclab.web.surveys.urls")),
    path("s/", include("moclab.web.surveys.recipient_urls")),
    path("dashboards/", include("moclab.web.dashboards.urls")),
    path("evidence/", include("moclab.web.evidence.urls")),
    path("", include("moclab.web.practice.urls")),
]
