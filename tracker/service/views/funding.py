"""The funding picture across a person's contracts: gaps and money at risk per financial year.

A finance director's first question is "which years are short, and on which contracts?".
Each contract's years come from :func:`tracker.domain.funding.year_gaps`; a year's totals
across contracts are :func:`~tracker.domain.funding.total_gap` and
:func:`~tracker.domain.funding.total_at_risk` over that year's entries, so one contract's
surplus never hides another's shortfall (the money is tied to its contract), and a year
with no cost lines anywhere has no gap rather than a zero one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from tracker.domain.funding import YearGap, total_at_risk, total_gap, year_gaps
from tracker.domain.types import FinancialYear
from tracker.service.app import App
from tracker.service.views.access import visible_to
from tracker.store.domain_rows import to_domain
from tracker.store.models import ContractRow


@dataclass(frozen=True, kw_only=True)
class YearContract:
    """One contract's position in one year (only those needing a funding decision)."""

    ref: str
    title: str
    gap: Decimal | None
    at_risk: Decimal


@dataclass(frozen=True, kw_only=True)
class YearFunding:
    year: FinancialYear
    #: Shortfalls added up over the year's contracts; None when no contract's cost is known.
    gap: Decimal | None
    at_risk: Decimal
    contracts: tuple[YearContract, ...]


async def funding_by_year(app: App, email: str, admin: bool) -> list[YearFunding]:
    """Every year with a known cost or money at risk on the person's contracts, oldest
    first; behind each, the contracts with a gap or money at risk that year."""
    statement = select(ContractRow).where(visible_to(email, admin)).order_by(ContractRow.ref)
    by_year: dict[FinancialYear, list[tuple[ContractRow, YearGap]]] = defaultdict(list)
    async with app.session() as session:
        for row in (await session.execute(statement)).scalars():
            for entry in year_gaps(to_domain(row)):
                by_year[entry.year].append((row, entry))
    years = []
    for year in sorted(by_year):
        entries = [entry for _, entry in by_year[year]]
        gap, at_risk = total_gap(entries), total_at_risk(entries)
        if gap is None and not at_risk:
            continue
        contracts = tuple(
            YearContract(ref=row.ref, title=row.title, gap=entry.gap, at_risk=entry.at_risk)
            for row, entry in by_year[year]
            if entry.needs_decision
        )
        years.append(YearFunding(year=year, gap=gap, at_risk=at_risk, contracts=contracts))
    return years
