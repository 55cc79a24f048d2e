"""The digest claim: a batch in one conditional UPDATE, and never the same row twice.

Digests are claimed like reminders (``tracker.store.outbox.claim_digests``): the due
rows are read, then claimed by one UPDATE whose condition is the due condition, so a
row another sender took in between is left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from support.statements import first_word, statements_run

from tracker.service.app import App
from tracker.store.models import DigestRow
from tracker.store.outbox import ClaimedDigest, OutboxStatus, claim_digests

AppAt = Callable[[datetime], Awaitable[App]]
LEASE = timedelta(minutes=5)


async def _digests(app: App, count: int, **overrides: Any) -> list[int]:
    """``count`` digest rows, planned and due now unless ``overrides`` say otherwise."""
    async with app.session() as session:
        start = await session.scalar(select(DigestRow.id).order_by(DigestRow.id.desc()).limit(1))
        rows = []
        for n in range(count):
            values: dict[str, Any] = {
                "recipient": f"person{(start or 0) + n}@example.org",
                "period": "2024-W23",
                "scheduled_at": app.now,
                "status": OutboxStatus.PLANNED,
                "attempts": 0,
                "due_at": app.now,
                "message_id": f"<d{(start or 0) + n}@example.org>",
                "created_at": app.now,
                "updated_at": app.now,
            }
            rows.append(DigestRow(**{**values, **overrides}))
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


async def _claim(app: App, instance: str, limit: int) -> list[ClaimedDigest]:
    async with app.session() as session:
        return await claim_digests(
            session, now=app.now, instance=instance, lease=LEASE, limit=limit
        )


async def test_a_batch_of_digests_is_claimed_in_one_statement(app: App) -> None:
    due = await _digests(app, 7)
    later = await _digests(app, 1, due_at=app.now + timedelta(hours=1))
    held = await _digests(
        app, 1, status=OutboxStatus.SENDING, claimed_by="other", lease_until=app.now + LEASE
    )
    orphaned = await _digests(
        app,
        1,
        status=OutboxStatus.SENDING,
        claimed_by="dead",
        lease_until=app.now - LEASE,
        attempts=2,
    )
    with statements_run(app, first_word("UPDATE")) as updates:
        claimed = await _claim(app, "me", limit=100)
    assert len(updates) == 1
    assert sorted(c.id for c in claimed) == sorted(due + orphaned)
    assert {c.id: c.attempts for c in claimed}[orphaned[0]] == 2  # the count before the claim
    async with app.session() as session:
        rows = {r.id: r for r in (await session.execute(select(DigestRow))).scalars()}
    for row_id in due + orphaned:
        assert (rows[row_id].status, rows[row_id].claimed_by) == (OutboxStatus.SENDING, "me")
        assert rows[row_id].lease_until == app.now + LEASE
    assert rows[orphaned[0]].attempts == 3 and rows[due[0]].attempts == 1
    assert rows[later[0]].status == OutboxStatus.PLANNED
    assert rows[held[0]].claimed_by == "other"


async def test_two_claimers_never_get_the_same_digest(app: App, app_at: AppAt) -> None:
    ids = await _digests(app, 40)
    other = await app_at(app.now)

    async def drain(sender: App, instance: str) -> list[int]:
        got: list[int] = []
        while batch := await _claim(sender, instance, limit=3):
            got += [c.id for c in batch]
            await asyncio.sleep(0)
        return got

    mine, theirs = await asyncio.gather(drain(app, "me"), drain(other, "them"))
    assert not set(mine) & set(theirs)
    assert sorted(mine + theirs) == sorted(ids)
    async with app.session() as session:
        owners = dict((await session.execute(select(DigestRow.id, DigestRow.claimed_by))).all())
    assert all(owners[i] == "me" for i in mine) and all(owners[i] == "them" for i in theirs)
