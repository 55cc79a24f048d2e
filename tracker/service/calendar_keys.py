"""A person's calendar subscription URL (``/calendar/<secret>.ics``) and replacing it.

The secret is an itsdangerous-signed ``{email, generation}`` (its own salt, so it never
verifies as any other token); only the generation is stored, per person, so the database
holds no secret. Replacing the URL bumps the generation: every older URL stops at once.
A calendar client cannot sign in, so the URL itself is the credential: it does not
expire, and it is never logged whole (:func:`tracker.web.security.redacted_path`).
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.service.app import App
from tracker.store.models import CalendarKeyRow

_SALT = "contract-tracker.calendar"


def _serializer(key: str) -> Any:
    return URLSafeSerializer(key, salt=_SALT)


async def _generation(session: AsyncSession, email: str) -> int:
    row = await session.get(CalendarKeyRow, email)
    return 0 if row is None else row.generation


async def calendar_secret(app: App, key: str, email: str) -> str:
    """The secret of ``email``'s current calendar URL."""
    async with app.session() as session:
        generation = await _generation(session, email)
    secret: str = _serializer(key).dumps({"e": email, "g": generation})
    return secret


async def replace_calendar_secret(app: App, key: str, email: str) -> str:
    """A new secret for ``email``; the old URL stops working."""
    async with app.session() as session:
        row = await session.get(CalendarKeyRow, email)
        if row is None:
            row = CalendarKeyRow(email=email, generation=1, updated_at=app.now)
            session.add(row)
        else:
            row.generation += 1
            row.updated_at = app.now
        generation = row.generation
        await session.commit()
    secret: str = _serializer(key).dumps({"e": email, "g": generation})
    return secret


async def calendar_person(app: App, key: str, secret: str) -> str | None:
    """Whose calendar ``secret`` opens, or None (not ours, altered, or replaced since)."""
    if len(secret) > 1000:
        return None
    try:
        payload = _serializer(key).loads(secret)
        email, generation = str(payload["e"]), int(payload["g"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
    async with app.session() as session:
        current = await _generation(session, email)
    return email if generation == current else None
