"""Calendar arithmetic the rules share: working days and whole-month steps.

Working days are Monday to Friday less England and Wales bank holidays (the
``holidays`` package, subdivision ENG; Wales has the same bank holidays). Pure
functions: no clock is read here; callers pass the dates.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

#: The tracker's zone: times are stored in UTC and shown (and scheduled) in London time.
LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=256)
def _bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of one calendar year (cached: derivation calls this a lot)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def bank_holiday_name(day: date) -> str | None:
    """The bank holiday's name, or None: used to explain why a date moved."""
    if day not in _bank_holidays(day.year):
        return None
    name = holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day)
    return str(name) if name else None


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def previous_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the nearest working day before it.

    Deadlines that land on a weekend or bank holiday move *earlier*: a notice cannot
    be served on a Sunday, and being early is the safe side of a deadline.
    """
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The date ``count`` working days after ``day`` (``day`` itself is not counted).

    A decision approved on Thursday 22 Dec 2022 with 3 working days to publish is due
    Thursday 29 Dec 2022: the 26th and 27th are bank holidays.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    current = day
    remaining = count
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_before(day: date, count: int) -> date:
    """The working day ``count`` working days before ``day`` (``day`` itself is not counted).

    A modification on Tuesday 13 May 2025 with an 8-working-day standstill: the notice
    goes by Wednesday 30 April 2025 (Monday 5 May is a bank holiday).
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    current = day
    remaining = count
    while remaining:
        current -= timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def add_months(day: date, months: int) -> date:
    """Whole calendar months later (negative: earlier), clamped to the month's last day.

    31 March 2025 minus 9 months is 30 June 2024 (there is no 31 June).
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last = _calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))
