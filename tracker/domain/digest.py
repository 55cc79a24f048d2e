"""When a person's digest is due: the latest scheduled moment of their period.

Weekly digests are due at the configured weekday and time (Monday 08:00 London by
default), daily ones every day at the time. Only the latest period counts, so a digest
missed while the tracker was down is caught up once, not once per missed period.
Pure functions; ``now`` is a parameter.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tracker.domain.calendar import LONDON
from tracker.domain.dates import format_uk

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FREQUENCIES = ("weekly", "daily", "off")


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """When one person's digest goes: how often, on which weekday (weekly), at what time."""

    frequency: str  # weekly | daily | off
    weekday: str
    at: time


@dataclass(frozen=True, kw_only=True)
class Period:
    key: str  # "2024-W36" or "2024-09-02"
    scheduled_at: datetime  # aware UTC
    label: str  # "week of 2 Sep 2024" or "2 Sep 2024"


def parse_time(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def period_label(day: date, *, weekly: bool) -> str:
    """``week of 2 Sep 2024`` (weekly) or ``2 Sep 2024`` (daily): how a digest names its period.

    One wording for the digest being composed and for one read back from the database.
    """
    return f"week of {format_uk(day)}" if weekly else format_uk(day)


def current_period(now: datetime, frequency: str, weekday: str, at: time) -> Period:
    """The period whose scheduled moment is the latest one at or before ``now``."""
    local = now.astimezone(LONDON)
    if frequency == "daily":
        day = local.date()
        if local.time() < at:
            day -= timedelta(days=1)
        scheduled = datetime.combine(day, at, tzinfo=LONDON)
        return Period(
            key=day.isoformat(),
            scheduled_at=scheduled.astimezone(UTC),
            label=period_label(day, weekly=False),
        )
    target = WEEKDAYS.index(weekday)
    day = local.date() - timedelta(days=(local.weekday() - target) % 7)
    if day == local.date() and local.time() < at:
        day -= timedelta(days=7)
    scheduled = datetime.combine(day, at, tzinfo=LONDON)
    year, week, _ = day.isocalendar()
    return Period(
        key=f"{year}-W{week:02d}",
        scheduled_at=scheduled.astimezone(UTC),
        label=period_label(day, weekly=True),
    )


def digest_message_id(recipient: str, period: str, domain: str) -> str:
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"<d.{period}.{digest}@{domain}>"
