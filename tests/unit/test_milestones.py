"""Derivation rules: one test group per kind, with the dates of the real records."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.workdays import is_english_working_day

from tracker.domain.milestones import (
    DECISION_TEXT,
    closed_by_time,
    derive_milestones,
    effective_status,
    publication_due,
)
from tracker.domain.types import (
    Contract,
    CostLine,
    DerivationRules,
    DerivedMilestone,
    ExtensionOption,
    ExtensionStatus,
    FinancialYear,
    FundingLine,
    FundingStatus,
    MilestoneKind,
    MilestoneStatus,
)

RULES = DerivationRules()
FY2025 = FinancialYear(2025)
CONFIRMED = FundingStatus.CONFIRMED
LANCS_COSTS = ("171790", "22185", "4550", "3715", "7000", "2500", "32663.22", "27000", "27000")


def lancashire(**changes: object) -> Contract:
    """The Lancashire Drive contract as of the 2 Sep 2024 decision report."""
    contract = Contract(
        ref="LANCS-DRIVE",
        title="Drive perpetrator behaviour change programme",
        provider="Victim Support",
        start=date(2023, 8, 1),
        end=date(2025, 3, 31),
        original_end=date(2025, 3, 31),
        value=Decimal("665905"),
        intervention_months=12,
        extensions=(ExtensionOption(seq=1, until=date(2026, 3, 31), notice_by=date(2024, 9, 30)),),
        funding=(
            FundingLine("ho-23", "Home Office", FinancialYear(2023), Decimal("250000"), CONFIRMED),
            FundingLine("ho-24", "Home Office", FinancialYear(2024), Decimal("415905"), CONFIRMED),
        ),
        costs=(
            CostLine(FinancialYear(2023), Decimal("250000")),
            CostLine(FinancialYear(2024), Decimal("415905")),
            *(CostLine(FY2025, Decimal(amount)) for amount in LANCS_COSTS),
        ),
    )
    return replace(contract, **changes)  # type: ignore[arg-type]


def plain(start: date, end: date, **changes: object) -> Contract:
    contract = Contract("REF", "Title", "Provider", start, end, original_end=end)
    return replace(contract, **changes)  # type: ignore[arg-type]


def of_kind(contract: Contract, kind: MilestoneKind) -> list[DerivedMilestone]:
    return [m for m in derive_milestones(contract, RULES) if m.kind is kind]


def only(contract: Contract, kind: MilestoneKind) -> DerivedMilestone:
    found = of_kind(contract, kind)
    assert len(found) == 1, found
    return found[0]


def keys(contract: Contract) -> set[tuple[MilestoneKind, str]]:
    return {(m.kind, m.key) for m in derive_milestones(contract, RULES)}


# -- start and end ------------------------------------------------------------------------


def test_start_and_end_are_kept_as_given_even_on_a_weekend() -> None:
    contract = plain(date(2023, 4, 1), date(2025, 3, 30))  # a Saturday and a Sunday
    start = only(contract, MilestoneKind.CONTRACT_START)
    end = only(contract, MilestoneKind.CONTRACT_END)
    assert (start.key, start.due, start.title) == ("start", date(2023, 4, 1), "Contract starts")
    assert (end.key, end.due, end.title) == ("end", date(2025, 3, 30), "Contract ends")


def test_derivation_is_sorted_by_due_then_kind() -> None:
    derived = derive_milestones(lancashire(), RULES)
    assert [m.due for m in derived] == sorted(m.due for m in derived)
    assert derived[0].kind is MilestoneKind.CONTRACT_START


# -- extension notice ---------------------------------------------------------------------


def test_lancashire_explicit_notice_by() -> None:
    notice = only(lancashire(), MilestoneKind.EXTENSION_NOTICE)
    assert notice.key == "option:1"
    assert notice.due == date(2024, 9, 30)
    assert notice.title == "Extension notice: activate the option to 31 Mar 2026 or plan the exit"
    assert notice.note == ""


def test_computed_notice_on_a_sunday_moves_back_with_a_note() -> None:
    option = ExtensionOption(seq=1, until=date(2027, 3, 31), notice_days=275)
    contract = plain(date(2024, 4, 1), date(2026, 3, 31), extensions=(option,))
    notice = only(contract, MilestoneKind.EXTENSION_NOTICE)
    assert notice.due == date(2025, 6, 27)
    assert notice.note == (
        "computed Sunday 29 June 2025 (31 March 2026 less 275 days); "
        "moved back to the working day before, Friday 27 June 2025"
    )


def test_computed_notice_on_a_bank_holiday_names_it() -> None:
    option = ExtensionOption(seq=1, until=date(2027, 3, 31), notice_days=218)
    contract = plain(date(2024, 4, 1), date(2026, 3, 31), extensions=(option,))
    notice = only(contract, MilestoneKind.EXTENSION_NOTICE)
    assert notice.due == date(2025, 8, 22)
    assert "Monday 25 August 2025, a bank holiday (" in notice.note


def test_computed_notice_on_a_working_day_has_no_note() -> None:
    option = ExtensionOption(seq=1, until=date(2027, 3, 31), notice_days=90)
    contract = plain(date(2024, 4, 1), date(2026, 3, 31), extensions=(option,))
    notice = only(contract, MilestoneKind.EXTENSION_NOTICE)
    assert notice.due == date(2025, 12, 31)
    assert notice.note == ""


def test_explicit_notice_by_on_a_weekend_is_kept_with_a_note() -> None:
    option = ExtensionOption(seq=1, until=date(2027, 3, 31), notice_by=date(2025, 6, 29))
    contract = plain(date(2024, 4, 1), date(2026, 3, 31), extensions=(option,))
    notice = only(contract, MilestoneKind.EXTENSION_NOTICE)
    assert notice.due == date(2025, 6, 29)
    assert notice.note == (
        "falls on a Sunday: serve notice by the working day before (Friday 27 June 2025)"
    )


def test_option_without_a_notice_period_is_due_by_the_end() -> None:
    option = ExtensionOption(seq=1, until=date(2027, 3, 31))
    contract = plain(date(2024, 4, 1), date(2026, 3, 31), extensions=(option,))
    assert only(contract, MilestoneKind.EXTENSION_NOTICE).due == date(2026, 3, 31)


@pytest.mark.parametrize("status", [ExtensionStatus.DECLINED, ExtensionStatus.LAPSED])
def test_declined_or_lapsed_option_gives_continuation_decision(status: ExtensionStatus) -> None:
    option = ExtensionOption(seq=1, until=date(2026, 3, 31), notice_by=date(2024, 9, 30))
    contract = lancashire(extensions=(replace(option, status=status),))
    assert of_kind(contract, MilestoneKind.EXTENSION_NOTICE) == []
    decision = only(contract, MilestoneKind.CONTINUATION_DECISION)
    assert decision.due == date(2024, 6, 28)  # 30 Jun 2024 is a Sunday
    assert "computed Sunday 30 June 2024 (31 March 2025 less 9 months)" in decision.note


def test_available_option_already_passed_is_ignored() -> None:
    spent = ExtensionOption(seq=1, until=date(2025, 3, 31), notice_days=90)
    contract = plain(date(2023, 4, 1), date(2025, 3, 31), extensions=(spent,))
    assert of_kind(contract, MilestoneKind.EXTENSION_NOTICE) == []
    assert only(contract, MilestoneKind.CONTINUATION_DECISION).key == "end"


def test_later_option_counts_from_the_earlier_options_end_and_survives_activation() -> None:
    first = ExtensionOption(seq=1, until=date(2026, 3, 31), notice_days=90)
    second = ExtensionOption(seq=2, until=date(2027, 3, 31), notice_days=90)
    before = plain(date(2023, 4, 1), date(2025, 3, 31), extensions=(first, second))
    notices = {m.key: m.due for m in of_kind(before, MilestoneKind.EXTENSION_NOTICE)}
    assert notices == {"option:1": date(2024, 12, 31), "option:2": date(2025, 12, 31)}

    after = replace(
        before,
        end=date(2026, 3, 31),
        extensions=(replace(first, status=ExtensionStatus.ACTIVATED), second),
    )
    assert {m.key: m.due for m in of_kind(after, MilestoneKind.EXTENSION_NOTICE)} == {
        "option:2": date(2025, 12, 31)
    }


def test_activated_extension_moves_continuation_to_the_new_end() -> None:
    activated = replace(lancashire().extensions[0], status=ExtensionStatus.ACTIVATED)
    contract = lancashire(end=date(2026, 3, 31), extensions=(activated,))
    assert of_kind(contract, MilestoneKind.EXTENSION_NOTICE) == []
    decision = only(contract, MilestoneKind.CONTINUATION_DECISION)
    assert decision.key == "end"
    assert decision.due == date(2025, 6, 30)
    assert decision.note == ""
    assert (
        decision.title == "Continuation decision: re-procure, extend by variation or decommission"
    )
    assert only(contract, MilestoneKind.CONTRACT_END).due == date(2026, 3, 31)


def test_no_continuation_decision_while_an_option_is_available() -> None:
    assert of_kind(lancashire(), MilestoneKind.CONTINUATION_DECISION) == []


def test_continuation_uses_the_configured_window() -> None:
    contract = plain(date(2023, 4, 1), date(2025, 10, 31))
    derived = derive_milestones(contract, DerivationRules(staffing_risk_months=6))
    decision = next(m for m in derived if m.kind is MilestoneKind.CONTINUATION_DECISION)
    assert decision.due == date(2025, 4, 30)


# -- last referral ------------------------------------------------------------------------


def test_last_referral_rolls_back_over_easter() -> None:
    referral = only(lancashire(), MilestoneKind.LAST_REFERRAL)
    assert referral.key == "end"
    # 31 Mar 2024 is Easter Sunday; Good Friday is 29 Mar.
    assert referral.due == date(2024, 3, 28)
    assert referral.title == (
        "Last referral: a 12-month intervention started after this cannot finish before the end"
    )
    assert "(31 March 2025 less 12 months)" in referral.note
    assert "Thursday 28 March 2024" in referral.note


def test_no_last_referral_without_intervention_months() -> None:
    assert of_kind(lancashire(intervention_months=None), MilestoneKind.LAST_REFERRAL) == []


# -- funding confirmation -----------------------------------------------------------------


def test_lancashire_year_three_needs_a_funding_decision() -> None:
    confirmations = of_kind(lancashire(), MilestoneKind.FUNDING_CONFIRMATION)
    assert [(m.key, m.due) for m in confirmations] == [("year:2025/26", date(2025, 1, 31))]
    assert confirmations[0].title == (
        "Secure 2025/26 funding or accept the liability (gap £298,403.22)"
    )


def test_funding_confirmation_per_unconfirmed_line() -> None:
    lines = (
        FundingLine(
            "p1", "Partner", FY2025, Decimal("50000"), FundingStatus.PLEDGED, date(2024, 12, 1)
        ),
        FundingLine(
            "e1", "Grant", FY2025, Decimal("1234.5"), FundingStatus.EXPECTED, date(2025, 1, 6)
        ),
        FundingLine("c1", "PCC", FY2025, Decimal("1"), FundingStatus.CONFIRMED, date(2025, 1, 6)),
        FundingLine("r1", "PCC", FY2025, Decimal("1"), FundingStatus.RECEIVED, date(2025, 1, 6)),
        FundingLine(
            "w1", "Lottery", FY2025, Decimal("9"), FundingStatus.WITHDRAWN, date(2025, 1, 6)
        ),
        FundingLine("n1", "Council", FY2025, Decimal("9"), FundingStatus.EXPECTED),
    )
    contract = lancashire(funding=lines)
    per_line = {
        m.key: m
        for m in of_kind(contract, MilestoneKind.FUNDING_CONFIRMATION)
        if m.key.startswith("line:")
    }
    assert set(per_line) == {"line:p1", "line:e1"}
    assert per_line["line:p1"].due == date(2024, 12, 1)  # a Sunday, kept as agreed
    assert per_line["line:p1"].note.startswith("falls on a Sunday: confirm by")
    assert per_line["line:e1"].title == "Confirm funding: Grant 2025/26 (£1,234.50)"
    assert per_line["line:e1"].note == ""


def test_year_title_shows_money_at_risk_beside_the_gap() -> None:
    pledged = FundingLine("p1", "Partner", FY2025, Decimal("50000"), FundingStatus.PLEDGED)
    contract = lancashire(funding=(pledged,))
    year = next(
        m for m in of_kind(contract, MilestoneKind.FUNDING_CONFIRMATION) if m.key == "year:2025/26"
    )
    assert year.title == (
        "Secure 2025/26 funding or accept the liability (gap £298,403.22, £50,000.00 at risk)"
    )


def test_no_year_milestone_for_a_fully_funded_year() -> None:
    covered = FundingLine("pcc", "PCC", FY2025, Decimal("298403.22"), FundingStatus.CONFIRMED)
    contract = lancashire(funding=(*lancashire().funding, covered))
    assert of_kind(contract, MilestoneKind.FUNDING_CONFIRMATION) == []


def test_cost_unknown_year_needs_at_risk_funding_to_get_a_milestone() -> None:
    start, end = date(2024, 4, 1), date(2025, 3, 31)
    assert of_kind(plain(start, end), MilestoneKind.FUNDING_CONFIRMATION) == []
    expected = FundingLine("g", "Grant", FinancialYear(2024), Decimal("10"), FundingStatus.EXPECTED)
    year = only(plain(start, end, funding=(expected,)), MilestoneKind.FUNDING_CONFIRMATION)
    assert (year.key, year.due) == ("year:2024/25", date(2024, 2, 1))
    assert (
        year.title
        == "Secure 2024/25 funding or accept the liability (cost unknown, £10.00 at risk)"
    )


def test_extension_years_count_but_declined_extension_years_do_not() -> None:
    declined = replace(lancashire().extensions[0], status=ExtensionStatus.DECLINED)
    contract = lancashire(extensions=(declined,))
    assert [m.key for m in of_kind(contract, MilestoneKind.FUNDING_CONFIRMATION)] == []


def test_funding_lead_days_come_from_the_rules() -> None:
    derived = derive_milestones(lancashire(), DerivationRules(funding_lead_days=90))
    year = next(m for m in derived if m.key == "year:2025/26")
    assert year.due == date(2024, 12, 31)


# -- stability ----------------------------------------------------------------------------


def test_keys_stable_when_unrelated_data_changes() -> None:
    base = lancashire()
    changed = lancashire(
        title="Renamed",
        value=Decimal("1"),
        costs=(*base.costs, CostLine(FY2025, Decimal("1000"), "Extra")),
        funding=(
            *base.funding,
            FundingLine("x", "Partner", FY2025, Decimal("5"), FundingStatus.EXPECTED),
        ),
    )
    assert keys(changed) == keys(base)
    assert derive_milestones(base, RULES) == derive_milestones(lancashire(), RULES)


def test_end_keyed_milestones_keep_their_keys_when_the_end_moves() -> None:
    contract = plain(date(2023, 4, 1), date(2025, 3, 31), intervention_months=6)
    moved = replace(contract, end=date(2025, 9, 30))
    assert keys(contract) - {(MilestoneKind.FUNDING_CONFIRMATION, "year:2025/26")} == keys(moved)


# -- helpers ------------------------------------------------------------------------------


def test_publication_due_skips_christmas() -> None:
    assert publication_due(date(2022, 12, 22), 3) == date(2022, 12, 29)
    assert publication_due(date(2024, 9, 2), 3) == date(2024, 9, 5)


@pytest.mark.parametrize(
    ("kind", "status", "due", "expected"),
    [
        (MilestoneKind.CONTRACT_END, MilestoneStatus.OPEN, date(2025, 3, 30), MilestoneStatus.DONE),
        (
            MilestoneKind.CONTRACT_START,
            MilestoneStatus.OPEN,
            date(2025, 3, 31),
            MilestoneStatus.OPEN,
        ),
        (
            MilestoneKind.CONTRACT_END,
            MilestoneStatus.CANCELLED,
            date(2020, 1, 1),
            MilestoneStatus.CANCELLED,
        ),
        (
            MilestoneKind.EXTENSION_NOTICE,
            MilestoneStatus.OPEN,
            date(2020, 1, 1),
            MilestoneStatus.OPEN,
        ),
        (MilestoneKind.PUBLICATION, MilestoneStatus.DONE, date(2030, 1, 1), MilestoneStatus.DONE),
    ],
)
def test_effective_status(
    kind: MilestoneKind, status: MilestoneStatus, due: date, expected: MilestoneStatus
) -> None:
    today = date(2025, 3, 31)
    assert effective_status(kind, status, due, today, contract_end=today) is expected


END = date(2025, 3, 31)


def test_the_last_referral_date_is_done_by_passing_with_a_note() -> None:
    kind, due = MilestoneKind.LAST_REFERRAL, date(2024, 3, 28)
    open_ = MilestoneStatus.OPEN
    assert effective_status(kind, open_, due, due, contract_end=END) is open_
    after = due + timedelta(days=1)
    assert effective_status(kind, open_, due, after, contract_end=END) is MilestoneStatus.DONE
    assert closed_by_time(kind, due, after, END) == "passed on 28 Mar 2024"
    assert closed_by_time(kind, due, due, END) is None
    # A person's own closing stands.
    cancelled = MilestoneStatus.CANCELLED
    assert effective_status(kind, cancelled, due, after, contract_end=END) is cancelled


def test_an_extension_notice_stays_overdue_until_the_contract_ends_then_lapses() -> None:
    kind, due = MilestoneKind.EXTENSION_NOTICE, date(2024, 9, 30)
    open_ = MilestoneStatus.OPEN
    assert effective_status(kind, open_, due, END, contract_end=END) is open_
    after = END + timedelta(days=1)
    assert effective_status(kind, open_, due, after, contract_end=END) is MilestoneStatus.DONE
    note = closed_by_time(kind, due, after, END) or ""
    assert "the option lapsed unexercised" in note and "31 Mar 2025" in note


def test_other_decisions_wait_for_a_person_whatever_the_date() -> None:
    for kind in (MilestoneKind.FUNDING_CONFIRMATION, MilestoneKind.PUBLICATION):
        later = END + timedelta(days=400)
        status = effective_status(kind, MilestoneStatus.OPEN, END, later, contract_end=END)
        assert status is MilestoneStatus.OPEN


def test_decision_text_for_every_kind() -> None:
    assert set(DECISION_TEXT) == set(MilestoneKind)
    assert all(text and "{" not in text for text in DECISION_TEXT.values())
    assert DECISION_TEXT[MilestoneKind.FUNDING_CONFIRMATION] == "the commissioner carries the cost"


# -- properties ---------------------------------------------------------------------------

COMPUTED_KINDS = {MilestoneKind.CONTINUATION_DECISION, MilestoneKind.LAST_REFERRAL}


@st.composite
def contracts(draw: st.DrawFn) -> Contract:
    start = draw(st.dates(date(2015, 1, 1), date(2035, 12, 31)))
    end = start + timedelta(days=draw(st.integers(30, 2000)))
    options = tuple(
        ExtensionOption(
            seq=seq,
            until=end + timedelta(days=draw(st.integers(-100, 800))),
            notice_days=draw(st.none() | st.integers(0, 400)),
            status=draw(st.sampled_from(ExtensionStatus)),
        )
        for seq in range(1, draw(st.integers(0, 3)) + 1)
    )
    year = st.builds(
        FinancialYear, st.integers(FinancialYear.of(start).start_year - 1, end.year + 2)
    )
    money = st.decimals(Decimal("0"), Decimal("999999.99"), places=2)
    funding = draw(
        st.lists(
            st.builds(
                FundingLine,
                st.uuids().map(str),
                st.just("Src"),
                year,
                money,
                st.sampled_from(FundingStatus),
            ),
            max_size=5,
        )
    )
    costs = draw(st.lists(st.builds(CostLine, year, money), max_size=5))
    return Contract(
        "R",
        "T",
        "P",
        start,
        end,
        original_end=end,
        intervention_months=draw(st.none() | st.integers(1, 24)),
        extensions=options,
        funding=tuple(funding),
        costs=tuple(costs),
    )


def _computed(milestone: DerivedMilestone, contract: Contract) -> bool:
    if milestone.kind in COMPUTED_KINDS or milestone.key.startswith("year:"):
        return True
    if milestone.kind is MilestoneKind.EXTENSION_NOTICE:
        option = next(o for o in contract.extensions if f"option:{o.seq}" == milestone.key)
        return option.notice_by is None
    return False


@given(contracts())
def test_every_computed_due_date_is_a_working_day(contract: Contract) -> None:
    derived = derive_milestones(contract, RULES)
    for milestone in derived:
        if _computed(milestone, contract):
            assert is_english_working_day(milestone.due), milestone


@given(contracts())
def test_derivation_keys_unique_sorted_and_deterministic(contract: Contract) -> None:
    derived = derive_milestones(contract, RULES)
    assert len({(m.kind, m.key) for m in derived}) == len(derived)
    assert derived == sorted(derived, key=lambda m: (m.due, m.kind, m.key))
    assert derived == derive_milestones(contract, RULES)
