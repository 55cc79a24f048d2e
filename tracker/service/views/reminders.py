"""Read models of reminders: what is planned, due, failed, and the history of what was sent.

The history answers the question a commissioner is asked: "were we warned, and when?".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.service.app import App
from tracker.store.models import ContractRow, DeliveryAttemptRow, MilestoneRow, ReminderRow
from tracker.store.outbox import OutboxStatus
from tracker.store.rows import copy_row


class Listing(StrEnum):
    PLANNED = OutboxStatus.PLANNED.value
    DUE = "due"
    FAILED = OutboxStatus.FAILED.value
    #: Planned again after a temporary failure: waiting for the next try.
    RETRYING = "retrying"
    SENT = OutboxStatus.SENT.value


@dataclass(frozen=True, kw_only=True)
class ReminderView:
    id: int
    ref: str
    kind: str
    milestone_due: date
    lead: int
    recipient: str
    role: str
    send_at: datetime
    status: str
    attempts: int
    message_id: str
    sent_at: datetime | None
    last_reply: str | None


@dataclass(frozen=True, kw_only=True)
class AttemptView:
    at: datetime
    ref: str
    kind: str
    milestone_due: date
    lead: int
    recipient: str
    outcome: str
    reply: str
    message_id: str


async def list_reminders(app: App, listing: Listing) -> list[ReminderView]:
    """Planned (upcoming), failed, retrying (planned again after a temporary failure),
    or (``due``) planned rows whose time has come."""
    statement = (
        select(ReminderRow, ContractRow.ref, MilestoneRow.kind)
        .join(ContractRow, ContractRow.id == ReminderRow.contract_id)
        .join(MilestoneRow, MilestoneRow.id == ReminderRow.milestone_id)
    )
    if listing is Listing.FAILED:
        statement = statement.where(ReminderRow.status == OutboxStatus.FAILED).order_by(
            ReminderRow.updated_at.desc(), ReminderRow.id.desc()
        )
    elif listing is Listing.RETRYING:
        statement = statement.where(
            ReminderRow.status == OutboxStatus.PLANNED, ReminderRow.attempts > 0
        ).order_by(ReminderRow.due_at, ReminderRow.id)
    elif listing is Listing.DUE:
        statement = statement.where(
            ReminderRow.status == OutboxStatus.PLANNED, ReminderRow.due_at <= app.now
        ).order_by(ReminderRow.due_at, ReminderRow.id)
    else:
        statement = statement.where(
            ReminderRow.status == OutboxStatus.PLANNED, ReminderRow.due_at > app.now
        ).order_by(ReminderRow.due_at, ReminderRow.id)  # ids break ties: a stable listing
    async with app.session() as session:
        rows = (await session.execute(statement)).all()
    return [copy_row(ReminderView, row, ref=ref, kind=kind) for row, ref, kind in rows]


async def attempt_history(
    app: App,
    *,
    contract_id: int | None = None,
    outcome: str | None = None,
    session: AsyncSession | None = None,
) -> list[AttemptView]:
    """Every delivery attempt, newest first (one contract's, or all).

    Give ``session`` when called inside another read: on SQLite a second session would
    wait for the first one's lock, which it holds until it ends.
    """
    statement = (
        select(DeliveryAttemptRow, ReminderRow, ContractRow.ref, MilestoneRow.kind)
        .join(ReminderRow, ReminderRow.id == DeliveryAttemptRow.reminder_id)
        .join(ContractRow, ContractRow.id == ReminderRow.contract_id)
        .join(MilestoneRow, MilestoneRow.id == ReminderRow.milestone_id)
        .order_by(DeliveryAttemptRow.at.desc(), DeliveryAttemptRow.id.desc())
    )
    if contract_id is not None:
        statement = statement.where(ReminderRow.contract_id == contract_id)
    if outcome is not None:
        statement = statement.where(DeliveryAttemptRow.outcome == outcome)
    if session is None:
        async with app.session() as own:
            rows = (await own.execute(statement)).all()
    else:
        rows = (await session.execute(statement)).all()
    return [_attempt_view(attempt, reminder, ref, kind) for attempt, reminder, ref, kind in rows]


def _attempt_view(
    attempt: DeliveryAttemptRow, reminder: ReminderRow, ref: str, kind: str
) -> AttemptView:
    """An attempt with what it was about: its reminder's due date, lead, recipient, id."""
    tried = {"at": attempt.at, "outcome": attempt.outcome, "reply": attempt.reply}
    return copy_row(AttemptView, reminder, ref=ref, kind=kind, **tried)
