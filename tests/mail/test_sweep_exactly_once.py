"""Exactly once, where processes are the point: two `tracker send` processes at once on
one SQLite file, and a process killed between the server's 250 and its database commit.

Every contract here belongs to olivia (owner) with steve (sponsor). Its manual decisions
are due Monday 10 March 2025; a sweep at 09:00 on Monday 3 March finds every lead from 90
to 7 days due (nothing ran before), and sends one message per decision and person: the
7-day lead, the others collapsed into it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

from support.people import OLIVIA, STEVE
from support.smtp import Received, reminder_key

T = "2025-03-03 09:00"
KINDS = ("procurement", "review", "custom")


def _write_contracts(env: Any, count: int) -> str:
    lines = ["contracts:"]
    for n in range(count):
        lines += [
            f"  - ref: OPCC/2025/{n:02d}",
            f"    title: Victim services lot {n}",
            "    provider: Safer Futures CIC",
            "    start: 2024-04-01",
            "    end: 2027-03-31",
            "    value: 120000",
            f"    owner: {OLIVIA}",
            f"    sponsor: {STEVE}",
            "    milestones:",
            *(f"      - {{kind: {kind}, due: 2025-03-10, title: {kind} {n}}}" for kind in KINDS),
        ]
    path = env.tmp / "contracts.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _setup(env: Any, tracker_cli: Any, contracts: int) -> int:
    """Import the contracts; the number of messages a sweep at T must send."""
    result = tracker_cli("import", _write_contracts(env, contracts), now="2024-12-01 10:00")
    assert result.code == 0, result
    expected = contracts * len(KINDS) * 2  # owner and sponsor (lead 7 <= escalation 14)
    dry = tracker_cli("send", "--dry-run", now=T)
    assert dry.code == 0, dry
    assert f"{expected} messages due" in dry.out, dry
    return expected


def _tracker(env: Any, now: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "tracker", "--db", env.db_url, "--now", now, *args]


def _sent_history(tracker_cli: Any) -> list[dict[str, Any]]:
    result = tracker_cli("reminders", "--sent", "--json", now="2025-03-04 12:00")
    assert result.code == 0, result
    rows: list[dict[str, Any]] = json.loads(result.out)
    return rows


def _duplicates(values: list[str]) -> dict[str, int]:
    return {value: n for value, n in Counter(values).items() if n > 1}


def test_two_sweeps_at_once_send_each_reminder_once(env: Any, smtp: Any, tracker_cli: Any) -> None:
    expected = _setup(env, tracker_cli, contracts=10)
    assert expected == 60
    # Small batches and a server taking 20 ms per message, so the two processes overlap
    # and take turns claiming instead of one taking all.
    smtp.data_delay = 0.02
    child_env = env.subprocess_env(TRACKER_SEND_BATCH_SIZE="4")
    processes = [
        subprocess.Popen(
            _tracker(env, T, "send"),
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, (out, err)
        assert "Traceback" not in err, err

    ids = smtp.message_ids()
    assert _duplicates(ids) == {}
    assert len(ids) == expected
    # Each sweep reports what it sent; together, everything, once.
    reported = [
        sum(1 for line in out.splitlines() if line.startswith("sent ")) for out, _ in outputs
    ]
    assert sum(reported) == expected, outputs
    assert all(reported), f"one sweep sent everything ({reported}): they did not overlap"

    history = _sent_history(tracker_cli)
    assert len(history) == expected
    assert sorted(h["message_id"] for h in history) == sorted(ids)
    # One message per (decision, person), the most urgent lead (7), the rest collapsed.
    keys = [reminder_key(i) for i in ids]
    assert {k[2] for k in keys} == {7}
    assert Counter(m.rcpt_tos for m in smtp.messages) == {(OLIVIA,): 30, (STEVE,): 30}

    # A repeat sweep, at once or an hour later, finds nothing more to send.
    for now in (T, "2025-03-03 10:00"):
        again = tracker_cli("send", now=now)
        assert again.code == 0, again
        assert "Sweep done: 0 sent, 0 to retry, 0 failed." in again.out, again
    assert len(smtp.messages) == expected
    assert len(_sent_history(tracker_cli)) == expected


def test_crash_between_smtp_acceptance_and_commit_resends_with_the_same_message_id(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    expected = _setup(env, tracker_cli, contracts=2)
    assert expected == 12
    env.set("TRACKER_LEASE_SECONDS", "5")

    pid: list[int] = []
    pid_known = threading.Event()
    stopped = threading.Event()

    def freeze_the_sender(message: Received) -> None:
        # Runs in the server thread when the first message is accepted, before its 250:
        # the sender can no longer read the reply, let alone commit "sent".
        if stopped.is_set():
            return
        assert pid_known.wait(10), "the test never told the server the sender's pid"
        os.kill(pid[0], signal.SIGSTOP)
        stopped.set()

    smtp.on_data = freeze_the_sender
    process = subprocess.Popen(
        _tracker(env, T, "send"),
        env=env.subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pid.append(process.pid)
    pid_known.set()
    try:
        assert stopped.wait(30), "the sender never reached DATA"
        time.sleep(0.2)  # the server writes its "250" to a process that cannot read it
    finally:
        process.kill()  # SIGKILL: it dies between the server's 250 and its commit
        process.communicate(timeout=10)
    smtp.on_data = None
    assert process.returncode == -signal.SIGKILL

    delivered_once = smtp.message_ids()
    assert len(delivered_once) == 1
    first = delivered_once[0]
    assert _sent_history(tracker_cli) == []  # accepted by the server, never recorded

    # While the dead sender's claim (lease) is still running, nobody takes its rows.
    held = tracker_cli("send", now=T)
    assert held.code == 0, held
    assert "Sweep done: 0 sent" in held.out, held
    assert smtp.message_ids() == [first]

    # Once the lease has run out, the next sweep sends everything, the first again.
    later = tracker_cli("send", now="2025-03-03 09:01")
    assert later.code == 0, later
    ids = smtp.message_ids()
    assert Counter(ids)[first] == 2  # at least once at SMTP: the same Message-ID twice
    assert _duplicates(ids) == {first: 2}
    assert len(set(ids)) == expected  # no reminder lost
    resent = [m for m in smtp.messages if m.message_id == first]
    assert resent[0].rcpt_tos == resent[1].rcpt_tos
    assert resent[0].subject == resent[1].subject

    history = _sent_history(tracker_cli)
    assert len(history) == expected  # ... and exactly once in the database
    assert _duplicates([h["message_id"] for h in history]) == {}
    assert sorted(h["message_id"] for h in history) == sorted(set(ids))

    again = tracker_cli("send", now="2025-03-03 10:00")
    assert "Sweep done: 0 sent, 0 to retry, 0 failed." in again.out, again
    assert len(smtp.messages) == expected + 1
