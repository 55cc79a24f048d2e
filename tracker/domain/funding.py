"""Funding gaps per financial year, and checks of stated totals against their lines.

The funding-gap decision ("who pays for a year that confirmed funding does not
cover?") needs, for each financial year, the known cost, the money actually secured
(confirmed or received) and the money merely hoped for (expected or pledged). Hoped-for
money is shown beside the gap as "at risk" and never reduces it: in the Lancashire
record the PCC stayed liable for all of 2025/26 while partner money was only being
negotiated. A year with no cost lines is "cost unknown", never a zero gap, so that a
missing budget is not mistaken for a covered one. Decimal only: sums must be exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tracker.domain.money import format_gbp
from tracker.domain.types import (
    AT_RISK_FUNDING,
    SECURED_FUNDING,
    Contract,
    CostLine,
    ExtensionStatus,
    FinancialYear,
    FundingLine,
    FundingStatus,
)

ZERO = Decimal("0")

#: Options that have lengthened, or may still lengthen, the contract. Declined and lapsed
#: options never will, so their years are outside the term.
_LIVE_OPTIONS = frozenset({ExtensionStatus.AVAILABLE, ExtensionStatus.ACTIVATED})


def _total(amounts: Iterable[Decimal]) -> Decimal:
    """Exact sum; the Decimal start value keeps ``sum`` from ever mixing in an int 0."""
    return sum(amounts, ZERO)


def years_between(first: date, last: date) -> list[FinancialYear]:
    """Every financial year from the one containing ``first`` to the one containing ``last``."""
    years: list[FinancialYear] = []
    year = FinancialYear.of(first)
    final = FinancialYear.of(last)
    while year <= final:
        years.append(year)
        year = year.next()
    return years


def term_end(contract: Contract) -> date:
    """The furthest the contract runs if every live extension option is taken.

    Funding must be planned for extension years before the option is activated: that
    is when the Lancashire decision had to be made.
    """
    live_untils = [option.until for option in contract.extensions if option.status in _LIVE_OPTIONS]
    return max([contract.end, *live_untils])


def term_years(contract: Contract) -> list[FinancialYear]:
    """Financial years of the contract, live extension years included."""
    return years_between(contract.start, term_end(contract))


def original_term_years(contract: Contract) -> list[FinancialYear]:
    """Financial years of the term first agreed: what a stated contract value covers."""
    return years_between(contract.start, contract.original_end)


@dataclass(frozen=True, kw_only=True)
class YearGap:
    """The funding position of one financial year.

    ``gap`` is ``cost - secured``: None when the cost is unknown, negative when secured
    funding exceeds the cost (a surplus). ``at_risk`` is reported beside the gap, never
    subtracted from it; ``withdrawn`` is reported for the record and counts for nothing.
    ``sources`` are the year's funding lines, whatever their status.
    """

    year: FinancialYear
    cost: Decimal | None
    secured: Decimal
    at_risk: Decimal
    withdrawn: Decimal
    gap: Decimal | None
    in_term: bool
    sources: tuple[FundingLine, ...] = ()

    @property
    def cost_known(self) -> bool:
        return self.cost is not None

    @property
    def surplus(self) -> Decimal | None:
        """Secured funding beyond the cost (zero when there is none); None if cost unknown."""
        if self.gap is None:
            return None
        return max(-self.gap, ZERO)

    @property
    def needs_decision(self) -> bool:
        """Someone must secure funding or accept the liability: a gap, or money at risk."""
        return (self.gap is not None and self.gap > 0) or self.at_risk > 0


def _sum_status(lines: Iterable[FundingLine], statuses: Iterable[FundingStatus]) -> Decimal:
    wanted = frozenset(statuses)
    return _total(line.amount for line in lines if line.status in wanted)


def _year_gap(
    year: FinancialYear,
    funding: tuple[FundingLine, ...],
    costs: tuple[CostLine, ...],
    in_term: bool,
) -> YearGap:
    cost = _total(line.amount for line in costs) if costs else None
    secured = _sum_status(funding, SECURED_FUNDING)
    return YearGap(
        year=year,
        cost=cost,
        secured=secured,
        at_risk=_sum_status(funding, AT_RISK_FUNDING),
        withdrawn=_sum_status(funding, {FundingStatus.WITHDRAWN}),
        gap=None if cost is None else cost - secured,
        in_term=in_term,
        sources=funding,
    )


def year_gaps(contract: Contract) -> list[YearGap]:
    """One entry per year of the term (extensions included), plus any year with lines.

    Years outside the term that carry funding or cost lines are kept (``in_term`` False)
    so that misfiled lines stay visible rather than silently dropped.
    """
    in_term = set(term_years(contract))
    years = in_term | {line.year for line in contract.funding} | {c.year for c in contract.costs}
    return [
        _year_gap(
            year,
            tuple(line for line in contract.funding if line.year == year),
            tuple(line for line in contract.costs if line.year == year),
            year in in_term,
        )
        for year in sorted(years)
    ]


@dataclass(frozen=True, kw_only=True)
class TotalsCheck:
    """A stated contract value set beside the line sums of the original term.

    ``funding`` sums the non-withdrawn funding lines of the original-term years (None
    when there are none: nothing recorded is not a disagreement). ``cost`` sums their
    cost lines, None unless every original-term year has a cost line, since a partial
    budget would always look short.
    """

    stated: Decimal | None
    funding: Decimal | None
    cost: Decimal | None

    @property
    def warnings(self) -> list[str]:
        if self.stated is None:
            return []
        compared = (("funding", self.funding), ("cost", self.cost))
        return [
            _mismatch(self.stated, what, total)
            for what, total in compared
            if total is not None and total != self.stated
        ]


def _mismatch(stated: Decimal, what: str, total: Decimal) -> str:
    difference = total - stated
    direction = "more" if difference > 0 else "less"
    return (
        f"Stated value {format_gbp(stated)} but {what} lines for the original term sum to "
        f"{format_gbp(total)} ({format_gbp(abs(difference))} {direction})"
    )


def totals_check(contract: Contract) -> TotalsCheck:
    """Line sums of the original term, ready to compare with ``contract.value``."""
    years = set(original_term_years(contract))
    funding = [
        line.amount
        for line in contract.funding
        if line.year in years and line.status != FundingStatus.WITHDRAWN
    ]
    costs = [line for line in contract.costs if line.year in years]
    every_year_costed = years <= {line.year for line in costs}
    return TotalsCheck(
        stated=contract.value,
        funding=_total(funding) if funding else None,
        cost=_total(line.amount for line in costs) if every_year_costed else None,
    )


def totals_warnings(contract: Contract) -> list[str]:
    """Where the stated value and the line sums disagree, say so (never hide a £1 slip)."""
    return totals_check(contract).warnings


#: The start of whole-contract sums: two places, as money is shown.
_ZERO_PENCE = Decimal("0.00")


def total_gap(gaps: Iterable[YearGap]) -> Decimal | None:
    """The contract's gap: the shortfalls of the years whose cost is known, added up.

    A surplus in one year does not offset another's, since grants are tied to their
    year. None when no year's cost is known: a contract of unknown cost has no zero gap.
    """
    known = [gap.gap for gap in gaps if gap.gap is not None]
    if not known:
        return None
    return _total_pence(gap for gap in known if gap > 0)


def total_at_risk(gaps: Iterable[YearGap]) -> Decimal:
    """Money merely hoped for (expected or pledged), over every year."""
    return _total_pence(gap.at_risk for gap in gaps)


def _total_pence(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, _ZERO_PENCE)
