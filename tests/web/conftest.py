"""Fixtures for the web app's tests: a database holding the Lancashire seed, a real SMTP
server, and a real ``tracker serve`` on 127.0.0.1 with the links pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cli import LANCS_SEED, Result
from support.processes import clean_env, run_tracker
from support.smtp import ThreadedSmtpServer
from support.web import Served, serve_port, start_serve, web_env

#: The seed is imported on the day of decision 20/2024; the web app runs on 16 Sep 2024,
#: the Monday its publication is overdue and its extension notice is 14 days off.
IMPORTED = "2024-09-02"
SERVER_NOW = "2024-09-16 10:00"


@dataclass
class Site:
    url: str  # the database
    served: Served
    smtp: ThreadedSmtpServer
    tracker: Callable[..., Result]


@pytest.fixture
def site(db_url: str, tmp_path: Path, smtp: ThreadedSmtpServer) -> Iterator[Site]:
    port = serve_port()
    env = web_env(
        clean_env(
            tmp_path,
            TRACKER_SMTP_HOST=smtp.host,
            TRACKER_SMTP_PORT=str(smtp.port),
            TRACKER_SMTP_SECURITY="none",
            TRACKER_SMTP_TIMEOUT="5",
        ),
        port,
    )

    def tracker(*args: str, now: str | None = None) -> Result:
        result = run_tracker(db_url, *args, env=env, cwd=tmp_path, now=now)
        assert result.code == 0, result
        return result

    tracker("import", str(LANCS_SEED), now=IMPORTED)
    served = start_serve(db_url, env, tmp_path, port=port, now=SERVER_NOW)
    try:
        yield Site(url=db_url, served=served, smtp=smtp, tracker=tracker)
    finally:
        served.stop()
