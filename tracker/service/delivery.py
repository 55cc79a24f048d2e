"""What the sweep needs from the domain: nags to plan, emails to build, outcomes to apply.

The loop itself lives in ``jobs/sweep.py``; everything that decides lives here or in
``tracker.domain``.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import CompoundSelect, Integer, Table, bindparam, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.reminders import (
    ReminderPolicy,
    latest_nag,
    message_id,
    recipients_for,
    released_through,
    retry_delay,
)
from tracker.domain.types import FACT_KINDS, MilestoneKind, MilestoneStatus
from tracker.mail.model import DecisionLink, DeliveryOutcome, GapRow, Outcome, ReminderEmail
from tracker.mail.transport import MailConfigError, Transport
from tracker.service.app import App
from tracker.service.planning import contract_policy, mail_domain, nag_schedule
from tracker.service.views import summarise
from tracker.store.filters import one_of
from tracker.store.models import ContractPolicyRow, ContractRow, MilestoneRow, ReminderRow
from tracker.store.outbox import FAILED, PLANNED, SENT, Claimable, DueReminder, release
from tracker.store.types import UTCDateTime

KIND_LABELS = {kind: kind.value.replace("_", " ").capitalize() for kind in MilestoneKind}

#: Kinds that are decisions (open until someone acts), as opposed to dated facts.
DECISION_KINDS = tuple(kind for kind in MilestoneKind if kind not in FACT_KINDS)


def decision_links(row: ContractRow) -> tuple[DecisionLink, ...]:
    """Links to the contract's published decision records (those with a URL)."""
    return tuple(
        DecisionLink(f"Decision {d.ref}" + (f": {d.title}" if d.title else ""), d.url)
        for d in row.decisions
        if d.url
    )


def _to_look_at(app: App) -> CompoundSelect[int]:
    """Ids of the milestones the sweep must look at for nags: those whose next nag time
    has come, and those worked out under another default interval than the one configured
    now (for their kind). Each arm is a range scan on its own index, so an idle sweep
    reads nothing however many decisions are overdue; the second and third find nothing
    while the policy stands."""
    arms = [select(MilestoneRow.id).where(MilestoneRow.next_nag_at <= app.now)]
    kinds: dict[int, list[str]] = {}
    for kind in DECISION_KINDS:
        kinds.setdefault(app.policy.reminder_rule(kind).nag_days, []).append(kind.value)
    for days, same in sorted(kinds.items()):
        stamped = MilestoneRow.nag_default_days
        arms.append(select(MilestoneRow.id).where(MilestoneRow.kind.in_(same), stamped < days))
        arms.append(select(MilestoneRow.id).where(MilestoneRow.kind.in_(same), stamped > days))
    return union_all(*arms)


#: A milestone's new (next_nag_at, nag_default_days), written only if the row still has
#: the values it was worked out from (a change committed meanwhile wins).
_MILESTONES = cast(Table, MilestoneRow.__table__)
_MOVE = (
    _MILESTONES.update()
    .where(
        _MILESTONES.c.id == bindparam("m_id"),
        _MILESTONES.c.next_nag_at.is_not_distinct_from(bindparam("old_next", type_=UTCDateTime())),
        _MILESTONES.c.nag_default_days.is_not_distinct_from(
            bindparam("old_default", type_=Integer())
        ),
    )
    .values(
        next_nag_at=bindparam("new_next", type_=UTCDateTime()),
        nag_default_days=bindparam("new_default", type_=Integer()),
    )
)


def _latest_nag_rows(
    app: App, milestone: MilestoneRow, rule: ReminderPolicy, owner: str | None,
    sponsor: str | None, stored: set[tuple[int, str]], domain: str,
) -> list[ReminderRow]:  # fmt: skip
    """The milestone's latest nag, one row per recipient, if it is due and some recipient
    has no row for it yet (those that have are left be by the insert); ``stored`` gains
    the (lead, recipient) of the rows returned."""
    nag = latest_nag(milestone.due, rule.nag_days, app.today)
    if nag is None or nag[1] > app.now:
        return []
    lead, send_at = nag
    people = recipients_for(lead, rule, owner, sponsor)
    if all((lead, who) in stored for who, _ in people):
        return []
    stored.update((lead, who) for who, _ in people)
    return [
        ReminderRow(
            milestone_id=milestone.id, contract_id=milestone.contract_id,
            milestone_due=milestone.due, lead=lead, recipient=recipient, role=role,
            send_at=send_at, due_at=send_at, status=PLANNED, attempts=0,
            message_id=message_id(milestone.id, milestone.due, lead, recipient, domain),
            created_at=app.now, updated_at=app.now,
        )
        for recipient, role in people
    ]  # fmt: skip


async def _nag_work(
    session: AsyncSession, app: App
) -> tuple[list[ReminderRow], list[dict[str, Any]]]:
    """The nag rows due now, and the new next nag times of the milestones looked at.

    Only milestones whose ``next_nag_at`` has come (or that were worked out under another
    configuration) are read, by index range scans: an idle sweep does not grow with the
    number of overdue decisions. For those the rule is ``latest_nag``'s, in Python.
    """
    rows = (
        await session.execute(
            select(MilestoneRow, ContractRow.owner, ContractRow.sponsor)
            .join(ContractRow, ContractRow.id == MilestoneRow.contract_id)
            .where(MilestoneRow.id.in_(_to_look_at(app)))
            .order_by(MilestoneRow.id)
        )
    ).all()
    if not rows:
        return [], []
    dialect = session.get_bind().dialect.name
    contract_ids = sorted({m.contract_id for m, _, _ in rows})
    overrides: dict[int, list[ContractPolicyRow]] = {}
    for p in await session.scalars(
        select(ContractPolicyRow).where(
            one_of(dialect, ContractPolicyRow.contract_id, contract_ids, Integer())
        )
    ):
        overrides.setdefault(p.contract_id, []).append(p)
    stored: dict[tuple[int, date], set[tuple[int, str]]] = {}
    for mid, due, lead, recipient in await session.execute(
        select(
            ReminderRow.milestone_id, ReminderRow.milestone_due, ReminderRow.lead,
            ReminderRow.recipient,
        ).where(
            one_of(dialect, ReminderRow.milestone_id, [m.id for m, _, _ in rows], Integer()),
            ReminderRow.lead < 0,
        )
    ):  # fmt: skip
        stored.setdefault((mid, due), set()).add((lead, recipient))
    released = released_through(app.now)
    domain = mail_domain(app.settings.mail_from)
    nags: list[ReminderRow] = []
    moves: list[dict[str, Any]] = []
    for milestone, owner, sponsor in rows:
        policies = overrides.get(milestone.contract_id, [])
        mine = stored.setdefault((milestone.id, milestone.due), set())
        kind = MilestoneKind(milestone.kind)
        held = milestone.snoozed_until is not None and milestone.snoozed_until > released
        if milestone.status == MilestoneStatus.OPEN.value and kind in DECISION_KINDS and not held:
            rule = contract_policy(app.policy, policies, kind)
            nags += _latest_nag_rows(app, milestone, rule, owner, sponsor, mine, domain)
        new = nag_schedule(milestone, app.policy, policies, owner, sponsor, mine)
        old = (milestone.next_nag_at, milestone.nag_default_days)
        if new != old:
            moves.append(
                {"m_id": milestone.id, "old_next": old[0], "old_default": old[1],
                 "new_next": new[0], "new_default": new[1]}
            )  # fmt: skip
    return nags, moves


async def nags_due(session: AsyncSession, app: App) -> list[ReminderRow]:
    """Nag rows for overdue open decisions (not snoozed), one per recipient: the latest
    nag only, so nags missed while the tracker was down collapse into one.

    Decisions whose latest nag is planned already (for each of its recipients) are left
    out. Changes nothing (``tracker send --dry-run`` previews with this).
    """
    nags, _ = await _nag_work(session, app)
    return nags


async def plan_nags(session: AsyncSession, app: App) -> int:
    """Insert the due nags; a nag already planned (by us or another instance) is left be.
    The milestones looked at get their next nag time, in the same transaction."""
    nags, moves = await _nag_work(session, app)
    columns = [c.key for c in ReminderRow.__table__.columns if c.key != "id"]
    values = [{key: getattr(nag, key) for key in columns} for nag in nags]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = 0
    for start in range(0, len(values), 500):
        statement = (
            insert(ReminderRow)
            .values(values[start : start + 500])
            .on_conflict_do_nothing(
                index_elements=["milestone_id", "milestone_due", "lead", "recipient"]
            )
        )
        result = await session.execute(statement)
        inserted += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    if moves:
        await session.execute(_MOVE, moves)
    await session.commit()
    return inserted


def _gap_rows(summary: object) -> tuple[GapRow, ...]:
    gaps = getattr(summary, "gaps", ())
    return tuple(GapRow(str(g.year), g.cost, g.secured, g.at_risk, g.gap) for g in gaps)


async def build_emails(app: App, claimed: Sequence[DueReminder]) -> list[ReminderEmail]:
    """The content of each claimed reminder, with the contracts loaded in one query."""
    if not claimed:
        return []
    contract_ids = sorted({r.contract_id for r in claimed})
    async with app.session() as session:
        contracts = {
            row.id: row
            for row in (
                await session.execute(select(ContractRow).where(ContractRow.id.in_(contract_ids)))
            ).scalars()
        }
        summaries = {cid: summarise(row, app) for cid, row in contracts.items()}
    emails = []
    for reminder in claimed:
        row = contracts[reminder.contract_id]
        summary = summaries[reminder.contract_id]
        milestone = next(m for m in summary.milestones if m.id == reminder.milestone_id)
        kind = milestone.kind
        rule = contract_policy(app.policy, row.policies, kind)
        ref = shlex.quote(row.ref)
        snooze_until = (app.today + timedelta(days=7)).isoformat()
        done = milestone.command or (
            "" if kind in FACT_KINDS else f"tracker milestone done {milestone.id}"
        )
        emails.append(
            ReminderEmail(
                message_id=reminder.message_id,
                sent_at=app.now,
                mail_from=app.settings.mail_from,
                recipient=reminder.recipient,
                role=reminder.role,
                ref=row.ref,
                contract_title=row.title,
                provider=row.provider,
                contract_end=row.end_date,
                kind=kind.value,
                kind_label=KIND_LABELS[kind],
                milestone_title=milestone.title,
                milestone_note=milestone.note,
                due=reminder.milestone_due,
                days_left=(reminder.milestone_due - app.today).days,
                lead=reminder.lead,
                is_nag=reminder.lead < 0,
                if_missed=milestone.if_missed,
                staffing_at_risk=summary.staffing.at_risk,
                staffing_summary=summary.staffing.summary,
                gaps=_gap_rows(summary),
                warnings=summary.warnings,
                done_command=done,
                snooze_command=(
                    "" if kind in FACT_KINDS
                    else f'tracker milestone snooze {ref} {kind.value} --until {snooze_until} --note "why"'
                ),
                decision_links=decision_links(row),
                escalate_from=rule.escalate_from,
            )
        )  # fmt: skip
    return emails


def next_state(
    send_at: datetime, attempts: int, outcome: DeliveryOutcome, now: datetime, max_age: timedelta
) -> tuple[str, datetime | None, str]:
    """(new status, retry time, reply to store) after one attempt.

    Temporary failures retry with exponential backoff until the reminder is ``max_age``
    past its planned time; then it fails, saying so. Permanent failures fail at once.
    """
    if outcome.outcome is Outcome.SENT:
        return SENT, None, outcome.reply
    if outcome.outcome is Outcome.PERMANENT:
        return FAILED, None, outcome.reply
    if now - send_at >= max_age:
        return FAILED, None, f"gave up after {attempts} attempts: {outcome.reply}"
    return PLANNED, now + retry_delay(attempts), outcome.reply


#: After the mail server refuses our settings, wait this long before trying again.
CONFIG_RETRY = timedelta(minutes=5)

T = TypeVar("T")


async def deliver_claimed(
    app: App,
    transport: Transport,
    model: Claimable,
    claimed: Sequence[T],
    send_one: Callable[[T], Awaitable[None]],
    *,
    instance: str,
    claim_of: Callable[[T], tuple[int, int]],
    stop: Callable[[], bool],
) -> None:
    """Send a claimed batch over one connection, one item at a time; give back the rest.

    On a stop request the item in flight is finished and recorded and the rest are
    released untried; on a settings error (bad login, certificate) every unsent item is
    released for a later retry and the error is raised, so nothing fails one by one.
    """
    pending = list(claimed)
    retry_at = app.now
    try:
        async with transport:
            while pending and not stop():
                await send_one(pending[0])
                pending.pop(0)
    except MailConfigError:
        retry_at = app.now + CONFIG_RETRY
        raise
    finally:
        if pending:
            async with app.session() as session:
                await release(
                    session, model, [claim_of(p) for p in pending], instance=instance,
                    now=app.now, retry_at=retry_at,
                )  # fmt: skip
