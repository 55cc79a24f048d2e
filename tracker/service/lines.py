"""Funding and cost lines after they are added: change one in place, or remove it.

A line is named by a short id that never changes (``F3``: the funding line's key on its
contract; ``C7``: the cost line's row id), so ``funding set`` changes the very line
that was expected instead of adding a second one that would count the money twice.
A removed line is kept with its values (``removed_at``) for the history and left out
of every sum. Confirming a line closes, as done, the funding-confirmation milestones it
satisfied (its own ``confirm_by``, its year's gap), so their reminders stop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.dates import parse_financial_year, parse_optional_date
from tracker.domain.milestones import derive_milestones
from tracker.domain.money import format_gbp, parse_money
from tracker.domain.text import parse_optional_text, parse_text
from tracker.domain.types import (
    EventKind,
    FinancialYear,
    FundingStatus,
    MilestoneKind,
    MilestoneOrigin,
    MilestoneStatus,
)
from tracker.errors import InvalidValue
from tracker.service.app import App
from tracker.service.contracts import load_contract, refresh
from tracker.service.derive import record_event
from tracker.service.registers.inputs import parse_funding_status
from tracker.store.domain_rows import to_domain
from tracker.store.models import (
    ContractRow,
    CostRow,
    FundingRow,
    cost_id,
    funding_id,
    live_lines,
)

Line = TypeVar("Line", FundingRow, CostRow)

#: Funding statuses that secure money: confirming a line to one of these satisfies the
#: funding-confirmation milestones that go away with it.
SECURED = frozenset({FundingStatus.CONFIRMED, FundingStatus.RECEIVED})


@dataclass(frozen=True)
class FundingChange:
    """What ``tracker funding set`` changes; None leaves the field as it is."""

    status: FundingStatus | None = None
    amount: Decimal | None = None
    confirm_by: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class CostChange:
    """What ``tracker cost set`` changes; None leaves the field as it is."""

    amount: Decimal | None = None
    category: str | None = None
    year: FinancialYear | None = None


def _given(data: Mapping[str, Any], key: str, parse: Callable[[object, str], Any]) -> Any:
    return parse(data[key], key) if data.get(key) is not None else None


def parse_funding_change(data: Mapping[str, Any]) -> FundingChange:
    """Options of ``funding set``, by the same field rules as ``funding add``."""
    change = FundingChange(
        status=_given(data, "status", parse_funding_status),
        amount=_given(data, "amount", parse_money),
        confirm_by=_given(data, "confirm_by", parse_optional_date),
        note=_given(data, "note", parse_text),
    )
    if change == FundingChange() or (change.note and change == FundingChange(note=change.note)):
        raise InvalidValue("--status", "", "or --amount or --confirm-by is needed: nothing to set")
    return change


def parse_cost_change(data: Mapping[str, Any]) -> CostChange:
    """Options of ``cost set``, by the same field rules as ``cost add``."""
    change = CostChange(
        amount=_given(data, "amount", parse_money),
        category=_given(data, "category", parse_optional_text),
        year=_given(data, "year", parse_financial_year),
    )
    if change == CostChange():
        raise InvalidValue("--amount", "", "or --category or --year is needed: nothing to set")
    return change


def _find(lines: Sequence[Line], line_id: str, name: Callable[[Line], str], ref: str) -> Line:
    """The live line named ``line_id`` (``F3``, ``f3``), or one error listing the ids."""
    wanted = line_id.strip().upper()
    live = live_lines(list(lines))
    for line in live:
        if name(line).upper() == wanted:
            return line
    kind = "funding" if name is funding_id else "cost"
    known = ", ".join(name(line) for line in live) or "none"
    raise InvalidValue("ID", line_id, f"is not a {kind} line of {ref} (its {kind} lines: {known})")


def describe_funding(line: FundingRow) -> str:
    year = FinancialYear(line.year)
    return f"{funding_id(line)} {line.source} {year} {format_gbp(line.amount)} ({line.status})"


def describe_cost(line: CostRow) -> str:
    label = f" {line.category}" if line.category else ""
    return f"{cost_id(line)} {FinancialYear(line.year)}{label} {format_gbp(line.amount)}"


def _derived_confirmations(row: ContractRow, app: App) -> set[str]:
    """Keys of the funding-confirmation milestones the contract's data calls for now."""
    kind = MilestoneKind.FUNDING_CONFIRMATION
    derived = derive_milestones(to_domain(row), app.policy.derivation)
    return {m.key for m in derived if m.kind == kind}


#: How a milestone closed by a line begins its closing note: such a milestone re-opens if
#: a later change (the line removed, withdrawn, a cost risen) makes it needed again.
SATISFIED = "satisfied by funding line"


def _close_satisfied(
    session: AsyncSession, row: ContractRow, before: set[str], why: str, now: datetime
) -> None:
    """Mark done the open funding-confirmation milestones the change made unnecessary.

    Done before re-deriving, so :func:`~tracker.service.derive.sync_milestones` (which
    cancels only open ones) leaves them closed with the line named, not "no longer applies".
    """
    kind = MilestoneKind.FUNDING_CONFIRMATION.value
    for milestone in row.milestones:
        if (
            milestone.kind == kind
            and milestone.origin == MilestoneOrigin.DERIVED.value
            and milestone.status == MilestoneStatus.OPEN.value
            and milestone.key in before
        ):
            milestone.status = MilestoneStatus.DONE.value
            milestone.closed_at = milestone.updated_at = now
            milestone.closed_note = why
            detail = f"{row.ref}: {kind} {milestone.key} done ({why})"
            event = record_event(row, EventKind.MILESTONE_DONE, detail, now, milestone=milestone)
            session.add(event)


def _reopen_needed(session: AsyncSession, row: ContractRow, app: App) -> None:
    """Re-open the milestones a line had satisfied that the contract needs again."""
    wanted = _derived_confirmations(row, app)
    kind = MilestoneKind.FUNDING_CONFIRMATION.value
    for milestone in row.milestones:
        closed_by_line = (milestone.closed_note or "").startswith(SATISFIED)
        if milestone.kind == kind and closed_by_line and milestone.key in wanted:
            milestone.status = MilestoneStatus.OPEN.value
            milestone.closed_at = milestone.closed_note = None
            milestone.updated_at = app.now
            detail = (
                f"{row.ref}: {kind} {milestone.key} open again: the funding no longer covers it"
            )
            event = record_event(
                row, EventKind.MILESTONE_REOPENED, detail, app.now, milestone=milestone
            )
            session.add(event)


def _log(session: AsyncSession, row: ContractRow, app: App, kind: EventKind, detail: str) -> None:
    """Log the change and re-open what is needed again (the caller re-derives)."""
    row.updated_at = app.now
    _reopen_needed(session, row, app)
    session.add(record_event(row, kind, detail, app.now))


def _apply_funding(line: FundingRow, change: FundingChange) -> None:
    if change.status is not None:
        line.status = change.status.value
    if change.amount is not None:
        line.amount = change.amount
    if change.confirm_by is not None:
        line.confirm_by = change.confirm_by


def change_funding(
    session: AsyncSession, row: ContractRow, line: FundingRow, change: FundingChange, app: App
) -> str:
    """``funding set`` on a loaded contract, in the caller's transaction (``set_funding``
    and ``import --update``): a line now secured closes, as done, the confirmation
    milestones it satisfied; the change is logged. The caller re-derives and re-plans."""
    before, was = _derived_confirmations(row, app), describe_funding(line)
    _apply_funding(line, change)
    now_text = describe_funding(line)
    note = f"; {change.note}" if change.note else ""
    detail = f"{row.ref}: funding {was} -> {now_text}{note}"
    if FundingStatus(line.status) in SECURED:
        gone = before - _derived_confirmations(row, app)
        why = f"{SATISFIED} {now_text}{note}"
        _close_satisfied(session, row, gone, why, app.now)
    secured = change.status in SECURED
    kind = EventKind.FUNDING_CONFIRMED if secured else EventKind.FUNDING_CHANGED
    _log(session, row, app, kind, detail)
    return detail


async def set_funding(app: App, ref: str, line_id: str, change: FundingChange) -> str:
    """Change a funding line in place; gaps and milestones follow in the same transaction."""
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        line = _find(row.funding, line_id, funding_id, ref)
        detail = change_funding(session, row, line, change, app)
        await refresh(session, row, app)
        await session.commit()
    return detail


async def remove_funding(app: App, ref: str, line_id: str) -> str:
    """Take a funding line out of the sums; it stays stored, and named in the history."""
    return await _remove(app, ref, line_id, funding=True)


def change_cost(
    session: AsyncSession, row: ContractRow, line: CostRow, change: CostChange, app: App
) -> str:
    """``cost set`` on a loaded contract, in the caller's transaction (logged; the
    caller re-derives and re-plans)."""
    was = describe_cost(line)
    if change.amount is not None:
        line.amount = change.amount
    if change.category is not None:
        line.category = change.category
    if change.year is not None:
        line.year = change.year.start_year
    detail = f"{row.ref}: cost {was} -> {describe_cost(line)}"
    _log(session, row, app, EventKind.COST_CHANGED, detail)
    return detail


async def set_cost(app: App, ref: str, line_id: str, change: CostChange) -> str:
    """Change a cost line in place (amount, category or year)."""
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        line = _find(row.costs, line_id, cost_id, ref)
        detail = change_cost(session, row, line, change, app)
        await refresh(session, row, app)
        await session.commit()
    return detail


async def remove_cost(app: App, ref: str, line_id: str) -> str:
    """Take a cost line out of the sums; it stays stored, and named in the history."""
    return await _remove(app, ref, line_id, funding=False)


def remove_line(
    session: AsyncSession, row: ContractRow, line: FundingRow | CostRow, app: App
) -> str:
    """``funding remove`` / ``cost remove`` on a loaded contract, in the caller's
    transaction: the line is kept, marked removed, and logged by its old description."""
    if isinstance(line, FundingRow):
        what, kind = f"funding {describe_funding(line)}", EventKind.FUNDING_REMOVED
    else:
        what, kind = f"cost {describe_cost(line)}", EventKind.COST_REMOVED
    line.removed_at = app.now
    detail = f"{row.ref}: {what} removed"
    _log(session, row, app, kind, detail)
    return detail


async def _remove(app: App, ref: str, line_id: str, *, funding: bool) -> str:
    """Mark a funding (or cost) line removed, log it by its old description, re-derive."""
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        line: FundingRow | CostRow = (
            _find(row.funding, line_id, funding_id, ref)
            if funding
            else _find(row.costs, line_id, cost_id, ref)
        )
        detail = remove_line(session, row, line, app)
        await refresh(session, row, app)
        await session.commit()
    return detail
