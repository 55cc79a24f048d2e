"""Root test fixtures: database URLs for both storage backends. Fixtures several
directories share are in :mod:`support.fixtures`, registered here as a plugin.

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL
from support.postgres import PG_ENV, server_from_env, sql

# pytest only reads pytest_plugins in the root conftest.
pytest_plugins = ["support.fixtures", "support.browser"]

PG_NOT_CONFIGURED = "PostgreSQL not configured: set TRACKER_TEST_PG_URL (see .ci/postgres.sh)"

# Backends that actually provided a database during this session (for the summary line).
_backends_used: dict[str, str] = {}
_pg_missing = False


def _pg_required() -> bool:
    return (
        os.environ.get("TRACKER_REQUIRE_PG") == "1"
        or os.environ.get("CI", "").strip().lower() == "true"
    )


def _masked(url: URL) -> str:
    return url.render_as_string(hide_password=True)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    _backends_used.setdefault("sqlite", "")
    return f"sqlite+aiosqlite:///{tmp_path}/tracker.db"


@pytest.fixture
def pg_url() -> Iterator[str]:
    global _pg_missing
    server = server_from_env()
    if server is None:
        _pg_missing = True
        if _pg_required():
            pytest.fail(f"{PG_NOT_CONFIGURED} (required: TRACKER_REQUIRE_PG=1 or CI=true)")
        pytest.skip(PG_NOT_CONFIGURED)

    if not server.drivername.startswith("postgresql"):
        pytest.fail(f"{PG_ENV} must be a postgresql URL, got {_masked(server)}")

    name = f"tracker_test_{uuid.uuid4().hex}"
    sql(server, f'CREATE DATABASE "{name}"')
    _backends_used["postgresql"] = _masked(server)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
