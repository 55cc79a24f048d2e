"""What keeps the pages safe on the internet: headers on every response, the cross-site
check of every POST, and an access log that never holds a whole token.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.web.pages import notice
from tracker.web.tokens import redact

#: No script at all, styles only from our own stylesheet, forms only to ourselves, and
#: never inside another site's frame (clickjacking a "Mark done" button).
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

HEADERS = (
    (b"content-security-policy", CSP.encode()),
    # Tokens are in URLs: they must not leak to other sites in a Referer.
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)

#: Paths whose last part is a credential: emailed links, sign-in links, calendar URLs.
_TOKEN_PATH = re.compile(r"^/(act|digest|sign-in|calendar)/([^/?]+)")

log = logging.getLogger("tracker.web")


class SecurityHeaders:
    """Adds :data:`HEADERS` to every response (errors and 404s included); a response's own
    Cache-Control (the stylesheet's) is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class AccessLog:
    """One line a request, with the token cut short (uvicorn's own access log is off: it
    would write whole tokens, which are credentials, to the log)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = [0]

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            client = scope.get("client") or ("-", 0)
            log.info(
                '%s "%s %s" %d %.0fms',
                client[0],
                scope["method"],
                redacted_path(scope["path"]),
                status[0],
                (time.monotonic() - started) * 1000,
            )


def redacted_path(path: str) -> str:
    """``/act/…1a2b3c4d5e6f`` for ``/act/<whole token>`` (and the same for sign-in links
    and calendar URLs); other paths as they are."""
    return _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/{redact(m.group(2))}", path)


def same_site(request: Request, base_url: str) -> bool:
    """Whether a POST may come from our own pages: Origin (else Referer) must be the base
    URL's origin when the browser sends one.

    Our pages send ``Referrer-Policy: no-referrer``, under which browsers send
    ``Origin: null`` and no Referer on a form's POST, and a mail provider's one-click
    unsubscribe (RFC 8058) sends neither: those are let through, because the signed token
    in the URL is the credential. A page on another site that posts to us is refused.
    """
    expected = _origin(base_url)
    origin = request.headers.get("origin")
    if origin is not None and origin.strip().lower() != "null":
        return origin.strip().rstrip("/").lower() == expected
    referer = request.headers.get("referer")
    if referer:
        return _origin(referer) == expected
    return True


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site() -> Response:
    """The page for a POST from another site: refused, nothing changed."""
    return notice(
        "This form cannot be sent from another site",
        "Nothing has been changed. Open the page again from your email or from "
        "contract-tracker itself and use its button.",
        status=403,
    )


class SameSitePosts:
    """Every POST (any method but GET and HEAD) must pass :func:`same_site`, checked once
    here before any route runs, so a form added later is covered without remembering to."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.base_url = base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        posting = scope["type"] == "http" and scope["method"] not in ("GET", "HEAD")
        if posting and not same_site(Request(scope), self.base_url):
            await cross_site()(scope, receive, send)
            return
        await self.app(scope, receive, send)
