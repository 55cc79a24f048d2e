"""What the sweep needs from the domain: nags to plan, emails to build, outcomes to apply.

The loop itself lives in ``jobs/sweep.py``; everything that decides lives here or in
``tracker.domain``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from tracker.domain.reminders import (
    retry_delay,
)
from tracker.mail.model import DeliveryOutcome, Outcome
from tracker.mail.transport import MailConfigError, Transport
from tracker.service.app import App
from tracker.store.outbox import FAILED, PLANNED, SENT, Claimable, release


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
