"""The failed reply's words: attempts and span in correct English, at each unit's edges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tracker.domain.delivery import gave_up, span_words

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (0 * S, "less than a minute"),
        (29 * S, "less than a minute"),
        (30 * S, "less than a minute"),  # never "0 minutes"
        (31 * S, "1 minute"),
        (90 * S, "2 minutes"),
        (M, "1 minute"),
        (2 * M, "2 minutes"),
        (59 * M, "59 minutes"),
        (59 * M + 29 * S, "59 minutes"),
        (59 * M + 31 * S, "1 hour"),
        (H, "1 hour"),
        (H + 29 * M, "1 hour"),
        (H + 31 * M, "2 hours"),
        (47 * H, "47 hours"),
        (47 * H + 31 * M, "2 days"),
        (2 * D, "2 days"),
        (5 * D, "5 days"),
        (5 * D - 3 * H, "5 days"),
        (120 * H, "5 days"),
        (30 * D, "30 days"),
    ],
)
def test_span_words_rounds_to_the_unit_a_person_would_use(span: timedelta, words: str) -> None:
    assert span_words(span) == words


def test_one_attempt_names_no_span() -> None:
    assert gave_up(1, timedelta(0), "450 try later") == "gave up after 1 attempt: 450 try later"
    assert gave_up(1, 3 * D, "450 x") == "gave up after 1 attempt: 450 x"


def test_several_attempts_name_their_span_in_the_plural() -> None:
    assert gave_up(2, 5 * M, "451 busy") == "gave up after 2 attempts over 5 minutes: 451 busy"
    assert (
        gave_up(14, 5 * D + 2 * H, "450 greylisted")
        == "gave up after 14 attempts over 5 days: 450 greylisted"
    )
    assert gave_up(3, H, "r") == "gave up after 3 attempts over 1 hour: r"
