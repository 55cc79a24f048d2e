"""Recording an attempt straight on the driver: one atomic transaction, on both backends.

The sweep's per-message record bypasses SQLAlchemy's execution layer (see
``tracker.store.direct``); these tests hold it to the same rules as the ORM: values
converted by the column types (UTC times), both statements or neither, a lost claim
reported, driver errors raised as SQLAlchemy errors, and the connection usable after.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from tracker.service.app import App
from tracker.service.contracts import add_contracts
from tracker.service.registers.inputs import ContractInput
from tracker.store.direct import DirectConnection, Prepared
from tracker.store.models import DeliveryAttemptRow, ReminderRow
from tracker.store.outbox import NextState, OutboxStatus, claim_rows, record_attempt

PLANNED, SENDING = OutboxStatus.PLANNED, OutboxStatus.SENDING
SENT, FAILED = OutboxStatus.SENT, OutboxStatus.FAILED

Build = Callable[..., ContractInput]


async def _claimed(app: App, contract: Build, instance: str = "me") -> int:
    """A planned reminder of the base contract, made due now and claimed by ``instance``
    (through the sweep's batch claim); its id."""
    await add_contracts(app, [contract()])
    async with app.session() as session:
        row_id = await session.scalar(select(func.min(ReminderRow.id)))
        assert row_id is not None
        await session.execute(
            update(ReminderRow).where(ReminderRow.id == row_id).values(due_at=app.now)
        )
        lease = timedelta(minutes=5)
        claimed = await claim_rows(
            session, ReminderRow, [row_id], now=app.now, instance=instance, lease=lease
        )
        await session.commit()
    assert claimed == {row_id}
    return row_id


async def _row(app: App, reminder_id: int) -> ReminderRow:
    async with app.session() as session:
        return (
            await session.execute(select(ReminderRow).where(ReminderRow.id == reminder_id))
        ).scalar_one()


async def _attempts(app: App, reminder_id: int) -> list[DeliveryAttemptRow]:
    async with app.session() as session:
        statement = select(DeliveryAttemptRow).where(DeliveryAttemptRow.reminder_id == reminder_id)
        return list((await session.execute(statement)).scalars())


async def test_a_sent_attempt_is_recorded_with_utc_times(app: App, contract: Build) -> None:
    reminder_id = await _claimed(app, contract)
    async with app.engine.connect() as connection:
        sent = NextState(status=SENT, reply="250 2.0.0 OK")
        ours = await record_attempt(
            connection, ReminderRow, reminder_id, sent, outcome="sent", instance="me", now=app.now
        )
    assert ours
    row = await _row(app, reminder_id)
    assert (row.status, row.sent_at, row.updated_at, row.last_reply) == (
        SENT, app.now, app.now, "250 2.0.0 OK",
    )  # fmt: skip
    [attempt] = await _attempts(app, reminder_id)
    assert (attempt.at, attempt.outcome, attempt.instance, attempt.digest_id) == (
        app.now, "sent", "me", None,
    )  # fmt: skip


async def test_a_retry_goes_back_to_planned_unclaimed(app: App, contract: Build) -> None:
    reminder_id = await _claimed(app, contract)
    retry_at = app.now + timedelta(minutes=10)
    async with app.engine.connect() as connection:
        direct = await DirectConnection.of(connection)
        retry = NextState(status=PLANNED, reply="451 try later", retry_at=retry_at)
        assert await record_attempt(
            direct, ReminderRow, reminder_id, retry, outcome="temporary", instance="me", now=app.now
        )
    row = await _row(app, reminder_id)
    assert (row.status, row.due_at, row.claimed_by, row.lease_until, row.sent_at) == (
        PLANNED, retry_at, None, None, None,
    )  # fmt: skip


async def test_a_lost_claim_keeps_the_attempt_and_leaves_the_row(app: App, contract: Build) -> None:
    reminder_id = await _claimed(app, contract, instance="someone else")
    async with app.engine.connect() as connection:
        sent = NextState(status=SENT, reply="250 OK")
        ours = await record_attempt(
            connection, ReminderRow, reminder_id, sent, outcome="sent", instance="me", now=app.now
        )
    assert not ours
    assert (await _row(app, reminder_id)).status == SENDING
    assert [a.instance for a in await _attempts(app, reminder_id)] == ["me"]


async def test_both_statements_or_neither(app: App, contract: Build) -> None:
    """A failing second statement rolls the first back; the error is SQLAlchemy's, and
    the same connection records the next attempt."""
    reminder_id = await _claimed(app, contract)
    async with app.session() as session:
        before = await session.scalar(select(func.count()).select_from(DeliveryAttemptRow))
    async with app.engine.connect() as connection:
        direct = await DirectConnection.of(connection)
        insert = Prepared.compile(
            DeliveryAttemptRow.__table__.insert().values(
                at=app.now, outcome="sent", reply="x", instance="me", reminder_id=reminder_id
            ),
            direct.dialect,
        )
        duplicate_key = Prepared.compile(
            ReminderRow.__table__.insert().values(
                id=reminder_id, contract_id=0, milestone_id=0, milestone_due=app.now.date(),
                lead=0, recipient="x", role="owner", send_at=app.now, due_at=app.now,
                status=PLANNED, attempts=0, message_id="<x>", created_at=app.now,
                updated_at=app.now,
            ),
            direct.dialect,
        )  # fmt: skip
        with pytest.raises(OperationalError):
            await direct.transaction([(insert, {}), (duplicate_key, {})])
        failed = NextState(status=FAILED, reply="550 no such user")
        assert await record_attempt(
            direct, ReminderRow, reminder_id, failed, outcome="failed", instance="me", now=app.now
        )
    async with app.session() as session:
        after = await session.scalar(select(func.count()).select_from(DeliveryAttemptRow))
    assert after == (before or 0) + 1  # only the recorded attempt, not the rolled-back one
    assert (await _row(app, reminder_id)).status == FAILED


def test_statements_compile_to_the_drivers_positional_parameters() -> None:
    """One argument per placeholder, in order: ``?`` repeated on SQLite, ``$n`` reused on
    PostgreSQL; literals of the statement itself are filled in."""
    import re

    from sqlalchemy import bindparam, update
    from sqlalchemy.dialects import postgresql, sqlite

    statement = (
        update(ReminderRow)
        .where(ReminderRow.id == bindparam("p_id"), ReminderRow.status == SENDING)
        .values(status=bindparam("p_status"), updated_at=bindparam("p_now"),
                sent_at=bindparam("p_now"))
    )  # fmt: skip
    params = {"p_id": 7, "p_status": SENT, "p_now": None}
    lite = Prepared.compile(statement, sqlite.aiosqlite.dialect())
    assert lite.sql.count("?") == len(lite.arguments(params)) == 5
    assert lite.arguments(params).count(None) == 2 and SENDING in lite.arguments(params)
    pg = Prepared.compile(statement, postgresql.asyncpg.dialect())  # type: ignore[no-untyped-call]
    numbers = {int(n) for n in re.findall(r"\$(\d+)", pg.sql)}
    assert numbers == set(range(1, len(pg.arguments(params)) + 1)) and len(numbers) == 4
    assert pg.fixed == lite.fixed == {"status_1": SENDING}
