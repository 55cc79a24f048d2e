"""The stored next nag time (``next_nag_at``) changes nothing about when nags go out.

The sweep used to check every overdue open decision every minute with ``latest_nag``; it
now looks only at decisions whose ``next_nag_at`` has come. Replaying both over weeks of
sweeps, across weekends, bank holidays, clock changes, snoozes and downtime, they must
plan the same nags at the same moments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

import pytest

from tracker.domain.calendar import LONDON
from tracker.domain.reminders import (
    latest_nag,
    nag_plannable_at,
    next_nag_at,
    nine_am_london,
    released_through,
    send_time,
)

Planned = list[tuple[datetime, int]]

#: Due dates around weekends, Easter 2025 (Good Friday 18 Apr, Easter Monday 21 Apr),
#: the clock changes (30 Mar, 26 Oct 2025) and Christmas 2025.
DUES = [
    date(2025, 1, 31),  # Friday
    date(2025, 2, 1),  # Saturday
    date(2025, 2, 2),  # Sunday
    date(2025, 3, 24),  # a week before the clocks go forward
    date(2025, 4, 11),  # a week before Good Friday
    date(2025, 4, 14),
    date(2025, 10, 19),  # a week before the clocks go back
    date(2025, 12, 18),
    date(2025, 12, 19),
]
INTERVALS = [1, 2, 3, 7, 14]
MANY = 1000  # a nag count that caps nothing in these periods


def _sweeps(first: date, days: int, every: timedelta) -> list[datetime]:
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    moments = {start + every * n for n in range(int(timedelta(days=days) / every))}
    # And the instants that matter: midnight and 09:00 London, a minute either side.
    for n in range(days):
        day = first + timedelta(days=n)
        for edge in (datetime.min.time(), datetime.min.time().replace(hour=9)):
            at = datetime.combine(day, edge, tzinfo=LONDON).astimezone(UTC)
            moments.update({at - timedelta(minutes=1), at, at + timedelta(minutes=1)})
    return sorted(moments)


def _plan(
    due: date,
    nag_days: int,
    snoozed: date | None,
    sweeps: Iterable[datetime],
    look: Callable[[datetime, set[int]], bool],
    *,
    count: int,
) -> Planned:
    """What a sweep at each moment plans (the rule of ``nags_due``), for the moments at
    which ``look`` says the sweep reads the milestone at all."""
    planned: set[int] = set()
    out: Planned = []
    for now in sweeps:
        if not look(now, planned):
            continue
        if snoozed is not None and snoozed > released_through(now):
            continue
        nag = latest_nag(due, nag_days, now.astimezone(LONDON).date(), count=count)
        if nag is not None and nag[1] <= now and nag[0] not in planned:
            planned.add(nag[0])
            out.append((now, nag[0]))
    return out


def _both(
    due: date, nag_days: int, snoozed: date | None, sweeps: list[datetime], count: int = MANY
) -> Planned:
    every_time = _plan(due, nag_days, snoozed, sweeps, lambda now, planned: True, count=count)

    def due_now(now: datetime, planned: set[int]) -> bool:
        at = next_nag_at(due, nag_days, snoozed, planned, count=count)
        return at is not None and at <= now

    only_when_due = _plan(due, nag_days, snoozed, sweeps, due_now, count=count)
    assert only_when_due == every_time, (due, nag_days, snoozed)
    return every_time


@pytest.mark.parametrize("nag_days", INTERVALS)
@pytest.mark.parametrize("due", DUES, ids=str)
def test_sweeping_only_at_next_nag_at_plans_what_sweeping_every_half_hour_plans(
    due: date, nag_days: int
) -> None:
    sweeps = _sweeps(due - timedelta(days=1), 45, timedelta(minutes=30))
    planned = _both(due, nag_days, None, sweeps)
    # Swept this often, no nag collapses: each one goes out, at its moment.
    moments = [nag_plannable_at(due + timedelta(days=k * nag_days)) for k in range(1, 60)]
    assert len(planned) == sum(1 for at in moments if at <= sweeps[-1]) > 0
    assert [lead for _, lead in planned] == [-k * nag_days for k in range(1, len(planned) + 1)]


@pytest.mark.parametrize("nag_days", [1, 7])
@pytest.mark.parametrize("due", DUES[:5], ids=str)
def test_the_same_with_a_snooze_and_with_a_tracker_that_was_down(due: date, nag_days: int) -> None:
    half_hourly = _sweeps(due - timedelta(days=1), 40, timedelta(minutes=30))
    for snoozed in (due + timedelta(days=3), due + timedelta(days=10), due + timedelta(days=16)):
        _both(due, nag_days, snoozed, half_hourly)
    # Down for days at a time: only a few sweeps, at odd hours; missed nags collapse.
    sparse = [m for m in half_hourly if m.toordinal() % 5 == 0 and m.hour in (3, 8, 17)]
    _both(due, nag_days, None, sparse)
    _both(due, nag_days, due + timedelta(days=9), sparse)


def test_the_first_nag_is_due_at_its_send_time_on_a_working_day() -> None:
    # Due Friday 31 Jan 2025, nag every 7 days: Friday 7 Feb, 09:00 GMT.
    assert next_nag_at(date(2025, 1, 31), 7, None, [], count=MANY) == datetime(
        2025, 2, 7, 9, tzinfo=UTC
    )
    # In summer, 09:00 London is 08:00 UTC.
    assert next_nag_at(date(2025, 6, 2), 7, None, [], count=MANY) == datetime(
        2025, 6, 9, 8, tzinfo=UTC
    )


def test_a_nag_day_that_is_not_a_working_day_is_due_from_its_own_midnight() -> None:
    # Due Saturday 1 Feb: the first nag falls on Saturday 8 Feb, sent as of Friday 09:00,
    # but latest_nag only offers it from Saturday: the sweep plans it at midnight London.
    saturday = date(2025, 2, 8)
    assert send_time(saturday) == datetime(2025, 2, 7, 9, tzinfo=UTC)
    assert nag_plannable_at(saturday) == datetime(2025, 2, 8, 0, tzinfo=UTC)
    assert next_nag_at(date(2025, 2, 1), 7, None, [], count=MANY) == datetime(
        2025, 2, 8, 0, tzinfo=UTC
    )
    # In summer, London midnight is 23:00 UTC the day before.
    assert nag_plannable_at(date(2025, 6, 7)) == datetime(2025, 6, 6, 23, tzinfo=UTC)


def test_after_a_nag_is_planned_the_next_is_the_one_after_it() -> None:
    due = date(2025, 1, 31)
    assert next_nag_at(due, 7, None, [-7], count=MANY) == datetime(2025, 2, 14, 9, tzinfo=UTC)
    # Several missed nags collapsed into the latest (-28): the next is -35.
    assert next_nag_at(due, 7, None, [-28], count=MANY) == datetime(2025, 3, 7, 9, tzinfo=UTC)
    # Nag rows of another interval (the policy changed) do not count.
    assert next_nag_at(due, 10, None, [-7, -14], count=MANY) == datetime(2025, 2, 10, 9, tzinfo=UTC)


def test_a_snooze_holds_the_next_nag_until_nine_on_its_last_day() -> None:
    due = date(2025, 1, 31)
    assert nine_am_london(date(2025, 2, 20)) == datetime(2025, 2, 20, 9, tzinfo=UTC)
    assert next_nag_at(due, 7, date(2025, 2, 20), [], count=MANY) == datetime(
        2025, 2, 20, 9, tzinfo=UTC
    )
    # A snooze that ends before the next nag changes nothing.
    assert next_nag_at(due, 7, date(2025, 2, 3), [], count=MANY) == datetime(
        2025, 2, 7, 9, tzinfo=UTC
    )


def test_no_interval_no_nags() -> None:
    assert next_nag_at(date(2025, 1, 31), 0, None, [], count=MANY) is None


@pytest.mark.parametrize("nag_days", [1, 7])
@pytest.mark.parametrize("due", DUES[:5], ids=str)
def test_both_rules_stop_after_the_last_nag(due: date, nag_days: int) -> None:
    half_hourly = _sweeps(due - timedelta(days=1), 60, timedelta(minutes=30))
    planned = _both(due, nag_days, None, half_hourly, count=4)
    assert [lead for _, lead in planned] == [-k * nag_days for k in range(1, 5)]
    sparse = [m for m in half_hourly if m.toordinal() % 5 == 0 and m.hour in (3, 8, 17)]
    assert _both(due, nag_days, None, sparse, count=4)[-1][1] == -4 * nag_days


def test_after_the_last_nag_there_is_no_next() -> None:
    due = date(2025, 1, 31)
    assert next_nag_at(due, 7, None, [-7, -14, -21], count=4) is not None
    assert next_nag_at(due, 7, None, [-28], count=4) is None
    assert next_nag_at(due, 7, None, [], count=0) is None
