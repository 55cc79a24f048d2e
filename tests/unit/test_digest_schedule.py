"""Digest periods: Monday 08:00 London by default; one catch-up, never one per missed week."""

from __future__ import annotations

from datetime import UTC, datetime, time

from tracker.domain.digest import current_period, digest_message_id

EIGHT = time(8, 0)


def test_monday_after_eight_is_this_weeks_digest() -> None:
    period = current_period(datetime(2024, 9, 2, 7, 30, tzinfo=UTC), "weekly", "monday", EIGHT)
    assert period.key == "2024-W36"
    assert period.scheduled_at == datetime(2024, 9, 2, 7, 0, tzinfo=UTC)  # 08:00 BST
    assert period.label == "week of 2 Sep 2024"


def test_monday_before_eight_is_still_last_weeks() -> None:
    period = current_period(datetime(2024, 9, 2, 6, 59, tzinfo=UTC), "weekly", "monday", EIGHT)
    assert period.key == "2024-W35"
    assert period.scheduled_at == datetime(2024, 8, 26, 7, 0, tzinfo=UTC)


def test_a_tracker_down_for_three_weeks_catches_up_only_the_latest_week() -> None:
    period = current_period(datetime(2024, 12, 4, 12, 0, tzinfo=UTC), "weekly", "monday", EIGHT)
    assert period.key == "2024-W49"
    assert period.scheduled_at == datetime(2024, 12, 2, 8, 0, tzinfo=UTC)  # 08:00 GMT


def test_daily_digests_roll_over_at_the_time() -> None:
    before = current_period(datetime(2025, 1, 15, 7, 59, tzinfo=UTC), "daily", "monday", EIGHT)
    after = current_period(datetime(2025, 1, 15, 8, 0, tzinfo=UTC), "daily", "monday", EIGHT)
    assert (before.key, after.key) == ("2025-01-14", "2025-01-15")


def test_digest_message_ids_are_stable_per_person_and_period() -> None:
    a = digest_message_id("Olivia@x.org", "2024-W36", "x.org")
    assert a == digest_message_id("olivia@x.org", "2024-W36", "x.org")
    assert a != digest_message_id("olivia@x.org", "2024-W37", "x.org")
