"""What django-axes needs from us: the client's address behind our proxies, and the lockout's answer.

The counting and the refusing are django-axes' own (settings in base.py, "Sign-in throttling").
"""

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render

from reports.http import error_response

LOCKED_OUT = "Too many failed sign-ins: signing in is refused for {minutes} minutes after the last failure."


def client_address(request) -> str | None:
    """The address of the client, as the TRUSTED_PROXY_COUNT proxies in front of us saw it.

    Each proxy appends the address it was reached from to X-Forwarded-For, so the last
    TRUSTED_PROXY_COUNT entries are written by our own proxies; anything before them is the
    client's to invent.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response, credentials):
    """429: the JSON error body for an HTTP Basic client (a script), the admin's page for a person."""
    cool_off_seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = LOCKED_OUT.format(minutes=cool_off_seconds // 60)
    if request.headers.get("Authorization", "").startswith("Basic "):
        response = error_response(message, status=429)
    else:
        context = {**admin.site.each_context(request), "title": "Signing in is refused", "message": message}
        response = render(request, "admin/login_locked_out.html", context, status=429)
    response["Retry-After"] = str(cool_off_seconds)
    return response
