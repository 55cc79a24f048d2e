"""Keep a contract's stored milestones in step with its data: the event-driven core.

Every change to a contract (add, import, extend, funding, cost) calls
:func:`sync_milestones` in the same transaction. Derived milestones are matched on
(kind, key): an unchanged date keeps its status, a moved date re-opens it, one that no
longer applies is cancelled (never deleted, so history and sent reminders stay
attached). Manual milestones are never touched.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tracker.domain.milestones import derive_milestones
from tracker.domain.types import (
    DerivationRules,
    DerivedMilestone,
    EventKind,
    MilestoneOrigin,
    MilestoneStatus,
)
from tracker.store.domain_rows import to_domain
from tracker.store.models import ContractRow, EventRow, MilestoneRow
from tracker.store.rows import Build, orm_row

#: The closing note of a derived milestone cancelled because its rule no longer applies;
#: such a milestone re-opens by itself if the rule applies again.
NO_LONGER_APPLIES = "no longer applies after a change to the contract"
#: The change-log line's ending when such a milestone re-opens at the same date.
APPLIES_AGAIN = "applies again after a change to the contract"


def record_event(
    row: ContractRow,
    kind: EventKind,
    detail: str,
    now: datetime,
    *,
    milestone: MilestoneRow | None = None,
    build: Build = orm_row,
) -> EventRow:
    """A change-log entry for the contract, naming the milestone it concerns if one.

    ``detail`` is the line people read (``tracker show``, the digest); ``kind`` and the
    milestone are what code reads (the calendar's SEQUENCE), so no rule parses the text.
    The milestone must have its id (be flushed). The caller's session adds the event.
    """
    values = {"contract_id": row.id, "at": now, "kind": kind.value, "detail": detail}
    event: EventRow = build(
        EventRow, values | {"milestone_id": None if milestone is None else milestone.id}
    )
    return event


def _new_row(row: ContractRow, wanted: DerivedMilestone, now: datetime, build: Build) -> Any:
    values: dict[str, Any] = {"contract_id": row.id, "kind": wanted.kind.value, "key": wanted.key}
    values |= {"due": wanted.due, "title": wanted.title, "note": wanted.note or None}
    values |= {"status": MilestoneStatus.OPEN.value, "origin": MilestoneOrigin.DERIVED.value}
    return build(MilestoneRow, values | {"created_at": now, "updated_at": now})


def _moved(row: ContractRow, stored: MilestoneRow, due: date, now: datetime) -> EventRow:
    detail = f"{stored.kind} moved from {stored.due.isoformat()} to {due.isoformat()}"
    return record_event(row, EventKind.MILESTONE_MOVED, detail, now, milestone=stored)


def _cancelled(row: ContractRow, stored: MilestoneRow, now: datetime) -> EventRow:
    detail = f"{stored.kind}: {NO_LONGER_APPLIES}"
    return record_event(row, EventKind.MILESTONE_CANCELLED, detail, now, milestone=stored)


def _reopened(row: ContractRow, stored: MilestoneRow, now: datetime) -> EventRow:
    """A milestone cancelled because it no longer applied, back at the same date: logged so
    calendars see a new version of it (its status changed back), as for a cancellation."""
    detail = f"{stored.kind}: {APPLIES_AGAIN}"
    return record_event(row, EventKind.MILESTONE_REOPENED, detail, now, milestone=stored)


def sync_milestones(
    row: ContractRow, rules: DerivationRules, now: datetime, build: Build = orm_row
) -> list[EventRow]:
    """Reconcile stored derived milestones with the rules; returns change-log events.

    The contract row must be flushed (have an id) and its milestones loaded. ``build``
    makes a new milestone's row (the bulk import's plain rows).
    """
    wanted = {(m.kind.value, m.key): m for m in derive_milestones(to_domain(row), rules)}
    stored = {(m.kind, m.key): m for m in row.milestones}
    events: list[EventRow] = []
    for ident, target in wanted.items():
        existing = stored.get(ident)
        if existing is None:
            row.milestones.append(_new_row(row, target, now, build))
            continue
        if existing.origin != MilestoneOrigin.DERIVED.value:
            continue
        reopened = (
            existing.status == MilestoneStatus.CANCELLED.value
            and existing.closed_note == NO_LONGER_APPLIES
        )
        if existing.due != target.due:
            events.append(_moved(row, existing, target.due, now))
            existing.due = target.due
            existing.updated_at = now
            reopened = reopened or existing.status != MilestoneStatus.OPEN.value
        elif reopened:
            events.append(_reopened(row, existing, now))
        if reopened:
            existing.status = MilestoneStatus.OPEN.value
            existing.closed_at = None
            existing.closed_note = None
        if (existing.title, existing.note) != (target.title, target.note or None) or reopened:
            existing.title = target.title
            existing.note = target.note or None
            existing.updated_at = now
    for ident, existing in stored.items():
        if (
            ident not in wanted
            and existing.origin == MilestoneOrigin.DERIVED.value
            and existing.status == MilestoneStatus.OPEN.value
        ):
            existing.status = MilestoneStatus.CANCELLED.value
            existing.closed_at = now
            existing.closed_note = NO_LONGER_APPLIES
            existing.updated_at = now
            events.append(_cancelled(row, existing, now))
    return events
