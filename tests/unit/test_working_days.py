"""The test-side working-day oracle (``support.workdays``) is right on days worked out by
hand, and tracker's own calendar agrees with it everywhere."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.workdays import is_english_working_day

from tracker.domain.calendar import is_working_day


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 3, 28), True),  # Maundy Thursday
        (date(2024, 3, 29), False),  # Good Friday
        (date(2024, 4, 1), False),  # Easter Monday
        (date(2022, 9, 19), False),  # the Queen's state funeral (a one-off)
        (date(2023, 5, 8), False),  # the King's coronation (a one-off)
        (date(2022, 12, 27), False),  # substitute for Christmas Day on a Sunday
        (date(2024, 1, 2), True),  # a Scottish bank holiday only
        (date(2024, 7, 12), True),  # Battle of the Boyne: Northern Ireland only
        (date(2024, 12, 2), True),  # St Andrew's Day substitute: Scotland only
        (date(2024, 8, 5), True),  # Scotland's summer bank holiday
        (date(2024, 8, 26), False),  # England's summer bank holiday
        (date(2024, 8, 31), False),  # a Saturday
        (date(2024, 9, 1), False),  # a Sunday
        (date(2024, 9, 2), True),  # a Monday
    ],
    ids=str,
)
def test_the_oracle_on_days_worked_out_by_hand(day: date, working: bool) -> None:
    assert is_english_working_day(day) is working


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_tracker_s_calendar_agrees_with_the_oracle(day: date) -> None:
    assert is_working_day(day) is is_english_working_day(day)
