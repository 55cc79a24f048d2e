"""Keep a contract's planned reminders in step with its milestones and policy.

Called in the same transaction as every change (contract, milestone, snooze, policy).
Planned rows that were never attempted are replaced freely; rows with history (sent,
failed, collapsed, or a pending retry) are never deleted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.calendar import LONDON
from tracker.domain.reminders import PlannedReminder, mail_domain, plan_leads, remindable
from tracker.domain.types import MilestoneKind
from tracker.policy import Policy
from tracker.service.derive import sync_milestones
from tracker.service.reminders.nags import schedule_nags
from tracker.service.reminders.policy import contract_policy
from tracker.store.models import ContractRow, EventRow, MilestoneRow, ReminderRow
from tracker.store.outbox import OutboxStatus, planned_reminder, planned_values

Key = tuple[int, date, int, str]


def _remindable(milestone: MilestoneRow, today: date, contract_end: date) -> bool:
    kind = MilestoneKind(milestone.kind)
    return remindable(kind, milestone.status, milestone.due, today, contract_end=contract_end)


def _desired(
    row: ContractRow, policy: Policy, today: date
) -> dict[Key, tuple[MilestoneRow, PlannedReminder]]:
    """Every lead reminder the contract's remindable milestones should have, by key."""
    wanted: dict[Key, tuple[MilestoneRow, PlannedReminder]] = {}
    for milestone in row.milestones:
        if not _remindable(milestone, today, row.end_date):
            continue
        rule = contract_policy(policy, row.policies, MilestoneKind(milestone.kind))
        for planned in plan_leads(milestone.due, rule, row.owner, row.sponsor):
            key = (milestone.id, milestone.due, planned.lead, planned.recipient)
            wanted[key] = (milestone, planned)
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
    for key, (milestone, planned) in wanted.items():
        current = existing.get(key)
        if current is None:
            session.add(planned_reminder(milestone, planned, domain=domain, now=now))
        elif (
            current.status == OutboxStatus.PLANNED
            and current.attempts == 0
            and current.send_at != planned.send_at
        ):
            current.send_at = current.due_at = planned.send_at
            current.updated_at = now
    open_now = {m.id: m for m in row.milestones if _remindable(m, today, row.end_date)}
    for key, current in existing.items():
        if current.status != OutboxStatus.PLANNED or key in wanted:
            continue
        still_open = open_now.get(current.milestone_id)
        if current.lead < 0 and still_open is not None and still_open.due == current.milestone_due:
            continue  # a nag (planned by the sweep) of a still-open milestone: keep it
        if current.attempts == 0:
            await session.delete(current)
        else:
            current.status = OutboxStatus.CANCELLED
            current.updated_at = now
    schedule_nags(row, policy, existing)


def first_plan(
    row: ContractRow, policy: Policy, now: datetime, mail_from: str
) -> list[dict[str, Any]]:
    """A new contract's reminder rows (as column values): what :func:`replan_contract`
    plans when nothing is stored yet, without a query each, for bulk inserts (``tracker
    import``). Its milestones must have their ids, and their nag times set already
    (``schedule_nags(row, policy, ())`` before they are inserted)."""
    today = now.astimezone(LONDON).date()
    domain = mail_domain(mail_from)
    wanted = _desired(row, policy, today).values()
    return [planned_values(m, planned, domain=domain, now=now) for m, planned in wanted]


async def refresh_contract(
    session: AsyncSession, row: ContractRow, policy: Policy, now: datetime, mail_from: str
) -> list[EventRow]:
    """After any change: re-derive milestones, log what moved, re-plan reminders."""
    events = sync_milestones(row, policy.derivation, now)
    session.add_all(events)
    await replan_contract(session, row, policy, now, mail_from)
    return events
