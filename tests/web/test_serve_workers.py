"""``tracker serve --workers N``: several uvicorn processes on one port, each building the
same app from the same options (tracker/web/worker.py): the same database, ``--now``,
settings and secret key, and the same redacted access log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from support.cli import LANCS_SEED
from support.people import LANCS_OWNER
from support.processes import clean_env, run_tracker
from support.session import session_cookie
from support.web import IMPORTED, SECRET, SERVER_NOW, serve_port, start_serve, web_env

from tracker.web.auth import SESSION_COOKIE
from tracker.web.tokens import Link, Purpose, issue


def test_two_workers_serve_the_same_pages_and_log_no_token(db_url: str, tmp_path: Path) -> None:
    port = serve_port()
    env = web_env(clean_env(tmp_path), port)
    imported = run_tracker(db_url, "import", str(LANCS_SEED), env=env, cwd=tmp_path, now=IMPORTED)
    assert imported.code == 0, imported
    served = start_serve(db_url, env, tmp_path, port=port, now=SERVER_NOW, workers=2)
    try:
        token = issue(
            SECRET, Link(Purpose.DONE, LANCS_OWNER, datetime(2024, 9, 16, 8, tzinfo=UTC),
                          milestone_id=1, due=date(2024, 9, 30))
        )  # fmt: skip
        with httpx.Client(base_url=served.base_url, timeout=30) as client:
            client.cookies.set(SESSION_COOKIE, session_cookie(LANCS_OWNER, SECRET))
            for _ in range(6):
                home = client.get("/")
                # The server's --now (16 Sep 2024): the publication due 5 Sep is overdue.
                assert home.status_code == 200
                assert "5 Sep 2024" in home.text.split("Due in the next 8 weeks")[0]
            assert client.get("/contracts/LANCS-DRIVE").status_code == 200
            client.get(f"/act/{token}")
    finally:
        served.stop()
    log = served.log_text()
    assert log.count("Started server process") == 2, log
    assert log.count('"GET /" 200') == 6, log
    assert token.rsplit(".", 1)[1] not in log


def test_workers_is_a_count_of_at_least_one(db_url: str, tmp_path: Path) -> None:
    env = web_env(clean_env(tmp_path), serve_port())
    result = run_tracker(db_url, "serve", "--workers", "0", env=env, cwd=tmp_path)
    assert result.code != 0
    assert "--workers" in result.err and "at least 1" in result.err, result
