"""Sending digests exactly once per person and period, through the reminders' outbox core.

Each tick plans the current period's row for everyone due one (unique on recipient and
period, so planning twice, or on two instances, makes one row), claims a batch of due
rows with the same conditional update and lease as reminders, and hands it to the same
delivery loop, which sends each or, for an empty digest, closes it as empty. Only the
latest period is planned: a missed Monday is caught up once, not once per missed week.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.digest import current_period, digest_message_id
from tracker.domain.reminders import mail_domain
from tracker.errors import InvalidValue
from tracker.mail.digest import build_digest, render_digest
from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import DigestEmail
from tracker.mail.transport import Transport
from tracker.service.app import App
from tracker.service.digest.gather import (
    FactsCache,
    all_recipients,
    compose,
    load_batch,
    schedules,
)
from tracker.service.links import email_links
from tracker.service.outbox import Batch, deliver
from tracker.store.models import DigestRow
from tracker.store.outbox import ClaimedDigest, OutboxStatus, claim_digests

BATCH = 200


@dataclass(frozen=True, kw_only=True)
class DigestResult:
    recipient: str
    period: str
    status: OutboxStatus
    reply: str


@dataclass
class DigestReport:
    planned: int = 0
    results: list[DigestResult] = field(default_factory=list)

    def summary(self) -> str:
        sent = sum(1 for r in self.results if r.status == OutboxStatus.SENT)
        empty = sum(1 for r in self.results if r.status == OutboxStatus.EMPTY)
        other = len(self.results) - sent - empty
        return f"{sent} digests sent, {empty} empty (not sent), {other} to retry or failed"


def period_label(period: str, scheduled_at: datetime) -> tuple[str, str]:
    """("week of 2 Sep 2024", "weekly") or ("2 Sep 2024", "daily") from a stored period."""
    from tracker.domain.calendar import LONDON
    from tracker.domain.digest import period_label as label

    day = scheduled_at.astimezone(LONDON).date()
    weekly = "W" in period
    return label(day, weekly=weekly), "weekly" if weekly else "daily"


async def chosen_people(session: AsyncSession, only: Sequence[str] | None) -> list[str]:
    """Everyone who gets a digest, or ``only`` these, each of whom must be one of them."""
    everyone = await all_recipients(session)
    if not only:
        return everyone
    known = set(everyone)
    for person in only:
        if person not in known:
            raise InvalidValue("--to", person, "owns, sponsors or watches no contract")
    return list(only)


async def plan_digests(app: App, only: Sequence[str] | None = None) -> int:
    """Create the current period's digest row for each person due one; returns how many."""
    async with app.session() as session:
        people = await chosen_people(session, only)
        plans = await schedules(session, app, people)
        wanted: dict[tuple[str, str], DigestRow] = {}
        domain = mail_domain(app.settings.mail_from)
        for person in people:
            plan = plans[person]
            if plan.frequency == "off":
                continue
            period = current_period(app.now, plan.frequency, plan.weekday, plan.at)
            wanted[(person, period.key)] = DigestRow(
                recipient=person,
                period=period.key,
                scheduled_at=period.scheduled_at,
                status=OutboxStatus.PLANNED,
                attempts=0,
                due_at=period.scheduled_at,
                message_id=digest_message_id(person, period.key, domain),
                created_at=app.now,
                updated_at=app.now,
            )
        inserted = await _insert_missing(session, list(wanted.values()))
        await session.commit()
    return inserted


async def _insert_missing(session: AsyncSession, rows: list[DigestRow]) -> int:
    if not rows:
        return 0
    periods = sorted({r.period for r in rows})
    existing: set[tuple[str, str]] = set()
    for start in range(0, len(rows), 500):
        people = [r.recipient for r in rows[start : start + 500]]
        found = await session.execute(
            select(DigestRow.recipient, DigestRow.period).where(
                DigestRow.recipient.in_(people), DigestRow.period.in_(periods)
            )
        )
        existing.update((str(a), str(b)) for a, b in found.all())
    missing = [r for r in rows if (r.recipient, r.period) not in existing]
    if not missing:
        return 0
    columns = [c.key for c in DigestRow.__table__.columns if c.key != "id"]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(missing), 500):
        values = [{k: getattr(r, k) for k in columns} for r in missing[start : start + 500]]
        await session.execute(
            insert(DigestRow)
            .values(values)
            .on_conflict_do_nothing(index_elements=["recipient", "period"])
        )
    return len(missing)


async def _compose_batch(
    app: App, claimed: list[ClaimedDigest], cache: FactsCache
) -> list[DigestEmail]:
    async with app.session() as session:
        batch = await load_batch(session, app, [c.recipient for c in claimed], cache)
    emails = []
    for c in claimed:
        label, frequency = period_label(c.period, c.scheduled_at)
        emails.append(
            compose(
                app,
                batch,
                c.recipient,
                message_id=c.message_id,
                period_label=label,
                frequency=frequency,
            )
        )
    return emails


async def send_digests(
    app: App,
    transport: Transport,
    *,
    instance: str,
    only: Sequence[str] | None = None,
    on_result: Callable[[DigestResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DigestReport:
    """Plan, claim and send every digest due now (for everyone, or ``only`` these people)."""
    # A base URL without a signing key fails here, before anything is claimed.
    email_links(app.settings, app.now)
    stop = should_stop or (lambda: False)
    report = DigestReport(planned=await plan_digests(app, only))
    lease = timedelta(seconds=app.settings.lease_seconds)
    allow_empty = app.policy.digest.send_empty
    cache = FactsCache()  # each contract read once per run, not once per batch

    def build(claim: ClaimedDigest, email: DigestEmail) -> OutgoingMessage | None:
        return None if email.is_empty and not allow_empty else build_digest(email)

    def done(claim: ClaimedDigest, email: DigestEmail, status: OutboxStatus, reply: str) -> None:
        result = DigestResult(
            recipient=claim.recipient, period=claim.period, status=status, reply=reply
        )
        report.results.append(result)
        if on_result is not None:
            on_result(result)

    while not stop():
        clock = app.clock()
        async with app.session() as session:
            claimed = await claim_digests(
                session,
                now=app.now,
                clock=clock,
                instance=instance,
                lease=lease,
                limit=BATCH,
                only=only,
            )
        if not claimed:
            break
        emails = await _compose_batch(app, claimed, cache)
        items = list(zip(claimed, emails, strict=True))
        batch = Batch(
            model=DigestRow, items=items, build=build, done=done, held_until=clock + lease
        )
        await deliver(app, transport, batch, instance=instance, stop=stop)
    return report


async def preview_digests(
    app: App, only: Sequence[str] | None = None
) -> list[tuple[str, DigestEmail]]:
    """Everyone's digest as it would be now (or ``only`` these people); nothing is written."""
    async with app.session() as session:
        people = await chosen_people(session, only)
        plans = await schedules(session, app, people)
    domain = mail_domain(app.settings.mail_from)
    result = []
    cache = FactsCache()  # each contract read once per run, not once per batch
    for start in range(0, len(people), BATCH):
        chunk = people[start : start + BATCH]
        async with app.session() as session:
            batch = await load_batch(session, app, chunk, cache)
        for person in chunk:
            plan = plans[person]
            frequency = "weekly" if plan.frequency == "off" else plan.frequency
            period = current_period(app.now, frequency, plan.weekday, plan.at)
            email = compose(
                app,
                batch,
                person,
                message_id=digest_message_id(person, period.key, domain),
                period_label=period.label,
                frequency=frequency,
            )
            result.append((person, email))
    return result


__all__ = ["preview_digests", "render_digest", "send_digests"]
