"""`tracker run` as systemd runs it (README "Running in production"): `--log-format json`,
stopped with SIGTERM ("the message in flight is finished and recorded, then it exits").

A SQLite database (the runner is the same on both backends), the real clock, decisions
due in 20 days (owner only), digests off so the day of the week does not matter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prod_support import contracts_yaml

pytestmark = pytest.mark.slow

CONTRACTS = 3
DUE = CONTRACTS * 8


def _prepare(tracker: Any, tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/tracker.db"
    (tmp_path / "tracker.toml").write_text('[policy.digest]\nfrequency = "off"\n')
    today = datetime.now(ZoneInfo("Europe/London")).date()
    source = contracts_yaml(tmp_path / "due.yaml", CONTRACTS, today + timedelta(days=20))
    imported = tracker(url, "import", str(source))
    assert imported.code == 0, imported
    dry = tracker(url, "send", "--dry-run")
    assert f"{DUE} messages due; nothing sent" in dry.out, dry
    return url


def _start_run(tracker: Any, url: str, log_path: Path) -> Any:
    with log_path.open("w") as log:
        return tracker.popen(
            url,
            "run",
            "--log-format",
            "json",
            extra_env={"TRACKER_SWEEP_INTERVAL_SECONDS": "1", "TRACKER_SEND_BATCH_SIZE": "50"},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def _sent_ids(tracker: Any, url: str) -> list[str]:
    history = tracker(url, "reminders", "--sent", "--json")
    assert history.code == 0, history
    return [h["message_id"] for h in json.loads(history.out)]


def test_sigterm_finishes_and_records_the_message_in_flight(
    smtp: Any, tracker: Any, tmp_path: Path
) -> None:
    url = _prepare(tracker, tmp_path)
    pid: list[int] = []
    known = threading.Event()
    signalled = threading.Event()

    def stop_while_in_flight(message: Any) -> None:
        # In the server's thread, before the 250 for the first message: SIGTERM, then
        # answer a little later, as a slow relay would.
        if signalled.is_set():
            return
        assert known.wait(30)
        os.kill(pid[0], signal.SIGTERM)
        signalled.set()
        time.sleep(1.5)

    smtp.on_data = stop_while_in_flight
    log_path = tmp_path / "run.log"
    run = _start_run(tracker, url, log_path)
    pid.append(run.pid)
    known.set()
    try:
        assert run.wait(timeout=60) == 0, log_path.read_text()[-3000:]
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)
    smtp.on_data = None
    assert signalled.is_set()
    first = smtp.message_ids()[0]
    assert len(smtp.messages) == 1  # it stopped after the message in flight

    # The message in flight was finished and recorded as sent ...
    assert _sent_ids(tracker, url) == [first], log_path.read_text()[-3000:]
    # ... so the next sweep sends the rest, and not that one again.
    rest = tracker(url, "send")
    assert rest.code == 0, rest
    ids = smtp.message_ids()
    assert len(set(ids)) == DUE
    assert Counter(ids)[first] == 1, "the message in flight at SIGTERM was sent twice"
    assert "Traceback" not in log_path.read_text()


def test_json_log_lines_are_all_json(smtp: Any, tracker: Any, tmp_path: Path) -> None:
    url = _prepare(tracker, tmp_path)
    smtp.data_delay = 0.15  # the sweep outlasts the 1 s interval: ticks overlap
    log_path = tmp_path / "run.log"
    run = _start_run(tracker, url, log_path)
    try:
        deadline = time.monotonic() + 90
        while len(set(smtp.message_ids())) < DUE and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(set(smtp.message_ids())) == DUE
        time.sleep(1.5)  # one idle tick after the sweep
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, log_path.read_text()[-3000:]
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert any('"sweep done' in line for line in lines), lines[-5:]
    not_json = [line for line in lines if not line.startswith("{")]
    assert not_json == [], not_json[:5]
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry)
