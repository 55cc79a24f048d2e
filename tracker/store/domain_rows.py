"""Domain values from stored columns: the one place a row becomes what the rules see.

The ORM rows (``ContractRow`` and its children) and the digest's narrower ``select``
rows carry the same column names, so each converter takes anything with those
attributes: a mapped row, a SQLAlchemy ``Row`` or a test double. Stored strings become
the domain's enums and :class:`FinancialYear` here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracker.domain.types import (
    Contract,
    CostLine,
    Decision,
    ExtensionOption,
    ExtensionStatus,
    FinancialYear,
    FundingLine,
    FundingStatus,
    MilestoneKind,
    MilestoneOrigin,
    MilestoneState,
    MilestoneStatus,
    Regime,
)
from tracker.store.models import ContractRow, live_lines
from tracker.store.rows import copy_row


def extension_option(row: Any) -> ExtensionOption:
    """An extension option from its columns (``seq``, ``until``, ``notice_*``, ``status``)."""
    return copy_row(ExtensionOption, row, status=ExtensionStatus(row.status))


def funding_line(row: Any) -> FundingLine:
    """A funding line from its columns; the year is stored as its starting calendar year."""
    year = FinancialYear(row.year)
    return copy_row(FundingLine, row, year=year, status=FundingStatus(row.status))


def cost_line(row: Any) -> CostLine:
    return copy_row(CostLine, row, year=FinancialYear(row.year))


def decision(row: Any) -> Decision:
    return copy_row(Decision, row)


def milestone_state(row: Any) -> MilestoneState:
    """What the staffing and reporting rules read of a stored milestone."""
    kind = MilestoneKind(row.kind)
    status = MilestoneStatus(row.status)
    return MilestoneState(
        kind=kind, key=row.key, due=row.due, status=status, origin=MilestoneOrigin(row.origin)
    )


def contract_of(
    row: Any,
    *,
    extensions: Iterable[ExtensionOption] = (),
    funding: Iterable[FundingLine] = (),
    costs: Iterable[CostLine] = (),
    decisions: Iterable[Decision] = (),
) -> Contract:
    """The contract's facts from its columns (``start_date`` and ``end_date`` as stored)
    and its lines, however they were read."""
    return copy_row(
        Contract,
        row,
        start=row.start_date,
        end=row.end_date,
        regime=Regime(row.regime),
        light_touch=bool(row.light_touch),
        extensions=tuple(extensions),
        funding=tuple(funding),
        costs=tuple(costs),
        decisions=tuple(decisions),
    )


def to_domain(row: ContractRow) -> Contract:
    """A stored contract with its loaded lines, as the pure rules see it."""
    return contract_of(
        row,
        extensions=map(extension_option, row.extensions),
        funding=map(funding_line, live_lines(row.funding)),
        costs=map(cost_line, live_lines(row.costs)),
        decisions=map(decision, row.decisions),
    )


def milestone_states(row: ContractRow) -> list[MilestoneState]:
    """The contract's loaded milestones, as the staffing and reporting rules see them."""
    return [milestone_state(m) for m in row.milestones]
