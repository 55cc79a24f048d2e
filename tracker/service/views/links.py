"""A milestone as a link from an email sees it: for the web app's confirm and result pages.

The web app decides nothing itself: whether the person may still act (owner, sponsor or
watcher of the contract), and what state the milestone is in now, are read here; the
change itself goes through :mod:`tracker.service.milestones`, as from the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from tracker.domain.milestones import effective_status
from tracker.domain.types import MilestoneKind, MilestoneStatus
from tracker.domain.wording import kind_label
from tracker.service.app import App
from tracker.store.models import ContractRow, MilestoneRow


@dataclass(frozen=True, kw_only=True)
class LinkedMilestone:
    """What a confirm page shows: the contract, the milestone now, and who may act."""

    milestone_id: int
    ref: str
    contract_title: str
    provider: str
    kind: str
    kind_label: str
    title: str
    due: date
    status: MilestoneStatus  # effective: a date that passed or a lapsed option is closed
    closed_at: datetime | None
    closed_note: str | None
    snoozed_until: date | None
    snooze_note: str | None
    owner: str | None
    sponsor: str | None
    watchers: tuple[str, ...]

    def involves(self, person: str) -> bool:
        """Whether ``person`` is still the owner, the sponsor or a watcher of the contract
        (addresses compare without regard to case, as mail systems treat them)."""
        people = [self.owner, self.sponsor, *self.watchers]
        return person.casefold() in {p.casefold() for p in people if p}

    @property
    def is_open(self) -> bool:
        return self.status == MilestoneStatus.OPEN


async def linked_milestone(app: App, milestone_id: int) -> LinkedMilestone | None:
    """The milestone a link names, as it is now; None when it (or its contract) is gone."""
    async with app.session() as session:
        milestone = (
            await session.execute(select(MilestoneRow).where(MilestoneRow.id == milestone_id))
        ).scalar_one_or_none()
        if milestone is None:
            return None
        contract = await session.get(ContractRow, milestone.contract_id)
        if contract is None:
            return None
        kind = MilestoneKind(milestone.kind)
        status = effective_status(
            kind,
            MilestoneStatus(milestone.status),
            milestone.due,
            app.today,
            contract_end=contract.end_date,
        )
        return LinkedMilestone(
            milestone_id=milestone.id,
            ref=contract.ref,
            contract_title=contract.title,
            provider=contract.provider,
            kind=kind.value,
            kind_label=kind_label(kind),
            title=milestone.title,
            due=milestone.due,
            status=status,
            closed_at=milestone.closed_at,
            closed_note=milestone.closed_note,
            snoozed_until=milestone.snoozed_until,
            snooze_note=milestone.snooze_note,
            owner=contract.owner,
            sponsor=contract.sponsor,
            watchers=tuple(w.email for w in contract.watchers),
        )
