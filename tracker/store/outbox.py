"""The exactly-once core: claim due reminders, then record each attempt's outcome.

A reminder row is claimed by a conditional UPDATE whose row count must be 1 (status
and lease unchanged since it was read), after a ``SELECT ... FOR UPDATE SKIP LOCKED``
on PostgreSQL so two sweeps share the due rows without waiting on each other; on
SQLite every write transaction takes the database lock at BEGIN (see engine.py), which
serialises claims. A claim is a lease: if the claiming process dies, the row becomes
claimable again when the lease expires and is resent with the same Message-ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Dialect,
    SQLColumnExpression,
    and_,
    bindparam,
    delete,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tracker.domain.reminders import collapse, released_through
from tracker.domain.types import MilestoneStatus
from tracker.store.direct import DirectConnection, Prepared
from tracker.store.models import DeliveryAttemptRow, DigestRow, MilestoneRow, ReminderRow

PLANNED = "planned"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
COLLAPSED = "collapsed"
CANCELLED = "cancelled"


@dataclass(frozen=True)
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


def _due_condition(now: datetime, today: date) -> Any:
    """Planned rows whose time has come, or claims whose lease ran out (their owner died)."""
    return or_(
        and_(ReminderRow.status == PLANNED, ReminderRow.due_at <= now),
        and_(ReminderRow.status == SENDING, ReminderRow.lease_until < now),
    )


def _deliverable_milestone(now: datetime) -> Any:
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


def _as_due(row: ReminderRow) -> DueReminder:
    return DueReminder(
        id=row.id,
        milestone_id=row.milestone_id,
        contract_id=row.contract_id,
        milestone_due=row.milestone_due,
        lead=row.lead,
        recipient=row.recipient,
        role=row.role,
        send_at=row.send_at,
        message_id=row.message_id,
        status=row.status,
        attempts=row.attempts,
    )


async def due_reminders(
    session: AsyncSession, now: datetime, today: date, *, limit: int, lock: bool
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
        .where(_due_condition(now, today), deliverable == 1)
        .order_by(ReminderRow.due_at, ReminderRow.id)
        .limit(limit)
    )
    if lock and _is_postgres(session):
        statement = statement.with_for_update(skip_locked=True, of=ReminderRow)
    return [_as_due(row) for row in (await session.execute(statement)).scalars()]


async def _companions(
    session: AsyncSession, picked: list[DueReminder], now: datetime, lock: bool
) -> list[DueReminder]:
    """Every due row of the picked (milestone, recipient) pairs, so collapsing sees all
    missed leads of a pair even when the batch limit cut through them."""
    milestone_ids = sorted({r.milestone_id for r in picked})
    statement = select(ReminderRow).where(
        ReminderRow.milestone_id.in_(milestone_ids), _due_condition(now, now.date())
    )
    if lock and _is_postgres(session):
        statement = statement.with_for_update(skip_locked=True)
    pairs = {(r.milestone_id, r.recipient) for r in picked}
    rows = [_as_due(row) for row in (await session.execute(statement)).scalars()]
    return [r for r in rows if (r.milestone_id, r.recipient) in pairs]


Claimable = type[ReminderRow] | type[DigestRow]


async def take(
    session: AsyncSession,
    model: Claimable,
    row_id: int,
    seen_status: str,
    values: dict[str, Any],
    now: datetime,
) -> bool:
    """Conditional update: succeeds only if nobody changed the row since we read it.

    A row seen as ``sending`` is only taken when its lease has run out (its owner died).
    """
    condition = [model.id == row_id, model.status == seen_status]
    if seen_status == SENDING:
        condition.append(model.lease_until < now)
    result = await session.execute(
        update(model)
        .where(*condition)
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def claim_values(
    instance: str, now: datetime, lease: timedelta, attempts: int | SQLColumnExpression[int]
) -> dict[str, Any]:
    """A claim's new values; ``attempts`` is the count before it (a number, or the
    column itself when many rows are claimed in one statement)."""
    return {
        "status": SENDING,
        "claimed_by": instance,
        "lease_until": now + lease,
        "attempts": attempts + 1,
    }


async def claim_batch(
    session: AsyncSession,
    *,
    now: datetime,
    today: date,
    instance: str,
    lease: timedelta,
    limit: int,
) -> list[DueReminder]:
    """Claim up to ``limit`` messages' worth of due reminders and commit the claim.

    Missed leads of one milestone for one recipient collapse into the most urgent one,
    which alone is claimed; the others are marked collapsed (kept in the history).
    """
    picked = await due_reminders(session, now, today, limit=limit, lock=True)
    if not picked:
        await session.commit()
        return []
    chosen, collapsed = collapse(await _companions(session, picked, now, lock=True))
    claimed_ids = await _take_due(session, [row.id for row in chosen], now, today, instance, lease)
    claimed = [row for row in chosen if row.id in claimed_ids]
    for row, into in collapsed:
        if into.id in claimed_ids:
            changes = {"status": COLLAPSED, "collapsed_into": into.id}
            await take(session, ReminderRow, row.id, row.status, changes, now)
    await session.commit()
    return claimed


async def _take_due(
    session: AsyncSession,
    ids: list[int],
    now: datetime,
    today: date,
    instance: str,
    lease: timedelta,
) -> set[int]:
    """Claim the rows among ``ids`` that are still due, in one conditional UPDATE.

    The condition is the due condition itself, so a row another sweep claimed (or that
    was sent, or re-planned) since we read it is left alone; RETURNING says which rows
    this claim got. One statement per batch rather than one per row: at 100 rows a
    batch, per-row claims cost more than a millisecond per message sent.
    """
    if not ids:
        return set()
    result = await session.execute(
        update(ReminderRow)
        .where(ReminderRow.id.in_(ids), _due_condition(now, today))
        .values(**claim_values(instance, now, lease, ReminderRow.attempts), updated_at=now)
        .returning(ReminderRow.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


async def record_attempt(
    connection: AsyncConnection | DirectConnection,
    model: Claimable,
    row_id: int,
    *,
    instance: str,
    now: datetime,
    outcome: str,
    reply: str,
    new_status: str,
    retry_at: datetime | None = None,
) -> bool:
    """Store one attempt and the row's new state, if we still hold the claim.

    Returns False when the claim was lost (our lease ran out and another instance took
    the row): the attempt is still kept in the history, the row is left to its new owner.
    One transaction per message, committed before the next message is sent, so a crash
    leaves at most the message in flight sent but unrecorded. This runs for every
    message, so it goes straight to the driver (see :mod:`tracker.store.direct`); a
    sender holds one :class:`DirectConnection` for its whole batch.
    """
    if isinstance(connection, DirectConnection):
        direct = connection
    else:
        direct = await DirectConnection.of(connection)
    key = (model, new_status, direct.dialect.name)
    if key not in _RECORD_STATEMENTS:
        _RECORD_STATEMENTS[key] = _record_statements(model, new_status, direct.dialect)
    attempt, change = _RECORD_STATEMENTS[key]
    link = "a_reminder" if model is ReminderRow else "a_digest"
    counts = await direct.transaction(
        [
            (attempt, {"a_at": now, "a_outcome": outcome, "a_reply": reply[:2000],
                       "a_instance": instance, "a_reminder": None, "a_digest": None,
                       link: row_id}),
            (change, {"p_id": row_id, "p_instance": instance, "p_status": new_status,
                      "p_reply": reply[:2000], "p_now": now, "p_due": retry_at or now}),
        ]
    )  # fmt: skip
    return counts[1] == 1


#: Compiled record statements by (model, new status, dialect name).
_RECORD_STATEMENTS: dict[tuple[Claimable, str, str], tuple[Prepared, Prepared]] = {}


def _record_statements(
    model: Claimable, new_status: str, dialect: Dialect
) -> tuple[Prepared, Prepared]:
    """(attempt INSERT, row UPDATE) for an outcome, compiled for ``dialect``.

    The UPDATE applies only while the row is still ours (``sending``, claimed by us).
    A sent row gets its ``sent_at``; a row to retry goes back to ``planned``, due at
    its retry time and unclaimed.
    """
    values: dict[str, Any] = {
        "status": bindparam("p_status"),
        "last_reply": bindparam("p_reply"),
        "updated_at": bindparam("p_now"),
    }
    if new_status == SENT:
        values["sent_at"] = bindparam("p_now")
    if new_status == PLANNED:
        values.update(due_at=bindparam("p_due"), claimed_by=null(), lease_until=null())
    change = (
        update(model)
        .where(
            model.id == bindparam("p_id"),
            model.status == SENDING,
            model.claimed_by == bindparam("p_instance"),
        )
        .values(**values)
    )
    attempt = insert(DeliveryAttemptRow).values(
        at=bindparam("a_at"), outcome=bindparam("a_outcome"), reply=bindparam("a_reply"),
        instance=bindparam("a_instance"), reminder_id=bindparam("a_reminder"),
        digest_id=bindparam("a_digest"),
    )  # fmt: skip
    return Prepared.compile(attempt, dialect), Prepared.compile(change, dialect)


async def release(
    session: AsyncSession,
    model: Claimable,
    claims: list[tuple[int, int]],
    *,
    instance: str,
    now: datetime,
    retry_at: datetime,
) -> None:
    """Give claims back untried (a stop request, or the mail server refused our login).

    ``claims`` are (row id, attempts before the claim): an untried claim costs no attempt.
    """
    for row_id, attempts in claims:
        await session.execute(
            update(model)
            .where(model.id == row_id, model.claimed_by == instance, model.status == SENDING)
            .values(
                status=PLANNED,
                due_at=retry_at,
                claimed_by=None,
                lease_until=None,
                attempts=attempts,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    await session.commit()


async def drop_planned(session: AsyncSession, reminder_ids: list[int]) -> None:
    """Delete planned rows never attempted (a re-plan made them moot)."""
    if reminder_ids:
        await session.execute(
            delete(ReminderRow).where(ReminderRow.id.in_(reminder_ids), ReminderRow.attempts == 0)
        )
