"""``/contracts/{ref}``: one contract as ``tracker show`` describes it, for a viewer who
owns, sponsors or watches it (admins: any). Any other ref is the same 404 as one that
does not exist (:func:`not_found`), so refs do not leak."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker.domain.types import MilestoneStatus
from tracker.service.views.contract_page import contract_page
from tracker.web.auth import require_viewer
from tracker.web.context import WebContext
from tracker.web.flash import take_flash
from tracker.web.formats import FORMATS
from tracker.web.home import snooze_days
from tracker.web.layout import signed_in_page
from tracker.web.pages import notice


def not_found() -> Response:
    """The one answer for a contract that is missing or not the viewer's."""
    return notice(
        "Page not found",
        "If you typed the web address, check it is correct. If you followed a link, the "
        "contract may have been removed, or it is not one you own, sponsor or watch.",
        status=404,
    )


async def show(request: Request) -> Response:
    """GET: the contract page. Never changes anything."""
    viewer = require_viewer(request)
    ctx: WebContext = request.app.state.web
    ref = request.path_params["ref"]
    found = await contract_page(ctx.app_for(), ref, viewer.email, viewer.admin)
    if found is None:
        return not_found()
    summary = found.detail.summary
    return signed_in_page(
        request,
        "contract",
        title=f"{summary.ref}: {summary.title}",
        page=found,
        s=summary,
        open_status=MilestoneStatus.OPEN,
        flash=take_flash(request),
        back=f"/contracts/{summary.ref}",
        formats=FORMATS,
        snooze=snooze_days(ctx),
    )
