"""``tracker calendar``: milestones as an iCalendar file for Outlook, Google or Apple Calendar.

Managers live in their calendars, so the deadlines should be there too, and stay
right as contracts change. What makes a re-import update rather than duplicate:

* **UID** is the milestone's id (``milestone-14@contract-tracker``): stored milestones
  are never deleted (a derived one that no longer applies is cancelled), so an id
  names one milestone for good. The suffix is fixed rather than taken from the mail
  settings so that changing ``mail_from`` cannot re-key every event.
* **SEQUENCE** is derived from the contract's change log, without a table of its own:
  the number of ``milestone_moved`` and ``milestone_cancelled`` events of the
  milestone's contract that name its kind and were logged since it was created. The
  log is append-only, so the number never goes down, and every move of the date and
  every cancellation raises it, which is what a client needs to accept the update.
  A move of a sibling of the same kind (two funding confirmations) also raises it:
  harmless, the client re-reads an unchanged event. ``updated_at`` was not used
  because moving a derived milestone's date does not always touch it.
* Open milestones are ``STATUS:CONFIRMED`` with alarms at the policy's lead days (the
  contract's own policy where set), cancelled ones ``STATUS:CANCELLED`` so clients
  drop them; done ones are left out (nothing left to do).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event
from sqlalchemy import select

from tracker.domain.dates import format_uk
from tracker.domain.types import MilestoneKind, MilestoneStatus
from tracker.service.app import App
from tracker.service.contracts import load_contract
from tracker.service.reminders.policy import contract_policy
from tracker.service.views.contracts import MilestoneView, milestone_views
from tracker.store.models import ContractRow, EventRow, MilestoneRow

PRODID = "-//contract-tracker//milestone calendar//EN"
UID_DOMAIN = "contract-tracker"
CALENDAR_NAME = "Contract milestones"

#: Change-log kinds that alter a milestone's date or status (and so its SEQUENCE).
CHANGE_EVENTS = ("milestone_moved", "milestone_cancelled")


@dataclass(frozen=True)
class FeedEntry:
    """One milestone as it goes into the feed, with what the pure renderer needs."""

    milestone: MilestoneView
    contract_title: str
    provider: str
    leads: tuple[int, ...]
    sequence: int


@dataclass(frozen=True)
class CalendarFeed:
    name: str
    ics: bytes
    events: int
    cancelled: int


def milestone_uid(milestone_id: int) -> str:
    return f"milestone-{milestone_id}@{UID_DOMAIN}"


def change_count(milestone: MilestoneRow, ref: str, events: Sequence[EventRow]) -> int:
    """SEQUENCE: the logged moves and cancellations of this milestone's kind since it was created.

    Matches the detail texts written by ``derive.sync_milestones`` (``contract_end moved
    from ...``, ``contract_end: no longer applies ...``) and ``milestone cancel``
    (``REF: contract_end due ... cancelled``).
    """
    kind = milestone.kind
    prefixes = (f"{kind} moved from ", f"{kind}: ", f"{ref}: {kind} due ")
    return sum(
        1
        for event in events
        if event.kind in CHANGE_EVENTS
        and event.at >= milestone.created_at
        and event.detail.startswith(prefixes)
    )


def _description(entry: FeedEntry) -> str:
    """What the decision is, what happens if it is missed, and the command that closes it."""
    m = entry.milestone
    lines = [f"{m.ref}: {entry.contract_title} ({entry.provider})", f"Due: {format_uk(m.due)}"]
    if m.status == MilestoneStatus.CANCELLED:
        lines.append(
            "Cancelled" + (f": {m.closed_note}" if m.closed_note else "") + ". Nothing to do."
        )
    elif m.is_decision:
        lines.append(f"Decision: {m.title}")
        if m.if_missed:
            lines.append(f"If missed: {m.if_missed}")
    else:
        lines.append(f"Date: {m.title} (a dated fact, not a decision)")
        if m.if_missed:
            lines.append(f"If not ready: {m.if_missed}")
    if m.note:
        lines.append(f"Note: {m.note}")
    if m.command:
        lines.append(f"When decided, close it with: {m.command}")
    return "\n".join(lines)


def _event(entry: FeedEntry, now: datetime) -> Event:
    m = entry.milestone
    event = Event()
    event.add("uid", milestone_uid(m.id))
    event.add("dtstamp", now)
    event.add("sequence", entry.sequence)
    event.add("dtstart", m.due)  # a date: an all-day event (VALUE=DATE)
    event.add("dtend", m.due + timedelta(days=1))
    event.add("summary", f"{m.ref}: {m.title}")
    event.add("description", _description(entry))
    event.add("categories", [m.kind.value])
    event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: the day stays free
    cancelled = m.status == MilestoneStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if not cancelled:
        for lead in entry.leads:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{m.ref}: {m.title} (due {format_uk(m.due)})")
            alarm.add("trigger", timedelta(days=-lead))
            event.add_component(alarm)
    return event


def render_feed(entries: Sequence[FeedEntry], *, name: str, now: datetime) -> bytes:
    """The VCALENDAR text (CRLF lines, folded as RFC 5545 requires)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for entry in entries:
        calendar.add_component(_event(entry, now))
    ics: bytes = calendar.to_ical()
    return ics


def _entries(row: ContractRow, app: App, events: Sequence[EventRow]) -> list[FeedEntry]:
    stored = {m.id: m for m in row.milestones}
    entries = []
    for view in milestone_views(row, app.today):
        if view.status not in (MilestoneStatus.OPEN, MilestoneStatus.CANCELLED):
            continue
        rule = contract_policy(app.policy, row.policies, MilestoneKind(view.kind))
        entries.append(
            FeedEntry(
                milestone=view,
                contract_title=row.title,
                provider=row.provider,
                leads=rule.leads,
                sequence=change_count(stored[view.id], row.ref, events),
            )
        )
    return entries


async def calendar_feed(
    app: App, *, owner: str | None = None, ref: str | None = None
) -> CalendarFeed:
    """Open and cancelled milestones of all contracts, or of one ``ref`` / one ``owner``'s.

    ``owner`` must already be a parsed address; it is compared ignoring case, as mail
    systems treat addresses, so ``Ann@x.org`` finds the contracts of ``ann@x.org``.
    """
    async with app.session() as session:
        if ref is not None:
            rows = [await load_contract(session, ref)]
        else:
            rows = list(
                (await session.execute(select(ContractRow).order_by(ContractRow.ref))).scalars()
            )
        if owner is not None:
            rows = [
                r for r in rows if r.owner is not None and r.owner.casefold() == owner.casefold()
            ]
        ids = {row.id for row in rows}
        statement = select(EventRow).where(EventRow.kind.in_(CHANGE_EVENTS))
        if ref is not None or owner is not None:
            # Filtered feeds are a handful of contracts; the whole feed reads the whole log.
            statement = statement.where(EventRow.contract_id.in_(sorted(ids)))
        log = (await session.execute(statement.order_by(EventRow.at, EventRow.id))).scalars()
        by_contract: dict[int, list[EventRow]] = {}
        for event in log:
            if event.contract_id in ids:
                by_contract.setdefault(event.contract_id, []).append(event)
        entries = [
            entry for row in rows for entry in _entries(row, app, by_contract.get(row.id, []))
        ]
    entries.sort(
        key=lambda e: (e.milestone.due, e.milestone.ref, e.milestone.kind.value, e.milestone.id)
    )
    name = CALENDAR_NAME + "".join(f": {part}" for part in (ref, owner) if part)
    cancelled = sum(1 for e in entries if e.milestone.status == MilestoneStatus.CANCELLED)
    return CalendarFeed(
        name=name,
        ics=render_feed(entries, name=name, now=app.now),
        events=len(entries),
        cancelled=cancelled,
    )
