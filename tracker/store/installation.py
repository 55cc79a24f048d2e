"""This database's identity: a random id made once, read wherever names must be unique
across installations (calendar UIDs), so two authorities' feeds never collide."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.store.models import InstallationRow

#: The one row's key: a fixed key makes a second concurrent insert fail rather than add.
ROW_ID = 1


async def _stored(session: AsyncSession) -> str | None:
    statement = select(InstallationRow.uid).where(InstallationRow.id == ROW_ID)
    uid: str | None = (await session.execute(statement)).scalar_one_or_none()
    return uid


async def installation_uid(sessions: Callable[[], AsyncSession], now: datetime) -> str:
    """The installation's id (32 hex digits), stable for the life of the database.

    Migration 0008 makes it; a schema made another way (``create_all``) gets one on first
    use. If two processes race to make it, the loser reads the winner's.
    """
    async with sessions() as session:
        found = await _stored(session)
        if found is not None:
            return found
        session.add(InstallationRow(id=ROW_ID, uid=uuid.uuid4().hex, created_at=now))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
        found = await _stored(session)
    assert found is not None
    return found
