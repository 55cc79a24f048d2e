"""Fixtures for production-shaped tests: real ``tracker`` processes, PostgreSQL, a real
SMTP server (``smtp``, tests/support/fixtures.py: a thread of the test process).

* ``tracker``       -- run the real CLI as a subprocess (``tracker(url, "send", now=T)``)
  with a clean environment: no TRACKER_* of the outer environment, HOME and the working
  directory under ``tmp_path``, SMTP settings pointing at ``smtp`` (security none).
* ``due_2000``      -- a fresh PostgreSQL database (the ``pg_url`` fixture's, so a missing
  server fails under TRACKER_REQUIRE_PG=1) holding 125 contracts imported with the real
  ``tracker import``, with exactly 2,000 messages due at :data:`T`. The import is done
  once per session into a template database and cloned (``CREATE DATABASE ... TEMPLATE``).
* ``wait_until``    -- poll a predicate (:func:`support.processes.wait_until`).
Constants live in prod_support.py, helpers in tests/support.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prod_support import (
    CONTRACTS,
    DUE_COUNT,
    DUE_ON,
    IMPORTED_AT,
    OWNER,
    SPONSOR,
    T,
    contracts_yaml,
)
from support.cli import Result
from support.postgres import clone_database, database_name, pg_server, server_url, sql
from support.processes import clean_env, run_tracker, tracker_argv, wait_until
from support.smtp import ThreadedSmtpServer

# ----------------------------------------------------------------------- fixtures


@dataclass
class Tracker:
    """Runs the real CLI in subprocesses, in the test's clean environment."""

    tmp: Path
    env: dict[str, str]

    def __call__(self, url: str, *args: str, now: str | None = None, **extra: str) -> Result:
        return run_tracker(url, *args, env={**self.env, **extra}, cwd=self.tmp, now=now)

    def popen(self, url: str, *args: str, now: str | None = None, **kwargs: Any) -> Any:
        extra = kwargs.pop("extra_env", {})
        return subprocess.Popen(
            tracker_argv(url, *args, now=now),
            env={**self.env, **extra},
            cwd=self.tmp,
            text=True,
            **kwargs,
        )


@pytest.fixture
def tracker(tmp_path: Path, smtp: ThreadedSmtpServer) -> Tracker:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(
        home,
        TRACKER_SMTP_HOST=smtp.host,
        TRACKER_SMTP_PORT=str(smtp.port),
        TRACKER_SMTP_SECURITY="none",
        TRACKER_SMTP_TIMEOUT="30",
    )
    return Tracker(tmp_path, env)


@pytest.fixture(scope="session")
def _template_2000(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """Name of a template database with 2,000 messages due at T (built on first use);
    None without a server (session fixtures run before ``pg_url``, which then fails)."""
    server = pg_server()
    if server is None:
        yield None
        return
    name = f"tracker_tpl_{uuid.uuid4().hex}"
    sql(server, f'CREATE DATABASE "{name}"')
    try:
        work = tmp_path_factory.mktemp("template")
        home = work / "home"
        home.mkdir()
        env = clean_env(home)
        url = server_url(server, name)
        source = contracts_yaml(work / "contracts.yaml", CONTRACTS, DUE_ON)
        imported = run_tracker(url, "import", str(source), env=env, cwd=work, now=IMPORTED_AT)
        assert imported.code == 0, imported
        assert f"Imported {CONTRACTS} contracts" in imported.out, imported
        # What a sweep at T would send, after collapsing: one message per decision and
        # person. (`reminders --due --json` cannot say: it lists at most 1,000 rows.)
        dry = run_tracker(url, "send", "--dry-run", env=env, cwd=work, now=T)
        assert dry.code == 0, dry
        assert f"{DUE_COUNT} messages due; nothing sent (--dry-run)." in dry.out, dry
        would = [line for line in dry.out.splitlines() if line.startswith("would send")]
        assert len(would) == DUE_COUNT
        assert sum(f"{OWNER}  (owner)" in line for line in would) == DUE_COUNT // 2
        assert sum(f"{SPONSOR}  (sponsor)" in line for line in would) == DUE_COUNT // 2
        yield name
    finally:
        sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def due_2000(pg_url: str, _template_2000: str | None) -> str:
    """``pg_url``'s database, replaced by a copy of the 2,000-due template."""
    assert _template_2000 is not None
    server = server_url(pg_url)
    name = database_name(pg_url)
    sql(server, f'DROP DATABASE "{name}" WITH (FORCE)')
    clone_database(server, name, _template_2000)
    return pg_url


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[..., Any]:
    """``wait_until(predicate, timeout, what)``: poll until truthy, return its value."""
    return wait_until
