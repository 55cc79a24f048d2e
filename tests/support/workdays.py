"""An oracle for "working day" that does not go through tracker's own calendar.

Tests that check a computed date is a working day must not ask
``tracker.domain.calendar.is_working_day``: a bug there (the wrong subdivision, a
weekend test off by one) would pass its own check. This asks the ``holidays`` package
and the weekday directly.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays


@cache
def english_bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of ``year`` (cached: properties ask thousands of times)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_english_working_day(day: date) -> bool:
    """Monday to Friday, and not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in english_bank_holidays(day.year)
