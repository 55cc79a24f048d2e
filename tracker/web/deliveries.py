"""``/deliveries`` (admins only): failed and retrying reminders with the server's reply.

The same rows as ``tracker reminders --failed`` (and the retrying ones, planned again
after a temporary failure), from :func:`tracker.service.views.reminders.list_reminders`.
Anyone else gets the 404 an unknown address gets: the page's existence is not news.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tracker.domain.dates import format_london
from tracker.service.views.reminders import Listing, list_reminders
from tracker.web.auth import require_viewer
from tracker.web.context import WebContext
from tracker.web.layout import signed_in_page


async def show(request: Request) -> Response:
    viewer = require_viewer(request)
    if not viewer.admin:
        raise HTTPException(404)
    web: WebContext = request.app.state.web
    app = web.app_for(viewer.email)
    failed = await list_reminders(app, Listing.FAILED)
    retrying = await list_reminders(app, Listing.RETRYING)
    return signed_in_page(
        request,
        "deliveries",
        title="Deliveries",
        failed=failed,
        retrying=retrying,
        when=format_london,
    )
