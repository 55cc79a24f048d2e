"""The web app's contract page: ``tracker show``'s view of one contract, for a viewer.

The contract is found through the one visibility rule (:mod:`tracker.service.views.access`)
and then described by :func:`tracker.service.views.contracts.detail_of`, as ``show``
describes it, plus its decision records with their publication deadlines (the domain's
rule) and the state of the milestone that publishes each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.domain.milestones import publication_due, publication_key
from tracker.domain.types import MilestoneStatus
from tracker.service.app import App
from tracker.service.views.access import visible_contract
from tracker.service.views.contracts import ContractDetail, MilestoneView, detail_of
from tracker.store.models import ContractRow


@dataclass(frozen=True, kw_only=True)
class DecisionView:
    ref: str
    title: str | None
    decided_on: date
    url: str | None
    publish_by: date
    #: The publishing milestone as the contract's milestones show it (None: not derived).
    publication: MilestoneView | None

    @property
    def published(self) -> bool:
        return self.publication is not None and self.publication.status == MilestoneStatus.DONE


@dataclass(frozen=True, kw_only=True)
class ContractPage:
    detail: ContractDetail
    decisions: tuple[DecisionView, ...]


async def contract_page(app: App, ref: str, email: str, admin: bool) -> ContractPage | None:
    """The contract ``ref`` as ``email`` may see it; None when it is absent or not theirs
    (the caller answers both alike)."""
    async with app.session() as session:
        row = await visible_contract(session, ref, email, admin)
        if row is None:
            return None
        detail = await detail_of(app, session, row)
        return ContractPage(detail=detail, decisions=_decisions(row, detail))


def _decisions(row: ContractRow, detail: ContractDetail) -> tuple[DecisionView, ...]:
    views = {m.id: m for m in detail.summary.milestones}
    by_key = {m.key: views.get(m.id) for m in row.milestones}
    return tuple(
        DecisionView(
            ref=d.ref,
            title=d.title,
            decided_on=d.decided_on,
            url=d.url,
            publish_by=publication_due(d.decided_on, d.publish_within_working_days),
            publication=by_key.get(publication_key(d.ref)),
        )
        for d in row.decisions
    )


async def actionable_milestone(
    app: App, ref: str, kind: str, milestone_id: int | None, email: str, admin: bool
) -> int | None:
    """The milestone a page's Mark done / Snooze form names, if ``email`` may act on it: of
    kind ``kind``, on contract ``ref`` which they can see (the one given by id, or the
    only one of that kind). None otherwise, so the action is refused as a missing page
    is. Whether it is still open is the service's to say (a second POST)."""
    async with app.session() as session:
        row = await visible_contract(session, ref, email, admin)
        if row is None:
            return None
        ofkind = [m for m in row.milestones if m.kind == kind]
    if milestone_id is not None:
        return milestone_id if any(m.id == milestone_id for m in ofkind) else None
    return ofkind[0].id if len(ofkind) == 1 else None
