"""Security: login and its throttling, the headers and the content security policy, the production
settings, and no personal data in the logs."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from moclab.web.settings import WEB_ROOT

from .conftest import PASSWORD, World


def test_login_with_the_password_opens_the_home_page(world: World):
    client = Client()
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="csrfmiddlewaretoken"' in page.content
    response = client.post(reverse("login"), {"username": "acme-isp", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("practice:home")
    home = client.get(reverse("practice:home")).content.decode()
    assert "Your engagements" in home and "acme support" in home
    logout = client.post(reverse("logout"))
    assert logout.status_code == 302
    assert client.get(reverse("practice:home")).status_code == 302


def test_a_form_without_its_csrf_token_is_refused(world: World):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["isp"])
    response = client.post(reverse("practice:activity_create", kwargs={"pk": world.engagement.pk}), {})
    assert response.status_code == 403
    assert b"The form expired" in response.content


def test_five_failed_logins_lock_the_account_and_nothing_personal_is_logged(
    world: World, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    client = Client()
    for _ in range(4):
        response = client.post(reverse("login"), {"username": "acme-isp", "password": "wrong-password"})
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    fifth = client.post(reverse("login"), {"username": "acme-isp", "password": "wrong-password"})
    assert fifth.status_code == 429 and b"Too many failed logins" in fifth.content
    locked = client.post(reverse("login"), {"username": "acme-isp", "password": PASSWORD})
    assert locked.status_code == 429  # even the right password, until the lock expires
    assert b"Too many failed logins" in locked.content
    assert client.get(reverse("practice:home")).status_code == 302  # not logged in
    # another account is not locked by them
    other = Client().post(reverse("login"), {"username": "acme-researcher", "password": PASSWORD})
    assert other.status_code == 302
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Too Many Requests: /login/" in logged  # Django's warning names the path only
    assert "acme-isp" not in logged and "127.0.0.1" not in logged
    # django-axes' own lines name the user and the address: its logger is silenced by the settings
    axes_logger = logging.getLogger("axes")
    assert not axes_logger.propagate and not axes_logger.isEnabledFor(logging.ERROR)


def test_every_page_carries_the_policy_and_the_protective_headers(world: World):
    response = world.client("isp").get(
        reverse("practice:activity_create", kwargs={"pk": world.engagement.pk})
    )
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_templates_need_no_inline_script_or_style_and_nothing_from_elsewhere():
    templates = list((WEB_ROOT / "templates").rglob("*.html"))
    assert len(templates) >= 15
    for path in templates:
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text, path
        assert "style=" not in text and "<style" not in text.replace("stylesheet", ""), path
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path


def test_the_stylesheet_is_served_by_the_app(world: World):
    response = Client().get("/static/moclab/platform.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)


def test_production_mode_passes_djangos_deployment_checks(tmp_path: Path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "moclab.web.settings",
        "MOCLAB_WEB_MODE": "production",
        "MOCLAB_SECRET_KEY": "p" * 20 + "roduction-only-key-for-this-test-0123456789",
        "MOCLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.DEBUG)",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert shown.stdout.split() == ["True", "True", "True", "31536000", "False"], shown.stderr


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "moclab.web.settings"}
    done = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "set MOCLAB_SECRET_KEY" in done.stderr
    assert os.environ.get("MOCLAB_WEB_MODE") == "demo"  # the tests' own settings are left alone
