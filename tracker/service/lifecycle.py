"""A contract's life after it is added: edit, vary, terminate, remove.

Each change loads the contract under a lock (``FOR UPDATE`` on PostgreSQL; SQLite's
writers queue at ``BEGIN IMMEDIATE``), refuses a stale read (``if_version``: the
version the person saw), changes it, re-derives its milestones and re-plans its
reminders, and logs one change event naming each field's old and new value, all in
one transaction: on any error nothing is written. Who made the change and the version
bump are stamped on the event at flush (``tracker.store.audit``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.dates import format_london, format_uk
from tracker.domain.emails import parse_email
from tracker.domain.types import AFTER_END_KINDS, EventKind, ExtensionStatus, MilestoneStatus
from tracker.domain.wording import shown_value
from tracker.errors import InvalidOperation, InvalidValue, StaleChange
from tracker.service.app import App
from tracker.service.contracts import load_contract, refresh
from tracker.service.derive import NO_LONGER_APPLIES, record_event
from tracker.service.registers.inputs import (
    CONTRACT_COLUMNS,
    ContractInput,
    TerminationInput,
    VariationInput,
    parse_contract,
)
from tracker.service.variations import apply_variation
from tracker.store.models import (
    ContractRow,
    DeliveryAttemptRow,
    EventRow,
    ReminderRow,
    WatcherRow,
)

# -- the version check -----------------------------------------------------------------------


#: Events a re-derivation logs as a consequence of a change, not the change itself.
_CONSEQUENCES = (EventKind.MILESTONE_MOVED.value, EventKind.MILESTONE_REOPENED.value)


async def latest_change(session: AsyncSession, row: ContractRow) -> str:
    """The contract's latest change (not the milestones it moved): its line, who made it
    and when (London)."""
    statement = (
        select(EventRow)
        .where(EventRow.contract_id == row.id, EventRow.kind.not_in(_CONSEQUENCES))
        .order_by(EventRow.at.desc(), EventRow.id.desc())
        .limit(20)
    )
    events = list((await session.execute(statement)).scalars())
    if not events:
        return "no change is logged"
    latest = [e for e in events if e.at == events[0].at]
    event = next((e for e in latest if not e.detail.endswith(NO_LONGER_APPLIES)), events[0])
    return f"{event.detail} (by {event.actor or 'unknown'}, {format_london(event.at)})"


async def load_for_change(session: AsyncSession, ref: str, if_version: int | None) -> ContractRow:
    """The contract, locked for this transaction; refused if ``if_version`` is not current.

    The check runs under the lock, so of two changes made on the same read one applies
    and the other sees the version it bumped. Without ``if_version`` the change applies
    to the current version."""
    row = await load_contract(session, ref, for_update=True)
    if if_version is not None and row.version != if_version:
        meanwhile = await latest_change(session, row)
        raise StaleChange(ref, expected=if_version, current=row.version, meanwhile=meanwhile)
    return row


# -- edit ------------------------------------------------------------------------------------


def _as_given(row: ContractRow) -> dict[str, Any]:
    """The contract as the parser takes it, so an edit is checked like an add."""
    raw: dict[str, Any] = {"ref": row.ref, "watchers": [w.email for w in row.watchers]}
    raw |= {field: getattr(row, column) for field, column in CONTRACT_COLUMNS.items()}
    return raw


def check_options_after(row: ContractRow, end: date) -> None:
    """The available extension options must still extend beyond ``end``, each notice
    before the end it extends (the rule :func:`inputs.check_extensions` applies on add)."""
    previous = end
    for option in row.extensions:
        if option.status != ExtensionStatus.AVAILABLE.value:
            continue
        if option.until <= previous:
            reason = f"is not before extension option {option.seq}, to {format_uk(option.until)}"
            raise InvalidValue("end", end.isoformat(), reason)
        if option.notice_by is not None and option.notice_by > previous:
            reason = (
                f"is before extension option {option.seq}'s notice date "
                f"({format_uk(option.notice_by)})"
            )
            raise InvalidValue("end", end.isoformat(), reason)
        previous = option.until


def _watchers(
    row: ContractRow, add: Sequence[str], remove: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The watcher list after the edit (the added ones checked by the parser), and the
    change in words (``+a@x.org``, ``-b@x.org``)."""
    current = [w.email for w in row.watchers]
    gone = [parse_email(email, "remove_watcher") for email in remove]
    for email in gone:
        if email not in current:
            raise InvalidValue("remove_watcher", email, f"is not a watcher of {row.ref}")
    kept = [email for email in current if email not in gone]
    return kept + [e for e in add if e not in kept], [f"-{e}" for e in gone]


def _differences(row: ContractRow, data: ContractInput) -> list[tuple[str, object, object]]:
    return [
        (field, getattr(row, column), getattr(data, field))
        for field, column in CONTRACT_COLUMNS.items()
        if getattr(row, column) != getattr(data, field)
    ]


def _apply_watchers(row: ContractRow, wanted: Sequence[str]) -> list[str]:
    current = [w.email for w in row.watchers]
    added = [f"+{e}" for e in wanted if e not in current]
    row.watchers = [w for w in row.watchers if w.email in wanted]
    row.watchers += [WatcherRow(email=e) for e in wanted if e not in current]
    return added


async def edit_contract(
    app: App,
    ref: str,
    changes: Mapping[str, object],
    *,
    add_watchers: Sequence[str] = (),
    remove_watchers: Sequence[str] = (),
    if_version: int | None = None,
) -> str:
    """Change any field ``add`` takes; returns the change-log line (``field: old -> new``).

    ``changes`` maps parser fields to what was typed; an empty text clears an optional
    field. Errors name the parser field (the CLI names the option)."""
    if not changes and not add_watchers and not remove_watchers:
        raise InvalidOperation(f"edit {ref}: nothing to change (give an option, e.g. --owner)")
    async with app.session() as session:
        row = await load_for_change(session, ref, if_version)
        raw = _as_given(row) | {k: (None if v == "" else v) for k, v in changes.items()}
        raw["watchers"], removed = _watchers(row, list(add_watchers), list(remove_watchers))
        data = parse_contract(raw)
        check_options_after(row, data.end)
        diffs = _differences(row, data)
        if row.original_end == row.end_date:
            row.original_end = data.end  # a correction, not a variation: no term agreed yet
        for field, _old, new in diffs:
            setattr(row, CONTRACT_COLUMNS[field], new)
        moved = _apply_watchers(row, data.watchers) + removed
        parts = [
            f"{field}: {shown_value(old, none='none')} -> {shown_value(new, none='none')}"
            for field, old, new in diffs
        ]
        if moved:
            parts.append("watchers: " + ", ".join(moved))
        if not parts:
            return f"{ref}: nothing changed (the values given are the current ones)"
        detail = f"{ref} edited: " + "; ".join(parts)
        await _save(session, app, row, EventKind.CONTRACT_EDITED, detail)
    return detail


async def _save(
    session: AsyncSession, app: App, row: ContractRow, kind: EventKind, detail: str
) -> None:
    row.updated_at = app.now
    session.add(record_event(row, kind, detail, app.now))
    await refresh(session, row, app)
    await session.commit()


# -- vary ------------------------------------------------------------------------------------


async def vary_contract(
    app: App, ref: str, variation: VariationInput, *, if_version: int | None = None
) -> str:
    """Record a formal variation moving the end and/or value; milestones follow the end."""
    async with app.session() as session:
        row = await load_for_change(session, ref, if_version)
        if variation.end is not None:
            if variation.end < row.start_date:
                reason = f"is before the start ({format_uk(row.start_date)})"
                raise InvalidValue("end", variation.end.isoformat(), reason)
            check_options_after(row, variation.end)
        stored, detail = apply_variation(row, variation, actor=app.actor, now=app.now)
        if stored.new_end is None and stored.new_value is None:
            raise InvalidOperation(f"vary {ref}: the end and value given are the current ones")
        session.add(stored)
        await _save(session, app, row, EventKind.CONTRACT_VARIED, detail)
    return detail


# -- terminate -------------------------------------------------------------------------------


def _cancel_after(row: ContractRow, app: App, day: date, why: str) -> list[EventRow]:
    """Cancel the contract's open milestones due after ``day``, noting why; those due
    after an end by their nature (the Act's termination notice) stay open."""
    events = []
    for milestone in row.milestones:
        if milestone.status != MilestoneStatus.OPEN.value or milestone.due <= day:
            continue
        if milestone.kind in AFTER_END_KINDS:
            continue
        milestone.status = MilestoneStatus.CANCELLED.value
        milestone.closed_at = milestone.updated_at = app.now
        milestone.closed_note = why
        detail = f"{row.ref}: {milestone.kind} due {format_uk(milestone.due)} cancelled ({why})"
        kind = EventKind.MILESTONE_CANCELLED
        events.append(record_event(row, kind, detail, app.now, milestone=milestone))
    return events


async def terminate_contract(
    app: App, ref: str, ending: TerminationInput, *, if_version: int | None = None
) -> str:
    """End the contract on ``ending.on``: its end moves there (end-related milestones
    follow), options still available lapse, and what is still open after that day is
    cancelled with the reason. The contract then shows as ended."""
    async with app.session() as session:
        row = await load_for_change(session, ref, if_version)
        if row.ended_on is not None:
            raise InvalidOperation(
                f"ref: {ref} already ended on {format_uk(row.ended_on)} ({row.end_reason})"
            )
        if not row.start_date <= ending.on <= row.end_date:
            reason = (
                f"is not within the term ({format_uk(row.start_date)} to {format_uk(row.end_date)})"
            )
            raise InvalidValue("on", ending.on.isoformat(), reason)
        previous = row.end_date
        row.end_date = row.ended_on = ending.on
        row.end_reason = ending.reason.value
        for option in row.extensions:
            if option.status == ExtensionStatus.AVAILABLE.value:
                option.status = ExtensionStatus.LAPSED.value
                option.decided_at = app.now
        await refresh(session, row, app)  # end-related milestones move to the new end
        why = f"contract {ending.reason.value} on {format_uk(ending.on)}"
        if ending.note:
            why += f": {ending.note}"
        for milestone in row.milestones:  # the lapsed options' notices: say why, for good
            if milestone.closed_at == app.now and milestone.closed_note == NO_LONGER_APPLIES:
                milestone.closed_note = why
        session.add_all(_cancel_after(row, app, ending.on, why))
        detail = f"{ref}: {why} (end was {format_uk(previous)})"
        await _save(session, app, row, EventKind.CONTRACT_ENDED, detail)
    return detail


# -- remove ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Removed:
    ref: str
    title: str
    milestones: int


async def remove_contract(app: App, ref: str) -> Removed:
    """Delete a contract added by mistake, only while nothing has been sent about it: once
    a reminder was attempted, the record of that warning must stay (terminate instead)."""
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        attempts = select(func.count()).select_from(DeliveryAttemptRow)
        attempts = attempts.join(ReminderRow, ReminderRow.id == DeliveryAttemptRow.reminder_id)
        sent = (await session.execute(attempts.where(ReminderRow.contract_id == row.id))).scalar()
        if sent:
            raise InvalidOperation(
                f"ref: {ref} has {sent} reminder deliveries on record, which must be kept; "
                f"end it instead: tracker terminate {ref} --on DATE --reason set-aside"
            )
        removed = Removed(ref=row.ref, title=row.title, milestones=len(row.milestones))
        await session.delete(row)
        await session.commit()
    return removed
