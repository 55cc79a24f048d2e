"""The digest's content: one person's contracts, gathered for a batch of people at once.

The queries per batch are fixed (contracts with their lines and milestones, the change
log, failed deliveries, last digests), whatever the number of people or contracts in
it, so 2,000 recipients over 10,000 contracts stay a few dozen queries, not millions.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.digest import FREQUENCIES, WEEKDAYS, parse_time
from tracker.domain.types import MilestoneStatus
from tracker.errors import ConfigError
from tracker.mail.model import (
    DecisionLink,
    DigestChange,
    DigestContract,
    DigestEmail,
    DigestFailure,
    DigestItem,
    GapRow,
)
from tracker.service.app import App
from tracker.service.delivery import KIND_LABELS, decision_links
from tracker.service.views import ContractSummary, MilestoneView, summarise
from tracker.store.models import (
    ContractRow,
    DigestRow,
    EventRow,
    MilestoneRow,
    RecipientRow,
    ReminderRow,
    WatcherRow,
)
from tracker.store.outbox import FAILED, SENT

UPCOMING_DAYS = 56  # "decisions due in the next 8 weeks"
ENDING_DAYS = 365  # "contracts ending within 12 months"
CHANGES_DAYS = 7


@dataclass(frozen=True)
class Schedule:
    frequency: str  # weekly | daily | off
    weekday: str
    at: time


def default_schedule(app: App) -> Schedule:
    digest = app.policy.digest
    frequency = str(digest.get("frequency", "weekly"))
    weekday = str(digest.get("weekday", "monday")).lower()
    if frequency not in FREQUENCIES or weekday not in WEEKDAYS:
        raise ConfigError(
            f"policy digest: frequency {frequency!r} / weekday {weekday!r} not understood"
        )
    try:
        at = parse_time(str(digest.get("time", "08:00")))
    except ValueError:
        raise ConfigError(f"policy digest.time: {digest.get('time')!r} is not HH:MM") from None
    return Schedule(frequency, weekday, at)


def send_empty(app: App) -> bool:
    return bool(app.policy.digest.get("send_empty", False))


async def all_recipients(session: AsyncSession) -> list[str]:
    """Everyone who owns, sponsors or watches at least one contract."""
    people = union(
        select(ContractRow.owner.label("email")).where(ContractRow.owner.is_not(None)),
        select(ContractRow.sponsor.label("email")).where(ContractRow.sponsor.is_not(None)),
        select(WatcherRow.email.label("email")),
    ).subquery()
    rows = await session.execute(select(people.c.email).order_by(people.c.email))
    return [str(email) for email in rows.scalars()]


async def schedules(session: AsyncSession, app: App, people: Sequence[str]) -> dict[str, Schedule]:
    """Each person's schedule: their own settings where set, else the configured default."""
    default = default_schedule(app)
    own = {
        r.email: r
        for r in (
            await session.execute(select(RecipientRow).where(RecipientRow.email.in_(list(people))))
        ).scalars()
    }
    result = {}
    for person in people:
        row = own.get(person)
        if row is None:
            result[person] = default
        else:
            at = parse_time(row.digest_time) if row.digest_time else default.at
            result[person] = Schedule(row.digest, default.weekday, at)
    return result


def _role(row: ContractRow, person: str) -> str:
    if row.owner == person:
        return "owner"
    if row.sponsor == person:
        return "sponsor"
    return "watcher"


def _item(
    view: MilestoneView, summary: ContractSummary, title: str, links: tuple[DecisionLink, ...]
) -> DigestItem:
    ref = shlex.quote(summary.ref)
    return DigestItem(
        ref=summary.ref,
        contract_title=title,
        kind=view.kind.value,
        kind_label=KIND_LABELS[view.kind],
        title=view.title,
        due=view.due,
        days_left=view.days_left,
        if_missed=view.if_missed,
        close_command=view.command or f"tracker milestone done {view.id}",
        snooze_command=f'tracker milestone snooze {ref} {view.kind.value} --until DATE --note "why"',
        snoozed_until=view.snoozed_until,
        snooze_note=view.snooze_note,
        staffing_at_risk=summary.staffing.at_risk,
        decision_links=links,
    )


def _contract(summary: ContractSummary, role: str) -> DigestContract:
    return DigestContract(
        ref=summary.ref,
        title=summary.title,
        provider=summary.provider,
        end=summary.end,
        days_to_end=summary.days_to_end,
        role=role,
        staffing_at_risk=summary.staffing.at_risk,
        staffing_summary=summary.staffing.summary,
        gaps=tuple(
            GapRow(str(g.year), g.cost, g.secured, g.at_risk, g.gap)
            for g in summary.gaps
            if g.in_term
        ),
        warnings=summary.warnings,
    )


def _needs_funding(summary: ContractSummary) -> bool:
    return summary.days_to_end >= 0 and any(
        g.in_term and ((g.gap is not None and g.gap > 0) or g.at_risk > 0) for g in summary.gaps
    )


@dataclass(frozen=True)
class Batch:
    """What one batch of people's digests are made of, fetched in a fixed number of queries."""

    contracts: dict[int, ContractRow]
    summaries: dict[int, ContractSummary]
    people_contracts: dict[str, list[int]]
    events: dict[int, list[EventRow]]
    failures: dict[int, list[tuple[ReminderRow, str]]]
    last_sent: dict[str, datetime]


async def load_batch(session: AsyncSession, app: App, people: Sequence[str]) -> Batch:
    watched = select(WatcherRow.contract_id).where(WatcherRow.email.in_(list(people)))
    rows = (
        (
            await session.execute(
                select(ContractRow).where(
                    or_(
                        ContractRow.owner.in_(list(people)),
                        ContractRow.sponsor.in_(list(people)),
                        ContractRow.id.in_(watched),
                    )
                )
            )
        )
        .scalars()
        .all()
    )
    contracts = {row.id: row for row in rows}
    people_set = set(people)
    people_contracts: dict[str, list[int]] = {p: [] for p in people}
    for row in rows:
        involved = {
            row.owner or "",
            row.sponsor or "",
            *(w.email for w in row.watchers),
        } & people_set
        for person in involved:
            people_contracts[person].append(row.id)
    ids = list(contracts)
    since = app.now - timedelta(days=CHANGES_DAYS)
    events: dict[int, list[EventRow]] = {}
    for event in (
        await session.execute(
            select(EventRow)
            .where(EventRow.contract_id.in_(ids), EventRow.at >= since, EventRow.at <= app.now)
            .order_by(EventRow.at.desc(), EventRow.id.desc())
        )
    ).scalars():
        events.setdefault(event.contract_id, []).append(event)
    last_sent = {
        person: when
        for person, when in (
            await session.execute(
                select(DigestRow.recipient, func.max(DigestRow.sent_at))
                .where(DigestRow.recipient.in_(list(people)), DigestRow.status == SENT)
                .group_by(DigestRow.recipient)
            )
        ).all()
        if when is not None
    }
    oldest = min([*last_sent.values(), since])
    failures: dict[int, list[tuple[ReminderRow, str]]] = {}
    for reminder, kind in (
        await session.execute(
            select(ReminderRow, MilestoneRow.kind)
            .join(MilestoneRow, MilestoneRow.id == ReminderRow.milestone_id)
            .where(
                ReminderRow.contract_id.in_(ids),
                ReminderRow.status == FAILED,
                ReminderRow.updated_at >= oldest,
            )
            .order_by(ReminderRow.updated_at.desc())
        )
    ).all():
        failures.setdefault(reminder.contract_id, []).append((reminder, kind))
    summaries = {cid: summarise(row, app) for cid, row in contracts.items()}
    return Batch(contracts, summaries, people_contracts, events, failures, last_sent)


def compose(
    app: App, batch: Batch, person: str, *, message_id: str, period_label: str, frequency: str
) -> DigestEmail:
    """One person's digest from the batch: sorted by urgency, each item with its command."""
    mine = sorted(
        batch.people_contracts.get(person, []),
        key=lambda cid: (batch.contracts[cid].end_date, batch.contracts[cid].ref),
    )
    overdue: list[DigestItem] = []
    upcoming: list[DigestItem] = []
    funding, staffing, ending = [], [], []
    changes: list[DigestChange] = []
    failures: list[DigestFailure] = []
    since = batch.last_sent.get(person, app.now - timedelta(days=CHANGES_DAYS))
    for cid in mine:
        row, summary = batch.contracts[cid], batch.summaries[cid]
        role = _role(row, person)
        links = decision_links(row)
        for view in summary.milestones:
            if not view.is_decision or view.status != MilestoneStatus.OPEN:
                continue
            if view.days_left < 0:
                overdue.append(_item(view, summary, row.title, links))
            elif view.days_left <= UPCOMING_DAYS:
                upcoming.append(_item(view, summary, row.title, links))
        if _needs_funding(summary):
            funding.append(_contract(summary, role))
        if summary.staffing.at_risk:
            staffing.append(_contract(summary, role))
        if 0 <= summary.days_to_end <= ENDING_DAYS:
            ending.append(_contract(summary, role))
        changes.extend(DigestChange(e.at, row.ref, e.detail) for e in batch.events.get(cid, []))
        failures.extend(
            DigestFailure(r.updated_at, row.ref, kind, r.recipient, r.last_reply or "")
            for r, kind in batch.failures.get(cid, [])
            if r.updated_at > since
        )
    overdue.sort(key=lambda i: (i.due, i.ref, i.kind))
    upcoming.sort(key=lambda i: (i.due, i.ref, i.kind))
    changes.sort(key=lambda c: c.at, reverse=True)
    failures.sort(key=lambda f: f.at, reverse=True)
    return DigestEmail(
        message_id=message_id,
        sent_at=app.now,
        mail_from=app.settings.mail_from,
        recipient=person,
        period_label=period_label,
        frequency=frequency,
        overdue=tuple(overdue),
        upcoming=tuple(upcoming),
        funding=tuple(funding),
        staffing=tuple(staffing),
        ending=tuple(ending),
        changes=tuple(changes),
        failures=tuple(failures),
    )
