"""A PostgreSQL restart under a running `tracker run` (real clock, a sweep every second):
the process stays up, logs the outage, and once the server is back sends everything
due: nothing lost, nothing recorded twice, and at most the one message in flight when
the server went away reaches the mail server twice (same Message-ID). SIGTERM then
stops it cleanly, and `tracker status` shows the instance stopped.

The test starts its own throwaway server (.ci/postgres.sh), since it stops it.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prod_support import OWNER, contracts_yaml
from sqlalchemy.engine import make_url
from support.postgres import sql

pytestmark = pytest.mark.slow

REPO = Path(__file__).parents[2]
CONTRACTS = 30  # x 8 decisions, owner only: 240 messages
DUE = CONTRACTS * 8


class OwnPostgres:
    """A server of our own from .ci/postgres.sh, which we may stop and start again."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_PG_PORT",)}
        done = subprocess.run(
            ["bash", str(REPO / ".ci" / "postgres.sh"), "start"],
            env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        if done.returncode != 0:
            # Under TRACKER_REQUIRE_PG this must fail like every PostgreSQL test; without
            # it, a machine with no PostgreSQL binaries (and not root) cannot run it.
            message = f"could not start a PostgreSQL server: {done.stderr.strip()[-1500:]}"
            if os.environ.get("TRACKER_REQUIRE_PG") == "1" or os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        exports = dict(
            shlex.split(line.removeprefix("export "))[0].split("=", 1)
            for line in done.stdout.splitlines()
            if line.startswith("export ")
        )
        self.url: str = exports["TRACKER_TEST_PG_URL"]
        self.dir = Path(exports["TRACKER_PG_DIR"])
        self.bindir = Path((self.dir / "bindir").read_text().strip())
        port = make_url(self.url).port
        self.options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={self.dir}/sock"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )

    def _pg_ctl(self, *args: str) -> None:
        argv = [str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), *args]
        if os.geteuid() == 0:  # as .ci/postgres.sh does: the server runs as postgres
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "-t", "60", "stop")

    def start(self) -> None:
        self._pg_ctl("-l", str(self.dir / "postgres.log"), "-w", "-t", "60",
                     "-o", self.options, "start")  # fmt: skip

    def remove(self) -> None:
        subprocess.run(
            ["bash", str(REPO / ".ci" / "postgres.sh"), "stop", str(self.dir)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip


def _log(path: Path) -> list[dict[str, Any]]:
    """The run's JSON log lines (APScheduler's own lines are not JSON: see
    test_prod_run_signals.py)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_tracker_run_survives_a_postgresql_restart_and_sends_everything_once(
    smtp: Any, tracker: Any, wait_until: Any, tmp_path: Path
) -> None:
    server = OwnPostgres()
    try:
        run: subprocess.Popen[str] | None = None
        try:
            url = server.url
            # Digests off: this test is about reminders, whatever day it runs on.
            (tmp_path / "tracker.toml").write_text('[policy.digest]\nfrequency = "off"\n')
            init = tracker(url, "init")
            assert init.code == 0, init
            # Decisions due in 20 days: the 90, 60 and 30-day leads have passed (collapsing
            # into the 30-day one, to the owner only), the 14-day one is days away.
            today = datetime.now(ZoneInfo("Europe/London")).date()
            source = contracts_yaml(
                tmp_path / "due-now.yaml", CONTRACTS, today + timedelta(days=20)
            )
            imported = tracker(url, "import", str(source))
            assert imported.code == 0, imported
            dry = tracker(url, "send", "--dry-run")
            assert f"{DUE} messages due; nothing sent" in dry.out, dry

            smtp.data_delay = 0.02  # a relay taking 20 ms a message: the run lasts seconds
            log_path = tmp_path / "run.log"
            with log_path.open("w") as log:
                run = tracker.popen(
                    url,
                    "run",
                    "--log-format",
                    "json",
                    extra_env={
                        "TRACKER_SWEEP_INTERVAL_SECONDS": "1",
                        "TRACKER_LEASE_SECONDS": "5",
                        "TRACKER_SEND_BATCH_SIZE": "20",
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            wait_until(lambda: len(smtp.messages) >= 40, 120, "40 messages from tracker run")

            server.stop()
            at_stop = len(smtp.messages)
            assert at_stop < DUE, "everything was sent before the outage: nothing tested"
            lines_before = len(_log(log_path))
            time.sleep(4)  # several ticks against a server that is down
            assert run.poll() is None, log_path.read_text()[-3000:]
            during = _log(log_path)[lines_before:]
            sent_during = len(smtp.messages) - at_stop
            server.start()

            wait_until(lambda: len(set(smtp.message_ids())) >= DUE, 120, "every message")

            def settled() -> bool:
                rows = sql(url, "SELECT status, count(*) AS n FROM reminders GROUP BY status")
                counts = {r["status"]: r["n"] for r in rows}
                return counts.get("sent") == DUE and counts.get("sending", 0) == 0

            wait_until(settled, 60, "the database to record every send")
            assert run.poll() is None, log_path.read_text()[-3000:]
            # Up to here (the outage included), nothing crashed and nothing printed a
            # traceback. (At SIGTERM it may: see test_prod_run_signals.py.)
            before_stop = log_path.read_text(encoding="utf-8")
            assert "Traceback" not in before_stop, before_stop[-3000:]

            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=60) == 0, log_path.read_text()[-3000:]
        finally:
            if run is not None and run.poll() is None:
                run.kill()
                run.wait(timeout=30)

        # The mail server: every due reminder, at most one twice (the one in flight when
        # the database went away), with its same Message-ID.
        ids = smtp.message_ids()
        assert len(set(ids)) == DUE
        duplicates = {i: n for i, n in Counter(ids).items() if n > 1}
        assert len(duplicates) <= 1 and all(n == 2 for n in duplicates.values()), duplicates
        assert {m.rcpt_tos for m in smtp.messages} == {(OWNER,)}
        assert sent_during <= 1, f"{sent_during} messages sent with the database down"

        # The database: each reminder sent exactly once, and the ids match the server's.
        rows = sql(
            url,
            "SELECT r.message_id, count(a.id) FILTER (WHERE a.outcome = 'sent') AS sent "
            "FROM reminders r LEFT JOIN delivery_attempts a ON a.reminder_id = r.id "
            "WHERE r.status = 'sent' GROUP BY r.id",
        )
        assert len(rows) == DUE
        assert {r["message_id"] for r in rows} == set(ids)
        assert Counter(r["sent"] for r in rows) == {1: DUE}

        # The log: the outage as error lines; a clean stop.
        entries = _log(log_path)
        assert any(e["level"] == "error" for e in during), during
        assert any("sweep failed" in e["message"] for e in during), during
        assert entries[-1]["message"] == "tracker run stopped", entries[-3:]

        status = tracker(url, "status", "--json")
        assert status.code == 0, status
        info = json.loads(status.out)
        assert [i["state"] for i in info["instances"]] == ["stopped"], info["instances"]
        assert info["reminders"]["sent"] == DUE
        assert info["reminders"]["sending"] == 0
    finally:
        server.remove()
