"""``/digest/{token}``: a person's digest settings, and RFC 8058 one-click opt-out.

GET shows the settings (weekly, daily, off); the form POSTs the choice. A POST whose
body is ``List-Unsubscribe=One-Click`` (what a mail client sends for the digest's
List-Unsubscribe-Post header) turns the digest off with no page. Both go through
:mod:`tracker.service.digest.recipients`, as ``tracker recipient set`` does.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tracker.errors import InvalidValue
from tracker.service.digest.recipients import digest_frequency, parse_frequency, set_recipient
from tracker.web.actions import bad_link
from tracker.web.context import WebContext
from tracker.web.pages import page
from tracker.web.tokens import Link, LinkRefused, Purpose

CHOICES = (
    ("weekly", "Weekly"),
    ("daily", "Daily"),
    ("off", "Off: no digest"),
)
_SAVED = {
    "weekly": "You will get the digest once a week.",
    "daily": "You will get the digest every working day.",
    "off": "You will not get the digest. Reminders about your own decisions still come.",
}


def _settings_page(link: Link, frequency: str, *, saved: str = "", error: str = "") -> Response:
    return page(
        "digest",
        400 if error else 200,
        title="Digest settings",
        recipient=link.recipient,
        frequency=frequency,
        choices=CHOICES,
        saved=saved,
        errors=[{"field": "frequency", "text": error}] if error else [],
    )


async def show(request: Request) -> Response:
    """GET: the settings page. Never changes anything."""
    ctx: WebContext = request.app.state.web
    try:
        link = ctx.verify(request.path_params["token"], (Purpose.DIGEST,))
    except LinkRefused as refused:
        return bad_link(refused)
    return _settings_page(link, await digest_frequency(ctx.app_for(), link.recipient))


async def save(request: Request) -> Response:
    """POST: the form's choice, or the one-click opt-out."""
    ctx: WebContext = request.app.state.web
    try:
        link = ctx.verify(request.path_params["token"], (Purpose.DIGEST,))
    except LinkRefused as refused:
        return bad_link(refused)
    form = await request.form()
    app = ctx.app_for(link.recipient)
    if form.get("List-Unsubscribe") == "One-Click":
        await set_recipient(app, link.recipient, "off", None)
        return PlainTextResponse("Digest turned off.\n")
    chosen = str(form.get("frequency") or "")
    try:
        frequency = parse_frequency(chosen)
    except InvalidValue:
        current = await digest_frequency(app, link.recipient)
        return _settings_page(link, current, error="Choose how often you want the digest")
    await set_recipient(app, link.recipient, frequency, None)
    return _settings_page(link, frequency, saved=_SAVED[frequency])
