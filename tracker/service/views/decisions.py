"""*My decisions*, the web app's home: the digest's view of one person, live.

The same data and the same rules as the person's digest (:mod:`tracker.service.digest.gather`:
their open decisions overdue, then those due in the next 8 weeks, each flagged when the
contract's staffing is at risk), read for the moment of the request in the digest's
fixed number of statements (:data:`STATEMENTS`), whatever the number of contracts.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.mail.model import DigestItem
from tracker.service.app import App
from tracker.service.digest.gather import (
    STATEMENTS as BATCH_STATEMENTS,
)
from tracker.service.digest.gather import (
    UPCOMING_DAYS,
    decision_items,
    load_batch,
    person_contracts,
)

#: The statements :func:`my_decisions` runs: the digest's batch of one person.
STATEMENTS = BATCH_STATEMENTS


@dataclass(frozen=True, kw_only=True)
class MyDecisions:
    overdue: tuple[DigestItem, ...]
    upcoming: tuple[DigestItem, ...]
    #: How many contracts the person owns, sponsors or watches.
    contracts: int
    upcoming_days: int = UPCOMING_DAYS

    @property
    def staffing_at_risk(self) -> tuple[str, ...]:
        """Refs of the listed decisions' contracts whose staffing is at risk."""
        items = (*self.overdue, *self.upcoming)
        return tuple(dict.fromkeys(i.ref for i in items if i.staffing_at_risk))


async def my_decisions(app: App, email: str) -> MyDecisions:
    """``email``'s open decisions at ``app.now``, as their digest would list them."""
    async with app.session() as session:
        batch = await load_batch(session, app, [email])
    mine = person_contracts(batch, email)
    overdue, upcoming = decision_items(mine)
    return MyDecisions(overdue=tuple(overdue), upcoming=tuple(upcoming), contracts=len(mine))
