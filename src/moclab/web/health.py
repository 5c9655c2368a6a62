"""``GET /healthz``: whether the platform answers and reaches its database, as JSON (no login needed)."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok", "database": {"vendor": "postgresql", "ok": true}}``, or status 503 with
    ``"status": "unavailable"`` and ``"ok": false`` when the database cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        reachable = True
    except DatabaseError:
        reachable = False
    body = {
        "status": "ok" if reachable else "unavailable",
        "database": {"vendor": connection.vendor, "ok": reachable},
    }
    return JsonResponse(body, status=200 if reachable else 503)
