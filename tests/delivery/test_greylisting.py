"""A temporary failure never ends a reminder on its first try: the retry window runs from
the first attempt (``first_attempt_at``), not from the planned time.

A greylisting server (450 to the first delivery of every message, 250 after) and a
reminder planned a month before the sweep: refused once, delivered on the retry, once.
Through the real CLI (in-process, its ``--now``) on both backends.

The contract's review decision is due Monday 30 June 2025; its 90-day lead (to the
owner) was planned for Tuesday 1 April 2025 09:00.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from support.cli import in_process
from support.people import OLIVIA, STEVE
from support.smtp import Received, ThreadedSmtpServer

REF = "OPCC/2025/07"
CONTRACT = f"""contracts:
  - ref: {REF}
    title: Independent domestic violence advisers
    provider: Safer Futures CIC
    start: 2024-04-01
    end: 2027-03-31
    value: 250000
    owner: {OLIVIA}
    sponsor: {STEVE}
    milestones:
      - {{kind: review, due: 2025-06-30, title: review decision}}
"""
GREYLISTED = "450 4.7.1 Greylisted, please try again later"
#: A month after the 90-day lead was planned (1 April), before the 60-day one (1 May).
SWEEP = "2025-04-30 10:00"


class Greylist:
    """The DATA reply of a greylisting gateway: 450 the first time a Message-ID is seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refused: list[str] = []

    def __call__(self, received: Received) -> str | None:
        with self.lock:
            if received.message_id in self.refused:
                return None
            self.refused.append(received.message_id)
            return GREYLISTED


def _cli(db_url: str) -> Any:
    def run(*args: str, now: str) -> Any:
        result = in_process(["--db", db_url, "--now", now, *args])
        assert result.code == 0, result
        return result

    return run


def _setup(db_url: str, env: Any, smtp: ThreadedSmtpServer) -> tuple[Any, Greylist]:
    path = env.tmp / "contract.yaml"
    path.write_text(CONTRACT)
    cli = _cli(db_url)
    cli("import", str(path), now="2025-03-01 10:00")
    greylist = Greylist()
    smtp.data_reply = greylist
    return cli, greylist


def _attempts(cli: Any, now: str) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = json.loads(cli("show", REF, "--json", now=now).out)["reminders"]
    return history


def test_a_greylisted_reminder_planned_a_month_ago_is_delivered_on_the_retry_once(
    db_url: str, env: Any, smtp: ThreadedSmtpServer
) -> None:
    cli, greylist = _setup(db_url, env, smtp)

    first = cli("send", now=SWEEP)
    assert "Sweep done: 0 sent, 1 to retry, 0 failed." in first.out, first
    assert smtp.messages == []
    assert len(greylist.refused) == 1
    # Still planned (for the retry), not failed although planned a month ago.
    planned = json.loads(cli("reminders", "--json", now=SWEEP).out)
    tried = [(r["kind"], r["lead"], r["status"], r["attempts"]) for r in planned if r["attempts"]]
    assert tried == [("review", 90, "planned", 1)]

    # Before the retry delay (5 minutes) it is not tried again; after it, it goes.
    early = cli("send", now="2025-04-30 10:04")
    assert "Sweep done: 0 sent, 0 to retry, 0 failed." in early.out, early
    retry = cli("send", now="2025-04-30 10:06")
    assert "Sweep done: 1 sent, 0 to retry, 0 failed." in retry.out, retry

    # The server received it exactly once, the one it greylisted.
    assert Counter(smtp.message_ids()) == {greylist.refused[0]: 1}
    assert smtp.messages[0].rcpt_tos == (OLIVIA,)
    attempts = _attempts(cli, "2025-04-30 11:00")
    assert Counter((a["lead"], a["outcome"]) for a in attempts) == {
        (90, "temporary"): 1,
        (90, "sent"): 1,
    }
    assert [GREYLISTED in a["reply"] for a in attempts] == [
        a["outcome"] == "temporary" for a in attempts
    ]


def test_a_message_refused_for_five_days_from_its_first_attempt_fails_saying_so(
    db_url: str, env: Any, smtp: ThreadedSmtpServer
) -> None:
    cli, _greylist = _setup(db_url, env, smtp)
    smtp.fail_data("451 4.3.0 Mail server temporarily rejected message", times=None)

    # (Between the 90-day lead and the 60-day one of 1 May, which would supersede it.)
    cli("send", now="2025-04-02 10:00")
    # Just under five days after the first attempt: retried, still planned.
    almost = cli("send", now="2025-04-07 09:59")
    assert "Sweep done: 0 sent, 1 to retry, 0 failed." in almost.out, almost
    # Its retry (10 minutes later) is over five days after the first attempt: given up,
    # saying how often and over how long.
    last = cli("send", now="2025-04-07 10:10")
    assert "Sweep done: 0 sent, 0 to retry, 1 failed." in last.out, last
    failed = json.loads(cli("reminders", "--failed", "--json", now="2025-04-08 10:00").out)
    assert [r["last_reply"] for r in failed] == [
        "gave up after 3 attempts over 5 days: 451 4.3.0 Mail server temporarily rejected message"
    ]
    assert smtp.messages == []
