"""How a delivery that kept failing is reported: attempts and span in plain English.

A failed reminder's reply is what the owner reads in ``tracker reminders --failed``
and the history, so it says how hard we tried ("gave up after 14 attempts over 5
days") rather than leaving them to count the attempts.
"""

from __future__ import annotations

from datetime import timedelta

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def counted(n: int, unit: str) -> str:
    """``1 attempt``, ``2 attempts``: a count with its noun in the right number."""
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def span_words(span: timedelta) -> str:
    """A duration rounded to the unit a person would use: minutes under an hour, hours
    under two days, days beyond ("45 minutes", "1 hour", "36 hours", "5 days")."""
    minutes = round(span / MINUTE)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return counted(minutes, "minute")
    hours = round(span / HOUR)
    if hours < 48:
        return counted(hours, "hour")
    return counted(round(span / DAY), "day")


def gave_up(attempts: int, span: timedelta, reply: str) -> str:
    """The reply kept with a message given up on after temporary failures:
    ``gave up after 1 attempt: <reply>`` or ``gave up after 14 attempts over 5 days:
    <reply>`` (one attempt has no span worth naming)."""
    if attempts <= 1:
        return f"gave up after {counted(max(attempts, 1), 'attempt')}: {reply}"
    return f"gave up after {counted(attempts, 'attempt')} over {span_words(span)}: {reply}"
