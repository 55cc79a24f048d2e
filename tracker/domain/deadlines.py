"""A computed deadline on a working day: the one rule every derived date goes through.

A deadline the tracker computes (an end less a notice period, 30 days beginning with
the day a contract was entered into) that lands on a weekend or bank holiday moves
back to the working day before, with a note saying why: a deadline is safe only on the
early side. A date the user gave is contractual: kept as given, with a warning.
"""

from __future__ import annotations

from datetime import date

from tracker.domain.calendar import bank_holiday_name, is_working_day, previous_working_day
from tracker.domain.dates import describe_day, weekday_name


def _why_not_working(day: date) -> str:
    """``a Sunday`` or ``a bank holiday (Christmas Day)``: why nothing can be served then."""
    holiday = bank_holiday_name(day)
    return f"a bank holiday ({holiday})" if holiday else f"a {weekday_name(day)}"


def _holiday_suffix(day: date) -> str:
    """``, a bank holiday (Christmas Day)`` when the weekday alone does not explain a move."""
    holiday = bank_holiday_name(day)
    return f", a bank holiday ({holiday})" if holiday else ""


def computed_due(computed: date, reckoning: str) -> tuple[date, str]:
    """A computed deadline rolled back to a working day, and the note explaining any move.

    ``reckoning`` says how the date was computed (``31 March 2026 less 275 days``) so the
    reader can check the arithmetic without opening the contract.
    """
    due = previous_working_day(computed)
    if due == computed:
        return due, ""
    note = (
        f"computed {describe_day(computed)}{_holiday_suffix(computed)} ({reckoning}); "
        f"moved back to the working day before, {describe_day(due)}"
    )
    return due, note


def given_due_note(day: date, act: str) -> str:
    """A note for a contractual date that is not a working day: kept, but warned about."""
    if is_working_day(day):
        return ""
    return (
        f"falls on {_why_not_working(day)}: {act} by the working day before "
        f"({describe_day(previous_working_day(day))})"
    )
