"""``tracker calendar``: milestones as an iCalendar file for Outlook, Google or Apple Calendar.

Managers live in their calendars, so the deadlines should be there too, and stay
right as contracts change. What makes a re-import update rather than duplicate:

* **UID** is the milestone's id and the installation's
  (``milestone-14.3f2a9c01b7e4@contract-tracker``): stored milestones are never deleted
  (a derived one that no longer applies is cancelled), so an id names one milestone for
  good, and the installation's random id keeps two authorities' feeds apart in one
  calendar. The domain is fixed rather than taken from the mail settings so that
  changing ``mail_from`` cannot re-key every event.
* **SEQUENCE** is derived from the contract's change log, without a table of its own:
  the number of logged events that changed this milestone's date or status
  (``tracker.domain.types.MILESTONE_CHANGES``: moved, cancelled, re-opened, done),
  counted by the milestone each event names. The log is append-only, so the number
  never goes down, and every change a client must accept raises it.
* Open milestones are ``STATUS:CONFIRMED`` with alarms at the policy's lead days (the
  contract's own policy where set), cancelled ones ``STATUS:CANCELLED`` so clients
  drop them; done ones are left out (nothing left to do).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.dates import format_uk
from tracker.domain.types import MILESTONE_CHANGES, MilestoneKind, MilestoneStatus
from tracker.service.app import App
from tracker.service.contracts import load_contract
from tracker.service.reminders.policy import contract_policy
from tracker.service.views.access import visible_to
from tracker.service.views.contracts import MilestoneView, milestone_views
from tracker.store.installation import installation_uid
from tracker.store.models import ContractRow, EventRow

PRODID = "-//contract-tracker//milestone calendar//EN"
UID_DOMAIN = "contract-tracker"
CALENDAR_NAME = "Contract milestones"
#: Hex digits of the installation id in a UID: enough that two installations never meet.
INSTALLATION_DIGITS = 12


@dataclass(frozen=True)
class FeedEntry:
    """One milestone as it goes into the feed, with what the pure renderer needs."""

    milestone: MilestoneView
    uid: str
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


def milestone_uid(milestone_id: int, installation: str) -> str:
    """``milestone-14.3f2a9c01b7e4@contract-tracker`` for installation ``3f2a9c01b7e4...``."""
    return f"milestone-{milestone_id}.{installation[:INSTALLATION_DIGITS]}@{UID_DOMAIN}"


async def change_counts(
    session: AsyncSession, contract_ids: Sequence[int] | None
) -> dict[int, int]:
    """SEQUENCE by milestone id: its logged changes of date or status (none: absent).

    ``contract_ids`` narrows the count to a filtered feed's contracts; None counts all.
    """
    statement = (
        select(EventRow.milestone_id, func.count())
        .where(
            EventRow.milestone_id.is_not(None),
            EventRow.kind.in_(sorted(MILESTONE_CHANGES)),
        )
        .group_by(EventRow.milestone_id)
    )
    if contract_ids is not None:
        statement = statement.where(EventRow.contract_id.in_(contract_ids))
    rows = (await session.execute(statement)).all()
    return {milestone: count for milestone, count in rows if milestone is not None}


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
    event.add("uid", entry.uid)
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


def _entries(
    row: ContractRow, app: App, sequences: dict[int, int], installation: str
) -> list[FeedEntry]:
    entries = []
    for view in milestone_views(row, app.today):
        if view.status not in (MilestoneStatus.OPEN, MilestoneStatus.CANCELLED):
            continue
        rule = contract_policy(app.policy, row.policies, MilestoneKind(view.kind))
        entries.append(
            FeedEntry(
                milestone=view,
                uid=milestone_uid(view.id, installation),
                contract_title=row.title,
                provider=row.provider,
                leads=rule.leads,
                sequence=sequences.get(view.id, 0),
            )
        )
    return entries


async def calendar_feed(
    app: App,
    *,
    owner: str | None = None,
    ref: str | None = None,
    viewer: tuple[str, bool] | None = None,
) -> CalendarFeed:
    """Open and cancelled milestones of all contracts, or of one ``ref`` / one ``owner``'s,
    or of the contracts one person (``viewer``: address, admin) may see in the web app.

    ``owner`` must already be a parsed address; it is compared ignoring case, as mail
    systems treat addresses, so ``Ann@x.org`` finds the contracts of ``ann@x.org``.
    """
    async with app.session() as session:
        if ref is not None:
            rows = [await load_contract(session, ref)]
        else:
            statement = select(ContractRow).order_by(ContractRow.ref)
            if viewer is not None:
                statement = statement.where(visible_to(*viewer))
            rows = list((await session.execute(statement)).scalars())
        if owner is not None:
            rows = [
                r for r in rows if r.owner is not None and r.owner.casefold() == owner.casefold()
            ]
        # Filtered feeds are a handful of contracts; the whole feed counts the whole log.
        filtered = ref is not None or owner is not None or viewer is not None
        sequences = await change_counts(session, sorted(r.id for r in rows) if filtered else None)
    installation = await installation_uid(app.session, app.now)
    entries = [entry for row in rows for entry in _entries(row, app, sequences, installation)]
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
