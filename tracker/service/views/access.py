"""Who may see a contract in the web app: the one visibility rule.

A person sees the contracts they own, sponsor or watch (:mod:`tracker.store.involvement`);
an admin sees every contract. Anything else is treated as absent (the page is a 404), so
a ref typed into the address bar tells nobody whether it exists.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.store.involvement import involving_person
from tracker.store.models import ContractRow


def visible_to(email: str, admin: bool) -> ColumnElement[bool]:
    """A WHERE clause over ContractRow: the contracts this person may see."""
    return true() if admin else involving_person(email)


async def visible_contract(
    session: AsyncSession, ref: str, email: str, admin: bool
) -> ContractRow | None:
    """The contract ``ref`` if this person may see it, else None (absent or not theirs:
    the caller answers both with the same 404)."""
    statement = select(ContractRow).where(ContractRow.ref == ref, visible_to(email, admin))
    return (await session.execute(statement)).scalar_one_or_none()
