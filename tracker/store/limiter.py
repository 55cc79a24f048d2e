"""The sending rate shared by every instance on one database (``TRACKER_SMTP_MAX_PER_MINUTE``).

A relay limits the *mailbox*, not a process: two instances each sending at the cap
would send at twice the cap. So each send first reserves a slot here, in a short
transaction that counts the slots of the last window and adds one if under the cap.
The transactions are serialised (``LOCK TABLE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite: see engine.py), so two instances cannot both take the last slot. Slots older
than the window are deleted as new ones are reserved: the table stays a window long.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.store.models import SendSlotRow

#: The cap is per this window (a minute: the setting is per minute).
_WINDOW = timedelta(seconds=60)
#: Counted a little wider than the window, so that the jitter between a reservation and
#: the message's arrival at the server cannot show cap + 1 in one window there.
_SLACK = timedelta(seconds=1)


async def reserve_slot(
    session: AsyncSession, *, instance: str, clock: datetime, cap: int
) -> datetime | None:
    """Reserve one send at ``clock`` if fewer than ``cap`` were reserved in the window
    before it (None), else the time the oldest of them leaves the window (try again
    then). Commits either way."""
    span = _WINDOW + _SLACK
    if session.get_bind().dialect.name == "postgresql":
        # Conflicts with itself, not with readers: one reservation at a time.
        await session.execute(text("LOCK TABLE send_slots IN SHARE ROW EXCLUSIVE MODE"))
    await session.execute(delete(SendSlotRow).where(SendSlotRow.at <= clock - span))
    count, oldest = (await session.execute(select(func.count(), func.min(SendSlotRow.at)))).one()
    if count < cap:
        await session.execute(insert(SendSlotRow).values(at=clock, instance=instance))
        await session.commit()
        return None
    await session.commit()
    wait_until: datetime = oldest + span
    return wait_until
