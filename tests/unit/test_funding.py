"""Funding gaps per year and stated-total checks, with the sums of the real records."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.funding import (
    term_years,
    total_at_risk,
    total_gap,
    totals_check,
    totals_warnings,
    year_gaps,
)
from tracker.domain.types import (
    Contract,
    CostLine,
    ExtensionOption,
    ExtensionStatus,
    FinancialYear,
    FundingLine,
    FundingStatus,
)

FY2018, FY2019 = FinancialYear(2018), FinancialYear(2019)
FY2023, FY2024, FY2025 = FinancialYear(2023), FinancialYear(2024), FinancialYear(2025)
LANCS_COSTS = ("171790", "22185", "4550", "3715", "7000", "2500", "32663.22", "27000", "27000")


def contract(start: date, end: date, **changes: object) -> Contract:
    base = Contract("REF", "Title", "Provider", start, end, original_end=end)
    return replace(base, **changes)  # type: ignore[arg-type]


def lancashire(**changes: object) -> Contract:
    """1 Aug 2023 - 31 Mar 2025, option to 31 Mar 2026; year three itemised, unfunded."""
    option = ExtensionOption(seq=1, until=date(2026, 3, 31), notice_by=date(2024, 9, 30))
    costs = tuple(CostLine(FY2025, Decimal(amount)) for amount in LANCS_COSTS)
    defaults: dict[str, object] = {"extensions": (option,), "costs": costs}
    return contract(date(2023, 8, 1), date(2025, 3, 31), **(defaults | changes))


def line(key: str, year: FinancialYear, amount: str, status: FundingStatus) -> FundingLine:
    return FundingLine(key, key, year, Decimal(amount), status)


def west_mercia(**changes: object) -> Contract:
    """PCC/D/2018/25: stated £575,290; its funding lines sum to £575,291."""
    confirmed = FundingStatus.CONFIRMED
    funding = (
        line("PTF 18/19", FY2018, "92126", confirmed),
        line("PTF 19/20", FY2019, "142834", confirmed),
        line("WCC PH 18/19", FY2018, "75000", confirmed),
        line("WCC PH 19/20", FY2019, "75000", confirmed),
        line("PCC 18/19", FY2018, "95165", confirmed),
        line("PCC 19/20", FY2019, "95166", confirmed),
    )
    defaults: dict[str, object] = {"value": Decimal("575290"), "funding": funding}
    return contract(date(2018, 7, 1), date(2020, 3, 31), **(defaults | changes))


def gap_of(c: Contract, year: FinancialYear) -> Decimal | None:
    return next(g for g in year_gaps(c) if g.year == year).gap


# -- year gaps ----------------------------------------------------------------------------


def test_term_spans_every_financial_year_including_the_extension() -> None:
    assert term_years(lancashire()) == [FY2023, FY2024, FY2025]
    assert [g.year for g in year_gaps(lancashire())] == [FY2023, FY2024, FY2025]


def test_lancashire_year_three_gap_is_exact() -> None:
    gaps = {g.year: g for g in year_gaps(lancashire())}
    year3 = gaps[FY2025]
    assert year3.cost == Decimal("298403.22")
    assert year3.secured == Decimal("0")
    assert year3.gap == Decimal("298403.22")
    assert str(year3.gap) == "298403.22"
    assert year3.in_term
    assert year3.needs_decision
    assert gaps[FY2023].cost is None and gaps[FY2023].gap is None
    assert not gaps[FY2023].needs_decision


def test_expected_and_pledged_are_at_risk_never_secured() -> None:
    funding = (
        line("a", FY2025, "100000", FundingStatus.EXPECTED),
        line("b", FY2025, "50000.50", FundingStatus.PLEDGED),
        line("c", FY2025, "98403.22", FundingStatus.CONFIRMED),
        line("d", FY2025, "1000", FundingStatus.RECEIVED),
    )
    year3 = next(g for g in year_gaps(lancashire(funding=funding)) if g.year == FY2025)
    assert year3.at_risk == Decimal("150000.50")
    assert year3.secured == Decimal("99403.22")
    assert year3.gap == Decimal("199000.00")
    assert year3.sources == funding


def test_withdrawn_funding_counts_for_nothing() -> None:
    withdrawn = (line("w", FY2025, "298403.22", FundingStatus.WITHDRAWN),)
    year3 = next(g for g in year_gaps(lancashire(funding=withdrawn)) if g.year == FY2025)
    assert year3.gap == Decimal("298403.22")
    assert year3.withdrawn == Decimal("298403.22")
    assert year3.at_risk == 0


def test_surplus_is_a_negative_gap() -> None:
    extra = (line("c", FY2025, "300000", FundingStatus.CONFIRMED),)
    year3 = next(g for g in year_gaps(lancashire(funding=extra)) if g.year == FY2025)
    assert year3.gap == Decimal("-1596.78")
    assert year3.surplus == Decimal("1596.78")
    assert not year3.needs_decision


def test_cost_unknown_year_has_no_gap_not_a_zero_gap() -> None:
    funded = (line("c", FY2024, "10", FundingStatus.CONFIRMED),)
    year = next(g for g in year_gaps(lancashire(funding=funded)) if g.year == FY2024)
    assert year.cost is None and year.gap is None and year.surplus is None
    assert not year.cost_known


def test_declined_extension_years_fall_out_of_the_term_but_their_lines_stay_visible() -> None:
    declined = ExtensionOption(1, date(2026, 3, 31), status=ExtensionStatus.DECLINED)
    gaps = year_gaps(lancashire(extensions=(declined,)))
    assert [(g.year, g.in_term) for g in gaps] == [(FY2023, True), (FY2024, True), (FY2025, False)]


def test_lines_outside_the_term_are_listed_after_the_term_years() -> None:
    early = (line("old", FinancialYear(2020), "5", FundingStatus.RECEIVED),)
    gaps = year_gaps(lancashire(funding=early))
    assert [g.year for g in gaps] == [FinancialYear(2020), FY2023, FY2024, FY2025]
    assert not gaps[0].in_term


# -- stated totals ------------------------------------------------------------------------


def test_west_mercia_one_pound_mismatch_is_reported() -> None:
    assert totals_warnings(west_mercia()) == [
        "Stated value £575,290.00 but funding lines for the original term sum to "
        "£575,291.00 (£1.00 more)"
    ]


def test_no_warning_when_totals_agree() -> None:
    assert totals_warnings(west_mercia(value=Decimal("575291.00"))) == []


def test_no_warning_without_a_stated_value_or_without_lines() -> None:
    assert totals_warnings(west_mercia(value=None)) == []
    assert totals_warnings(west_mercia(funding=())) == []


def test_withdrawn_and_extension_year_lines_are_left_out_of_the_total() -> None:
    c = west_mercia(
        funding=(
            *west_mercia().funding,
            line("gone", FY2019, "1000", FundingStatus.WITHDRAWN),
            line("ext", FinancialYear(2020), "1000", FundingStatus.CONFIRMED),
        )
    )
    assert totals_check(c).funding == Decimal("575291")


def test_shortfall_reads_less() -> None:
    c = west_mercia(value=Decimal("575300"))
    assert totals_warnings(c) == [
        "Stated value £575,300.00 but funding lines for the original term sum to "
        "£575,291.00 (£9.00 less)"
    ]


def test_cost_compared_only_when_every_original_year_is_costed() -> None:
    one_year = (CostLine(FY2018, Decimal("200000")),)
    assert totals_check(west_mercia(costs=one_year)).cost is None
    both = (*one_year, CostLine(FY2019, Decimal("375290")))
    agreeing = west_mercia(costs=both, value=Decimal("575291"))
    assert totals_warnings(agreeing) == [
        "Stated value £575,291.00 but cost lines for the original term sum to "
        "£575,290.00 (£1.00 less)"
    ]


# -- whole-contract totals ----------------------------------------------------------------


def test_total_gap_counts_only_years_of_known_cost() -> None:
    funding = (
        line("ho", FY2024, "300000", FundingStatus.CONFIRMED),
        line("p", FY2025, "20000", FundingStatus.PLEDGED),
    )
    gaps = year_gaps(lancashire(funding=funding))
    assert total_gap(gaps) == Decimal("298403.22")  # 2024/25 has no cost lines: not counted
    assert total_at_risk(gaps) == Decimal("20000.00")


def test_total_gap_surplus_in_one_year_does_not_cover_another() -> None:
    costs = (CostLine(FY2024, Decimal("100")), CostLine(FY2025, Decimal("100")))
    funding = (line("ho", FY2024, "150", FundingStatus.CONFIRMED),)
    assert total_gap(year_gaps(lancashire(costs=costs, funding=funding))) == Decimal("100")


def test_total_gap_of_unknown_cost_is_unknown_not_zero() -> None:
    gaps = year_gaps(lancashire(costs=()))
    assert gaps and total_gap(gaps) is None


def test_total_gap_of_a_covered_contract_is_zero_in_pence() -> None:
    covered = lancashire(
        costs=(CostLine(FY2024, Decimal("1")),),
        funding=(line("ho", FY2024, "1", FundingStatus.CONFIRMED),),
    )
    assert str(total_gap(year_gaps(covered))) == "0.00"  # JSON shows it as money


# -- properties ---------------------------------------------------------------------------

money = st.decimals(Decimal("-1000"), Decimal("9999999.99"), places=2)
years = st.sampled_from([FY2023, FY2024, FY2025, FinancialYear(2026)])


@given(
    st.lists(st.builds(CostLine, years, money), max_size=8),
    st.lists(
        st.builds(
            FundingLine,
            st.text(max_size=3),
            st.just("S"),
            years,
            money,
            st.sampled_from(FundingStatus),
        ),
        max_size=8,
    ),
)
def test_gap_is_cost_less_secured_exactly(
    costs: list[CostLine], funding: list[FundingLine]
) -> None:
    c = lancashire(costs=tuple(costs), funding=tuple(funding))
    for g in year_gaps(c):
        year_costs = [x.amount for x in costs if x.year == g.year]
        secured = sum(
            (
                f.amount
                for f in funding
                if f.year == g.year and f.status in {"confirmed", "received"}
            ),
            Decimal(0),
        )
        assert g.secured == secured
        if year_costs:
            assert g.gap == sum(year_costs, Decimal(0)) - secured
            assert isinstance(g.gap, Decimal)
        else:
            assert g.gap is None
