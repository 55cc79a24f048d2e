"""Secrets stay secret: the SMTP password and the database password never appear in error
lines, ``tracker run`` logs (text or JSON), ``tracker status`` or ``--json`` output -- not
even when a server echoes the password back. TLS certificates are verified by default: a
self-signed server is refused with one clear line unless verification is turned off.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import FIGURES, Tally, account, due_now_yaml, expected_ids
from support.cli import in_process
from support.people import OLIVIA, STEVE
from support.smtp import RawServer

from tracker.settings import Settings

SMTP_SECRET = "s3cr3t-Horse-Battery-7f1c9e"
DB_SECRET = "SECRETPW-db-52ab"
SEND_AT = "2025-06-23 09:00"


def _contracts(env: Any, tracker_cli: Any) -> None:
    """Two decisions due 30 Jun 2025: at SEND_AT, lead 7 for owner and sponsor (4 messages)."""
    path = env.tmp / "c.yaml"
    path.write_text(
        "contracts:\n  - ref: SEC-1\n    title: T\n    provider: P\n    start: 2024-04-01\n"
        "    end: 2027-03-31\n    owner: olivia@opcc.example.org\n"
        "    sponsor: steve@opcc.example.org\n    milestones:\n"
        "      - {kind: review, due: 2025-06-30}\n      - {kind: custom, due: 2025-06-30}\n"
    )
    result = tracker_cli("import", str(path), now="2025-03-01 10:00")
    assert result.code == 0, result


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SMTP_SECRET not in text and DB_SECRET not in text, text


def _one_line(result: Any) -> str:
    assert result.code == 1, result
    assert "Traceback" not in result.err + result.out, result
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1, result
    return str(result.err).rstrip("\n")


def echo_password_server(conn: socket.socket) -> None:
    """An SMTP server that offers AUTH PLAIN and echoes the password in its 535 reply."""
    stream = conn.makefile("rb")

    def say(line: bytes) -> None:
        conn.sendall(line + b"\r\n")

    say(b"220 echo.test ESMTP")
    for raw in stream:
        command = raw.strip()
        upper = command.upper()
        if upper.startswith((b"EHLO", b"HELO")):
            say(b"250-echo.test")
            say(b"250 AUTH PLAIN")
        elif upper.startswith(b"AUTH PLAIN"):
            parts = command.split()
            if len(parts) < 3:
                say(b"334 ")
                parts = [b"", b"", stream.readline().strip()]
            password = base64.b64decode(parts[2]).split(b"\0")[-1]
            say(b"535 5.7.8 Authentication failed for password " + password)
        elif upper.startswith(b"QUIT"):
            say(b"221 bye")
            return
        else:
            say(b"502 5.5.2 not here")


# ------------------------------------------------------------------------ SMTP password


def test_rejected_login_error_line_has_no_password(env: Any, smtp: Any, tracker_cli: Any) -> None:
    _contracts(env, tracker_cli)
    smtp.require_auth("tracker", "the-right-one")
    env.set("TRACKER_SMTP_USERNAME", "tracker")
    env.set("TRACKER_SMTP_PASSWORD", SMTP_SECRET)
    result = tracker_cli("send", now=SEND_AT)
    line = _one_line(result)
    _no_secret(result.out, result.err)
    assert "TRACKER_SMTP_PASSWORD" in line
    assert smtp.messages == []
    FIGURES.faults(happened=sum(not ok for _, ok in smtp.logins))  # logins the server refused


def test_a_server_echoing_the_password_does_not_get_it_into_the_error(
    env: Any, tracker_cli: Any, raw_smtp: Callable[..., RawServer]
) -> None:
    _contracts(env, tracker_cli)
    server = raw_smtp(echo_password_server)
    env.set("TRACKER_SMTP_PORT", str(server.port))
    env.set("TRACKER_SMTP_USERNAME", "tracker")
    env.set("TRACKER_SMTP_PASSWORD", SMTP_SECRET)
    result = tracker_cli("send", now=SEND_AT)
    line = _one_line(result)
    _no_secret(result.out, result.err)
    assert "535" in line and "***" in line, line
    assert server.connections >= 1
    FIGURES.faults(happened=1)  # the server echoed the password (the 535 line shows it)
    status = tracker_cli("status", "--json", now=SEND_AT)
    assert status.code == 0, status
    _no_secret(status.out, status.err)


@pytest.mark.slow
def test_tracker_run_logs_and_status_never_show_the_password(
    env: Any, tracker_cli: Any, raw_smtp: Callable[..., RawServer]
) -> None:
    log_format = "json"
    path = env.tmp / "due.yaml"
    path.write_text(due_now_yaml(1))
    assert tracker_cli("import", str(path)).code == 0
    server = raw_smtp(echo_password_server)
    env.set("TRACKER_SMTP_PORT", str(server.port))
    env.set("TRACKER_SMTP_USERNAME", "tracker")
    env.set("TRACKER_SMTP_PASSWORD", SMTP_SECRET)
    env.set("TRACKER_SWEEP_INTERVAL_SECONDS", "1")
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", env.db_url, "run", "--log-format", log_format],
        env=env.subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    failed = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "sweep failed" in line:
                failed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert failed.wait(30), "".join(lines)
        FIGURES.faults(happened=1)  # a sweep failed on the echoing server
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
        reader.join(5)
    logs = "".join(lines)
    _no_secret(out, logs)  # tracebacks included (see test_crash for SIGTERM mid-sweep)
    assert "535" in logs and "***" in logs, logs
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(e["level"] == "error" and "sweep failed" in e["message"] for e in entries)
    for args in (("status",), ("status", "--json")):
        status = tracker_cli(*args)
        assert status.code == 0, status
        _no_secret(status.out, status.err)
    shown = json.loads(tracker_cli("status", "--json").out)
    errors = [i["last_error"] for i in shown["instances"] if i["last_error"]]
    assert errors or any(i["state"] == "stopped" for i in shown["instances"]), shown


# ------------------------------------------------------------------- database password


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """``tracker run`` in-process sets up the "tracker" logger; put it back afterwards."""
    logger = logging.getLogger("tracker")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    try:
        yield
    finally:
        logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]


PG_URL = f"postgresql+asyncpg://tracker:{DB_SECRET}@127.0.0.1:1/tracker"

DB_COMMANDS = {
    "list": ("list",),
    "list-json": ("list", "--json"),
    "status": ("status",),
    "status-json": ("status", "--json"),
    "init": ("init",),
    "send": ("send",),
    "reminders-json": ("reminders", "--sent", "--json"),
    "cost-add": ("cost", "add", "X", "--year", "2025/26", "--amount", "5"),
    "run": ("run", "--log-format", "json"),
}


@pytest.mark.parametrize("how", ["--db", "TRACKER_DATABASE_URL"])
def test_database_password_is_masked_in_every_error_line(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "TRACKER_DATABASE_URL":
        monkeypatch.setenv("TRACKER_DATABASE_URL", PG_URL)
        prefix: list[str] = []
    else:
        prefix = ["--db", PG_URL]
    for name, args in DB_COMMANDS.items():
        with _logging_restored():
            result = in_process([*prefix, *args])
        line = _one_line(result)
        _no_secret(result.out, result.err)
        assert "***" in line, (name, line)
        assert "127.0.0.1:1" in line, (name, line)
        FIGURES.faults(happened=1)  # the command failed to reach the database


def test_status_against_a_real_postgresql_with_a_password_never_prints_it(
    pg_url: str, isolated_env: Path
) -> None:
    """A server that trusts local connections ignores the password; one that checks it
    refuses it: either way, the password is not in the output."""
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(password=DB_SECRET).render_as_string(hide_password=False)
    assert DB_SECRET in url
    init = in_process(["--db", url, "init"])
    for result in (init, in_process(["--db", url, "status", "--json"])):
        _no_secret(result.out, result.err)
        assert "Traceback" not in result.err, result
        if result.code == 0 and result.out.startswith("{"):
            assert "***" in json.loads(result.out)["database"]


def test_sqlite_status_with_smtp_credentials_set_shows_neither(env: Any, tracker_cli: Any) -> None:
    _contracts(env, tracker_cli)
    env.set("TRACKER_SMTP_USERNAME", "tracker")
    env.set("TRACKER_SMTP_PASSWORD", SMTP_SECRET)
    for args in (("status",), ("status", "--json"), ("reminders", "--json"), ("list", "--json")):
        result = tracker_cli(*args, now=SEND_AT)
        assert result.code == 0, result
        _no_secret(result.out, result.err)


def test_settings_repr_hides_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", SMTP_SECRET)
    settings = Settings()
    _no_secret(repr(settings), str(settings), settings.model_dump_json())


# ------------------------------------------------------------------------------- TLS


def test_tls_verification_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.smtp_tls_verify is True
    assert settings.smtp_security == "starttls"


def test_a_self_signed_server_is_refused_unless_verification_is_turned_off(
    env: Any, tracker_cli: Any, tls_smtp: Any
) -> None:
    _contracts(env, tracker_cli)
    env.set("TRACKER_SMTP_PORT", str(tls_smtp.port))
    env.unset("TRACKER_SMTP_SECURITY")  # the default: STARTTLS, certificate verified
    started = time.monotonic()
    result = tracker_cli("send", now=SEND_AT)
    line = _one_line(result)
    assert time.monotonic() - started < 10
    assert "certificate" in line and "TRACKER_SMTP_HOST" in line, line
    assert tls_smtp.messages == []
    FIGURES.faults(happened=1)  # the self-signed certificate was refused
    due = json.loads(tracker_cli("reminders", "--due", "--json", now="2025-06-23 09:10").out)
    assert len(due) == 4 and {r["status"] for r in due} == {"planned"}

    env.set("TRACKER_SMTP_TLS_VERIFY", "false")
    sent = tracker_cli("send", now="2025-06-23 09:10")
    assert sent.code == 0, sent
    assert "Sweep done: 4 sent, 0 to retry, 0 failed." in sent.out, sent
    assert len(tls_smtp.messages) == 4
    keys = [
        ("SEC-1", kind, person, 7) for kind in ("review", "custom") for person in (OLIVIA, STEVE)
    ]
    expected = expected_ids(env.db_path, keys)
    tally = account(env.db_path, expected=expected, wire=tls_smtp.message_ids())
    assert tally == Tally.clean(4), tally
