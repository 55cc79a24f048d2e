"""Compose a reminder: the content of each claimed reminder, read from the database.

The sweep claims rows (``tracker.store.outbox``); this fills one
:class:`~tracker.mail.model.ReminderEmail` per row, with its contract's summary, for
:mod:`tracker.mail.reminder` to render.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import select

from tracker.domain.reminders import is_escalation, nag_count, nags_left, recipients_for
from tracker.domain.types import FACT_KINDS, MilestoneKind
from tracker.domain.wording import (
    decision_label,
    done_by_id_command,
    snooze_command,
)
from tracker.mail.model import DecisionLink, GapRow, ReminderEmail
from tracker.service.app import App
from tracker.service.links import Links, email_links
from tracker.service.reminders.policy import contract_policy
from tracker.service.views.contracts import ContractSummary, MilestoneView, summarise
from tracker.store.models import ContractRow
from tracker.store.outbox import DueReminder


def decision_links(row: ContractRow) -> tuple[DecisionLink, ...]:
    """Links to the contract's published decision records (those with a URL)."""
    return tuple(DecisionLink.of(d.ref, d.title, d.url) for d in row.decisions if d.url)


async def build_emails(app: App, claimed: Sequence[DueReminder]) -> list[ReminderEmail]:
    """The content of each claimed reminder, with the contracts loaded in one query."""
    if not claimed:
        return []
    contract_ids = sorted({r.contract_id for r in claimed})
    async with app.session() as session:
        statement = select(ContractRow).where(ContractRow.id.in_(contract_ids))
        contracts = {row.id: row for row in (await session.execute(statement)).scalars()}
        summaries = {cid: summarise(row, app) for cid, row in contracts.items()}
    links = email_links(app.settings, app.now)
    emails = [
        _email(app, reminder, contracts[reminder.contract_id], summaries[reminder.contract_id])
        for reminder in claimed
    ]
    if links is None:
        return emails
    return [
        with_links(email, reminder, links, contracts[reminder.contract_id])
        for email, reminder in zip(emails, claimed, strict=True)
    ]


def with_links(
    email: ReminderEmail, reminder: DueReminder, links: Links, row: ContractRow
) -> ReminderEmail:
    """The reminder with its Mark done and Snooze links, and who to ask to change the owner
    (the sponsor, for the owner; whoever runs the tracker, for the sponsor)."""
    actions = links.actions(
        reminder.recipient, reminder.milestone_id, MilestoneKind(email.kind), reminder.milestone_due
    )
    ask = row.sponsor if row.sponsor and row.sponsor != reminder.recipient else ""
    return dataclasses.replace(
        email,
        done_url=actions.done if actions else "",
        snooze_url=actions.snooze if actions else "",
        page_url=links.contract_page(email.ref),
        ask_to_change=ask or "whoever runs contract-tracker for your organisation",
    )


def _commands(app: App, milestone: MilestoneView) -> tuple[str, str]:
    """The done and snooze commands a reminder offers: none for a dated fact."""
    if milestone.kind in FACT_KINDS:
        return "", ""
    done = milestone.command or done_by_id_command(milestone.id)
    return done, snooze_command(milestone.ref, milestone.kind, today=app.today)


def _email(
    app: App, reminder: DueReminder, row: ContractRow, summary: ContractSummary
) -> ReminderEmail:
    milestone = next(m for m in summary.milestones if m.id == reminder.milestone_id)
    kind: MilestoneKind = milestone.kind
    done, snooze = _commands(app, milestone)
    rule = contract_policy(app.policy, row.policies, kind)
    count = nag_count(kind, reminder.milestone_due, rule, row.end_date)
    people = recipients_for(reminder.lead, rule, row.owner, row.sponsor)
    return ReminderEmail(
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
        kind_label=decision_label(kind),
        milestone_title=milestone.title,
        milestone_note=milestone.note,
        due=reminder.milestone_due,
        days_left=(reminder.milestone_due - app.today).days,
        lead=reminder.lead,
        is_nag=reminder.lead < 0,
        if_missed=milestone.if_missed,
        staffing_at_risk=summary.staffing.at_risk,
        staffing_summary=summary.staffing.summary,
        gaps=tuple(GapRow.of(g) for g in summary.gaps),
        warnings=summary.warnings,
        done_command=done,
        snooze_command=snooze,
        decision_links=decision_links(row),
        escalate_from=rule.escalate_from,
        nags_left=nags_left(reminder.lead, rule.nag_days, count),
        is_escalation=is_escalation(reminder.lead, reminder.role, rule, count=count, people=people),
        weeks_overdue=max(0, -reminder.lead) // 7,
    )
