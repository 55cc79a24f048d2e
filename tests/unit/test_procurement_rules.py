"""The Procurement Act 2023's notices, rule by rule, each edge against dates worked out
by hand here (a period "beginning with" a day counts that day as day 1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from tracker.domain.calendar import working_days_before
from tracker.domain.milestones import DECISION_TEXT, derive_milestones
from tracker.domain.procurement import (
    ACT_DECISION_TEXT,
    change_notice_due,
    contract_details_notice,
    contract_publication,
    performance_assessments,
    termination_notice,
)
from tracker.domain.types import (
    STATUTORY_KINDS,
    Contract,
    DerivationRules,
    MilestoneKind,
    Regime,
)
from tracker.domain.wording import decision_label

RULES = DerivationRules()

#: Entered into Monday 3 March 2025; runs 1 April 2025 to 31 March 2028.
ACT = Contract(
    ref="ACT-1",
    title="Advocacy",
    provider="Safe Lives",
    start=date(2025, 4, 1),
    end=date(2028, 3, 31),
    original_end=date(2028, 3, 31),
    value=Decimal("1000000"),
    regime=Regime.PA2023,
    entered_into=date(2025, 3, 3),
)


def _dues(milestones: list) -> list[tuple[str, date]]:  # type: ignore[type-arg]
    return [(m.key, m.due) for m in milestones]


# -- s.53(1): the contract details notice ----------------------------------------------------


def test_details_notice_30_days_beginning_with_the_day_entered_into() -> None:
    # 3 Mar is day 1; day 29 is 31 Mar; day 30 is Tuesday 1 April 2025.
    [notice] = contract_details_notice(ACT, RULES)
    assert notice.due == date(2025, 4, 1)
    assert notice.note == ""
    assert "s.53(1)" in notice.title and "30 days" in notice.title


def test_details_notice_light_touch_is_120_days() -> None:
    # 3 Mar + 119 days: 29 days of March left (3..31), 30 of April, 31 of May, 29 of
    # June -> Monday 30 June 2025 is day 120.
    [notice] = contract_details_notice(replace(ACT, light_touch=True), RULES)
    assert notice.due == date(2025, 6, 30)
    assert "120 days" in notice.title


def test_details_notice_on_a_weekend_moves_back_with_the_note() -> None:
    # Entered into Saturday 8 March 2025: 8..31 March are days 1-24, so day 30 is
    # Sunday 6 April -> Friday 4 April.
    [notice] = contract_details_notice(replace(ACT, entered_into=date(2025, 3, 8)), RULES)
    assert notice.due == date(2025, 4, 4)
    assert "Sunday 6 April 2025" in notice.note
    assert "30 days beginning with 8 March 2025" in notice.note
    assert "Friday 4 April 2025" in notice.note


def test_details_notice_on_a_bank_holiday_moves_back() -> None:
    # Entered into Thursday 20 March 2025: 20..31 March are days 1-12, so day 30 is
    # Friday 18 April 2025, Good Friday -> Thursday 17 April.
    [notice] = contract_details_notice(replace(ACT, entered_into=date(2025, 3, 20)), RULES)
    assert notice.due == date(2025, 4, 17)
    assert "Good Friday" in notice.note


@pytest.mark.parametrize("regime", [Regime.PCR2015, Regime.NONE])
def test_no_notices_outside_the_act(regime: Regime) -> None:
    contract = replace(ACT, regime=regime, value=Decimal("9000000"))
    kinds = {m.kind for m in derive_milestones(contract, RULES)}
    assert not kinds & STATUTORY_KINDS


# -- s.53(3): a copy of the contract, over £5m ------------------------------------------------


def test_copy_not_at_exactly_five_million_but_at_a_penny_over() -> None:
    assert contract_publication(replace(ACT, value=Decimal("5000000.00")), RULES) == []
    assert contract_publication(replace(ACT, value=None), RULES) == []
    [copy] = contract_publication(replace(ACT, value=Decimal("5000000.01")), RULES)
    # 3 Mar day 1; 90 days: 29 (Mar) + 30 (Apr) + 31 (May) = 90 -> Saturday 31 May 2025,
    # moved back to Friday 30 May.
    assert copy.due == date(2025, 5, 30)
    assert "Saturday 31 May 2025" in copy.note
    assert "s.53(3)" in copy.title


def test_copy_light_touch_is_180_days() -> None:
    # 90 days end 31 May (day 90); June 30 -> day 120 (30 Jun); July 31 -> day 151
    # (31 Jul); 29 more -> Friday 29 August 2025 is day 180.
    contract = replace(ACT, value=Decimal("5250000"), light_touch=True)
    [copy] = contract_publication(contract, RULES)
    assert copy.due == date(2025, 8, 29)


# -- s.71(2) with s.52: performance assessments -----------------------------------------------


def test_assessments_each_contract_year_and_on_the_end() -> None:
    contract = replace(ACT, value=Decimal("5000000.01"))
    # Start 1 Apr 2025: year 1 ends Tuesday 31 Mar 2026, year 2 Wednesday 31 Mar 2027;
    # year 3 would end 31 Mar 2028, the end itself: the final assessment covers it.
    assert _dues(performance_assessments(contract, RULES)) == [
        ("year:1", date(2026, 3, 31)),
        ("year:2", date(2027, 3, 31)),
        ("end", date(2028, 3, 31)),
    ]


def test_no_assessments_at_five_million_or_light_touch() -> None:
    assert performance_assessments(replace(ACT, value=Decimal("5000000")), RULES) == []
    light = replace(ACT, value=Decimal("9000000"), light_touch=True)
    assert performance_assessments(light, RULES) == []
    # ...but a light-touch contract over £5m still publishes its details and a copy.
    kinds = {m.kind for m in derive_milestones(light, RULES)}
    assert {MilestoneKind.CONTRACT_DETAILS_NOTICE, MilestoneKind.CONTRACT_PUBLICATION} <= kinds


# -- s.80: the termination notice ---------------------------------------------------------------


def test_termination_notice_30_days_beginning_with_the_end() -> None:
    # Expiry Friday 31 March 2028 is day 1; day 30 is Saturday 29 April -> Friday 28 April.
    [notice] = termination_notice(ACT, RULES)
    assert (notice.key, notice.due) == ("end", date(2028, 4, 28))
    assert "s.80" in notice.title
    assert "the day the contract ends" in notice.note


@pytest.mark.parametrize(
    ("ended", "due"),
    [
        # terminated Monday 15 Sep 2025: day 30 is Tuesday 14 October 2025
        (date(2025, 9, 15), date(2025, 10, 14)),
        # set aside Monday 1 Dec 2025: day 30 is Tuesday 30 December 2025
        (date(2025, 12, 1), date(2025, 12, 30)),
        # ended Thursday 27 Nov 2025: day 30 is Friday 26 December, Boxing Day; Christmas
        # Day before it -> Wednesday 24 December 2025
        (date(2025, 11, 27), date(2025, 12, 24)),
    ],
)
def test_termination_notice_from_an_early_end(ended: date, due: date) -> None:
    """``tracker terminate`` (any reason: terminated, decommissioned, set aside) moves the
    end to the day it ended; the notice runs from there."""
    [notice] = termination_notice(replace(ACT, end=ended), RULES)
    assert notice.due == due


# -- s.75 and s.76: the change notice --------------------------------------------------------


def test_change_notice_the_working_day_before() -> None:
    # Modification on Tuesday 6 May 2025: Monday 5 May is the Early May bank holiday,
    # so the working day before is Friday 2 May.
    due, title, note = change_notice_due(date(2025, 5, 6), standstill=False)
    assert due == date(2025, 5, 2)
    assert "s.75" in title and "6 May 2025" in title
    assert "working day before" in note


def test_change_notice_standstill_8_working_days_across_a_bank_holiday() -> None:
    # Modification on Tuesday 13 May 2025. Counting back: Mon 12 (1), Fri 9 (2), Thu 8
    # (3), Wed 7 (4), Tue 6 (5), [Mon 5 May bank holiday], Fri 2 (6), Thu 1 (7), Wed 30
    # April (8): the notice goes by Wednesday 30 April 2025.
    due, _title, note = change_notice_due(date(2025, 5, 13), standstill=True)
    assert due == date(2025, 4, 30)
    assert "s.76" in note and "8 working days" in note
    assert working_days_before(date(2025, 5, 13), 8) == date(2025, 4, 30)


# -- wording --------------------------------------------------------------------------------


def test_every_notice_names_its_section_and_is_marked_statutory() -> None:
    sections = {
        MilestoneKind.CONTRACT_DETAILS_NOTICE: "s.53(1)",
        MilestoneKind.CONTRACT_PUBLICATION: "s.53(3)",
        MilestoneKind.PERFORMANCE_ASSESSMENT: "s.71(2)",
        MilestoneKind.TERMINATION_NOTICE: "s.80",
        MilestoneKind.CHANGE_NOTICE: "s.75",
    }
    assert set(sections) == STATUTORY_KINDS == set(ACT_DECISION_TEXT)
    for kind, section in sections.items():
        assert section in DECISION_TEXT[kind]
        assert decision_label(kind).endswith("(statutory duty)")
    assert decision_label(MilestoneKind.EXTENSION_NOTICE) == "Extension notice"
