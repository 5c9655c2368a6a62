"""Remember the request's user for the audit signals, which Django calls without the request."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

_user: contextvars.ContextVar[Any] = contextvars.ContextVar("moclab_audit_user", default=None)


def current_user() -> Any:
    """The user of the request being handled, or None outside a request."""
    return _user.get()


class AuditUserMiddleware:
    """Sets `current_user` for the duration of each request (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _user.set(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            _user.reset(token)
