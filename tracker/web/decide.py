"""``POST /contracts/{ref}/milestones/{kind}/done|snooze``: the home and contract pages'
Mark done and Snooze buttons.

Each form carries the CSRF field (checked by :mod:`tracker.web.csrf`) and comes from our
own origin (checked for every POST by :class:`tracker.web.security.SameSitePosts`); the milestone must be on a contract
the viewer may see (:func:`tracker.service.views.contract_page.actionable_milestone`),
else the answer is the contract page's 404 and nothing changes. The decision is recorded
by :mod:`tracker.service.milestones`, as the CLI and the email's links record it, with
the viewer as the actor and "on the web" in the change history; then the browser goes
back to the page it came from, which says what happened (post/redirect/get).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tracker.domain.dates import format_uk, parse_date
from tracker.domain.text import parse_optional_text
from tracker.domain.types import MilestoneStatus
from tracker.errors import InvalidOperation, InvalidValue
from tracker.service.milestones import MAX_ID, close_milestone, snooze_milestone
from tracker.service.views.contract_page import actionable_milestone
from tracker.service.views.links import LinkedMilestone, linked_milestone
from tracker.web.actions import NOTE_LIMIT
from tracker.web.auth import Viewer, require_viewer
from tracker.web.context import WebContext
from tracker.web.contract import not_found
from tracker.web.flash import flash


def channel(viewer: Viewer) -> str:
    """How a decision made on these pages is described in the change history."""
    return f"by {viewer.email} on the web"


async def done(request: Request) -> Response:
    return await _act(request, snooze=False)


async def snooze(request: Request) -> Response:
    return await _act(request, snooze=True)


async def _act(request: Request, *, snooze: bool) -> Response:
    viewer = require_viewer(request)
    ctx: WebContext = request.app.state.web
    ref, kind = request.path_params["ref"], request.path_params["kind"]
    form = await request.form()
    milestone_id = _id(str(form.get("milestone") or ""))
    back = _back(str(form.get("back") or ""), ref)
    target = await actionable_milestone(
        ctx.app_for(), ref, kind, milestone_id, viewer.email, viewer.admin
    )
    if target is None:
        return not_found()
    app = ctx.app_for(viewer.email)
    try:
        note = parse_optional_text(
            str(form.get("note") or ""), "note", max_length=NOTE_LIMIT, multiline=True
        )
        ids: dict[str, Any] = {"ref": None, "kind": None, "milestone_id": target, "note": note}
        if snooze:
            until = parse_date(str(form.get("until") or ""), "until")
            await snooze_milestone(app, **ids, until=until, channel=channel(viewer))
        else:
            status = MilestoneStatus.DONE
            await close_milestone(app, **ids, status=status, channel=channel(viewer))
    except InvalidValue as exc:
        flash(request, "error", "Nothing has been changed", _invalid(exc, snooze))
    except InvalidOperation:
        await _unchanged(request, ctx, target)
    else:
        await _recorded(request, ctx, target, snooze)
    return RedirectResponse(back, status_code=303)


def _id(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def _back(asked: str, ref: str) -> str:
    """Where to return: the home or this contract's page, nowhere else."""
    return asked if asked in ("/", f"/contracts/{ref}") else "/"


def _invalid(exc: InvalidValue, snooze: bool) -> str:
    if snooze and exc.field in ("until", "--until"):
        return f"The snooze date {exc.reason}. Choose a day after today."
    return f"The note {exc.reason}."


def _label(m: LinkedMilestone) -> str:
    return f"{m.ref}: {m.kind_label} (due {format_uk(m.due)})"


async def _recorded(request: Request, ctx: WebContext, milestone_id: int, snooze: bool) -> None:
    m = await linked_milestone(ctx.app_for(), milestone_id)
    assert m is not None
    if snooze and m.snoozed_until:
        until = format_uk(m.snoozed_until)
        text = f"{_label(m)}: no reminders until {until}; then they resume while it is open."
        flash(request, "success", f"Snoozed until {until}", text)
    else:
        text = f"{_label(m)} is done. No more reminders will be sent about it."
        flash(request, "success", "Marked done", text)


async def _unchanged(request: Request, ctx: WebContext, milestone_id: int) -> None:
    """A second POST (or a race lost to someone else): say what the milestone is now."""
    m = await linked_milestone(ctx.app_for(), milestone_id)
    if m is None:
        flash(request, "info", "Nothing has been changed", "The decision is no longer there.")
    elif not m.is_open:
        text = f"{_label(m)} is already {m.status.value}. Nothing has been changed."
        flash(request, "info", f"Already {m.status.value}", text)
    else:
        until = format_uk(m.snoozed_until) if m.snoozed_until else "a later day"
        text = (
            f"Reminders about {_label(m)} are already held until {until}. Nothing has been changed."
        )
        flash(request, "info", f"Already snoozed until {until}", text)
