"""Operations: instance heartbeats and ``tracker status`` (what monitoring reads).

Each ``tracker run`` writes a heartbeat row per tick, so an operator can see which
instances are alive, when each last swept and sent digests, and how much work is
pending, due, retrying or failed. Nothing here shows a password: the database URL is
redacted and settings are not echoed.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, inspect, select
from sqlalchemy.engine import Connection

from tracker import __version__
from tracker.service.app import App
from tracker.store.engine import redact
from tracker.store.models import DigestRow, InstanceRow, ReminderRow
from tracker.store.outbox import OutboxStatus
from tracker.store.rows import copy_row
from tracker.store.schema import current_revision, head_revision


async def beat(
    app: App,
    instance: str,
    started_at: datetime,
    *,
    swept: bool = False,
    digested: bool = False,
    error: str | None = None,
    stopped: bool = False,
) -> None:
    """Record that ``instance`` is alive (and what it just did)."""
    async with app.session() as session:
        row = await session.get(InstanceRow, instance)
        if row is None:
            row = InstanceRow(
                name=instance,
                host=socket.gethostname(),
                pid=os.getpid(),
                version=__version__,
                started_at=started_at,
                last_seen=app.now,
            )
            session.add(row)
        row.last_seen = app.now
        if swept:
            row.last_sweep = app.now
        if digested:
            row.last_digest = app.now
        row.last_error = error[:2000] if error else None
        row.stopped_at = app.now if stopped else None
        await session.commit()


@dataclass(frozen=True, kw_only=True)
class InstanceView:
    name: str
    host: str
    pid: int
    version: str
    started_at: datetime
    last_seen: datetime
    last_sweep: datetime | None
    last_digest: datetime | None
    last_error: str | None
    state: str  # running | stale | stopped


@dataclass(frozen=True, kw_only=True)
class WorkCounts:
    pending: int  # planned, not yet due
    due: int  # planned and due now
    retrying: int  # planned after a temporary failure
    sending: int  # claimed right now (or orphaned until the lease ends)
    failed: int
    sent: int


@dataclass(frozen=True, kw_only=True)
class Status:
    database: str
    schema_revision: str | None
    schema_head: str
    schema_current: bool
    instances: tuple[InstanceView, ...]
    reminders: WorkCounts
    digests: WorkCounts


async def _counts(app: App, model: type[ReminderRow] | type[DigestRow]) -> WorkCounts:
    planned = model.status == OutboxStatus.PLANNED
    conditions = {
        "pending": planned & (model.due_at > app.now) & (model.attempts == 0),
        "due": planned & (model.due_at <= app.now),
        "retrying": planned & (model.attempts > 0),
        "sending": model.status == OutboxStatus.SENDING,
        "failed": model.status == OutboxStatus.FAILED,
        "sent": model.status == OutboxStatus.SENT,
    }
    statement = select(*(func.count(case((c, 1))) for c in conditions.values()))
    async with app.session() as session:
        row = (await session.execute(statement)).one()
    return WorkCounts(**{name: int(v) for name, v in zip(conditions, row, strict=True)})


async def status(app: App, *, stale_after: timedelta | None = None) -> Status:
    """The whole picture; an instance unseen for three sweep intervals is ``stale``.

    On a database whose schema is behind, only what that schema holds is read (the
    rest shows as none), so monitoring still gets JSON saying the schema is out of date.
    """
    stale = stale_after or timedelta(seconds=3 * app.settings.sweep_interval_seconds)
    revision = await current_revision(app.engine)
    head = head_revision()
    tables = await _tables(app)
    rows: list[InstanceRow] = []
    if "instances" in tables:
        async with app.session() as session:
            found = await session.execute(
                select(InstanceRow).order_by(InstanceRow.started_at.desc())
            )
            rows = list(found.scalars().all())
    instances = tuple(_instance_view(r, app.now, stale) for r in rows)
    return Status(
        database=redact(app.database_url),
        schema_revision=revision,
        schema_head=head,
        schema_current=revision == head,
        instances=instances,
        reminders=await _counts(app, ReminderRow) if "reminders" in tables else NO_WORK,
        digests=await _counts(app, DigestRow) if "digests" in tables else NO_WORK,
    )


NO_WORK = WorkCounts(pending=0, due=0, retrying=0, sending=0, failed=0, sent=0)


def _instance_view(row: InstanceRow, now: datetime, stale: timedelta) -> InstanceView:
    """An instance's heartbeat, and whether it is running, stale (unseen for ``stale``)
    or stopped."""
    state = "running"
    if row.stopped_at:
        state = "stopped"
    elif now - row.last_seen > stale:
        state = "stale"
    return copy_row(InstanceView, row, state=state)


async def _tables(app: App) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with app.engine.connect() as conn:
        return await conn.run_sync(names)
