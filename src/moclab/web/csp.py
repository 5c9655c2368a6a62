"""The Content-Security-Policy header on Django 5.2, which lacks Django 6's own CSP middleware.

Django 6 (`django.middleware.csp.ContentSecurityPolicyMiddleware`) needs Python 3.12; moclab supports 3.11,
where pip installs Django 5.2 LTS. This middleware sends the same policy from the same setting
(``SECURE_CSP``: directive -> sources, written as Django 6 accepts them), so the settings switch to Django's
middleware when it is there (`moclab.web.settings`) and the policy stays one dictionary.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def policy_header(policy: dict[str, list[str]]) -> str:
    """``{"default-src": ["'self'"], ...}`` -> ``"default-src 'self'; ..."``."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Adds ``Content-Security-Policy`` (from ``SECURE_CSP``) to every response that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = policy_header(settings.SECURE_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.header
        return response
