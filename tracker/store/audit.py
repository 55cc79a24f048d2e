"""Who made each change, and each contract's version: filled in at flush, in one place.

Every change a contract goes through is logged as a change event (``contract_events``),
whatever the path (add, edit, vary, extend, funding, cost, a milestone done...). So the
two rules that must hold for every change are kept here, at the flush of those events,
rather than repeated in each use case:

* an event without an ``actor`` gets the session's (``session.info["actor"]``: ``--by``,
  TRACKER_ACTOR or the OS user; see ``tracker.service.app.App.actor``);
* the contract it is about goes up one version, once per transaction however many events
  the change logs (a new contract starts at 1), so a change made on a stale read can be
  told apart (``tracker.service.lifecycle``).

Rows written with bulk inserts bypass the flush: such a writer sets ``actor`` itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.store.models import ContractRow, EventRow

#: ``session.info`` keys.
ACTOR = "actor"
_BUMPED = "versions_bumped"
#: The event a new contract is logged with: its version stays 1.
_ADDED = "contract_added"


class TrackerSession(Session):
    """The session every use case gets: stamps actors and versions at flush."""


@event.listens_for(TrackerSession, "before_flush")
def _stamp(session: Session, _context: Any, _instances: Any) -> None:
    actor = session.info.get(ACTOR)
    bumped: set[int] = session.info.setdefault(_BUMPED, set())
    for obj in session.new:
        if not isinstance(obj, EventRow):
            continue
        if obj.actor is None:
            obj.actor = actor
        if obj.kind == _ADDED or obj.contract_id in bumped:
            continue
        contract = session.identity_map.get(session.identity_key(ContractRow, obj.contract_id))
        if isinstance(contract, ContractRow):
            contract.version = (contract.version or 1) + 1
            bumped.add(obj.contract_id)


@event.listens_for(TrackerSession, "after_commit")
@event.listens_for(TrackerSession, "after_soft_rollback")
def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_BUMPED, None)
