"""``tracker handover``: a person leaves, and everything they own, sponsor or watch moves.

One transaction for all the contracts, so nobody is left half handed over. Reminders
are re-planned: the planned ones go to the new person, the sent ones stay in the
history under the old. A lead already sent to the old person is not sent again to the
new one (that would be the same warning twice): the new person's row for it is stored
as cancelled, so no later re-planning brings it back. The old person's digest stops by
itself once they own, sponsor and watch nothing (its recipients come from contracts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.reminders import PlannedReminder, mail_domain
from tracker.domain.types import EventKind
from tracker.errors import InvalidValue
from tracker.service.app import App
from tracker.service.contracts import load_contract, refresh
from tracker.service.derive import record_event
from tracker.store.involvement import involving_person, roles
from tracker.store.models import ContractRow, ReminderRow, WatcherRow
from tracker.store.outbox import OutboxStatus, planned_reminder


@dataclass(frozen=True)
class HandoverResult:
    """What moved: one line per contract, in ref order."""

    lines: tuple[str, ...]


async def _contracts_of(session: AsyncSession, old: str, refs: Sequence[str]) -> list[ContractRow]:
    """The contracts to hand over: the named ones (each must involve ``old``), else all
    that ``old`` owns, sponsors or watches; locked for the change."""
    if refs:
        rows = [await load_contract(session, ref, for_update=True) for ref in refs]
        for row in rows:
            if not roles(row, old):
                raise InvalidValue("--ref", row.ref, f"is not owned, sponsored or watched by {old}")
        return sorted(rows, key=lambda r: r.ref)
    statement = (
        select(ContractRow).where(involving_person(old)).order_by(ContractRow.ref).with_for_update()
    )
    rows = list((await session.execute(statement)).scalars())
    if not rows:
        raise InvalidValue("--from", old, "owns, sponsors or watches no contract")
    return rows


def _move_roles(row: ContractRow, old: str, new: str) -> list[str]:
    """Give ``new`` every role ``old`` has on the contract; returns the roles moved."""
    held = roles(row, old)
    if "owner" in held:
        row.owner = new
    if "sponsor" in held:
        row.sponsor = new
    if "watcher" in held:
        row.watchers = [w for w in row.watchers if w.email != old]
        if all(w.email != new for w in row.watchers):
            row.watchers.append(WatcherRow(email=new))
    return held


async def _keep_sent_once(
    session: AsyncSession, row: ContractRow, old: str, new: str, app: App
) -> None:
    """For each lead already handled for ``old`` (sent, failed, folded, in flight) at the
    milestone's current date, a cancelled row for ``new``: re-planning then sees the lead
    as done and does not send the new person the same warning again."""
    statement = select(ReminderRow).where(ReminderRow.contract_id == row.id)
    stored = list((await session.execute(statement)).scalars())
    taken = {(r.milestone_id, r.milestone_due, r.lead, r.recipient) for r in stored}
    current = {m.id: m for m in row.milestones}
    domain = mail_domain(app.settings.mail_from)
    for sent in stored:
        milestone = current.get(sent.milestone_id)
        untouched = sent.status == OutboxStatus.PLANNED and sent.attempts == 0
        if sent.recipient != old or untouched or milestone is None:
            continue
        if milestone.due != sent.milestone_due or (*_key(sent), new) in taken:
            continue
        planned = PlannedReminder(
            lead=sent.lead, recipient=new, role=sent.role, send_at=sent.send_at
        )
        placeholder = planned_reminder(milestone, planned, domain=domain, now=app.now)
        placeholder.status = OutboxStatus.CANCELLED
        placeholder.last_reply = f"already sent to {old} before the handover"
        session.add(placeholder)
        taken.add((*_key(sent), new))


def _key(reminder: ReminderRow) -> tuple[int, date, int]:
    return reminder.milestone_id, reminder.milestone_due, reminder.lead


async def handover(app: App, old: str, new: str, refs: Sequence[str] = ()) -> HandoverResult:
    """Move ``old``'s roles on every contract (or only ``refs``) to ``new``, all or nothing."""
    if old == new:
        raise InvalidValue("--to", new, "is the same person as --from")
    lines: list[str] = []
    async with app.session() as session:
        for row in await _contracts_of(session, old, refs):
            await _keep_sent_once(session, row, old, new, app)
            roles = _move_roles(row, old, new)
            detail = f"{row.ref}: {', '.join(roles)} handed over from {old} to {new}"
            row.updated_at = app.now
            session.add(record_event(row, EventKind.HANDED_OVER, detail, app.now))
            await refresh(session, row, app)
            lines.append(detail)
        await session.commit()
    return HandoverResult(lines=tuple(lines))
