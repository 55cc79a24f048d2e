"""Reminder planning rules: send times in London, escalation, nags, collapsing, ids."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from support.people import OLIVIA, STEVE
from support.workdays import is_english_working_day

from tracker.domain.calendar import LONDON
from tracker.domain.reminders import (
    ReminderPolicy,
    collapse,
    is_escalation,
    latest_nag,
    message_id,
    nag_count,
    nags_left,
    plan_leads,
    recipients_for,
    retry_delay,
    send_time,
)
from tracker.domain.types import MilestoneKind

POLICY = ReminderPolicy(leads=(90, 60, 30, 14, 7, 1), escalate_from=14, nag_days=7, max_nags=4)
MANY = 1000  # a nag count that does not cap the examples


def test_send_time_is_nine_in_london_in_winter_gmt() -> None:
    assert send_time(date(2025, 1, 15)) == datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


def test_send_time_is_nine_in_london_in_summer_bst() -> None:
    assert send_time(date(2024, 7, 15)) == datetime(2024, 7, 15, 8, 0, tzinfo=UTC)


def test_send_time_on_a_weekend_moves_back_to_friday() -> None:
    sunday = date(2024, 9, 1)
    assert send_time(sunday) == datetime(2024, 8, 30, 8, 0, tzinfo=UTC)


def test_send_time_on_a_bank_holiday_moves_back_over_the_weekend() -> None:
    # Easter Monday 1 Apr 2024 -> Good Friday is a holiday too -> Thursday 28 Mar (GMT).
    assert send_time(date(2024, 4, 1)) == datetime(2024, 3, 28, 9, 0, tzinfo=UTC)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_every_send_time_is_nine_on_a_working_day_no_later_than_the_day(day: date) -> None:
    local = send_time(day).astimezone(LONDON)
    assert (local.hour, local.minute) == (9, 0)
    assert is_english_working_day(local.date())
    assert local.date() <= day
    assert (day - local.date()).days < 7


def test_sponsor_is_copied_from_the_escalation_lead_on() -> None:
    assert recipients_for(30, POLICY, OLIVIA, STEVE) == [(OLIVIA, "owner")]
    assert recipients_for(14, POLICY, OLIVIA, STEVE) == [(OLIVIA, "owner"), (STEVE, "sponsor")]
    assert recipients_for(-7, POLICY, OLIVIA, STEVE) == [(OLIVIA, "owner"), (STEVE, "sponsor")]


def test_sponsor_stands_in_when_there_is_no_owner_and_nobody_is_told_twice() -> None:
    assert recipients_for(90, POLICY, None, STEVE) == [(STEVE, "sponsor")]
    assert recipients_for(1, POLICY, OLIVIA, OLIVIA) == [(OLIVIA, "owner")]
    assert recipients_for(1, POLICY, None, None) == []


def test_plan_leads_gives_one_row_per_lead_and_recipient() -> None:
    planned = plan_leads(date(2024, 9, 30), POLICY, OLIVIA, STEVE)
    owner = [p.lead for p in planned if p.role == "owner"]
    sponsor = [p.lead for p in planned if p.role == "sponsor"]
    assert owner == [90, 60, 30, 14, 7, 1]
    assert sponsor == [14, 7, 1]
    thirty = next(p for p in planned if p.lead == 30)
    # 31 Aug 2024 is a Saturday: moved back to Friday 30 Aug, 09:00 BST.
    assert thirty.send_at == datetime(2024, 8, 30, 8, 0, tzinfo=UTC)


def test_no_nag_before_a_full_interval_has_passed() -> None:
    due = date(2024, 9, 30)
    assert latest_nag(due, 7, due, count=MANY) is None
    assert latest_nag(due, 7, due + timedelta(days=6), count=MANY) is None
    assert latest_nag(due, 0, due + timedelta(days=60), count=MANY) is None
    assert latest_nag(due, 7, due + timedelta(days=60), count=0) is None


def test_latest_nag_is_the_most_recent_interval_only() -> None:
    due = date(2024, 9, 30)
    lead, when = latest_nag(due, 7, date(2024, 10, 25), count=MANY) or (0, None)
    assert lead == -21  # 7, 14 and 21 days overdue have passed; only the latest counts
    assert when == send_time(date(2024, 10, 21))


def test_nags_stop_at_the_count() -> None:
    due = date(2024, 9, 30)
    # Ten weeks overdue, four nags: the latest is still the fourth, 28 days overdue.
    lead, when = latest_nag(due, 7, due + timedelta(days=70), count=4) or (0, None)
    assert lead == -28 and when == send_time(due + timedelta(days=28))


def test_nag_count_none_for_passing_kinds_and_none_after_the_end_for_notices() -> None:
    end = date(2025, 3, 31)
    due = date(2024, 3, 28)
    for kind in (MilestoneKind.LAST_REFERRAL, MilestoneKind.CONTRACT_END):
        assert nag_count(kind, due, POLICY, end) == 0
    assert nag_count(MilestoneKind.PUBLICATION, due, POLICY, end) == 4
    assert nag_count(MilestoneKind.PUBLICATION, due, replace(POLICY, nag_days=0), end) == 0
    assert nag_count(MilestoneKind.EXTENSION_NOTICE, date(2024, 9, 30), POLICY, end) == 4
    # Notice due 17 days before the end: two weekly nags fit before the option lapses.
    assert nag_count(MilestoneKind.EXTENSION_NOTICE, date(2025, 3, 14), POLICY, end) == 2


def test_the_last_nag_escalates_to_the_sponsor_or_else_the_owner() -> None:
    both = recipients_for(-28, POLICY, OLIVIA, STEVE)
    assert is_escalation(-28, "sponsor", POLICY, count=4, people=both)
    assert not is_escalation(-28, "owner", POLICY, count=4, people=both)
    assert not is_escalation(-21, "sponsor", POLICY, count=4, people=both)
    assert not is_escalation(14, "sponsor", POLICY, count=4, people=both)
    alone = recipients_for(-28, POLICY, OLIVIA, None)
    assert is_escalation(-28, "owner", POLICY, count=4, people=alone)
    assert nags_left(-7, 7, 4) == 3 and nags_left(-28, 7, 4) == 0


@dataclass(frozen=True)
class Row:
    milestone_id: int
    recipient: str
    lead: int


def test_missed_leads_collapse_into_the_most_urgent_per_milestone_and_recipient() -> None:
    rows = [
        Row(1, OLIVIA, 30),
        Row(1, OLIVIA, 14),
        Row(1, OLIVIA, 7),
        Row(1, STEVE, 14),
        Row(2, OLIVIA, 60),
    ]
    chosen, collapsed = collapse(rows)
    assert sorted((r.milestone_id, r.recipient, r.lead) for r in chosen) == [
        (1, OLIVIA, 7),
        (1, STEVE, 14),
        (2, OLIVIA, 60),
    ]
    assert sorted((c.lead, into.lead) for c, into in collapsed) == [(14, 7), (30, 7)]


def test_a_nag_is_more_urgent_than_any_lead() -> None:
    chosen, _ = collapse([Row(1, OLIVIA, 1), Row(1, OLIVIA, -7)])
    assert [r.lead for r in chosen] == [-7]


def test_message_id_is_stable_and_distinct() -> None:
    a = message_id(12, date(2024, 9, 30), 30, OLIVIA, "opcc.example.org")
    assert a == message_id(12, date(2024, 9, 30), 30, OLIVIA.upper(), "opcc.example.org")
    assert a.startswith("<r12.20240930.l30.") and a.endswith("@opcc.example.org>")
    others = {
        message_id(12, date(2024, 9, 30), 14, OLIVIA, "opcc.example.org"),
        message_id(12, date(2024, 10, 31), 30, OLIVIA, "opcc.example.org"),
        message_id(12, date(2024, 9, 30), 30, STEVE, "opcc.example.org"),
        message_id(13, date(2024, 9, 30), 30, OLIVIA, "opcc.example.org"),
        message_id(12, date(2024, 9, 30), -7, OLIVIA, "opcc.example.org"),
    }
    assert a not in others and len(others) == 5


def test_retry_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [300, 600, 1200]
    assert retry_delay(30) == timedelta(hours=6)
