"""Root test fixtures: database URLs for both storage backends.

* ``sqlite_url``  -- a file database under the test's ``tmp_path``.
* ``pg_url``      -- a fresh, empty PostgreSQL database per test on the server named by
  ``TRACKER_TEST_PG_URL`` (e.g. ``postgresql+asyncpg://postgres@127.0.0.1:55432/postgres``;
  start one with ``eval "$(bash .ci/postgres.sh start)"``). Dropped after the test.
  Without that variable the test is skipped -- or fails when ``TRACKER_REQUIRE_PG=1`` or
  ``CI=true``.
* ``db_url``      -- parametrised over both backends (ids ``sqlite`` / ``postgresql``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from loop_thread import run_in_thread
from sqlalchemy.engine import URL, make_url

PG_ENV = "TRACKER_TEST_PG_URL"
PG_NOT_CONFIGURED = "PostgreSQL not configured: set TRACKER_TEST_PG_URL (see .ci/postgres.sh)"

_T = TypeVar("_T")

# Backends that actually provided a database during this session (for the summary line).
_backends_used: dict[str, str] = {}
_pg_missing = False


def _pg_required() -> bool:
    return (
        os.environ.get("TRACKER_REQUIRE_PG") == "1"
        or os.environ.get("CI", "").strip().lower() == "true"
    )


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    return run_in_thread(coro, "pg-fixture")


def _masked(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _asyncpg_dsn(url: URL) -> str:
    """``postgresql+asyncpg://...`` -> ``postgresql://...`` for ``asyncpg.connect``."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: URL, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=30)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    _backends_used.setdefault("sqlite", "")
    return f"sqlite+aiosqlite:///{tmp_path}/tracker.db"


@pytest.fixture
def pg_url() -> Iterator[str]:
    global _pg_missing
    raw = os.environ.get(PG_ENV, "").strip()
    if not raw:
        _pg_missing = True
        if _pg_required():
            pytest.fail(f"{PG_NOT_CONFIGURED} (required: TRACKER_REQUIRE_PG=1 or CI=true)")
        pytest.skip(PG_NOT_CONFIGURED)

    server = make_url(raw)
    if not server.drivername.startswith("postgresql"):
        pytest.fail(f"{PG_ENV} must be a postgresql URL, got {_masked(server)}")
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+asyncpg")

    name = f"tracker_test_{uuid.uuid4().hex}"
    _run(_admin(server, f'CREATE DATABASE "{name}"'))
    _backends_used["postgresql"] = _masked(server)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        _run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of an empty database, once per storage backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _backends_used and not _pg_missing:
        return
    parts = []
    for name in ("sqlite", "postgresql"):
        if name in _backends_used:
            detail = _backends_used[name]
            parts.append(f"{name} ({detail})" if detail else name)
    line = "backends: " + (", ".join(parts) if parts else "none")
    if _pg_missing and "postgresql" not in _backends_used:
        line += f" -- postgresql NOT run: {PG_ENV} unset"
    terminalreporter.write_sep("-", "storage backends")
    terminalreporter.write_line(line)
