"""Two `tracker send` processes on one PostgreSQL database with 2,000 reminders due and a
real SMTP server: each reminder is sent once; and when one process is killed mid-batch,
its orphaned claims are taken over once the lease has run out, resent with the same
Message-ID, and recorded sent exactly once.

The data (conftest ``due_2000``): 125 contracts, each with 8 decisions due Monday 10
March 2025, owner and sponsor; a sweep at 09:00 on 3 March sends one message per
decision and person (the 7-day lead, the missed leads collapsed into it): 2,000.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prod_support import DUE_COUNT, OWNER, SPONSOR, T
from support.postgres import clone_database, pg_server, server_url, sql
from support.processes import clean_env, kill_when, run_tracker, tracker_argv
from support.smtp import ThreadedSmtpServer

pytestmark = pytest.mark.slow

#: Later than T + the default lease (300 s): the killed process's claims have run out.
AFTER_LEASE = "2025-03-03 09:10"


def _sent_by_instance(url: str) -> Counter[str]:
    rows = sql(
        url,
        "SELECT instance, count(*) AS n FROM delivery_attempts "
        "WHERE outcome = 'sent' AND reminder_id IS NOT NULL GROUP BY instance",
    )
    return Counter({r["instance"]: r["n"] for r in rows})


def _assert_sent_exactly_once(url: str, server_ids: list[str]) -> list[dict[str, Any]]:
    """The database: DUE_COUNT reminders sent, each with exactly one `sent` attempt, and
    their Message-IDs are exactly those the server received."""
    statuses = {
        r["status"]: r["n"]
        for r in sql(url, "SELECT status, count(*) AS n FROM reminders GROUP BY status")
    }
    assert statuses.get("sent") == DUE_COUNT, statuses
    assert statuses.get("sending", 0) == 0, statuses
    assert statuses.get("failed", 0) == 0, statuses
    sent = sql(
        url,
        "SELECT r.id, r.message_id, r.claimed_by, r.recipient, "
        "  count(a.id) FILTER (WHERE a.outcome = 'sent') AS sent_attempts, "
        "  min(a.instance) FILTER (WHERE a.outcome = 'sent') AS sent_by "
        "FROM reminders r LEFT JOIN delivery_attempts a ON a.reminder_id = r.id "
        "WHERE r.status = 'sent' GROUP BY r.id",
    )
    assert len(sent) == DUE_COUNT
    assert Counter(r["sent_attempts"] for r in sent) == {1: DUE_COUNT}
    assert len({r["message_id"] for r in sent}) == DUE_COUNT
    assert {r["message_id"] for r in sent} == set(server_ids)
    # The instance that recorded the send holds the row.
    assert all(r["sent_by"] == r["claimed_by"] for r in sent)
    return sent


@dataclass(frozen=True)
class TwoSenders:
    url: str
    ids: list[str]
    recipients: Counter[tuple[str, ...]]
    outputs: list[tuple[int, int, str, str]]  # pid, exit code, stdout, stderr
    seconds: float


@pytest.fixture(scope="module")
def two_senders(
    _template_2000: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TwoSenders | None]:
    """Two `tracker send` processes started together on a copy of the 2,000-due
    database, run once for this module's tests (None without a PostgreSQL server: the
    tests' ``pg_url`` then fails or skips)."""
    if _template_2000 is None:
        yield None
        return
    server = pg_server()
    assert server is not None
    name = f"tracker_two_{uuid.uuid4().hex}"
    clone_database(server, name, _template_2000)
    url = server_url(server, name)
    home = tmp_path_factory.mktemp("two-senders")
    try:
        with ThreadedSmtpServer() as smtp:
            env = clean_env(
                home,
                TRACKER_SMTP_HOST=smtp.host,
                TRACKER_SMTP_PORT=str(smtp.port),
                TRACKER_SMTP_SECURITY="none",
                TRACKER_SMTP_TIMEOUT="30",
                TRACKER_SEND_BATCH_SIZE="50",
            )
            started = time.monotonic()
            processes = [
                subprocess.Popen(
                    tracker_argv(url, "send", now=T),
                    env=env,
                    cwd=home,
                    text=True,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                for _ in range(2)
            ]
            outputs = []
            for p in processes:
                out, err = p.communicate(timeout=300)
                outputs.append((p.pid, p.returncode, out, err))
            elapsed = time.monotonic() - started
            yield TwoSenders(
                url,
                smtp.message_ids(),
                Counter(m.rcpt_tos for m in smtp.messages),
                outputs,
                elapsed,
            )
    finally:
        sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_send_processes_share_2000_reminders_and_send_each_once(
    pg_url: str, two_senders: TwoSenders | None, tmp_path: Path
) -> None:
    assert two_senders is not None
    run = two_senders
    for _pid, code, out, err in run.outputs:
        assert code == 0, (out[-2000:], err[-2000:])
        assert "Traceback" not in err, err[-2000:]

    # The server: 2,000 messages, each Message-ID once, one per decision and person.
    assert len(run.ids) == DUE_COUNT, f"{len(run.ids)} messages in {run.seconds:.0f}s"
    assert [i for i, n in Counter(run.ids).items() if n > 1] == []
    assert run.recipients == {(OWNER,): DUE_COUNT // 2, (SPONSOR,): DUE_COUNT // 2}

    # The database: each reminder sent exactly once, by one of the two.
    _assert_sent_exactly_once(run.url, run.ids)
    by_instance = _sent_by_instance(run.url)
    assert len(by_instance) == 2, by_instance
    assert all(n > 0 for n in by_instance.values()), by_instance
    assert sum(by_instance.values()) == DUE_COUNT
    # Each process's own report agrees with what the database says it sent.
    reported = {
        str(pid): sum(1 for line in out.splitlines() if line.startswith("sent "))
        for pid, _, out, _ in run.outputs
    }
    assert {name.split(":")[1]: n for name, n in by_instance.items()} == reported

    # Nothing more to send: a repeat sweep (no SMTP server needed) finds nothing.
    home = tmp_path / "home"
    home.mkdir()
    again = run_tracker(
        run.url, "send", env=clean_env(home, TRACKER_SMTP_HOST="127.0.0.1",
        TRACKER_SMTP_PORT="1", TRACKER_SMTP_SECURITY="none"), cwd=tmp_path, now=T,
    )  # fmt: skip
    assert again.code == 0, again
    assert "Sweep done: 0 sent, 0 to retry, 0 failed." in again.out, again


def test_the_sent_history_lists_all_2000_sends(
    pg_url: str, two_senders: TwoSenders | None, tmp_path: Path
) -> None:
    assert two_senders is not None
    assert len(set(two_senders.ids)) == DUE_COUNT
    home = tmp_path / "home"
    home.mkdir()
    history = run_tracker(
        two_senders.url, "reminders", "--sent", "--json", env=clean_env(home),
        cwd=tmp_path, now="2025-03-04 12:00",
    )  # fmt: skip
    assert history.code == 0, history
    rows = json.loads(history.out)
    assert sorted(r["message_id"] for r in rows) == sorted(two_senders.ids)


#: Rows a process ($1: its claim name pattern) left claimed, with a lease running.
ORPHANS = (
    "SELECT id, message_id, claimed_by, lease_until FROM reminders "
    "WHERE status = 'sending' AND claimed_by LIKE $1"
)


def test_a_send_process_killed_mid_batch_loses_nothing_and_duplicates_at_most_its_inflight_message(
    due_2000: str, smtp: Any, tracker: Any
) -> None:
    def start() -> Any:
        return tracker.popen(
            due_2000,
            "send",
            now=T,
            extra_env={"TRACKER_SEND_BATCH_SIZE": "50"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    victim, survivor = start(), start()
    mine = f"%:{victim.pid}:%"

    # Kill the victim once 300 messages are in and it holds a batch with several unsent.
    def holding() -> bool:
        if len(smtp.messages) < 300:
            return False
        rows = sql(
            due_2000,
            "SELECT count(*) AS n FROM reminders WHERE status = 'sending' AND claimed_by LIKE $1",
            mine,
        )
        return rows[0]["n"] >= 5

    kill_when(victim, holding, 300, "300 messages and the victim holding a batch of claims")
    assert victim.returncode == -signal.SIGKILL
    at_kill = len(smtp.messages)
    time.sleep(0.5)  # the server notices the dead client; its open transaction rolls back

    # Orphans: rows the dead process left claimed ("sending") with a running lease.
    orphans = sql(due_2000, ORPHANS, mine)
    assert orphans, "the victim held no claims when killed"
    victim_name = orphans[0]["claimed_by"]
    assert {o["claimed_by"] for o in orphans} == {victim_name}
    orphan_ids = {o["id"] for o in orphans}
    orphan_message_ids = {o["message_id"] for o in orphans}

    # At most the victim's in-flight message of the orphans reached the server.
    assert len(orphan_message_ids - set(smtp.message_ids())) >= len(orphans) - 1

    # The survivor (whose clock, T, is within the lease) finishes and leaves the orphans
    # alone; then a third sweep whose clock is past the lease takes the orphans over.
    # (Not both at once: to a clock past the lease, the survivor's own claims of the
    # moment look abandoned too, exactly like the orphans, and could be taken over
    # while it sends them. Instances sharing a clock never see that; a lease is only
    # ever past when its holder has stopped.)
    def finish(process: Any) -> None:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, (out[-2000:], err[-2000:])
        assert "Traceback" not in err, err[-2000:]

    finish(survivor)
    assert {o["id"] for o in sql(due_2000, ORPHANS, mine)} == orphan_ids  # left alone
    third = tracker.popen(
        due_2000,
        "send",
        now=AFTER_LEASE,
        extra_env={"TRACKER_SEND_BATCH_SIZE": "50"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    finish(third)

    ids = smtp.message_ids()
    assert len(set(ids)) == DUE_COUNT, f"{len(set(ids))} distinct ({at_kill} at the kill)"
    duplicates = {i: n for i, n in Counter(ids).items() if n > 1}
    # At least once at SMTP: only the message in flight at the kill may arrive twice,
    # with the same Message-ID (and the same content) both times.
    assert len(duplicates) <= 1, duplicates
    assert all(n == 2 for n in duplicates.values()), duplicates
    for message_id in duplicates:
        assert message_id in orphan_message_ids
        copies = [m for m in smtp.messages if m.message_id == message_id]
        assert copies[0].rcpt_tos == copies[1].rcpt_tos
        assert copies[0].subject == copies[1].subject

    # ... and exactly once in the database.
    sent = _assert_sent_exactly_once(due_2000, ids)
    taken_over = [r for r in sent if r["id"] in orphan_ids]
    assert len(taken_over) == len(orphans)
    by_instance = _sent_by_instance(due_2000)
    names = {name.split(":")[1]: name for name in by_instance}
    assert set(names) == {str(p.pid) for p in (victim, survivor, third)}, by_instance
    assert {r["sent_by"] for r in taken_over} == {names[str(third.pid)]}, taken_over[:3]
    assert by_instance[victim_name] > 0, by_instance  # it sent some before it died
    assert sum(by_instance.values()) == DUE_COUNT
