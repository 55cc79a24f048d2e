"""Who a contract involves: its owner, its sponsor and its watchers.

One rule, used wherever a person's contracts are picked out: the digest (whose contracts
a batch of people get), ``handover`` (what a leaving person holds), and the web app (a
person sees only what they own, sponsor or watch). As SQL for queries over many
contracts, and as roles on one loaded row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from tracker.store.models import ContractRow, WatcherRow

#: A test on an address column: ``column == person``, or ``column IN (people)``.
PersonMatch = Callable[[Any], ColumnElement[bool]]


def involving(match: PersonMatch) -> ColumnElement[bool]:
    """Contracts whose owner or sponsor matches, or that a matching person watches."""
    watched = select(WatcherRow.contract_id).where(match(WatcherRow.email))
    return or_(match(ContractRow.owner), match(ContractRow.sponsor), ContractRow.id.in_(watched))


def involving_person(person: str) -> ColumnElement[bool]:
    """Contracts ``person`` owns, sponsors or watches."""
    return involving(lambda column: column == person)


def roles(row: ContractRow, person: str) -> list[str]:
    """The roles ``person`` holds on a loaded contract: owner, sponsor, watcher (in that
    order; none when the contract does not involve them)."""
    held = [name for name in ("owner", "sponsor") if getattr(row, name) == person]
    if any(w.email == person for w in row.watchers):
        held.append("watcher")
    return held
