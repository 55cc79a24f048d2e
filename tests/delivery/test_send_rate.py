"""A sending rate the relay accepts: ``TRACKER_SMTP_MAX_PER_MINUTE`` caps the sends of all
instances sharing the database, counted in the database (``tracker.store.limiter``).

A minute-long window makes a slow test, so the two `tracker send` processes run with the
limiter's window shrunk to 5 seconds (its private constant, set in the subprocess: the
same code path) and a cap of 4: the server's arrival times never show more than 4 in
any 5-second window, and every message arrives once. The lease (5 s) is shorter than a
wait for a slot (up to 6 s): claims are renewed while waiting, or the other sender
would take them over and send them twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from delivery_support import (
    figure,
    finish,
    max_in_window,
    prepare,
    smtp_env,
    start_sender,
    wire_figures,
)
from support.processes import clean_env
from support.smtp import ThreadedSmtpServer

CAP = 4
WINDOW = 5.0


def test_max_in_window_counts_a_half_open_window() -> None:
    assert max_in_window([], 5) == 0
    assert max_in_window([0, 4.99, 5, 9.99], 5) == 2  # [0, 5) and [5, 10)
    assert max_in_window([0, 1, 2, 3, 4.9, 20], 5) == 5
    assert max_in_window([3, 0, 2, 1], 1.5) == 2  # unsorted input


@pytest.mark.slow
def test_two_senders_never_exceed_the_shared_cap_and_lose_nothing(
    db_url: str, smtp: ThreadedSmtpServer, tmp_path: Path
) -> None:
    settings = smtp_env(
        smtp,
        TRACKER_SMTP_MAX_PER_MINUTE=str(CAP),
        TRACKER_LEASE_SECONDS="5",
        TRACKER_SEND_BATCH_SIZE="4",
    )
    env = clean_env(tmp_path, **settings)
    expected = prepare(db_url, 4, env, tmp_path)

    senders = [start_sender(db_url, env, tmp_path, window=WINDOW) for _ in range(2)]
    outputs = [finish(sender) for sender in senders]

    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    counts = wire_figures(f"send rate ({backend})", expected, smtp.message_ids())
    assert len(counts) == expected and set(counts.values()) == {1}, counts
    most = max_in_window([m.at for m in smtp.messages], WINDOW)
    figure(f"send rate ({backend}): cap {CAP} per {WINDOW:g} s, most in any window {most}")
    assert most <= CAP
    # Both senders sent: the cap held across them, not within one.
    sent = [sum(line.startswith("sent ") for line in out.splitlines()) for out in outputs]
    assert min(sent) > 0, sent
    # It did wait: 16 messages at 4 per window span at least three more windows.
    times = sorted(m.at for m in smtp.messages)
    assert times[-1] - times[0] >= (expected // CAP - 1) * WINDOW, times
