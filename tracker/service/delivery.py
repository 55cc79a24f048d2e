"""What the sweep needs from the domain: nags to plan, emails to build, outcomes to apply.

The loop itself lives in ``jobs/sweep.py``; everything that decides lives here or in
``tracker.domain``.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.reminders import (
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
from tracker.service.planning import contract_policy, mail_domain
from tracker.service.views import summarise
from tracker.store.models import ContractPolicyRow, ContractRow, MilestoneRow, ReminderRow
from tracker.store.outbox import FAILED, PLANNED, SENT, Claimable, DueReminder, release

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


def _days_overdue(dialect: str, today: date) -> ColumnElement[int]:
    """Whole days from the milestone's due date to ``today``, in SQL."""
    if dialect == "postgresql":
        return type_coerce(literal(today, Date) - MilestoneRow.due, Integer)  # whole days
    return cast(func.julianday(today.isoformat()) - func.julianday(MilestoneRow.due), Integer)


def _nag_days(app: App) -> ColumnElement[int]:
    """The nag interval in SQL: the contract's own policy, else the kind's default."""
    defaults = {kind.value: app.policy.reminder_rule(kind).nag_days for kind in DECISION_KINDS}
    return func.coalesce(
        ContractPolicyRow.nag_days, case(defaults, value=MilestoneRow.kind, else_=0)
    )


def _nag_row(recipient: Any, lead: ColumnElement[int]) -> Any:
    """A nag row for this milestone, due date, lead and recipient exists already."""
    return (
        select(ReminderRow.id)
        .where(
            ReminderRow.milestone_id == MilestoneRow.id,
            ReminderRow.milestone_due == MilestoneRow.due,
            ReminderRow.lead == lead,
            ReminderRow.recipient == recipient,
        )
        .exists()
    )


async def nags_due(session: AsyncSession, app: App) -> list[ReminderRow]:
    """Nag rows for overdue open decisions (not snoozed), one per recipient: the latest
    nag only, so nags missed while the tracker was down collapse into one.

    Decisions whose latest nag is planned already (for each of its recipients) are left
    out in SQL: an idle sweep must not rebuild, every minute, a nag row for every overdue
    decision only for the insert to find it there. The rule is ``latest_nag``'s, in SQL.
    """
    today = app.today
    released = released_through(app.now)
    nag_days = _nag_days(app)
    overdue = _days_overdue(session.get_bind().dialect.name, today)
    nag_lead = -((overdue // type_coerce(func.nullif(nag_days, 0), Integer)) * nag_days)
    rows = (
        await session.execute(
            select(MilestoneRow, ContractRow.owner, ContractRow.sponsor)
            .join(ContractRow, ContractRow.id == MilestoneRow.contract_id)
            .outerjoin(
                ContractPolicyRow,
                and_(
                    ContractPolicyRow.contract_id == MilestoneRow.contract_id,
                    ContractPolicyRow.kind == MilestoneRow.kind,
                ),
            )
            .where(
                MilestoneRow.status == MilestoneStatus.OPEN.value,
                MilestoneRow.kind.in_([k.value for k in DECISION_KINDS]),
                MilestoneRow.due < today,
                or_(MilestoneRow.snoozed_until.is_(None), MilestoneRow.snoozed_until <= released),
                nag_days > 0,
                overdue >= nag_days,
                or_(
                    and_(ContractRow.owner.is_not(None), ~_nag_row(ContractRow.owner, nag_lead)),
                    and_(
                        ContractRow.sponsor.is_not(None),
                        or_(ContractRow.owner.is_(None), ContractRow.sponsor != ContractRow.owner),
                        ~_nag_row(ContractRow.sponsor, nag_lead),
                    ),
                ),
            )
        )
    ).all()
    if not rows:
        return []
    contract_ids = sorted({m.contract_id for m, _, _ in rows})
    overrides: dict[int, list[ContractPolicyRow]] = {}
    for start in range(0, len(contract_ids), 500):
        chunk = contract_ids[start : start + 500]
        for p in (
            await session.execute(
                select(ContractPolicyRow).where(ContractPolicyRow.contract_id.in_(chunk))
            )
        ).scalars():
            overrides.setdefault(p.contract_id, []).append(p)
    domain = mail_domain(app.settings.mail_from)
    nags: list[ReminderRow] = []
    for milestone, owner, sponsor in rows:
        if milestone.snoozed_until is not None and milestone.snoozed_until > released:
            continue
        rule = contract_policy(
            app.policy, overrides.get(milestone.contract_id, []), MilestoneKind(milestone.kind)
        )
        nag = latest_nag(milestone.due, rule.nag_days, today)
        if nag is None or nag[1] > app.now:
            continue
        lead, send_at = nag
        for recipient, role in recipients_for(lead, rule, owner, sponsor):
            nags.append(
                ReminderRow(
                    milestone_id=milestone.id, contract_id=milestone.contract_id,
                    milestone_due=milestone.due, lead=lead, recipient=recipient, role=role,
                    send_at=send_at, due_at=send_at, status=PLANNED, attempts=0,
                    message_id=message_id(milestone.id, milestone.due, lead, recipient, domain),
                    created_at=app.now, updated_at=app.now,
                )
            )  # fmt: skip
    return nags


async def plan_nags(session: AsyncSession, app: App) -> int:
    """Insert the due nags; a nag already planned (by us or another instance) is left be."""
    nags = await nags_due(session, app)
    if not nags:
        await session.commit()
        return 0
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
