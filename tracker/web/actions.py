"""``/act/{token}``: Mark done and Snooze from an email.

GET only shows a confirm page (mail scanners open every link and must change nothing);
the page's one button POSTs, and the POST records the decision through
:mod:`tracker.service.milestones` with the recipient as the actor and the email in the
change history. Whether the person may act and the state of the milestone are read by
:mod:`tracker.service.views.links`; this module only chooses the page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tracker.domain.calendar import LONDON
from tracker.domain.dates import format_iso, format_uk, parse_date
from tracker.domain.text import parse_optional_text
from tracker.domain.types import MilestoneStatus
from tracker.errors import InvalidOperation, InvalidValue
from tracker.service.milestones import close_milestone, snooze_milestone
from tracker.service.views.links import LinkedMilestone, linked_milestone
from tracker.web.context import WebContext
from tracker.web.pages import notice, page
from tracker.web.tokens import ACTIONS, Link, LinkRefused, Purpose

#: The snooze date offered by default: a week ahead.
SNOOZE_DAYS = 7
NOTE_LIMIT = 2000


def bad_link(refused: LinkRefused) -> Response:
    """The page for a token that cannot be used: nothing was changed, the next digest
    has fresh links."""
    return notice(
        "This link cannot be used",
        f"The link in your email cannot be used: {refused.reason}. Nothing has been changed.",
        "The next contract digest has fresh links, or ask whoever runs contract-tracker "
        "for your organisation to record the decision.",
        status=410 if refused.expired else 400,
    )


def refusal(link: Link, m: LinkedMilestone | None) -> Response | None:
    """The page for a link that must not act (gone, not theirs any more, already closed)."""
    if m is None:
        return notice(
            "This decision is no longer in the tracker",
            "Its contract has been removed from contract-tracker, so there is nothing to "
            "do. Nothing has been changed.",
            status=410,
        )
    if not m.involves(link.recipient):
        people = [("Owner", m.owner), ("Sponsor", m.sponsor)]
        people += [("Watcher", w) for w in m.watchers]
        return notice(
            "You can no longer act on this decision",
            f"{link.recipient} is no longer the owner, sponsor or a watcher of {m.ref}, "
            "so this link cannot be used. Nothing has been changed.",
            f"The people on {m.ref} now are:",
            status=403,
            caption=f"{m.ref} · {m.kind_label}",
            people=tuple((label, person) for label, person in people if person),
        )
    if not m.is_open:
        return already_closed(m)
    return None


def already_closed(m: LinkedMilestone) -> Response:
    word = {MilestoneStatus.DONE: "done", MilestoneStatus.CANCELLED: "cancelled"}
    state = word.get(m.status, "closed")
    when = f" on {format_uk(m.closed_at.astimezone(LONDON).date())}" if m.closed_at else ""
    note = f' The note says: "{m.closed_note}".' if m.closed_note else ""
    return notice(
        f"This decision is already {state}",
        f"{m.ref}: {m.kind_label} (due {format_uk(m.due)}) was {state}{when}.{note}",
        "Nothing has been changed, and no more reminders are sent about it.",
        caption=f"{m.ref} · {m.kind_label}",
    )


async def _resolve(ctx: WebContext, token: str) -> tuple[Link, LinkedMilestone] | Response:
    """The verified link and its milestone now, or the page that says why not."""
    try:
        link = ctx.verify(token, ACTIONS)
    except LinkRefused as refused:
        return bad_link(refused)
    assert link.milestone_id is not None
    m = await linked_milestone(ctx.app_for(), link.milestone_id)
    refused_page = refusal(link, m)
    if refused_page is not None:
        return refused_page
    assert m is not None
    return link, m


def confirm(
    ctx: WebContext,
    link: Link,
    m: LinkedMilestone,
    *,
    note: str = "",
    until: str = "",
    failed: dict[str, str] | None = None,
) -> Response:
    today = ctx.now().astimezone(LONDON).date()
    failed = failed or {}
    done = link.purpose == Purpose.DONE
    return page(
        "confirm",
        400 if failed else 200,
        title=("Mark done" if done else "Snooze") + f": {m.ref}",
        done=done,
        m=m,
        recipient=link.recipient,
        moved_from=link.due if link.due and link.due != m.due else None,
        note=note,
        until=until or format_iso(today + timedelta(days=SNOOZE_DAYS)),
        until_min=format_iso(today + timedelta(days=1)),
        failed=failed,
        errors=[{"field": name, "text": text} for name, text in failed.items()],
    )


async def show(request: Request) -> Response:
    """GET: the confirm page. Never changes anything."""
    ctx: WebContext = request.app.state.web
    resolved = await _resolve(ctx, request.path_params["token"])
    if isinstance(resolved, Response):
        return resolved
    return confirm(ctx, *resolved)


async def record(request: Request) -> Response:
    """POST: record the decision once; a second POST of the same form changes nothing."""
    ctx: WebContext = request.app.state.web
    resolved = await _resolve(ctx, request.path_params["token"])
    if isinstance(resolved, Response):
        return resolved
    link, m = resolved
    form = await request.form()
    note_text = str(form.get("note") or "")
    until_text = str(form.get("until") or "")
    try:
        note = parse_optional_text(note_text, "note", max_length=NOTE_LIMIT, multiline=True)
    except InvalidValue as exc:
        return confirm(
            ctx,
            link,
            m,
            note=note_text,
            until=until_text,
            failed={"note": f"The note {exc.reason}"},
        )
    app = ctx.app_for(link.recipient)
    day = link.issued.astimezone(LONDON).date()
    channel = f"by {link.recipient} from the email of {format_uk(day)}"
    try:
        if link.purpose == Purpose.DONE:
            status = MilestoneStatus.DONE
            await close_milestone(app, **_target(m), status=status, note=note, channel=channel)
        else:
            until = parse_date(until_text, "until")
            await snooze_milestone(app, **_target(m), until=until, note=note, channel=channel)
    except InvalidValue as exc:
        reason = (
            f"The date {exc.reason}"
            if until_text.strip()
            else "Enter the day to hold reminders until"
        )
        return confirm(ctx, link, m, note=note_text, until=until_text, failed={"until": reason})
    except InvalidOperation:
        return await _unchanged(ctx, link, m)
    return await _result(ctx, link, m.milestone_id, channel)


def _target(m: LinkedMilestone) -> dict[str, Any]:
    """The milestone by its id, as the services take it (``tracker milestone done ID``)."""
    return {"ref": None, "kind": None, "milestone_id": m.milestone_id}


async def _unchanged(ctx: WebContext, link: Link, before: LinkedMilestone) -> Response:
    """A second POST (or a race lost to another): say what the milestone is now."""
    now = await linked_milestone(ctx.app_for(), before.milestone_id)
    if now is None or not now.is_open:
        return refusal(link, now) or already_closed(before)
    until = format_uk(now.snoozed_until) if now.snoozed_until else "a later day"
    return notice(
        f"Already snoozed until {until}",
        f"Reminders about {now.ref}: {now.kind_label} are already held until {until}. "
        "Nothing has been changed.",
        caption=f"{now.ref} · {now.kind_label}",
    )


async def _result(ctx: WebContext, link: Link, milestone_id: int, channel: str) -> Response:
    m = await linked_milestone(ctx.app_for(), milestone_id)
    assert m is not None
    if link.purpose == Purpose.DONE:
        heading, recorded, note = "Marked done", "done", m.closed_note
        next_step = "No more reminders will be sent about it, and it leaves the digest."
    else:
        until = format_uk(m.snoozed_until) if m.snoozed_until else ""
        heading, recorded, note = f"Snoozed until {until}", f"snoozed until {until}", m.snooze_note
        next_step = (
            f"No reminders about it until {until}; then they resume while it is still open. "
            f"The due date stays {format_uk(m.due)}, and the digest lists it as snoozed."
        )
    return page(
        "result",
        title=heading,
        heading=heading,
        m=m,
        recipient=link.recipient,
        summary=f"Recorded in the contract's history: {recorded} {channel}.",
        note=note,
        next_step=next_step,
    )
