"""The one delivery loop for reminders and digests: send, decide what next, record.

A claimed batch (see ``tracker.store.outbox``) is sent over one mail connection and
recorded over one held database connection, one message at a time, each outcome
committed before the next message goes out, so a crash leaves at most one message sent
but unrecorded. What differs between reminders and digests (how a message is built,
what a result looks like) comes in as two small callbacks of :class:`Batch`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from tracker.domain.reminders import retry_delay
from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import DeliveryOutcome, Outcome
from tracker.mail.transport import MailConfigError, Transport
from tracker.service.app import App
from tracker.store.direct import DirectConnection
from tracker.store.outbox import (
    Claimable,
    Claimed,
    NextState,
    OutboxStatus,
    mark_empty,
    record_attempt,
    release,
)


def next_state(
    planned_at: datetime,
    attempts: int,
    outcome: DeliveryOutcome,
    now: datetime,
    max_age: timedelta,
) -> NextState:
    """The row's state after its ``attempts``-th attempt.

    Temporary failures retry with exponential backoff until the message is ``max_age``
    past its planned time; then it fails, saying so. Permanent failures fail at once.
    """
    reply = outcome.reply
    if outcome.outcome is Outcome.SENT:
        return NextState(status=OutboxStatus.SENT, reply=reply)
    if outcome.outcome is Outcome.PERMANENT:
        return NextState(status=OutboxStatus.FAILED, reply=reply)
    if now - planned_at >= max_age:
        gave_up = f"gave up after {attempts} attempts: {reply}"
        return NextState(status=OutboxStatus.FAILED, reply=gave_up)
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
    reply, once it is recorded.
    """

    model: Claimable
    items: Sequence[tuple[C, E]]
    build: Callable[[C, E], OutgoingMessage | None]
    done: Callable[[C, E, OutboxStatus, str], None]


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
    pending = list(batch.items)
    retry_at = app.now
    max_age = timedelta(hours=app.settings.retry_max_hours)
    async with app.engine.connect() as connection:
        direct = await DirectConnection.of(connection)
        try:
            async with transport:
                while pending and not stop():
                    claim, email = pending[0]
                    status, reply = await _deliver_one(
                        app, transport, direct, batch, claim, email, instance, max_age
                    )
                    pending.pop(0)
                    batch.done(claim, email, status, reply)
        except MailConfigError:
            retry_at = app.now + CONFIG_RETRY
            raise
        finally:
            if pending:
                claims = [claim for claim, _ in pending]
                async with app.session() as session:
                    await release(
                        session,
                        batch.model,
                        claims,
                        instance=instance,
                        now=app.now,
                        retry_at=retry_at,
                    )


async def _deliver_one(
    app: App,
    transport: Transport,
    direct: DirectConnection,
    batch: Batch[C, E],
    claim: C,
    email: E,
    instance: str,
    max_age: timedelta,
) -> tuple[OutboxStatus, str]:
    """Send one item (or close it as empty) and record it; its (status, reply)."""
    message = batch.build(claim, email)
    if message is None:
        await mark_empty(direct, batch.model, claim.id, instance=instance, now=app.now)
        return OutboxStatus.EMPTY, NOTHING_TO_REPORT
    outcome = (await transport.send(message, [claim.recipient]))[claim.recipient]
    state = next_state(claim.planned_at, claim.attempts + 1, outcome, app.now, max_age)
    kind = outcome.outcome.value
    await record_attempt(
        direct, batch.model, claim.id, state, outcome=kind, instance=instance, now=app.now
    )
    return state.status, state.reply
