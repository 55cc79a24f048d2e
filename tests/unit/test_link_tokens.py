"""Signed link tokens: one purpose each, expiry at the reader's moment, nothing readable
as another link."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tracker.web.tokens import ACTIONS, Link, LinkRefused, Purpose, issue, redact, verify

KEY = "k" * 32
SENT = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
DONE = Link(Purpose.DONE, "olivia@example.org", SENT, milestone_id=42, due=date(2024, 9, 30))


def test_round_trip_keeps_what_the_email_was_about() -> None:
    token = issue(KEY, DONE)
    assert verify(KEY, token, ACTIONS, now=SENT + timedelta(days=3), valid_days=60) == DONE


def test_expiry_is_measured_at_the_readers_moment() -> None:
    token = issue(KEY, DONE)
    assert verify(KEY, token, ACTIONS, now=SENT + timedelta(days=59), valid_days=60)
    with pytest.raises(LinkRefused) as refused:
        verify(KEY, token, ACTIONS, now=SENT + timedelta(days=61), valid_days=60)
    assert refused.value.expired


@pytest.mark.parametrize(
    "purposes", [(Purpose.SNOOZE,), (Purpose.DIGEST,)], ids=["snooze", "digest"]
)
def test_a_token_is_for_its_own_purpose_only(purposes: tuple[Purpose, ...]) -> None:
    with pytest.raises(LinkRefused):
        verify(KEY, issue(KEY, DONE), purposes, now=SENT, valid_days=60)


def test_another_key_or_a_changed_token_is_refused() -> None:
    token = issue(KEY, DONE)
    with pytest.raises(LinkRefused):
        verify("x" * 32, token, ACTIONS, now=SENT, valid_days=60)
    for bad in (token[:-1], token + "A", token.replace(".", "", 1), "", "...."):
        with pytest.raises(LinkRefused):
            verify(KEY, bad, ACTIONS, now=SENT, valid_days=60)


def test_redacted_token_shows_nothing_of_it() -> None:
    token = issue(KEY, DONE)
    shown = redact(token)
    assert len(shown) < 16 and shown[1:] not in token and token[:6] not in shown
    assert redact(token) == shown != redact(issue(KEY, Link(Purpose.SNOOZE, "o@x.org", SENT)))
