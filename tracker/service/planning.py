"""Keep a contract's planned reminders in step with its milestones and policy.

Called in the same transaction as every change (contract, milestone, snooze, policy).
Planned rows that were never attempted are replaced freely; rows with history (sent,
failed, collapsed, or a pending retry) are never deleted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.calendar import LONDON
from tracker.domain.reminders import (
    SEND_TIME,
    ReminderPolicy,
    message_id,
    plan_leads,
    recipients_for,
    send_time,
)
from tracker.domain.types import FACT_KINDS, MilestoneKind, MilestoneStatus
from tracker.policy import Policy
from tracker.service.derive import sync_milestones
from tracker.store.models import ContractPolicyRow, ContractRow, EventRow, MilestoneRow, ReminderRow
from tracker.store.outbox import CANCELLED, PLANNED

Key = tuple[int, date, int, str]


def contract_policy(
    policy: Policy, overrides: Sequence[ContractPolicyRow], kind: MilestoneKind
) -> ReminderPolicy:
    """The default policy for the kind, with the contract's own overrides applied."""
    base = policy.reminder_rule(kind)
    override = next((p for p in overrides if p.kind == kind.value), None)
    if override is None:
        return base
    leads = (
        tuple(sorted({int(v) for v in override.leads.split(",") if v}, reverse=True))
        if override.leads is not None
        else base.leads
    )
    return ReminderPolicy(
        leads=leads,
        escalate_from=base.escalate_from
        if override.escalate_from is None
        else override.escalate_from,
        nag_days=base.nag_days if override.nag_days is None else override.nag_days,
    )


def mail_domain(mail_from: str) -> str:
    domain = mail_from.rpartition("@")[2].strip(" >")
    return domain or "contract-tracker.invalid"


def remindable(milestone: MilestoneRow, today: date) -> bool:
    if milestone.status != MilestoneStatus.OPEN.value:
        return False
    # Facts (start, end) are done once their day has passed; nothing to remind after.
    return not (MilestoneKind(milestone.kind) in FACT_KINDS and milestone.due < today)


def nag_plannable_at(day: date) -> datetime:
    """When the sweep plans the nag that falls on ``day`` (aware UTC): at its send time,
    or, when that is on an earlier working day, once ``day`` has begun in London
    (``latest_nag`` offers a nag from its own day on)."""
    midnight = datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
    return max(midnight, send_time(day))


def snooze_end(until: date) -> datetime:
    """When a snooze until ``until`` is over: 09:00 London that day (``released_through``)."""
    return datetime.combine(until, SEND_TIME, tzinfo=LONDON).astimezone(UTC)


def next_nag_at(
    due: date, nag_days: int, snoozed_until: date | None, planned: Iterable[int]
) -> datetime | None:
    """When the sweep next has to look at an open decision for a nag: the nag after the
    latest one ``planned`` (nag leads, e.g. -7, -14), or the first nag if none is, but
    not before the snooze ends. None: no nags (interval 0).

    The sweep plans ``latest_nag`` at that time (several missed nags collapse into one)
    and moves this on to the nag after the one it planned.
    """
    if nag_days <= 0:
        return None
    done = max(
        (-lead // nag_days for lead in planned if lead < 0 and lead % nag_days == 0), default=0
    )
    at = nag_plannable_at(due + timedelta(days=(done + 1) * nag_days))
    if snoozed_until is not None:
        at = max(at, snooze_end(snoozed_until))
    return at


class Nagged(Protocol):
    """What the nag schedule reads of a milestone (a MilestoneRow, or bench rows)."""

    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def snoozed_until(self) -> date | None: ...


def nag_schedule(
    milestone: Nagged,
    policy: Policy,
    overrides: Sequence[ContractPolicyRow],
    owner: str | None,
    sponsor: str | None,
    stored: Collection[tuple[int, str]],
) -> tuple[datetime | None, int | None]:
    """(``next_nag_at``, ``nag_default_days``) for a milestone as it stands.

    ``stored`` holds the (lead, recipient) of the nag rows kept for its current due date;
    a nag counts as planned when every recipient it goes to has one. The one place
    these two columns are worked out: re-planning (every change to a contract or
    milestone) and the sweep (after planning a nag) both call this.
    """
    kind = MilestoneKind(milestone.kind)
    if milestone.status != MilestoneStatus.OPEN.value or kind in FACT_KINDS:
        return None, None
    rule = contract_policy(policy, overrides, kind)
    own = any(p.kind == kind.value and p.nag_days is not None for p in overrides)
    default = None if own else policy.reminder_rule(kind).nag_days
    if not (owner or sponsor):
        return None, default  # nobody to nag; a new owner comes with a re-plan
    leads = {lead for lead, _ in stored if lead < 0}
    planned = [
        lead
        for lead in leads
        if all((lead, who) in stored for who, _ in recipients_for(lead, rule, owner, sponsor))
    ]
    return next_nag_at(milestone.due, rule.nag_days, milestone.snoozed_until, planned), default


def _schedule_nags(row: ContractRow, policy: Policy, existing: Iterable[Key]) -> None:
    """Keep each milestone's next nag time in step with its due date, status, snooze,
    policy and people, from the nag rows the contract has."""
    stored: dict[tuple[int, date], set[tuple[int, str]]] = {}
    for milestone_id, due, lead, recipient in existing:
        if lead < 0:
            stored.setdefault((milestone_id, due), set()).add((lead, recipient))
    for milestone in row.milestones:
        value = nag_schedule(
            milestone, policy, row.policies, row.owner, row.sponsor,
            stored.get((milestone.id, milestone.due), set()),
        )  # fmt: skip
        if (milestone.next_nag_at, milestone.nag_default_days) != value:
            milestone.next_nag_at, milestone.nag_default_days = value


def _desired(
    row: ContractRow, policy: Policy, today: date
) -> dict[Key, tuple[MilestoneRow, int, str, str, datetime]]:
    wanted: dict[Key, tuple[MilestoneRow, int, str, str, datetime]] = {}
    for milestone in row.milestones:
        if not remindable(milestone, today):
            continue
        rule = contract_policy(policy, row.policies, MilestoneKind(milestone.kind))
        for planned in plan_leads(milestone.due, rule, row.owner, row.sponsor):
            key = (milestone.id, milestone.due, planned.lead, planned.recipient)
            wanted[key] = (
                milestone,
                planned.lead,
                planned.recipient,
                planned.role,
                planned.send_at,
            )
    return wanted


async def replan_contract(
    session: AsyncSession, row: ContractRow, policy: Policy, now: datetime, mail_from: str
) -> None:
    """Make the contract's planned reminders match its open milestones and policy, and
    each milestone's next nag time match its state (see :func:`nag_schedule`)."""
    await session.flush()  # milestones need ids
    today = now.astimezone(LONDON).date()
    existing = {
        (r.milestone_id, r.milestone_due, r.lead, r.recipient): r
        for r in (
            await session.execute(select(ReminderRow).where(ReminderRow.contract_id == row.id))
        ).scalars()
    }
    wanted = _desired(row, policy, today)
    domain = mail_domain(mail_from)
    for key, (milestone, lead, recipient, role, send_at) in wanted.items():
        current = existing.get(key)
        if current is None:
            session.add(
                ReminderRow(
                    milestone_id=milestone.id, contract_id=row.id, milestone_due=milestone.due,
                    lead=lead, recipient=recipient, role=role, send_at=send_at, due_at=send_at,
                    status=PLANNED, attempts=0,
                    message_id=message_id(milestone.id, milestone.due, lead, recipient, domain),
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
        elif current.status == PLANNED and current.attempts == 0 and current.send_at != send_at:
            current.send_at = current.due_at = send_at
            current.updated_at = now
    open_now = {m.id: m for m in row.milestones if remindable(m, today)}
    for key, current in existing.items():
        if current.status != PLANNED or key in wanted:
            continue
        still_open = open_now.get(current.milestone_id)
        if current.lead < 0 and still_open is not None and still_open.due == current.milestone_due:
            continue  # a nag (planned by the sweep) of a still-open milestone: keep it
        if current.attempts == 0:
            await session.delete(current)
        else:
            current.status = CANCELLED
            current.updated_at = now
    _schedule_nags(row, policy, existing)


async def refresh_contract(
    session: AsyncSession, row: ContractRow, policy: Policy, now: datetime, mail_from: str
) -> list[EventRow]:
    """After any change: re-derive milestones, log what moved, re-plan reminders."""
    events = sync_milestones(row, policy.derivation, now)
    session.add_all(events)
    await replan_contract(session, row, policy, now, mail_from)
    return events
