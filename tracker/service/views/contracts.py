"""Read models: what ``list``, ``show``, ``gaps`` and ``timeline`` (and later emails) show.

Built from stored rows with the pure rules; the CLI renders them as Rich tables or
JSON. Keeping them here means every screen computes staffing risk and gaps one way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.funding import (
    YearGap,
    total_at_risk,
    total_gap,
    totals_warnings,
    year_gaps,
)
from tracker.domain.milestones import (
    DECISION_TEXT,
    closed_by_time,
    effective_status,
    snooze_holds,
)
from tracker.domain.staffing import StaffingRisk, staffing_risk
from tracker.domain.types import (
    FACT_KINDS,
    STATUTORY_KINDS,
    FinancialYear,
    MilestoneKind,
    MilestoneStatus,
)
from tracker.domain.wording import close_command
from tracker.service.app import App
from tracker.service.contracts import load_contract
from tracker.service.views.reminders import AttemptView, attempt_history
from tracker.store.domain_rows import milestone_states, to_domain
from tracker.store.models import (
    ContractRow,
    CostRow,
    EventRow,
    ExtensionRow,
    FundingRow,
    MilestoneRow,
    VariationRow,
    cost_id,
    funding_id,
    live_lines,
)
from tracker.store.rows import copy_row

#: The latest changes a contract's detail holds (the page lists them and counts the rest;
#: ``show`` prints the first ten).
HISTORY_SHOWN = 50


@dataclass(frozen=True, kw_only=True)
class MilestoneView:
    id: int
    ref: str
    kind: MilestoneKind
    due: date
    title: str
    status: MilestoneStatus
    origin: str
    note: str | None
    closed_note: str | None
    days_left: int
    is_decision: bool
    if_missed: str
    command: str | None
    snoozed_until: date | None = None
    snooze_note: str | None = None
    #: A duty the law imposes (the Procurement Act 2023's notices), not only good practice.
    statutory: bool = False


@dataclass(frozen=True, kw_only=True)
class ContractSummary:
    ref: str
    title: str
    provider: str
    commissioner: str | None
    start: date
    end: date
    original_end: date
    value: Decimal | None
    owner: str | None
    sponsor: str | None
    watchers: tuple[str, ...]
    intervention_months: int | None
    notes: str | None
    #: The procurement law it was let under (pa2023, pcr2015, none), light-touch or not,
    #: and the day it was entered into: the Procurement Act 2023's notices run from them.
    regime: str
    light_touch: bool
    entered_into: date | None
    #: The contract's version: what a change sends back as ``--if-version``.
    version: int
    #: Set when it ended before its end date (terminated, decommissioned, set aside).
    ended_on: date | None
    end_reason: str | None
    days_to_end: int
    staffing: StaffingRisk
    next_decision: MilestoneView | None
    gaps: tuple[YearGap, ...]
    warnings: tuple[str, ...]
    milestones: tuple[MilestoneView, ...]

    @property
    def total_gap(self) -> Decimal | None:
        return total_gap(self.gaps)

    @property
    def total_at_risk(self) -> Decimal:
        return total_at_risk(self.gaps)

    @property
    def ended(self) -> bool:
        """Over (its end has passed, or it was ended early) with no milestone left open:
        the lists leave it out unless asked for all."""
        over = self.ended_on is not None or self.days_to_end < 0
        return over and all(m.status != MilestoneStatus.OPEN for m in self.milestones)


@dataclass(frozen=True, kw_only=True)
class EventView:
    at: datetime
    kind: str
    detail: str
    #: Who made the change (None: logged before the tracker recorded it).
    actor: str | None = None


@dataclass(frozen=True, kw_only=True)
class VariationView:
    ref_no: str
    dated: date
    old_end: date | None
    new_end: date | None
    old_value: Decimal | None
    new_value: Decimal | None
    note: str | None
    actor: str | None


@dataclass(frozen=True, kw_only=True)
class ExtensionView:
    seq: int
    until: date
    notice_days: int | None
    notice_by: date | None
    status: str


@dataclass(frozen=True, kw_only=True)
class LineView:
    """A funding or cost line as ``show`` lists it (cost lines have no status or date)."""

    id: int
    #: The short id commands take (``F3``, ``C7``): see ``tracker.service.lines``.
    line_id: str
    year: str
    label: str
    amount: Decimal
    status: str | None = None
    confirm_by: date | None = None


@dataclass(frozen=True, kw_only=True)
class ContractDetail:
    summary: ContractSummary
    extensions: tuple[ExtensionView, ...]
    funding: tuple[LineView, ...]
    costs: tuple[LineView, ...]
    #: The latest :data:`HISTORY_SHOWN` changes, newest first.
    events: tuple[EventView, ...]
    reminders: tuple[AttemptView, ...] = ()
    variations: tuple[VariationView, ...] = ()
    #: Every change in the history, shown or not.
    events_total: int = 0

    @property
    def earlier_events(self) -> int:
        """Changes older than those shown."""
        return self.events_total - len(self.events)


def _closed_note(m: MilestoneRow, status: MilestoneStatus, today: date, end: date) -> str | None:
    """The note a closed milestone shows: the person's, or why time closed it."""
    if m.closed_note or m.status != MilestoneStatus.OPEN or status == MilestoneStatus.OPEN:
        return m.closed_note
    return closed_by_time(MilestoneKind(m.kind), m.due, today, end)


def milestone_views(row: ContractRow, today: date) -> list[MilestoneView]:
    statuses = [
        effective_status(
            MilestoneKind(m.kind),
            MilestoneStatus(m.status),
            m.due,
            today,
            contract_end=row.end_date,
        )
        for m in row.milestones
    ]
    open_kinds = Counter(
        m.kind
        for m, status in zip(row.milestones, statuses, strict=True)
        if status == MilestoneStatus.OPEN
    )
    views = []
    for m, status in zip(row.milestones, statuses, strict=True):
        kind = MilestoneKind(m.kind)
        decision = kind not in FACT_KINDS
        snoozed = snooze_holds(m.snoozed_until, today)
        views.append(
            MilestoneView(
                id=m.id,
                ref=row.ref,
                kind=kind,
                due=m.due,
                title=m.title,
                status=status,
                origin=m.origin,
                note=m.note,
                closed_note=_closed_note(m, status, today, row.end_date),
                days_left=(m.due - today).days,
                is_decision=decision,
                if_missed=DECISION_TEXT.get(kind, ""),
                command=(
                    close_command(row.ref, kind, m.id, ambiguous=open_kinds[m.kind] > 1)
                    if decision and status == MilestoneStatus.OPEN
                    else None
                ),
                snoozed_until=m.snoozed_until if snoozed else None,
                snooze_note=m.snooze_note if snoozed else None,
                statutory=kind in STATUTORY_KINDS,
            )
        )
    views.sort(key=lambda v: (v.due, v.kind.value, v.id))
    return views


def summarise(row: ContractRow, app: App) -> ContractSummary:
    today = app.today
    contract = to_domain(row)
    views = milestone_views(row, today)
    decisions = [v for v in views if v.is_decision and v.status == MilestoneStatus.OPEN]
    return copy_row(
        ContractSummary,
        row,
        start=row.start_date,
        end=row.end_date,
        watchers=tuple(w.email for w in row.watchers),
        days_to_end=(row.end_date - today).days,
        staffing=staffing_risk(contract, milestone_states(row), app.policy.derivation, today),
        next_decision=decisions[0] if decisions else None,
        gaps=tuple(year_gaps(contract)),
        warnings=tuple(totals_warnings(contract)),
        milestones=tuple(views),
    )


async def list_contracts(
    app: App, *, ending_within: int | None = None, include_ended: bool = True
) -> list[ContractSummary]:
    """Contracts by end date; ``include_ended=False`` leaves out those that have ended
    with nothing left open (``list`` and ``timeline`` without ``--all``)."""
    async with app.session() as session:
        statement = select(ContractRow).order_by(ContractRow.end_date, ContractRow.ref)
        if ending_within is not None:
            statement = statement.where(
                ContractRow.end_date >= app.today,
                ContractRow.end_date <= date.fromordinal(app.today.toordinal() + ending_within),
            )
        rows = (await session.execute(statement)).scalars().all()
        summaries = [summarise(row, app) for row in rows]
        return [s for s in summaries if include_ended or not s.ended]


async def contract_detail(app: App, ref: str) -> ContractDetail:
    async with app.session() as session:
        return await detail_of(app, session, await load_contract(session, ref))


async def detail_of(app: App, session: AsyncSession, row: ContractRow) -> ContractDetail:
    """What ``show`` shows of a loaded contract (the web app's contract page too, once it
    has found the contract visible to the viewer)."""
    # The latest changes and, in the same statement, how many there are in all.
    latest = (
        await session.execute(
            select(EventRow, func.count().over())
            .where(EventRow.contract_id == row.id)
            .order_by(EventRow.at.desc(), EventRow.id.desc())
            .limit(HISTORY_SHOWN)
        )
    ).all()
    events = [event for event, _ in latest]
    return ContractDetail(
        summary=summarise(row, app),
        extensions=tuple(_extension_view(e) for e in row.extensions),
        funding=tuple(_funding_view(f) for f in live_lines(row.funding)),
        costs=tuple(_cost_view(c) for c in live_lines(row.costs)),
        events=tuple(copy_row(EventView, e) for e in events),
        reminders=tuple(await attempt_history(app, contract_id=row.id, session=session)),
        variations=tuple(copy_row(VariationView, v) for v in await variations_of(session, row)),
        events_total=latest[0][1] if latest else 0,
    )


async def variations_of(session: AsyncSession, row: ContractRow) -> list[VariationRow]:
    """The contract's variations, oldest first (by date signed, then as recorded)."""
    statement = (
        select(VariationRow)
        .where(VariationRow.contract_id == row.id)
        .order_by(VariationRow.dated, VariationRow.id)
    )
    return list((await session.execute(statement)).scalars())


def _extension_view(e: ExtensionRow) -> ExtensionView:
    return ExtensionView(
        seq=e.seq, until=e.until, notice_days=e.notice_days, notice_by=e.notice_by, status=e.status
    )


def _funding_view(f: FundingRow) -> LineView:
    return _line_view(f, funding_id(f), f.source, status=f.status, confirm_by=f.confirm_by)


def _cost_view(c: CostRow) -> LineView:
    return _line_view(c, cost_id(c), c.category)


def _line_view(
    line: FundingRow | CostRow,
    line_id: str,
    label: str,
    *,
    status: str | None = None,
    confirm_by: date | None = None,
) -> LineView:
    """A funding or cost line as ``show`` lists it: by its id, year, label and amount."""
    year = str(FinancialYear(line.year))
    view = LineView(id=line.id, line_id=line_id, year=year, label=label, amount=line.amount)
    return replace(view, status=status, confirm_by=confirm_by)


async def gaps(app: App, ref: str | None = None) -> list[ContractSummary]:
    if ref is None:
        return await list_contracts(app)
    async with app.session() as session:
        return [summarise(await load_contract(session, ref), app)]


async def timeline(app: App, *, days: int, include_ended: bool = False) -> list[MilestoneView]:
    """Open decisions and dated facts from any overdue ones up to ``days`` ahead."""
    horizon = app.today.toordinal() + days
    items: list[MilestoneView] = []
    for summary in await list_contracts(app, include_ended=include_ended):
        items.extend(
            m
            for m in summary.milestones
            if m.status == MilestoneStatus.OPEN and m.due.toordinal() <= horizon
        )
    items.sort(key=lambda m: (m.due, m.ref, m.kind.value))
    return items
