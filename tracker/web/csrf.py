"""Cross-site request forgery: every form a signed-in person posts carries a token.

asgi-csrf (a well-kept middleware) sets a signed double-submit cookie and checks the
form's ``csrftoken`` field on every POST that comes with cookies. Pages render the field
with :func:`csrf_token` (see ``_parts.html``'s ``csrf`` macro).

The email links' forms (``/act/…``, ``/digest/…``) are left to their own guard: the
signed token in the URL is the credential, and a mail provider's RFC 8058 one-click POST
comes with no cookie and no page. Every POST, those included, is also checked against
the base URL's origin (:func:`tracker.web.security.same_site`).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from asgi_csrf import asgi_csrf  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.types import ASGIApp, Scope, Send

from tracker.web.pages import notice

CSRF_COOKIE = "tracker_csrf"
CSRF_FIELD = "csrftoken"
#: Paths whose forms are authorised by the signed token in the URL.
_TOKEN_PATHS = ("/act/", "/digest/")


def _token_form(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith(_TOKEN_PATHS)


async def _refused(scope: Scope, send: Send, _message_id: Any) -> None:
    """Our own page for a form that failed the check (the library's default is bare)."""
    response = notice(
        "This form has expired",
        "The page was open too long, or the form came from another site. Nothing has "
        "been changed. Go back, reload the page and try again.",
        status=403,
    )

    async def no_receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    await response(scope, no_receive, send)


def with_csrf(app: ASGIApp, secret: str, base_url: str) -> ASGIApp:
    """``app`` behind asgi-csrf, keyed from the secret for this one purpose."""
    key = hashlib.sha256(b"tracker csrf\x00" + secret.encode()).hexdigest()
    wrapped: ASGIApp = asgi_csrf(
        app,
        cookie_name=CSRF_COOKIE,
        signing_secret=key,
        skip_if_scope=_token_form,
        cookie_secure=urlsplit(base_url).scheme == "https",
        cookie_samesite="Lax",
        send_csrf_failed=_refused,
    )
    return wrapped


def csrf_token(request: Request) -> str:
    """The token a form posts back in its ``csrftoken`` field."""
    make = request.scope.get("csrftoken")
    return str(make()) if callable(make) else ""
