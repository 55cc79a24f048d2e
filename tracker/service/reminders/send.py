"""The sweep: plan due nags, claim due reminders, send them, record every attempt.

The loop only claims and hands on: each batch is sent by the delivery loop shared with
the digests (``tracker.service.outbox``: one SMTP connection and one database connection
per batch, what next after a failure); claims and records are the exactly-once core in
``tracker.store.outbox``. What is reminder-specific stays here: planning nags, building
the next message ahead, the result kept for each message. ``jobs/`` schedules it;
``tracker send`` and ``simulate`` call it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from tracker.domain.reminders import collapse
from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import ReminderEmail
from tracker.mail.reminder import build_reminder, render_reminder
from tracker.mail.transport import Transport
from tracker.service.app import App
from tracker.service.links import email_links
from tracker.service.outbox import Batch, deliver
from tracker.service.reminders.compose import build_emails
from tracker.service.reminders.nags import nags_due, plan_nags
from tracker.store.models import ReminderRow
from tracker.store.outbox import DueReminder, OutboxStatus, as_due, claim_batch, due_reminders


def instance_name() -> str:
    """host:pid:random, unique per process: whose claim is whose, in the history too."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, kw_only=True)
class SendResult:
    reminder: DueReminder
    email: ReminderEmail
    status: OutboxStatus
    reply: str


@dataclass
class SweepReport:
    """What a sweep did. ``results`` holds every message's result (with its content)
    unless the sweep was told not to keep them (``tracker send`` streams them instead:
    20,000 results kept to the end cost 150 MB); ``counts`` are always kept."""

    nags_planned: int = 0
    results: list[SendResult] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, result: SendResult, *, keep: bool = True) -> None:
        self.counts[result.status] += 1
        if keep:
            self.results.append(result)

    def count(self, status: str) -> int:
        return self.counts[status]

    def summary(self) -> str:
        sent, failed = self.count(OutboxStatus.SENT), self.count(OutboxStatus.FAILED)
        retrying = self.count(OutboxStatus.PLANNED)
        return f"{sent} sent, {retrying} to retry, {failed} failed"


Listener = Callable[[SendResult], None]


async def sweep(
    app: App,
    transport: Transport,
    *,
    instance: str | None = None,
    on_result: Listener | None = None,
    max_batches: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    keep_results: bool = True,
) -> SweepReport:
    """Send everything due at ``app.now``; returns what happened to each message
    (only counted, not kept, when ``keep_results`` is false: see ``SweepReport``)."""
    # A base URL without a signing key fails here, before anything is claimed.
    email_links(app.settings, app.now)
    me = instance or instance_name()
    report = SweepReport()
    async with app.session() as session:
        report.nags_planned = await plan_nags(session, app)
    lease = timedelta(seconds=app.settings.lease_seconds)
    limit = app.settings.send_batch_size
    batches = 0
    stop = should_stop or (lambda: False)

    def done(reminder: DueReminder, email: ReminderEmail, status: OutboxStatus, reply: str) -> None:
        result = SendResult(reminder=reminder, email=email, status=status, reply=reply)
        report.add(result, keep=keep_results)
        if on_result is not None:
            on_result(result)

    while (max_batches is None or batches < max_batches) and not stop():
        clock = app.clock()
        async with app.session() as session:
            claimed = await claim_batch(
                session, now=app.now, clock=clock, instance=me, lease=lease, limit=limit
            )
        if not claimed:
            break
        batches += 1
        emails = await build_emails(app, claimed)
        ahead = _BuildAhead(emails)
        batch = Batch(
            model=ReminderRow,
            items=list(zip(claimed, emails, strict=True)),
            build=ahead.take,
            done=done,
            held_until=clock + lease,
        )
        await deliver(app, transport, batch, instance=me, stop=stop)
    return report


class _BuildAhead:
    """Builds the batch's next message while the current one is being sent.

    Building (templates, MIME) is CPU work and sending is mostly waiting for the
    server's replies; scheduling the next build with ``call_soon`` runs it in that
    wait. A build that fails ahead is simply built again, and fails, in place, when
    its turn comes. (A worker process building ahead on the other core was tried and
    measured no faster on a 2-core machine: the mail server needs that core too.)
    """

    def __init__(self, emails: list[ReminderEmail]) -> None:
        self._emails = emails
        self._next = {id(email): n + 1 for n, email in enumerate(emails)}
        self._built: dict[int, OutgoingMessage] = {}

    def take(self, reminder: DueReminder, email: ReminderEmail) -> OutgoingMessage:
        """The message for ``email`` (built ahead, or now); the next one is scheduled."""
        message = self._built.pop(id(email), None) or build_reminder(email)
        following = self._next.get(id(email), len(self._emails))
        if following < len(self._emails):
            asyncio.get_running_loop().call_soon(self._build, self._emails[following])
        return message

    def _build(self, email: ReminderEmail) -> None:
        with contextlib.suppress(Exception):  # built (and raised) again in take()
            self._built.setdefault(id(email), build_reminder(email))


@dataclass(frozen=True)
class Preview:
    reminder: DueReminder
    email: ReminderEmail
    subject: str


async def preview(app: App) -> list[Preview]:
    """What a sweep at ``app.now`` would send (after collapsing), changing nothing."""
    async with app.session() as session:
        due = await due_reminders(session, app.now, limit=100_000, lock=False)
        nags = [replace(as_due(nag), id=0) for nag in await nags_due(session, app)]
        await session.rollback()
    known = {(d.milestone_id, d.milestone_due, d.lead, d.recipient) for d in due}
    extra = [n for n in nags if (n.milestone_id, n.milestone_due, n.lead, n.recipient) not in known]
    chosen, _ = collapse(due + extra)
    chosen.sort(key=lambda r: (r.send_at, r.contract_id, r.milestone_id, r.recipient))
    emails = await build_emails(app, chosen)
    return [Preview(r, e, render_reminder(e).subject) for r, e in zip(chosen, emails, strict=True)]
