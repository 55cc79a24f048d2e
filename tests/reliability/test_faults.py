"""Faults at the sweep level, through the real CLI: mail servers that misbehave, an outbox
folder that cannot be written, a read-only or locked database.

``tests/mail/test_transport.py`` checks each SMTP fault's classification at transport
level; here each is a whole ``tracker send`` against a real server, with its expected
outcome written down, and the history (``delivery_attempts``, ``tracker show --json``,
``tracker reminders --sent/--failed --json``) must show every attempt.

One contract, owner olivia and sponsor steve, two decisions (review, custom) due Monday
30 June 2025: a sweep at 09:00 on Monday 23 June sends lead 7 of each to both -- four
messages. A temporary failure is retried with backoff (5 minutes): not on an immediate
re-run, but an hour later.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reliability_support import FIGURES, Tally, account, expected_ids, outbox_ids
from support.cli import dump
from support.people import OLIVIA, STEVE
from support.smtp import RawServer

REF = "FLT-1"
AT = "2025-06-23 09:00"
LATER = "2025-06-23 10:00"
SWEEP = "Sweep done: {sent} sent, {retry} to retry, {failed} failed."


def _setup(env: Any, tracker_cli: Any) -> None:
    path = env.tmp / "c.yaml"
    path.write_text(
        "contracts:\n"
        f"  - ref: {REF}\n    title: Refuge accommodation\n    provider: Refuge Ltd\n"
        "    start: 2024-04-01\n    end: 2027-03-31\n"
        f"    owner: {OLIVIA}\n    sponsor: {STEVE}\n    milestones:\n"
        "      - {kind: review, due: 2025-06-30}\n      - {kind: custom, due: 2025-06-30}\n"
    )
    result = tracker_cli("import", str(path), now="2025-03-01 10:00")
    assert result.code == 0, result


def _sweep(tracker_cli: Any, now: str, *, sent: int, retry: int = 0, failed: int = 0) -> Any:
    result = tracker_cli("send", now=now)
    assert result.code == 0, result
    assert "Traceback" not in result.err
    assert SWEEP.format(sent=sent, retry=retry, failed=failed) in result.out, result
    return result


def _attempts(env: Any) -> list[tuple[str, str, str, str]]:
    """(recipient, kind, outcome, reply) of every attempt, oldest first."""
    with sqlite3.connect(env.db_path) as db:
        rows = db.execute(
            "SELECT r.recipient, m.kind, a.outcome, a.reply FROM delivery_attempts a"
            " JOIN reminders r ON r.id = a.reminder_id JOIN milestones m ON m.id = r.milestone_id"
            " ORDER BY a.id"
        ).fetchall()
    return [tuple(row) for row in rows]


def _history(env: Any, tracker_cli: Any) -> None:
    """``show --json`` lists exactly the attempts in the database; --sent the sent ones."""
    attempts = _attempts(env)
    shown = json.loads(tracker_cli("show", REF, "--json", now=LATER).out)["reminders"]
    assert Counter((h["recipient"], h["outcome"]) for h in shown) == Counter(
        (a[0], a[2]) for a in attempts
    )
    sent = json.loads(tracker_cli("reminders", "--sent", "--json", now=LATER).out)
    assert len(sent) == sum(1 for a in attempts if a[2] == "sent")
    assert len({h["message_id"] for h in sent}) == len(sent), "a reminder recorded sent twice"


def _outcomes(env: Any) -> Counter[str]:
    return Counter(a[2] for a in _attempts(env))


def _fixed(env: Any, smtp: Any) -> None:
    env.set("TRACKER_SMTP_HOST", smtp.host)
    env.set("TRACKER_SMTP_PORT", str(smtp.port))


def _expected(env: Any, *, recipients: tuple[str, ...] = (OLIVIA, STEVE)) -> set[str]:
    """The Message-IDs of lead 7 of both decisions to ``recipients``."""
    keys = [(REF, kind, person, 7) for kind in ("review", "custom") for person in recipients]
    return expected_ids(env.db_path, keys)


def _replies(env: Any, text: str) -> int:
    """Attempts whose recorded reply contains ``text``: evidence a fault happened."""
    return sum(text in a[3] for a in _attempts(env))


def _four_delivered(env: Any, smtp: Any) -> None:
    ids = smtp.message_ids()
    assert len(ids) == 4 and len(set(ids)) == 4, ids
    assert Counter(m.rcpt_tos for m in smtp.messages) == {(OLIVIA,): 2, (STEVE,): 2}
    assert account(env.db_path, expected=_expected(env), wire=ids) == Tally.clean(4)


# --------------------------------------------------------------------------- SMTP faults


def greet_421(conn: socket.socket) -> None:
    conn.sendall(b"421 4.3.2 Service not available, closing transmission channel\r\n")


def never_answer(conn: socket.socket) -> None:
    while conn.recv(1024):
        pass


def test_421_at_connect_retries_everything_then_delivers(
    env: Any, smtp: Any, tracker_cli: Any, raw_smtp: Callable[..., RawServer]
) -> None:
    """Expected: all four retried (reply 421), the server not hammered; an hour later,
    with the server back, all four delivered; each has two attempts."""
    _setup(env, tracker_cli)
    server = raw_smtp(greet_421)
    env.set("TRACKER_SMTP_PORT", str(server.port))
    _sweep(tracker_cli, AT, sent=0, retry=4)
    assert 1 <= server.connections <= 2
    assert _outcomes(env) == {"temporary": 4}
    assert all(a[3].startswith("421 4.3.2") for a in _attempts(env))
    FIGURES.faults(happened=server.connections)  # each connection was greeted with 421
    _fixed(env, smtp)
    _sweep(tracker_cli, AT, sent=0)  # backoff: not yet
    _sweep(tracker_cli, LATER, sent=4)
    assert _outcomes(env) == {"temporary": 4, "sent": 4}
    _history(env, tracker_cli)
    _four_delivered(env, smtp)


def test_451_on_rcpt_is_retried_then_delivered(env: Any, smtp: Any, tracker_cli: Any) -> None:
    """Expected: the first two recipients greylisted (451, retried), the other two sent;
    an hour later the two go; six attempts."""
    _setup(env, tracker_cli)
    smtp.fail_rcpt("451 4.7.1 Greylisted, try again later", times=2)
    _sweep(tracker_cli, AT, sent=2, retry=2)
    assert len(smtp.refused) == 2
    FIGURES.faults(happened=len(smtp.refused))
    _sweep(tracker_cli, LATER, sent=2)
    assert _outcomes(env) == {"temporary": 2, "sent": 4}
    assert sum("451 4.7.1 Greylisted" in a[3] for a in _attempts(env)) == 2
    _history(env, tracker_cli)
    _four_delivered(env, smtp)


def test_452_too_many_recipients_is_retried_then_delivered(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    """Expected: one message gets 452 (temporary), three go; it goes an hour later."""
    _setup(env, tracker_cli)
    smtp.fail_rcpt("452 4.5.3 Too many recipients", times=1)
    _sweep(tracker_cli, AT, sent=3, retry=1)
    assert len(smtp.refused) == 1
    FIGURES.faults(happened=len(smtp.refused))
    _sweep(tracker_cli, LATER, sent=1)
    assert _outcomes(env) == {"temporary": 1, "sent": 4}
    assert [a[3] for a in _attempts(env) if a[2] == "temporary"] == [
        "452 4.5.3 Too many recipients"
    ]
    _history(env, tracker_cli)
    _four_delivered(env, smtp)


def test_550_on_one_recipient_fails_it_and_the_others_get_theirs(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    """Expected: steve's two fail for good with the server's reply (listed by --failed,
    never retried); olivia gets both of hers."""
    _setup(env, tracker_cli)
    reply = f"550 5.1.1 <{STEVE}>: Recipient address rejected: User unknown"
    smtp.fail_rcpt(reply, recipient=STEVE, times=None)
    _sweep(tracker_cli, AT, sent=2, failed=2)
    _sweep(tracker_cli, LATER, sent=0)
    assert len(smtp.refused) == 2
    FIGURES.faults(happened=len(smtp.refused))
    assert Counter(m.rcpt_tos for m in smtp.messages) == {(OLIVIA,): 2}
    failed = json.loads(tracker_cli("reminders", "--failed", "--json", now=LATER).out)
    assert {(r["recipient"], r["last_reply"]) for r in failed} == {(STEVE, reply)}
    assert len(failed) == 2
    assert _outcomes(env) == {"permanent": 2, "sent": 2}
    _history(env, tracker_cli)
    olivia = _expected(env, recipients=(OLIVIA,))
    assert account(env.db_path, expected=olivia, wire=smtp.message_ids()) == Tally.clean(2)


def test_552_message_too_big_fails_that_message_only(env: Any, smtp: Any, tracker_cli: Any) -> None:
    """Expected: the first message is refused for good (552), the other three go."""
    _setup(env, tracker_cli)
    smtp.fail_data("552 5.3.4 Message size exceeds fixed limit", times=1)
    _sweep(tracker_cli, AT, sent=3, failed=1)
    _sweep(tracker_cli, LATER, sent=0)
    assert len(smtp.refused) == 1
    FIGURES.faults(happened=len(smtp.refused))
    assert _outcomes(env) == {"permanent": 1, "sent": 3}
    failed = json.loads(tracker_cli("reminders", "--failed", "--json", now=LATER).out)
    assert [r["last_reply"] for r in failed] == ["552 5.3.4 Message size exceeds fixed limit"]
    _history(env, tracker_cli)
    assert len(set(smtp.message_ids())) == 3
    refused = {r["message_id"] for r in failed}
    three = _expected(env) - refused
    assert len(refused) == 1 and len(three) == 3, refused
    assert account(env.db_path, expected=three, wire=smtp.message_ids()) == Tally.clean(3)


def test_drop_before_the_final_reply_is_retried_with_the_same_message_id(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    """Expected: the message whose DATA reply never came is retried (it may have
    arrived: SMTP cannot tell), the batch reconnects for the rest; an hour later it goes
    with the same Message-ID; five attempts."""
    _setup(env, tracker_cli)
    smtp.drop_data(times=1)
    _sweep(tracker_cli, AT, sent=3, retry=1)
    dropped = smtp.dropped
    assert len(dropped) == 1
    FIGURES.faults(happened=len(dropped))
    _sweep(tracker_cli, LATER, sent=1)
    assert dropped[0].message_id in smtp.message_ids()
    assert _outcomes(env) == {"temporary": 1, "sent": 4}
    _history(env, tracker_cli)
    _four_delivered(env, smtp)


def test_a_server_that_hangs_times_out_quickly_and_is_retried(
    env: Any, smtp: Any, tracker_cli: Any, raw_smtp: Callable[..., RawServer]
) -> None:
    """Expected (TRACKER_SMTP_TIMEOUT=1): the sweep gives up after at most two silent
    connections, all four retried with a "timed out" reply; delivered when it is back."""
    _setup(env, tracker_cli)
    server = raw_smtp(never_answer)
    env.set("TRACKER_SMTP_PORT", str(server.port))
    env.set("TRACKER_SMTP_TIMEOUT", "1")
    started = time.monotonic()
    _sweep(tracker_cli, AT, sent=0, retry=4)
    assert time.monotonic() - started < 8
    assert 1 <= server.connections <= 2
    assert _outcomes(env) == {"temporary": 4}
    assert _replies(env, "timed out after 1s") == 4
    FIGURES.faults(happened=server.connections)  # each connection left unanswered
    _fixed(env, smtp)
    _sweep(tracker_cli, LATER, sent=4)
    _history(env, tracker_cli)
    _four_delivered(env, smtp)


def test_no_server_is_retried_then_delivered(
    env: Any, smtp: Any, tracker_cli: Any, closed_port: int
) -> None:
    """Expected: connection refused, all four retried; delivered when the server is up."""
    _setup(env, tracker_cli)
    env.set("TRACKER_SMTP_PORT", str(closed_port))
    _sweep(tracker_cli, AT, sent=0, retry=4)
    assert _outcomes(env) == {"temporary": 4}
    assert _replies(env, "connection refused") == 4
    FIGURES.faults(happened=1)  # the sweep met a refused connection (its replies say so)
    _fixed(env, smtp)
    _sweep(tracker_cli, LATER, sent=4)
    _history(env, tracker_cli)
    _four_delivered(env, smtp)


# ------------------------------------------------------------------ disk and database


def test_an_unwritable_outbox_is_retried_and_resumes_when_fixed(
    env: Any, smtp: Any, tracker_cli: Any, tmp_path: Path
) -> None:
    """No SMTP host: the outbox folder. Under a regular file it cannot be created (root
    ignores permissions, not file types): every message retried, each attempt recorded;
    once the setting points at a real folder, all four are written."""
    _setup(env, tracker_cli)
    env.unset("TRACKER_SMTP_HOST")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file\n")
    env.set("TRACKER_OUTBOX_DIR", str(blocker / "outbox"))
    _sweep(tracker_cli, AT, sent=0, retry=4)
    assert _outcomes(env) == {"temporary": 4}
    assert _replies(env, "cannot write") == 4
    FIGURES.faults(happened=_replies(env, "cannot write"))  # each write failed
    assert blocker.read_text() == "a regular file\n"
    outbox = tmp_path / "outbox"
    env.set("TRACKER_OUTBOX_DIR", str(outbox))
    _sweep(tracker_cli, LATER, sent=4)
    assert len(list(outbox.glob("*.eml"))) == 4
    assert not list(outbox.glob(".*.tmp"))
    assert smtp.messages == []
    _history(env, tracker_cli)
    wire = outbox_ids(outbox)
    assert account(env.db_path, expected=_expected(env), wire=wire) == Tally.clean(4)


def _one_line(result: Any) -> str:
    assert result.code == 1, result
    assert "Traceback" not in result.err + result.out, result
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1, result
    return str(result.err).rstrip("\n")


def test_a_read_only_database_is_one_line_writes_nothing_and_resumes(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _setup(env, tracker_cli)
    before = dump(env.db_path)
    read_only = f"sqlite+aiosqlite:///file:{env.db_path}?mode=ro&uri=true"
    for args in (
        ("send",),
        ("cost", "add", REF, "--year", "2025/26", "--amount", "5"),
        ("milestone", "done", REF, "review"),
        ("recipient", "set", OLIVIA, "--digest", "off"),
    ):
        result = tracker_cli("--db", read_only, *args, now=AT)
        line = _one_line(result)
        assert "read-only" in line and "nothing was written" in line, line
        assert dump(env.db_path) == before
        FIGURES.faults(happened=1)  # the command met the read-only database
    assert smtp.messages == []
    _sweep(tracker_cli, AT, sent=4)
    _history(env, tracker_cli)
    _four_delivered(env, smtp)


@contextmanager
def locked(db_path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction: the write lock held until the block ends."""
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_database_locked_beyond_the_busy_timeout_is_one_line_then_works(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _setup(env, tracker_cli)
    env.set("TRACKER_SQLITE_BUSY_TIMEOUT_MS", "300")
    cost = ("cost", "add", REF, "--year", "2026/27", "--amount", "5")
    before = dump(env.db_path)
    with locked(env.db_path):
        started = time.monotonic()
        line = _one_line(tracker_cli(*cost, now=AT))
        waited = time.monotonic() - started
        assert "locked" in line or "busy" in line, line
        assert waited >= 0.3, "it did not wait for the busy timeout"
        assert dump(env.db_path) == before
        FIGURES.faults(happened=1)  # the write met the lock
        line = _one_line(tracker_cli("send", now=AT))
        assert "locked" in line or "busy" in line, line
        assert smtp.messages == []
        FIGURES.faults(happened=1)  # so did the sweep
    assert dump(env.db_path) == before
    assert tracker_cli(*cost, now=AT).code == 0
    _sweep(tracker_cli, AT, sent=4)
    _history(env, tracker_cli)
    _four_delivered(env, smtp)


def test_a_lock_taken_mid_sweep_loses_no_reminder_and_records_none_twice(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    """The database is locked while the server accepts the second message, so the sweep
    cannot record it: one error line. Once the lock is gone and the lease has run out,
    the next sweep sends the rest, that message again with the same Message-ID; the
    database records each reminder sent once."""
    _setup(env, tracker_cli)
    env.set("TRACKER_SQLITE_BUSY_TIMEOUT_MS", "300")
    holder: list[sqlite3.Connection] = []
    taken = threading.Event()

    def lock_on_second(received: Any) -> None:
        if len(smtp.messages) == 2 and not taken.is_set():
            other = sqlite3.connect(env.db_path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            holder.append(other)
            taken.set()

    smtp.on_data = lock_on_second
    try:
        line = _one_line(tracker_cli("send", now=AT))
        assert "busy" in line, line
    finally:
        smtp.on_data = None
        for other in holder:
            other.execute("ROLLBACK")
            other.close()
    assert taken.is_set()
    assert len(smtp.messages) == 2
    FIGURES.faults(happened=1)  # the lock was taken mid-sweep and the sweep met it
    _sweep(tracker_cli, "2025-06-23 09:30", sent=3)  # lease (300 s) over: 2 left + 1 again
    ids = smtp.message_ids()
    assert len(ids) == 5 and len(set(ids)) == 4
    assert Counter(ids).most_common(1)[0][0] == ids[1]  # the unrecorded one, resent
    sent = json.loads(tracker_cli("reminders", "--sent", "--json", now=LATER).out)
    assert sorted(h["message_id"] for h in sent) == sorted(set(ids))
    resent = account(env.db_path, expected=_expected(env), wire=ids)
    assert resent == Tally.clean(4, duplicated_on_wire=1)  # at least once at SMTP
