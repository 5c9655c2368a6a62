"""Django settings of the practice platform, read from the environment (see `moclab.web`).

- ``MOCLAB_DATABASE_URL``: the database (``postgres://user:password@host:port/name`` or
  ``sqlite:////path/to/file``, parsed by dj-database-url); default a SQLite file in the data folder.
- ``MOCLAB_WEB_MODE``: ``demo`` (plain HTTP on the loopback) or ``production`` (the default: secure cookies,
  HSTS, HTTPS redirects, for a server behind an HTTPS proxy).
- ``MOCLAB_SECRET_KEY``: Django's signing key; required in production (`moclab serve` keeps one in the
  data folder).
- ``MOCLAB_ALLOWED_HOSTS``: comma-separated host names (default ``127.0.0.1,localhost``).
- ``MOCLAB_WEB_FRAMEWORKS``: framework files (``:``-separated) added to the bundled catalog for the activity
  form, e.g. your own ``extends: eis`` file naming the core practice components.

``DEBUG`` is always off: a user never sees a traceback, in the demo either.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

from moclab.web import (
    ALLOWED_HOSTS_VAR,
    DATABASE_URL_VAR,
    FRAMEWORKS_VAR,
    MODE_VAR,
    MODES,
    SECRET_KEY_VAR,
    data_folder,
)

WEB_ROOT = Path(__file__).resolve().parent

MOCLAB_WEB_MODE = os.environ.get(MODE_VAR, "production")
if MOCLAB_WEB_MODE not in MODES:
    raise ImproperlyConfigured(f"{MODE_VAR} must be one of {', '.join(MODES)}, not {MOCLAB_WEB_MODE!r}")
DEMO = MOCLAB_WEB_MODE == "demo"

DEBUG = False
SECRET_KEY = os.environ.get(SECRET_KEY_VAR, "")
if not SECRET_KEY:
    raise ImproperlyConfigured(f"set {SECRET_KEY_VAR} (moclab serve keeps one in {data_folder()})")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get(ALLOWED_HOSTS_VAR, "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "axes",
    "moclab.web.practice",
    "moclab.web.surveys",
    "moclab.web.audit",
    "moclab.web.dashboards",
    "moclab.web.evidence",
    # background tasks (the evidence runs): Django 6's tasks framework, its backport on Django 5.2, with the
    # database-backed worker (`moclab serve` starts it; docs/decisions/0006)
    *(() if find_spec("django.tasks") else ("django_tasks",)),
    "django_tasks_db",
]

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Small-cell suppression on the dashboards (moclab.disclosure): aggregates of fewer than k recipients are
# hidden, with their complements. A value that is not a whole number is kept as written, so that the
# system check (moclab.web.dashboards.apps) names it instead of a traceback here.
_suppression_k = os.environ.get("MOCLAB_SUPPRESSION_K", "5").strip()
MOCLAB_SUPPRESSION_K = int(_suppression_k) if _suppression_k.isdigit() else _suppression_k
# After new data, the dashboards show the previous state while a thread rebuilds (background), or wait for
# the rebuild (inline; the tests). moclab.web.dashboards.queries.latest
MOCLAB_DASHBOARD_REFRESH = os.environ.get("MOCLAB_DASHBOARD_REFRESH", "background")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Django 6's own CSP middleware where it is installed (Python 3.12+), moclab's on Django 5.2.
    "django.middleware.csp.ContentSecurityPolicyMiddleware"
    if django.VERSION >= (6, 0)
    else "moclab.web.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "moclab.web.audit.middleware.AuditUserMiddleware",
    # django-axes last: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "moclab.web.urls"
WSGI_APPLICATION = "moclab.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [WEB_ROOT / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "moclab.web.practice.access.membership_context",
            ],
        },
    },
]

_default_sqlite = data_folder() / "platform.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get(DATABASE_URL_VAR) or f"sqlite:///{_default_sqlite}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn threads write the same file: wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "practice:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# The app's own few files; a proxy in front may serve this folder itself.
STATIC_ROOT = os.environ.get("MOCLAB_STATIC_ROOT") or str(WEB_ROOT / "static")

# Sessions and cookies: HttpOnly session cookie, SameSite=Lax, a working day's session.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEMO:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    # The load balancer's health check speaks plain HTTP on the loopback.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Not preloaded (check security.W021 silenced below): joining the browsers' preload list is a commitment
    # for the whole domain, which its owner makes, not moclab.

# Content-Security-Policy: everything from this origin, no inline script or style, no framing, forms post
# only here. The sources are written as literals (what django.utils.csp.CSP.SELF and CSP.NONE stand for) so
# that Django 6's middleware and moclab.web.csp read the same setting.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

# django-axes: five failed logins for one user name lock it for 15 minutes. Its own log lines name the user
# and the address, so they are kept out of the logs (AXES_VERBOSE off, the `axes` logger quiet).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25
# Locked by user name, not by address: behind a proxy (or an office's one address) every member shares an
# address, and locking it would lock the whole team out; a user name's lock stops guessing its password.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006", "security.W021"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# No personal data in the logs: requests are not logged by the application (gunicorn runs without an access
# log), and Django's request warnings carry only paths, whose ids are database keys.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "WARNING"},
        "axes": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}

# E-mail: the surveys' invitations and reminders (`moclab.web.surveys.mail`). The demo prints them on the
# console; for real, an SMTP server from the environment. The personal links start with MOCLAB_BASE_URL.
EMAIL_BACKEND = os.environ.get("MOCLAB_EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend"
    if DEMO
    else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("MOCLAB_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("MOCLAB_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("MOCLAB_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("MOCLAB_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("MOCLAB_EMAIL_TLS", "") == "1"
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("MOCLAB_EMAIL_FROM", "moclab pulse surveys <surveys@localhost>")
MOCLAB_BASE_URL = os.environ.get("MOCLAB_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

#: Framework files added to the bundled catalog for the activity form (see the module docstring).
MOCLAB_FRAMEWORK_FILES = [part for part in os.environ.get(FRAMEWORKS_VAR, "").split(os.pathsep) if part]
