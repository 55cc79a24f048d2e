"""``/settings``: a person's digest (how often, which day, what time, or off) and their
calendar subscription URL; ``/calendar/<secret>.ics``: that calendar.

The digest settings go through :mod:`tracker.service.digest.recipients`, as ``tracker
recipient set`` does; the calendar is ``tracker calendar``'s feed of the contracts the
person may see (:mod:`tracker.service.views.access`), behind a signed secret that the
person can replace (:mod:`tracker.service.calendar_keys`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tracker.domain.digest import WEEKDAYS
from tracker.errors import InvalidValue
from tracker.service.calendar_keys import calendar_person, calendar_secret, replace_calendar_secret
from tracker.service.digest.recipients import (
    digest_schedule,
    parse_digest_day,
    parse_digest_time,
    parse_frequency,
    set_recipient,
)
from tracker.service.views.calendar import calendar_feed
from tracker.web.auth import Viewer, require_viewer
from tracker.web.context import WebContext
from tracker.web.layout import signed_in_page
from tracker.web.pages import notice

FREQUENCY_CHOICES = (
    ("weekly", "Weekly, on the day and at the time below"),
    ("daily", "Daily, at the time below"),
    ("off", "Off: no digest"),
)
_SAVED = {
    "saved": "Your digest settings are saved.",
    "calendar": "You have a new calendar address. The old one no longer works: "
    "subscribe again with the new one.",
}


async def _page(
    request: Request,
    viewer: Viewer,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    ctx: WebContext = request.app.state.web
    app = ctx.app_for()
    schedule = await digest_schedule(app, viewer.email)
    secret = await calendar_secret(app, ctx.secret, viewer.email)
    feed = f"{ctx.base_url}/calendar/{secret}.ics"
    chosen = form or {
        "frequency": schedule.frequency,
        "day": schedule.weekday,
        "time": f"{schedule.at:%H:%M}",
    }
    return signed_in_page(
        request,
        "settings",
        status,
        title="Settings",
        choices=FREQUENCY_CHOICES,
        days=WEEKDAYS,
        chosen=chosen,
        calendar_url=feed,
        webcal_url="webcal://" + feed.split("://", 1)[1],
        saved=_SAVED.get(request.query_params.get("done", ""), ""),
        errors=errors or [],
        failed={e["field"]: e["text"] for e in errors or []},
    )


async def show(request: Request) -> Response:
    """GET /settings."""
    return await _page(request, require_viewer(request))


async def save(request: Request) -> Response:
    """POST /settings: the digest's frequency, day and time (all or nothing)."""
    ctx: WebContext = request.app.state.web
    viewer = require_viewer(request)
    data = await request.form()
    form = {name: str(data.get(name) or "")[:40] for name in ("frequency", "day", "time")}
    errors = []
    parsed: dict[str, str] = {}
    checks = (
        ("frequency", parse_frequency, "Choose how often you want the digest"),
        ("day", parse_digest_day, "Choose a day of the week"),
        ("time", parse_digest_time, "Enter a time of day like 08:00"),
    )
    for name, parse, message in checks:
        try:
            parsed[name] = parse(form[name])
        except InvalidValue:
            errors.append({"field": name, "text": message})
    if errors:
        return await _page(request, viewer, status=400, form=form, errors=errors)
    app = ctx.app_for(viewer.email)
    await set_recipient(app, viewer.email, parsed["frequency"], parsed["time"], parsed["day"])
    return RedirectResponse("/settings?done=saved", status_code=303)


async def new_calendar_url(request: Request) -> Response:
    """POST /settings/calendar: replace the calendar URL's secret (the old URL stops)."""
    ctx: WebContext = request.app.state.web
    viewer = require_viewer(request)
    await replace_calendar_secret(ctx.app_for(viewer.email), ctx.secret, viewer.email)
    return RedirectResponse("/settings?done=calendar", status_code=303)


async def calendar(request: Request) -> Response:
    """GET /calendar/<secret>.ics: the person's calendar, or 404 for any other secret."""
    ctx: WebContext = request.app.state.web
    app = ctx.app_for()
    email = await calendar_person(app, ctx.secret, request.path_params["secret"])
    if email is None:
        return notice("Page not found", "There is no calendar at this address.", status=404)
    admin = email in app.settings.admins
    feed = await calendar_feed(app, viewer=(email, admin))
    return Response(feed.ics, media_type="text/calendar; charset=utf-8")
