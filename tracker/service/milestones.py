"""Manual milestones and closing milestones (done or cancelled) by ref and kind or by id."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.dates import format_uk
from tracker.domain.milestones import effective_status
from tracker.domain.types import EventKind, MilestoneKind, MilestoneOrigin, MilestoneStatus
from tracker.errors import (
    AmbiguousMilestone,
    InvalidOperation,
    InvalidValue,
    MilestoneNotFound,
    UnknownContract,
)
from tracker.service.app import App
from tracker.service.derive import record_event
from tracker.service.registers.inputs import MilestoneInput
from tracker.service.reminders.plan import replan_contract
from tracker.store.models import ContractRow, MilestoneRow
from tracker.store.rows import Build, orm_row

#: Ids are 32-bit on PostgreSQL; a larger number cannot be a milestone (and would overflow).
MAX_ID = 2**31 - 1

DEFAULT_TITLES = {
    MilestoneKind.PROCUREMENT: "Procurement: new service procured and in place",
    MilestoneKind.PUBLICATION: "Publish the decision record",
    MilestoneKind.GRANT_AGREEMENT: "Grant agreement signed",
    MilestoneKind.REVIEW: "Contract review",
    MilestoneKind.CUSTOM: "Milestone",
    MilestoneKind.FUNDING_CONFIRMATION: "Confirm funding",
}


def new_manual_milestone(
    row: ContractRow, data: MilestoneInput, now: datetime, build: Build = orm_row
) -> MilestoneRow:
    title = data.title or DEFAULT_TITLES.get(data.kind, data.kind.value)
    values: dict[str, Any] = {"contract_id": row.id, "kind": data.kind.value}
    values["key"] = f"manual:{uuid4().hex[:12]}"
    values |= {"due": data.due, "title": title, "note": data.note}
    values |= {"status": MilestoneStatus.OPEN.value, "origin": MilestoneOrigin.MANUAL.value}
    made: MilestoneRow = build(MilestoneRow, values | {"created_at": now, "updated_at": now})
    return made


async def _find(
    app: App, session: AsyncSession, ref: str, kind: MilestoneKind | None, milestone_id: int | None
) -> MilestoneRow:
    if milestone_id is not None and not 0 < milestone_id <= MAX_ID:
        raise MilestoneNotFound(milestone_id=milestone_id)
    if milestone_id is not None:
        found = (
            await session.execute(
                select(MilestoneRow).where(MilestoneRow.id == milestone_id).with_for_update()
            )
        ).scalar_one_or_none()
        if found is None:
            raise MilestoneNotFound(milestone_id=milestone_id)
        return found
    contract = (
        await session.execute(select(ContractRow).where(ContractRow.ref == ref))
    ).scalar_one_or_none()
    if contract is None:
        raise UnknownContract(ref)
    assert kind is not None
    matches = [m for m in contract.milestones if m.kind == kind.value]
    open_ones = [
        m
        for m in matches
        if effective_status(
            MilestoneKind(m.kind),
            MilestoneStatus(m.status),
            m.due,
            app.today,
            contract_end=contract.end_date,
        )
        == MilestoneStatus.OPEN
    ]
    if not matches:
        raise MilestoneNotFound(kind=kind.value, ref=ref)
    if not open_ones:
        raise InvalidOperation(
            f"kind: {kind.value!r} on {ref} has no open milestone (all done or cancelled)"
        )
    if len(open_ones) > 1:
        raise AmbiguousMilestone(
            kind=kind.value, ref=ref, choices=[(m.id, m.due) for m in open_ones]
        )
    return open_ones[0]


async def close_milestone(
    app: App,
    *,
    ref: str | None,
    kind: MilestoneKind | None,
    milestone_id: int | None,
    status: MilestoneStatus,
    note: str | None,
    channel: str | None = None,
) -> str:
    """Mark done or cancelled; the note is kept as the record of the decision.

    ``channel`` says how the decision came in when not at the command line ("by X from
    the email of 2 Sep 2024"): it goes into the change history with the note.
    """
    async with app.session() as session:
        milestone = await _find(app, session, ref or "", kind, milestone_id)
        if milestone.status != MilestoneStatus.OPEN.value:
            raise InvalidOperation(f"milestone: {milestone.id} is already {milestone.status}")
        contract = await session.get(ContractRow, milestone.contract_id)
        assert contract is not None
        milestone.status = status.value
        milestone.closed_at = app.now
        milestone.closed_note = note
        milestone.updated_at = app.now
        done = status == MilestoneStatus.DONE
        verb = "done" if done else "cancelled"
        detail = _detail(
            f"{contract.ref}: {milestone.kind} due {format_uk(milestone.due)} {verb}", channel, note
        )
        event = EventKind.MILESTONE_DONE if done else EventKind.MILESTONE_CANCELLED
        session.add(record_event(contract, event, detail, app.now, milestone=milestone))
        await replan_contract(session, contract, app.policy, app.now, app.settings.mail_from)
        await session.commit()
    return detail


async def snooze_milestone(
    app: App,
    *,
    ref: str | None,
    kind: MilestoneKind | None,
    milestone_id: int | None,
    until: date,
    note: str | None,
    channel: str | None = None,
) -> str:
    """Hold a milestone's reminders and nags until ``until``; the due date does not move.

    Reminders that fall due while it is snoozed are not lost: when the snooze ends they
    are due, and collapse into one message. The same snooze again (same day, same note,
    as a form sent twice) changes nothing and says so.
    """
    if until <= app.today:
        raise InvalidValue(
            "--until", until.isoformat(), f"must be after today ({app.today.isoformat()})"
        )
    async with app.session() as session:
        milestone = await _find(app, session, ref or "", kind, milestone_id)
        if milestone.status != MilestoneStatus.OPEN.value:
            raise InvalidOperation(
                f"milestone: {milestone.id} is {milestone.status}; only open milestones can be snoozed"
            )
        if milestone.snoozed_until == until and (note is None or note == milestone.snooze_note):
            raise InvalidOperation(
                f"milestone: {milestone.id} is already snoozed until {format_uk(until)}; nothing changed"
            )
        contract = await session.get(ContractRow, milestone.contract_id)
        assert contract is not None
        milestone.snoozed_until = until
        milestone.snooze_note = note
        milestone.updated_at = app.now
        what = f"{contract.ref}: {milestone.kind} due {format_uk(milestone.due)} snoozed until {format_uk(until)}"
        detail = _detail(what, channel, note)
        event = record_event(
            contract, EventKind.MILESTONE_SNOOZED, detail, app.now, milestone=milestone
        )
        session.add(event)
        # Lead reminders are held by the due query; the next nag time moves here.
        await replan_contract(session, contract, app.policy, app.now, app.settings.mail_from)
        await session.commit()
    return detail


def _detail(what: str, channel: str | None, note: str | None) -> str:
    """The history line: what happened, how it came in (if not the CLI), then the note."""
    if channel:
        what += f" {channel}"
    return f"{what} ({note})" if note else what
