"""The exactly-once core: claim due reminders and digests, then record each attempt.

Both kinds of row are claimed the same way: the due rows are read (with ``SELECT ...
FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two senders share them without waiting on
each other), then claimed in one conditional UPDATE whose condition is the due
condition itself, so a row another sender took meanwhile is left alone and RETURNING
says which rows this claim got. On SQLite every write transaction takes the database
lock at BEGIN (see engine.py), which serialises claims. A claim is a lease: if the
claiming process dies, the row becomes claimable again when the lease expires and is
resent with the same Message-ID. A live sender renews the lease of its batch as it goes
(:func:`renew_claims`), so a slow batch is not taken over while it is being sent.

Two times are at work: ``now``, the command's fixed moment, says what is *due*;
``clock``, the same moment moving on in real time (``App.clock``), is what leases are
measured against (a lease runs out in real time, however long the batch takes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Dialect,
    and_,
    bindparam,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tracker.domain.reminders import PlannedReminder, collapse, message_id, released_through
from tracker.domain.types import MilestoneStatus
from tracker.store.direct import DirectConnection, Prepared
from tracker.store.models import DeliveryAttemptRow, DigestRow, MilestoneRow, ReminderRow
from tracker.store.rows import copy_row


class OutboxStatus(StrEnum):
    """Where a reminder or digest row is in its life (the value stored in ``status``)."""

    PLANNED = "planned"  # waiting for its due time (first try, or a retry)
    SENDING = "sending"  # claimed by a sender (or orphaned until its lease ends)
    SENT = "sent"
    FAILED = "failed"  # refused for good, or retried until too old
    COLLAPSED = "collapsed"  # a missed reminder folded into a more urgent one
    CANCELLED = "cancelled"  # re-planned away after an attempt (kept for its history)
    EMPTY = "empty"  # a digest with nothing to report, not sent


Claimable = type[ReminderRow] | type[DigestRow]


@dataclass(frozen=True, kw_only=True)
class NextState:
    """A row's state after one attempt: its status, the reply kept with it and, when it
    goes back to ``planned``, the time to retry."""

    status: OutboxStatus
    reply: str
    retry_at: datetime | None = None


class Claimed(Protocol):
    """What the delivery loop reads of a claimed row."""

    @property
    def id(self) -> int: ...
    @property
    def recipient(self) -> str: ...
    @property
    def attempts(self) -> int: ...  # before this claim
    @property
    def first_attempt_at(self) -> datetime | None: ...  # None: this claim is the first


@dataclass(frozen=True, kw_only=True)
class DueReminder:
    id: int
    milestone_id: int
    contract_id: int
    milestone_due: date
    lead: int
    recipient: str
    role: str
    send_at: datetime
    message_id: str
    status: str
    attempts: int
    first_attempt_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ClaimedDigest:
    id: int
    recipient: str
    period: str
    scheduled_at: datetime
    message_id: str
    attempts: int
    first_attempt_at: datetime | None


def planned_reminder(
    milestone: MilestoneRow, planned: PlannedReminder, *, domain: str, now: datetime
) -> ReminderRow:
    """A new reminder row for one lead (or nag) of a milestone, due at its send time."""
    return ReminderRow(**planned_values(milestone, planned, domain=domain, now=now))


def planned_values(
    milestone: MilestoneRow, planned: PlannedReminder, *, domain: str, now: datetime
) -> dict[str, Any]:
    """The columns of :func:`planned_reminder`, for bulk inserts (``tracker import``)."""
    mid, due, lead, recipient = milestone.id, milestone.due, planned.lead, planned.recipient
    return {
        "lead": lead,
        "recipient": recipient,
        "role": planned.role,
        "milestone_id": mid,
        "milestone_due": due,
        "contract_id": milestone.contract_id,
        "send_at": planned.send_at,
        "due_at": planned.send_at,
        "message_id": message_id(mid, due, lead, recipient, domain),
        "status": OutboxStatus.PLANNED,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _due_condition(
    model: Claimable, now: datetime, clock: datetime | None = None
) -> ColumnElement[bool]:
    """Planned rows whose time (``now``) has come, or claims whose lease ran out by the
    ``clock`` (their owner died; ``now`` when not given)."""
    return or_(
        and_(model.status == OutboxStatus.PLANNED, model.due_at <= now),
        and_(model.status == OutboxStatus.SENDING, model.lease_until < (clock or now)),
    )


def _deliverable_milestone(now: datetime) -> ColumnElement[bool]:
    """Open and not snoozed: done, cancelled and snoozed milestones send nothing.

    A snooze until a day ends at 09:00 London that day (see ``released_through``).
    """
    return and_(
        MilestoneRow.status == MilestoneStatus.OPEN.value,
        or_(
            MilestoneRow.snoozed_until.is_(None),
            MilestoneRow.snoozed_until <= released_through(now),
        ),
    )


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def as_due(row: ReminderRow) -> DueReminder:
    """A reminder row as the sweep carries it (a plain value, free of the session)."""
    return copy_row(DueReminder, row)


async def due_reminders(
    session: AsyncSession,
    now: datetime,
    *,
    limit: int,
    lock: bool,
    clock: datetime | None = None,
) -> list[DueReminder]:
    """Due rows (oldest first) for deliverable milestones; locked and skipped-if-locked
    on PostgreSQL when ``lock``. The query is a range scan on (status, due_at)."""
    # The milestone test is a correlated scalar subquery, evaluated for each due row
    # only. Joined (or as EXISTS, which PostgreSQL turns into a join), both planners
    # misjudge how few planned rows are due (status and due_at are correlated: planned
    # rows are mostly in the future) and read every open milestone, or all milestones,
    # at every sweep. This way both range-scan (status, due_at) on reminders.
    deliverable = (
        select(literal(1))
        .where(MilestoneRow.id == ReminderRow.milestone_id, _deliverable_milestone(now))
        .scalar_subquery()
    )
    statement = (
        select(ReminderRow)
        .where(_due_condition(ReminderRow, now, clock), deliverable == 1)
        .order_by(ReminderRow.due_at, ReminderRow.id)
        .limit(limit)
    )
    if lock and _is_postgres(session):
        statement = statement.with_for_update(skip_locked=True, of=ReminderRow)
    return [as_due(row) for row in (await session.execute(statement)).scalars()]


async def _companions(
    session: AsyncSession, picked: list[DueReminder], now: datetime, clock: datetime
) -> list[DueReminder]:
    """Every due row of the picked (milestone, recipient) pairs, locked, so collapsing
    sees all missed leads of a pair even when the batch limit cut through them."""
    milestone_ids = sorted({r.milestone_id for r in picked})
    statement = select(ReminderRow).where(
        ReminderRow.milestone_id.in_(milestone_ids), _due_condition(ReminderRow, now, clock)
    )
    if _is_postgres(session):
        statement = statement.with_for_update(skip_locked=True)
    pairs = {(r.milestone_id, r.recipient) for r in picked}
    rows = [as_due(row) for row in (await session.execute(statement)).scalars()]
    return [r for r in rows if (r.milestone_id, r.recipient) in pairs]


async def _take_due(
    session: AsyncSession,
    model: Claimable,
    ids: Sequence[int],
    when: tuple[datetime, datetime],
    values: dict[str, Any],
) -> set[int]:
    """Change the rows among ``ids`` that are still due, in one conditional UPDATE.

    The condition is the due condition itself, so a row another sender claimed (or that
    was sent, or re-planned) since we read it is left alone; RETURNING says which rows
    this statement got. One statement per batch rather than one per row: at 100 rows a
    batch, per-row claims cost more than a millisecond per message sent.
    """
    if not ids:
        return set()
    now, clock = when
    result = await session.execute(
        update(model)
        .where(model.id.in_(list(ids)), _due_condition(model, now, clock))
        .values(**values, updated_at=clock)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


async def claim_rows(
    session: AsyncSession,
    model: Claimable,
    ids: Sequence[int],
    *,
    now: datetime,
    instance: str,
    lease: timedelta,
    clock: datetime | None = None,
) -> set[int]:
    """Claim the rows among ``ids`` that are still due, for ``instance``; their ids.

    Each claimed row's attempt count goes up by one (the column itself, not a value read
    earlier, so the count is right whoever touched the row last), and a first claim
    stamps ``first_attempt_at``, which the retry window runs from; the caller commits.
    The lease runs from the ``clock`` (``now`` when not given).
    """
    at = clock or now
    values = {
        "status": OutboxStatus.SENDING,
        "claimed_by": instance,
        "lease_until": at + lease,
        "attempts": model.attempts + 1,
        "first_attempt_at": func.coalesce(model.first_attempt_at, at),
    }
    return await _take_due(session, model, ids, (now, at), values)


async def claim_batch(
    session: AsyncSession,
    *,
    now: datetime,
    instance: str,
    lease: timedelta,
    limit: int,
    clock: datetime | None = None,
) -> list[DueReminder]:
    """Claim up to ``limit`` messages' worth of due reminders and commit the claim.

    Missed leads of one milestone for one recipient collapse into the most urgent one,
    which alone is claimed; the others are marked collapsed (kept in the history).
    """
    at = clock or now
    picked = await due_reminders(session, now, limit=limit, lock=True, clock=at)
    if not picked:
        await session.commit()
        return []
    chosen, collapsed = collapse(await _companions(session, picked, now, at))
    ids = [row.id for row in chosen]
    claimed_ids = await claim_rows(
        session, ReminderRow, ids, now=now, instance=instance, lease=lease, clock=at
    )
    folded: dict[int, list[int]] = {}
    for row, into in collapsed:
        if into.id in claimed_ids:
            folded.setdefault(into.id, []).append(row.id)
    for into_id, row_ids in folded.items():
        changes = {"status": OutboxStatus.COLLAPSED, "collapsed_into": into_id}
        await _take_due(session, ReminderRow, row_ids, (now, at), changes)
    await session.commit()
    return [row for row in chosen if row.id in claimed_ids]


async def claim_digests(
    session: AsyncSession,
    *,
    now: datetime,
    instance: str,
    lease: timedelta,
    limit: int,
    only: Sequence[str] | None = None,
    clock: datetime | None = None,
) -> list[ClaimedDigest]:
    """Claim up to ``limit`` due digests (oldest first; ``only`` these people's, if
    given) in one statement, and commit the claim."""
    due = (
        select(DigestRow)
        .where(_due_condition(DigestRow, now, clock))
        .order_by(DigestRow.due_at, DigestRow.id)
        .limit(limit)
    )
    if only:
        due = due.where(DigestRow.recipient.in_(list(only)))
    if _is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    picked = [copy_row(ClaimedDigest, row) for row in (await session.execute(due)).scalars()]
    ids = [claim.id for claim in picked]
    claimed = await claim_rows(
        session, DigestRow, ids, now=now, instance=instance, lease=lease, clock=clock
    )
    await session.commit()
    return [claim for claim in picked if claim.id in claimed]


async def record_attempt(
    connection: AsyncConnection | DirectConnection,
    model: Claimable,
    row_id: int,
    state: NextState,
    *,
    outcome: str,
    instance: str,
    now: datetime,
) -> bool:
    """Store one attempt and the row's new state, if we still hold the claim.

    Returns False when the claim was lost (our lease ran out and another instance took
    the row): the attempt is still kept in the history, the row is left to its new owner.
    One transaction per message, committed before the next message is sent, so a crash
    leaves at most the message in flight sent but unrecorded. This runs for every
    message, so it goes straight to the driver (see :mod:`tracker.store.direct`); a
    sender holds one :class:`DirectConnection` for its whole batch.
    """
    direct = await _direct(connection)
    attempt = _attempt_statement(direct.dialect)
    change = _change_statement(model, state.status, direct.dialect)
    reply = state.reply[:2000]
    links: dict[str, int | None] = {"a_reminder": None, "a_digest": None}
    links["a_reminder" if model is ReminderRow else "a_digest"] = row_id
    attempt_params = {
        "a_at": now,
        "a_outcome": outcome,
        "a_reply": reply,
        "a_instance": instance,
        **links,
    }
    change_params = {
        "p_id": row_id,
        "p_instance": instance,
        "p_status": state.status.value,
        "p_reply": reply,
        "p_now": now,
        "p_due": state.retry_at or now,
    }
    counts = await direct.transaction([(attempt, attempt_params), (change, change_params)])
    return counts[1] == 1


async def mark_empty(
    connection: AsyncConnection | DirectConnection,
    model: Claimable,
    row_id: int,
    *,
    instance: str,
    now: datetime,
) -> bool:
    """Close a claimed row that had nothing to send (a digest with nothing to report),
    unsent: kept as ``empty`` so its period is decided once, not every minute. No attempt
    is recorded (none was made). False when the claim was lost."""
    direct = await _direct(connection)
    change = _change_statement(model, OutboxStatus.EMPTY, direct.dialect)
    params = {
        "p_id": row_id,
        "p_instance": instance,
        "p_status": OutboxStatus.EMPTY.value,
        "p_now": now,
    }
    return (await direct.transaction([(change, params)]))[0] == 1


async def _direct(connection: AsyncConnection | DirectConnection) -> DirectConnection:
    if isinstance(connection, DirectConnection):
        return connection
    return await DirectConnection.of(connection)


#: Compiled statements by (model, new status or None for the attempt, dialect name).
_STATEMENTS: dict[tuple[Claimable | None, str | None, str], Prepared] = {}


def _attempt_statement(dialect: Dialect) -> Prepared:
    """The attempt INSERT (``a_reminder`` or ``a_digest`` set), compiled for ``dialect``."""
    key = (None, None, dialect.name)
    if key not in _STATEMENTS:
        columns = {
            "at": "a_at",
            "outcome": "a_outcome",
            "reply": "a_reply",
            "instance": "a_instance",
            "reminder_id": "a_reminder",
            "digest_id": "a_digest",
        }
        values: dict[str, Any] = {column: bindparam(name) for column, name in columns.items()}
        _STATEMENTS[key] = Prepared.compile(insert(DeliveryAttemptRow).values(values), dialect)
    return _STATEMENTS[key]


def _change_statement(model: Claimable, new_status: OutboxStatus, dialect: Dialect) -> Prepared:
    """The row UPDATE for an outcome, compiled for ``dialect``.

    It applies only while the row is still ours (``sending``, claimed by us). A sent row
    gets its ``sent_at``; a row to retry goes back to ``planned``, due at its retry time
    and unclaimed; an empty digest is unclaimed, with no reply to keep.
    """
    key = (model, new_status, dialect.name)
    if key not in _STATEMENTS:
        values: dict[str, Any] = {"status": bindparam("p_status"), "updated_at": bindparam("p_now")}
        if new_status != OutboxStatus.EMPTY:
            values["last_reply"] = bindparam("p_reply")
        if new_status == OutboxStatus.SENT:
            values["sent_at"] = bindparam("p_now")
        if new_status == OutboxStatus.PLANNED:
            values["due_at"] = bindparam("p_due")
        if new_status in (OutboxStatus.PLANNED, OutboxStatus.EMPTY):
            values.update(claimed_by=null(), lease_until=null())
        change = (
            update(model)
            .where(
                model.id == bindparam("p_id"),
                model.status == OutboxStatus.SENDING,
                model.claimed_by == bindparam("p_instance"),
            )
            .values(**values)
        )
        _STATEMENTS[key] = Prepared.compile(change, dialect)
    return _STATEMENTS[key]


async def release(
    session: AsyncSession,
    model: Claimable,
    claims: Sequence[Claimed],
    *,
    instance: str,
    now: datetime,
    retry_at: datetime,
) -> None:
    """Give claims back untried (a stop request, or the mail server refused our login).

    An untried claim costs no attempt: each row gets back its count from before the claim.
    """
    for claim in claims:
        await session.execute(
            update(model)
            .where(
                model.id == claim.id,
                model.claimed_by == instance,
                model.status == OutboxStatus.SENDING,
            )
            .values(
                status=OutboxStatus.PLANNED,
                due_at=retry_at,
                claimed_by=None,
                lease_until=None,
                attempts=claim.attempts,
                first_attempt_at=claim.first_attempt_at,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    await session.commit()


async def renew_claims(
    session: AsyncSession,
    model: Claimable,
    ids: Sequence[int],
    *,
    instance: str,
    clock: datetime,
    lease: timedelta,
) -> set[int]:
    """Extend the lease of ``instance``'s claims among ``ids`` to ``clock + lease``, in one
    statement, and commit; the ids it still held.

    A row not returned was taken over (our lease ran out and another instance claimed
    it) or is no longer being sent: it is the other instance's now, and must not be sent
    by us. A lease that ran out but was not taken over is simply ours again.
    """
    if not ids:
        return set()
    result = await session.execute(
        update(model)
        .where(
            model.id.in_(list(ids)),
            model.claimed_by == instance,
            model.status == OutboxStatus.SENDING,
        )
        .values(lease_until=clock + lease, updated_at=clock)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    held = set(result.scalars())
    await session.commit()
    return held
