"""Parsing and showing dates, financial years and the CLI's ``--now``.

Commissioners write dates the UK way, so day-first is the only slash form read:
``2/9/24`` is 2 September 2024 and ``12/31/2026`` is an error, never a silent US
reading, because a notice deadline read month-first can be months out. Impossible
dates are errors rather than being rolled over. Pure functions: no clock is read.
"""

from __future__ import annotations

import calendar as _calendar
import re
from datetime import UTC, date, datetime, time, timedelta, timezone

from tracker.domain.calendar import LONDON
from tracker.domain.text import has_unsafe_chars
from tracker.domain.types import FinancialYear
from tracker.errors import InvalidValue

MIN_YEAR = 1990
MAX_YEAR = 2200

_NOT_A_DATE = "is not a date: write 2026-03-31 or 31/03/2026 (day first)"
_OUT_OF_RANGE = f"is out of range (years {MIN_YEAR} to {MAX_YEAR})"
_NOT_A_FY = "is not a financial year: 2025/26 runs 1 April 2025 to 31 March 2026"
_NOT_NOW = (
    "is not a date and time: write 2024-09-02T09:30 (London time), "
    "2024-09-02T08:30Z, or a date such as 2/9/24"
)

_ISO_DATE = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})")
_UK_DATE = re.compile(
    r"(?P<d>[0-9]{1,2})(?P<sep>[/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4}|[0-9]{2})"
)
_FY = re.compile(r"(?P<first>[0-9]{4}|[0-9]{2})[/-](?P<second>[0-9]{2})")
_NOW = re.compile(
    r"(?P<date>[0-9./-]+)"
    r"(?:(?:T|[ ]+)(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:\.(?P<frac>[0-9]{1,6}))?)?"
    r"[ ]*(?P<zone>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)

#: English month and weekday names, fixed so output never depends on the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: The hour a date-only ``--now`` stands for; see ``parse_now``.
DATE_ONLY_NOW = time(12, 0)


def parse_date(value: object, field: str) -> date:
    """A calendar date from a ``date`` or a string written ISO or UK day-first.

    A ``datetime`` is accepted only at midnight (YAML reads ``2026-03-31 00:00`` as
    one): any other time would be silently dropped, which hides a mistake.
    """
    if isinstance(value, datetime):
        if value.time() != time(0, 0):
            raise InvalidValue(field, value, "is a date and time; give just the date")
        return _in_range(value.date(), field, value)
    if isinstance(value, date):
        return _in_range(value, field, value)
    if not isinstance(value, str) or has_unsafe_chars(value):
        raise InvalidValue(field, value, _NOT_A_DATE)
    year, month, day, day_first = _date_parts(value.strip(), field, value)
    return _real_date(year, month, day, field, value, day_first=day_first)


def parse_optional_date(value: object, field: str) -> date | None:
    """Like ``parse_date`` but an absent or blank value means no date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_date(value, field)


def _date_parts(text: str, field: str, value: object) -> tuple[int, int, int, bool]:
    """Year, month, day as written (not yet checked to be real) and whether day came first."""
    if match := _ISO_DATE.fullmatch(text):
        return int(match["y"]), int(match["m"]), int(match["d"]), False
    if match := _UK_DATE.fullmatch(text):
        year = int(match["y"])
        # Two-digit years are this century: contracts from before 2000 are not tracked.
        full_year = 2000 + year if len(match["y"]) == 2 else year
        return full_year, int(match["m"]), int(match["d"]), True
    raise InvalidValue(field, value, _NOT_A_DATE)


def _real_date(
    year: int, month: int, day: int, field: str, value: object, *, day_first: bool
) -> date:
    """The date, or an error that says which part is impossible (and hints "day first")."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidValue(field, value, _OUT_OF_RANGE)
    if not 1 <= month <= 12:
        looks_us = day_first and 12 < month <= 31 and 1 <= day <= 12
        hint = "; dates are day first" if looks_us else ""
        raise InvalidValue(field, value, f"is not a real date (there is no month {month}{hint})")
    last = _calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        month_name = _MONTH_NAMES[month - 1]
        detail = f"{month_name} {year} has {last} days" if day else "there is no day 0"
        raise InvalidValue(field, value, f"is not a real date ({detail})")
    return date(year, month, day)


def _in_range(day: date, field: str, value: object) -> date:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidValue(field, value, _OUT_OF_RANGE)
    return day


def parse_financial_year(value: object, field: str) -> FinancialYear:
    """A UK financial year written ``2025/26``, ``2025-26``, ``25/26`` or ``25-26``.

    A bare year (YAML gives ``2025`` as an int) is refused: it is ambiguous whether
    the writer meant 2024/25 or 2025/26, and funding in the wrong year hides a gap.
    """
    if isinstance(value, FinancialYear):
        start = value.start_year
    elif isinstance(value, str) and (match := _FY.fullmatch(value.strip())):
        first = int(match["first"])
        start = 2000 + first if len(match["first"]) == 2 else first
        if int(match["second"]) != (start + 1) % 100:
            raise InvalidValue(field, value, _NOT_A_FY)
    else:
        raise InvalidValue(field, value, _NOT_A_FY)
    if not MIN_YEAR <= start <= MAX_YEAR:
        raise InvalidValue(field, value, _OUT_OF_RANGE)
    return FinancialYear(start)


def parse_now(value: str) -> datetime:
    """The instant ``--now`` names, as an aware UTC datetime.

    A time without an offset is London wall-clock time (GMT or BST as the date
    requires), since that is the time users and the scheduler work in. A bare date
    means 12:00 noon London: reminders go out at 09:00, so "as if it were 2 Sep"
    should count that morning's reminders as due, and noon is never in a DST gap.
    """
    if not isinstance(value, str) or has_unsafe_chars(value):
        raise InvalidValue("--now", value, _NOT_NOW)
    match = _NOW.fullmatch(value.strip())
    if not match:
        raise InvalidValue("--now", value, _NOT_NOW)
    try:
        day = parse_date(match["date"], "--now")
    except InvalidValue as error:
        raise InvalidValue("--now", value, error.reason) from None
    if match["h"] is None:
        return datetime.combine(day, DATE_ONLY_NOW, tzinfo=LONDON).astimezone(UTC)
    clock = _clock(match, value)
    if match["zone"] is None:
        return _london_to_utc(datetime.combine(day, clock), value)
    zone = _offset(match["zone"], value)
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _clock(match: re.Match[str], value: str) -> time:
    """The wall-clock time of a ``--now`` match (24-hour)."""
    fraction = (match["frac"] or "").ljust(6, "0")
    try:
        return time(int(match["h"]), int(match["mi"]), int(match["s"] or 0), int(fraction or 0))
    except ValueError:
        raise InvalidValue("--now", value, "is not a real time of day (00:00 to 23:59)") from None


def _offset(text: str, value: str) -> timezone:
    """A UTC offset from ``Z``, ``+01``, ``+0100`` or ``+01:00``."""
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise InvalidValue("--now", value, "has an impossible UTC offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _london_to_utc(naive: datetime, value: str) -> datetime:
    """London wall-clock time to UTC, refusing times the spring clock change skips.

    In the autumn hour that happens twice, the first (BST) occurrence is taken.
    """
    local = naive.replace(tzinfo=LONDON, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(LONDON).replace(tzinfo=None) != naive:
        raise InvalidValue("--now", value, "is not a London time (the clocks go forward past it)")
    return instant


def month_abbr(day: date) -> str:
    """``Sep``: the English month abbreviation, whatever the process locale says.

    ``strftime('%b')`` follows ``LC_TIME``, so a server set to German would write
    ``Okt`` into emails and the CLI; every formatter here uses this instead.
    """
    return _MONTHS[day.month - 1]


def format_uk(day: date) -> str:
    """``2 Sep 2024``: the unambiguous form shown to people (no leading zero)."""
    return f"{day.day} {month_abbr(day)} {day.year}"


def format_long(day: date) -> str:
    """``31 March 2026``: the date as written in the arithmetic of a note."""
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def weekday_name(day: date) -> str:
    """``Sunday``: the English weekday, whatever the process locale says."""
    return _WEEKDAY_NAMES[day.weekday()]


def describe_day(day: date) -> str:
    """``Sunday 29 June 2025``: how notes explain a moved date to a reader."""
    return f"{weekday_name(day)} {format_long(day)}"


def format_uk_padded(day: date) -> str:
    """``02 Sep 2024``: the fixed-width form of the CLI's time columns."""
    return f"{day.day:02d} {month_abbr(day)} {day.year}"


def format_london_time(moment: datetime) -> str:
    """``02 Sep 2024 09:00``: an instant as London's clock showed it, fixed width."""
    local = moment.astimezone(LONDON)
    return f"{format_uk_padded(local.date())} {local:%H:%M}"


def format_london(moment: datetime) -> str:
    """``2 Sep 2024 09:15``: an instant as London's clock showed it, the emails' form."""
    local = moment.astimezone(LONDON)
    return f"{format_uk(local.date())} {local:%H:%M}"


def format_london_day_time(moment: datetime) -> str:
    """``02 Sep 09:00:00``: a London instant of this year, to the second (status lines)."""
    local = moment.astimezone(LONDON)
    return f"{local.day:02d} {month_abbr(local.date())} {local:%H:%M:%S}"


def format_iso(day: date) -> str:
    """``2024-09-02``: the form used in JSON output and files."""
    return day.isoformat()
