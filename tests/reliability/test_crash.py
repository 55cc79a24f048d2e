"""Crash safety of ``tracker run``: SIGKILL at random points of a batch, twenty times in a
row, then a clean run to the end -- every due reminder delivered, none recorded twice.

At the SMTP level delivery is at least once: a process killed after the server accepted a
message but before it recorded "sent" leaves its claim to run out (the lease), and the
message is sent again with the same Message-ID -- which the test server's Message-ID
records make exactly once. The database must record each reminder sent exactly once.

``tracker run`` reads the real clock (no ``--now``), so the decisions here fall due
relative to today (see ``reliability_support.due_now_yaml``).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    FIGURES,
    Tally,
    account,
    due_now_yaml,
    expected_ids,
    sent_per_reminder,
)
from support.people import OLIVIA, STEVE

KINDS = ("review", "procurement", "custom")
CONTRACTS = 15
ROUNDS = 20
BATCH = 3
SEED = 20250623


def _prepare(env: Any, tracker_cli: Any, contracts: int) -> int:
    """Import the contracts, turn digests off; the number of reminders due now."""
    path = env.tmp / "due.yaml"
    path.write_text(due_now_yaml(contracts, KINDS))
    result = tracker_cli("import", str(path))
    assert result.code == 0, result
    for person in (OLIVIA, STEVE):
        assert tracker_cli("recipient", "set", person, "--digest", "off").code == 0
    expected = contracts * len(KINDS) * 2
    dry = tracker_cli("send", "--dry-run")
    assert f"{expected} messages due" in dry.out, dry
    return expected


def _spawn(env: Any, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "tracker", "--db", env.db_url, "run", "--log-format", "json"],
            env=env.subprocess_env(),
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )


def _reminder_ids(smtp: Any) -> list[str]:
    return [m.message_id for m in smtp.messages if m.message_id.startswith("<r")]


def _statuses(db_path: Path) -> Counter[str]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT status, COUNT(*) FROM reminders GROUP BY status").fetchall()
    return Counter({status: n for status, n in rows})


@pytest.mark.slow
def test_sigkill_at_random_points_twenty_times_loses_nothing_and_records_nothing_twice(
    env: Any, smtp: Any, tracker_cli: Any, tmp_path: Path
) -> None:
    expected = _prepare(env, tracker_cli, contracts=CONTRACTS)
    assert expected == 90
    env.set("TRACKER_SWEEP_INTERVAL_SECONDS", "1")
    env.set("TRACKER_LEASE_SECONDS", "5")  # the settings' minimum
    env.set("TRACKER_SEND_BATCH_SIZE", str(BATCH))
    smtp.data_delay = 0.05  # each message takes a while: batches are in flight when killed
    rng = random.Random(SEED)
    log = tmp_path / "run.log"
    points: Counter[str] = Counter()

    for _ in range(ROUNDS):
        mode = rng.choice(["inside-data", "after-accept", "timer"])
        target = len(smtp.messages) + rng.randint(1, 3)
        delay = rng.uniform(0.0, 0.15) if mode == "after-accept" else rng.uniform(0.3, 2.5)
        process = _spawn(env, log)
        killed = threading.Event()

        def kill(
            process: subprocess.Popen[bytes] = process, killed: threading.Event = killed
        ) -> None:
            if not killed.is_set():
                killed.set()
                os.kill(process.pid, signal.SIGKILL)

        def on_data(
            received: Any,
            mode: str = mode,
            target: int = target,
            delay: float = delay,
            killed: threading.Event = killed,
            kill: Any = kill,
        ) -> None:
            # In the server's thread, before its "250": the sender has not seen the reply.
            if len(smtp.messages) < target or killed.is_set():
                return
            if mode == "inside-data":
                kill()
            elif mode == "after-accept":
                threading.Timer(delay, kill).start()

        smtp.on_data = on_data
        timer = threading.Timer(delay if mode == "timer" else 10.0, kill)
        timer.start()
        try:
            process.wait(timeout=30)
        finally:
            timer.cancel()
            smtp.on_data = None
            if process.poll() is None:
                process.kill()
                process.wait(10)
        assert process.returncode == -signal.SIGKILL, (process.returncode, log.read_text())
        points[mode] += 1
        FIGURES.faults(happened=1)  # killed mid-run (its exit status says so)

    # A clean run to the end: orphaned claims are taken over when their lease runs out.
    process = _spawn(env, log)
    try:
        deadline = time.monotonic() + 90
        while _statuses(env.db_path)["sent"] < expected and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    statuses = _statuses(env.db_path)
    assert statuses["sent"] == expected, (statuses, points)
    assert statuses["sending"] == 0 and statuses["failed"] == 0, statuses

    ids = _reminder_ids(smtp)
    assert len(set(ids)) == expected, "a due reminder was never delivered"
    repeats = {i: n for i, n in Counter(ids).items() if n > 1}
    for message_id in repeats:  # at least once at SMTP: only ever the same message again
        copies = [m for m in smtp.messages if m.message_id == message_id]
        assert len({(m.rcpt_tos, m.subject) for m in copies}) == 1, message_id

    counts = sent_per_reminder(env.db_path)
    assert [rid for rid, n in counts.items() if n > 1] == [], "recorded sent twice"
    history = json.loads(tracker_cli("reminders", "--sent", "--json").out)
    assert len(history) == expected
    assert sorted(h["message_id"] for h in history) == sorted(set(ids))
    # Every due_now_yaml decision (lead 30) to its owner and sponsor, named independently.
    keys = [
        (f"DUE/{n:03d}", kind, person, 30)
        for n in range(CONTRACTS)
        for kind in KINDS
        for person in (OLIVIA, STEVE)
    ]
    tally = account(env.db_path, expected=expected_ids(env.db_path, keys), wire=smtp.message_ids())
    assert tally == Tally.clean(expected, duplicated_on_wire=len(repeats)), tally
    assert len(repeats) <= ROUNDS * BATCH  # only what a kill left unrecorded goes again
    assert points.total() == ROUNDS
