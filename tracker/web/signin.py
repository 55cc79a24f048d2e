"""``/sign-in``: ask for a link by email, the link's Continue page, and ``/sign-out``.

The form answers every address the same way (known or not, over the limit or not) and
the email is sent after the answer has gone, so the page tells nobody who is known. The
emailed link's GET only shows a Continue button (mail scanners open links); its POST
signs in, once, and goes on to the page the person asked for (:func:`safe_next`).
Single sign-on would be one more pair of routes ending in :func:`sign_in_as`.
"""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tracker.domain.emails import parse_email
from tracker.domain.signin import LINK_MINUTES
from tracker.errors import InvalidValue
from tracker.service.signin import link_is_usable, redeem_link, request_link, send_sign_in
from tracker.web.auth import safe_next, sign_in_as, sign_out, viewer_of
from tracker.web.context import WebContext
from tracker.web.layout import signed_in_page
from tracker.web.pages import notice
from tracker.web.tokens import redact

log = logging.getLogger("tracker.web")

_ENTER = "Enter your email address, like name@example.org"


def _form(request: Request, *, next_path: str, email: str = "", error: str = "") -> Response:
    return signed_in_page(
        request,
        "sign_in",
        400 if error else 200,
        title="Sign in",
        next_path=next_path,
        email=email,
        signed_out=request.query_params.get("signed-out") == "1",
        errors=[{"field": "email", "text": error}] if error else [],
    )


async def form(request: Request) -> Response:
    """GET /sign-in: the form (``next``: where to go afterwards)."""
    return _form(request, next_path=safe_next(request.query_params.get("next")))


async def ask(request: Request) -> Response:
    """POST /sign-in: count the request, make a link for a known person, and answer the
    same "check your email" page whatever happened."""
    ctx: WebContext = request.app.state.web
    data = await request.form()
    typed = str(data.get("email") or "")[:400]
    next_path = safe_next(str(data.get("next") or ""))
    try:
        email = parse_email(typed, "email")
    except InvalidValue:
        return _form(request, next_path=next_path, email=typed, error=_ENTER)
    app = ctx.app_for()
    client = request.client.host if request.client else "-"
    asked = await request_link(app, email, client, next_path, ctx.base_url)
    task = None
    if asked.email is not None:
        message = asked.email

        async def send() -> None:
            reply = await send_sign_in(app, message)
            log.info("sign-in link %s: %s", redact(message.url.rpartition("/")[2]), reply)

        task = BackgroundTask(send)
    elif asked.limited:
        log.info("sign-in request over the hourly limit (client %s)", client)
    response = signed_in_page(
        request, "check_email", title="Check your email", email=email, minutes=LINK_MINUTES
    )
    response.background = task
    return response


def _unusable() -> Response:
    return notice(
        "This sign-in link cannot be used",
        f"Sign-in links work once, for {LINK_MINUTES} minutes. This one has been used, has "
        "expired, or was not copied whole.",
        "Ask for a new link on the sign-in page.",
        status=410,
    )


async def show_link(request: Request) -> Response:
    """GET /sign-in/{token}: a Continue button (changes nothing: scanners open links)."""
    ctx: WebContext = request.app.state.web
    if not await link_is_usable(ctx.app_for(), request.path_params["token"]):
        return _unusable()
    return signed_in_page(request, "continue", title="Sign in")


async def use_link(request: Request) -> Response:
    """POST /sign-in/{token}: sign in, once, and go on to the page asked for."""
    ctx: WebContext = request.app.state.web
    used = await redeem_link(ctx.app_for(), request.path_params["token"])
    if used is None:
        return _unusable()
    email, next_path = used
    sign_in_as(request, email)
    return RedirectResponse(safe_next(next_path), status_code=303)


async def leave(request: Request) -> Response:
    """POST /sign-out: end the session."""
    if viewer_of(request) is not None:
        sign_out(request)
    return RedirectResponse("/sign-in?signed-out=1", status_code=303)
