"""Sign-in links and sign-in requests in the database: the once-only use and the hourly
limit, both holding across every instance and process sharing it.

A link is used by one ``UPDATE ... WHERE used_at IS NULL AND expires_at > now`` that
returns the row: of two POSTs racing with one link, exactly one gets it back. Requests
are counted under a lock (``LOCK TABLE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite:
see engine.py), like the send rate in :mod:`tracker.store.limiter`, so two instances
cannot both let the sixth request through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.store.involvement import involving_person
from tracker.store.models import ContractRow, RecipientRow, SignInAttemptRow, SignInLinkRow


async def known_person(session: AsyncSession, email: str, admins: Sequence[str]) -> bool:
    """Whether the tracker knows ``email``: an admin, someone a contract involves (owner,
    sponsor, watcher: :mod:`tracker.store.involvement`), or a digest recipient."""
    if email in admins:
        return True
    involved = select(ContractRow.id).where(involving_person(email)).limit(1)
    if (await session.execute(involved)).first() is not None:
        return True
    recipient = select(RecipientRow.email).where(RecipientRow.email == email)
    return (await session.execute(recipient)).first() is not None


async def within_limit(
    session: AsyncSession, keys: Sequence[str], *, now: datetime, limit: int, window: timedelta
) -> bool:
    """Count one request against each of ``keys`` if every key has had fewer than ``limit``
    in the ``window`` before ``now``; False (and nothing counted) when one has not.
    Commits either way; attempts older than the window are deleted as it goes."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("LOCK TABLE sign_in_attempts IN SHARE ROW EXCLUSIVE MODE"))
    since = now - window
    await session.execute(delete(SignInAttemptRow).where(SignInAttemptRow.at <= since))
    counted = (
        select(func.count())
        .select_from(SignInAttemptRow)
        .where(SignInAttemptRow.key.in_(list(keys)), SignInAttemptRow.at > since)
        .group_by(SignInAttemptRow.key)
    )
    busiest = max((await session.execute(counted)).scalars(), default=0)
    allowed = busiest < limit
    if allowed:
        await session.execute(insert(SignInAttemptRow), [{"key": k, "at": now} for k in keys])
    await session.commit()
    return allowed


async def store_link(
    session: AsyncSession,
    *,
    token_hash: str,
    email: str,
    next_path: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Keep a new link (its hash only); expired links are deleted as new ones come."""
    await session.execute(delete(SignInLinkRow).where(SignInLinkRow.expires_at <= now))
    session.add(
        SignInLinkRow(
            token_hash=token_hash,
            email=email,
            next_path=next_path,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.commit()


async def usable_link(
    session: AsyncSession, token_hash: str, now: datetime
) -> SignInLinkRow | None:
    """The link if it is unused and unexpired at ``now`` (the GET: looks, changes nothing)."""
    statement = select(SignInLinkRow).where(
        SignInLinkRow.token_hash == token_hash,
        SignInLinkRow.used_at.is_(None),
        SignInLinkRow.expires_at > now,
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def use_link(session: AsyncSession, token_hash: str, now: datetime) -> tuple[str, str] | None:
    """Mark the link used and return (email, next path); None when it is unknown, used or
    expired. One statement, so a link signs in once however many POSTs race."""
    statement = (
        update(SignInLinkRow)
        .where(
            SignInLinkRow.token_hash == token_hash,
            SignInLinkRow.used_at.is_(None),
            SignInLinkRow.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInLinkRow.email, SignInLinkRow.next_path)
    )
    row = (await session.execute(statement)).one_or_none()
    await session.commit()
    return None if row is None else (row[0], row[1])
