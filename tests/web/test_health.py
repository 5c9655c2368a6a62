"""``GET /healthz``: JSON with the database's status (its 503 when the database cannot be reached is tested
in tests/web/test_health_unreachable.py)."""

from __future__ import annotations

import json

from django.db import connection
from django.test import Client


def test_healthz_answers_ok_with_the_database_vendor(db: None):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "status": "ok",
        "database": {"vendor": connection.vendor, "ok": True},
    }
    assert "no-cache" in response["Cache-Control"]
    assert Client().post("/healthz").status_code == 405
