"""Compose a reminder: the content of each claimed reminder, read from the database.

The sweep claims rows (``tracker.store.outbox``); this fills one
:class:`~tracker.mail.model.ReminderEmail` per row, with its contract's summary, for
:mod:`tracker.mail.reminder` to render.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from tracker.domain.types import FACT_KINDS, MilestoneKind
from tracker.mail.model import DecisionLink, GapRow, ReminderEmail
from tracker.service.app import App
from tracker.service.reminders.policy import contract_policy
from tracker.service.views.contracts import summarise
from tracker.store.models import ContractRow
from tracker.store.outbox import DueReminder

KIND_LABELS = {kind: kind.value.replace("_", " ").capitalize() for kind in MilestoneKind}


def decision_links(row: ContractRow) -> tuple[DecisionLink, ...]:
    """Links to the contract's published decision records (those with a URL)."""
    return tuple(
        DecisionLink(f"Decision {d.ref}" + (f": {d.title}" if d.title else ""), d.url)
        for d in row.decisions
        if d.url
    )


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
