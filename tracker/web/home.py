"""``/``: My decisions, the signed-in person's home (the digest's view, live).

Reads :func:`tracker.service.views.decisions.my_decisions`; each decision carries Mark
done and Snooze forms that post to :mod:`tracker.web.decide`.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from tracker.domain.calendar import LONDON
from tracker.domain.dates import format_iso
from tracker.domain.wording import snooze_until
from tracker.service.views.decisions import my_decisions
from tracker.web.auth import require_viewer
from tracker.web.context import WebContext
from tracker.web.flash import take_flash
from tracker.web.formats import FORMATS
from tracker.web.layout import signed_in_page


def snooze_days(ctx: WebContext) -> dict[str, str]:
    """The snooze field's default (a week ahead, as the digest's snooze command) and its
    earliest day (tomorrow: the service refuses today or before)."""
    today = ctx.now().astimezone(LONDON).date()
    return {
        "default": format_iso(snooze_until(today)),
        "min": format_iso(today + timedelta(days=1)),
    }


async def show(request: Request) -> Response:
    """GET /: the viewer's open decisions, overdue first. Never changes anything."""
    viewer = require_viewer(request)
    ctx: WebContext = request.app.state.web
    decisions = await my_decisions(ctx.app_for(), viewer.email)
    return signed_in_page(
        request,
        "home",
        title="My decisions",
        decisions=decisions,
        flash=take_flash(request),
        back="/",
        formats=FORMATS,
        snooze=snooze_days(ctx),
    )
