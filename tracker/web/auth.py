"""Who is signed in: the session cookie, the viewer it names, and the sign-in seam.

A session is Starlette's signed cookie (itsdangerous, keyed from TRACKER_SECRET_KEY
under its own purpose), HttpOnly, SameSite=Lax, Secure when the base URL is https, and
good for 14 days. It holds only the signed-in address: what that person may see is
decided per request from the database (:mod:`tracker.service.views.access`), so a
handover or a removed watcher takes effect at once.

Sign-in methods are interchangeable: the emailed link (``tracker.web.signin``) proves an
address and calls :func:`sign_in_as`. Single sign-on (OIDC, e.g. Microsoft Entra ID)
would be one more route that verifies the provider's token and calls the same function;
nothing else changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp

#: How long a session lasts without signing in again.
SESSION_DAYS = 14
SESSION_COOKIE = "tracker_session"
_SESSION_KEY = "email"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: their address and whether they are an admin
    (TRACKER_ADMINS), who sees and acts on every contract."""

    email: str
    admin: bool


class SignInRequired(Exception):
    """A page needs a signed-in person; carries where to go back to afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def session_key(secret: str) -> str:
    """The session cookie's signing key: derived from the secret for this one purpose, so a
    session cookie can never pass as a link token or the other way round."""
    return hashlib.sha256(b"tracker session cookie\x00" + secret.encode()).hexdigest()


def with_sessions(app: ASGIApp, secret: str, base_url: str) -> ASGIApp:
    """``app`` behind the session cookie middleware, with the cookie's rules."""
    return SessionMiddleware(
        app,
        secret_key=session_key(secret),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_DAYS * 24 * 3600,
        same_site="lax",
        https_only=urlsplit(base_url).scheme == "https",
    )


def viewer_of(request: Request) -> Viewer | None:
    """The signed-in person, or None."""
    email = request.session.get(_SESSION_KEY)
    if not isinstance(email, str) or not email:
        return None
    admins = request.app.state.web.base.settings.admins
    return Viewer(email=email, admin=email in admins)


def require_viewer(request: Request) -> Viewer:
    """The signed-in person; else :class:`SignInRequired`, which sends them to sign in
    and back to this page afterwards."""
    viewer = viewer_of(request)
    if viewer is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    return viewer


def sign_in_as(request: Request, email: str) -> None:
    """Start a session for ``email`` (already proven by the caller). The old session's
    contents are dropped first, so nothing carries over from before sign-in."""
    request.session.clear()
    request.session[_SESSION_KEY] = email


def sign_out(request: Request) -> None:
    request.session.clear()


def safe_next(path: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never ``//other.site`` or a
    full URL: an open redirect would lend our address to phishing)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


async def to_sign_in(request: Request, exc: Exception) -> Response:
    """Exception handler for :class:`SignInRequired`: 303 to the sign-in form."""
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/sign-in?next={quote(exc.next_path, safe='')}", status_code=303)
