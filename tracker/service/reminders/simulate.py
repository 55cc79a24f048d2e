"""``tracker simulate``: who would have been told what, and when, changing nothing.

The simulation copies the database into a throwaway SQLite file and runs the real
sweep on the copy at 09:00 London each day of the period, with a transport that only
records. Because it is the same code that ``tracker send`` runs, a simulation lists
exactly what sending every day would deliver; the real database is only read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tracker.domain.reminders import nine_am_london
from tracker.errors import InvalidValue
from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import DeliveryOutcome, Outcome
from tracker.service.app import App, make_app, opened
from tracker.service.contracts import load_contract, refresh
from tracker.store.models import Base, ContractRow

if TYPE_CHECKING:  # the sweep and the transports are imported when a simulation runs
    from tracker.mail.transport import Transport
    from tracker.service.reminders.send import SendResult


@dataclass(frozen=True, kw_only=True)
class SimulatedEmail:
    send_at: datetime  # aware UTC
    recipient: str
    role: str
    ref: str
    kind: str
    lead: int
    subject: str
    message_id: str


@dataclass
class RecordingTransport:
    """Accepts every message; optionally also writes it through another transport."""

    also: Transport | None = None
    sent: list[OutgoingMessage] = field(default_factory=list)

    async def __aenter__(self) -> RecordingTransport:
        if self.also is not None:
            await self.also.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.also is not None:
            await self.also.__aexit__(kind, exc, tb)

    async def send(
        self, message: OutgoingMessage, recipients: Sequence[str]
    ) -> dict[str, DeliveryOutcome]:
        self.sent.append(message)
        if self.also is not None:
            return await self.also.send(message, recipients)
        return {r: DeliveryOutcome(Outcome.SENT, "250 simulated") for r in recipients}


async def copy_database(source: AsyncEngine, target: AsyncEngine) -> None:
    """Copy every table, parents first, in batches (works from SQLite or PostgreSQL).

    The target's own rows go first: a fresh schema already holds its installation row,
    and the copy keeps the source's (so its calendar UIDs are the source's too).
    """
    async with source.connect() as read, target.begin() as write:
        for table in reversed(Base.metadata.sorted_tables):
            await write.execute(delete(table))
        for table in Base.metadata.sorted_tables:
            result = await read.stream(select(table))
            async for chunk in result.partitions(2000):
                await write.execute(insert(table), [dict(row._mapping) for row in chunk])


def _days(start: date, end: date) -> list[date]:
    if end < start:
        raise InvalidValue("--to", end.isoformat(), f"is before --from ({start.isoformat()})")
    if (end - start).days > 3660:
        raise InvalidValue("--to", end.isoformat(), "is more than ten years after --from")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


async def simulate(
    app: App,
    *,
    start: date,
    end: date,
    ref: str | None = None,
    policy_file: Path | None = None,
    outbox: Path | None = None,
) -> list[SimulatedEmail]:
    """Replay ``start``..``end`` day by day on a copy; return every email, in order."""
    from tracker.mail.transport import OutboxTransport
    from tracker.service.reminders.send import sweep

    days = _days(start, end)
    workdir = Path(tempfile.mkdtemp(prefix="tracker-simulate-"))
    copy = make_app(
        db=f"sqlite+aiosqlite:///{workdir / 'copy.db'}",
        now=nine_am_london(start),
        policy_file=policy_file,
    )
    copy.settings = app.settings.model_copy(update={"database_url": None})
    async with opened(copy):
        await copy_database(app.engine, copy.engine)
        async with copy.session() as session:
            if ref is not None:
                await load_contract(session, ref)  # unknown ref: a clear error
                await session.execute(delete(ContractRow).where(ContractRow.ref != ref))
            if policy_file is not None:
                for row in (await session.execute(select(ContractRow))).scalars():
                    await refresh(session, row, copy)
            await session.commit()
        transport = RecordingTransport(also=OutboxTransport(outbox) if outbox else None)
        emails: list[SimulatedEmail] = []
        for day in days:
            copy.now = nine_am_london(day)
            report = await sweep(copy, transport, instance="simulation")
            sent = transport.sent[len(transport.sent) - len(report.results) :]
            emails.extend(
                _simulated(result, message, copy.now)
                for result, message in zip(report.results, sent, strict=True)
            )
    return emails


def _simulated(result: SendResult, message: OutgoingMessage, at: datetime) -> SimulatedEmail:
    """One sent reminder as the simulation lists it."""
    reminder = result.reminder
    return SimulatedEmail(
        send_at=at,
        recipient=reminder.recipient,
        role=reminder.role,
        ref=result.email.ref,
        kind=result.email.kind,
        lead=reminder.lead,
        subject=message.subject,
        message_id=reminder.message_id,
    )
