"""The one delivery loop for reminders and digests: send, decide what next, record.

A claimed batch (see ``tracker.store.outbox``) is sent over one mail connection and
recorded over one held database connection, one message at a time, each outcome
committed before the next message goes out, so a crash leaves at most one message sent
but unrecorded. The batch's lease is renewed as it goes, and each send waits its turn
under the shared sending rate (``TRACKER_SMTP_MAX_PER_MINUTE``). What differs between reminders and digests (how a message is built,
what a result looks like) comes in as two small callbacks of :class:`Batch`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from tracker.domain.delivery import gave_up
from tracker.domain.reminders import retry_delay
from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import DeliveryOutcome, Outcome
from tracker.mail.transport import MailConfigError, Transport
from tracker.service.app import App
from tracker.store.direct import DirectConnection
from tracker.store.limiter import reserve_slot
from tracker.store.outbox import (
    Claimable,
    Claimed,
    NextState,
    OutboxStatus,
    mark_empty,
    record_attempt,
    release,
    renew_claims,
)


def next_state(
    first_attempt_at: datetime | None,
    attempts: int,
    outcome: DeliveryOutcome,
    now: datetime,
    max_age: timedelta,
) -> NextState:
    """The row's state after its ``attempts``-th attempt, made at ``now``.

    Temporary failures retry with exponential backoff until ``max_age`` has passed since
    the first attempt (None: this was the first), as an MTA keeps a message queued for
    its queue lifetime from when it took it: a reminder planned long ago (a catch-up
    after an outage) gets its retries too. Permanent failures fail at once.
    """
    reply = outcome.reply
    if outcome.outcome is Outcome.SENT:
        return NextState(status=OutboxStatus.SENT, reply=reply)
    if outcome.outcome is Outcome.PERMANENT:
        return NextState(status=OutboxStatus.FAILED, reply=reply)
    span = now - (first_attempt_at or now)
    if span >= max_age:
        return NextState(status=OutboxStatus.FAILED, reply=gave_up(attempts, span, reply))
    retry_at = now + retry_delay(attempts)
    return NextState(status=OutboxStatus.PLANNED, reply=reply, retry_at=retry_at)


#: After the mail server refuses our settings, wait this long before trying again.
CONFIG_RETRY = timedelta(minutes=5)

#: The reply stored for a digest closed as empty (nothing was sent).
NOTHING_TO_REPORT = "nothing to report"

C = TypeVar("C", bound=Claimed)
E = TypeVar("E")


@dataclass(frozen=True, kw_only=True)
class Batch(Generic[C, E]):
    """One claimed batch of one kind of row, each claim with its email content.

    ``build`` makes the message to send, or None when there is nothing to send (an
    empty digest: closed as ``empty``); ``done`` hears each item's final status and
    reply, once it is recorded. ``held_until`` is when the claims' lease ends (the
    claim's clock plus the lease).
    """

    model: Claimable
    items: Sequence[tuple[C, E]]
    build: Callable[[C, E], OutgoingMessage | None]
    done: Callable[[C, E, OutboxStatus, str], None]
    held_until: datetime


class _Claims(Generic[C, E]):
    """The batch's unsent claims, kept alive: the lease is renewed as the batch goes on
    (a slow relay must not let another instance take them over while they are being
    sent), claims another instance took meanwhile are dropped unsent, and each send
    waits for a slot of the shared sending rate, renewing while it waits."""

    def __init__(self, app: App, batch: Batch[C, E], instance: str) -> None:
        self.app, self.batch, self.instance = app, batch, instance
        self.pending = list(batch.items)
        self.held_until = batch.held_until
        self.lease = timedelta(seconds=app.settings.lease_seconds)
        self.retry_at = app.now

    async def keep(self) -> None:
        """Renew the lease of every unsent claim once less than half of it is left;
        drop the claims that were lost (taken over: the other instance sends them)."""
        clock = self.app.clock()
        if self.held_until - clock >= self.lease / 2 or not self.pending:
            return
        ids = [claim.id for claim, _ in self.pending]
        async with self.app.session() as session:
            held = await renew_claims(
                session,
                self.batch.model,
                ids,
                instance=self.instance,
                clock=clock,
                lease=self.lease,
            )
        self.held_until = clock + self.lease
        self.pending = [item for item in self.pending if item[0].id in held]

    async def slot(self, claim: C) -> bool:
        """Wait for a send slot under ``TRACKER_SMTP_MAX_PER_MINUTE`` (at once without a
        cap), keeping the claims meanwhile; False if ``claim`` was lost while waiting."""
        cap = self.app.settings.smtp_max_per_minute
        while cap is not None:
            clock = self.app.clock()
            async with self.app.session() as session:
                free_at = await reserve_slot(session, instance=self.instance, clock=clock, cap=cap)
            if free_at is None:
                break
            pause = min(free_at - clock, self.lease / 4).total_seconds()
            await asyncio.sleep(max(pause, 0.01))
            await self.keep()
            if not self.pending or self.pending[0][0] is not claim:
                return False
        return True

    async def give_back(self) -> None:
        """Release the unsent claims untried (due again at ``retry_at``)."""
        if not self.pending:
            return
        async with self.app.session() as session:
            await release(
                session,
                self.batch.model,
                [claim for claim, _ in self.pending],
                instance=self.instance,
                now=self.app.clock(),
                retry_at=self.retry_at,
            )


async def deliver(
    app: App,
    transport: Transport,
    batch: Batch[C, E],
    *,
    instance: str,
    stop: Callable[[], bool],
) -> None:
    """Send a claimed batch over one connection, one item at a time; give back the rest.

    On a stop request the item in flight is finished and recorded and the rest are
    released untried; on a settings error (bad login, certificate) every unsent item is
    released for a later retry and the error is raised, so nothing fails one by one.
    """
    claims = _Claims(app, batch, instance)
    async with app.engine.connect() as connection:
        direct = await DirectConnection.of(connection)
        try:
            async with transport:
                while claims.pending and not stop():
                    await claims.keep()
                    if not claims.pending:
                        break
                    claim, email = claims.pending[0]
                    result = await _deliver_one(claims, transport, direct, claim, email)
                    if result is None:
                        continue  # lost while waiting for a slot: dropped, unsent
                    claims.pending.pop(0)
                    batch.done(claim, email, *result)
        except MailConfigError:
            claims.retry_at = app.clock() + CONFIG_RETRY
            raise
        finally:
            await claims.give_back()


async def _deliver_one(
    claims: _Claims[C, E],
    transport: Transport,
    direct: DirectConnection,
    claim: C,
    email: E,
) -> tuple[OutboxStatus, str] | None:
    """Send one item (or close it as empty) and record it; its (status, reply), or None
    when the claim was lost while waiting for a send slot."""
    app, model, instance = claims.app, claims.batch.model, claims.instance
    message = claims.batch.build(claim, email)
    if message is None:
        await mark_empty(direct, model, claim.id, instance=instance, now=app.clock())
        return OutboxStatus.EMPTY, NOTHING_TO_REPORT
    if not await claims.slot(claim):
        return None
    outcome = (await transport.send(message, [claim.recipient]))[claim.recipient]
    now = app.clock()
    max_age = timedelta(hours=app.settings.retry_max_hours)
    state = next_state(claim.first_attempt_at, claim.attempts + 1, outcome, now, max_age)
    kind = outcome.outcome.value
    await record_attempt(direct, model, claim.id, state, outcome=kind, instance=instance, now=now)
    return state.status, state.reply
