"""Statements on the test PostgreSQL server (``TRACKER_TEST_PG_URL``), from sync code."""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy.engine import URL, make_url

from support.processes import run_in_thread

PG_ENV = "TRACKER_TEST_PG_URL"


def server_from_env() -> URL | None:
    """The server named by ``TRACKER_TEST_PG_URL`` with the asyncpg driver, or None."""
    raw = os.environ.get(PG_ENV, "").strip()
    if not raw:
        return None
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+asyncpg")
    return url


def pg_server() -> str | None:
    """:func:`server_from_env` as a string (None: the pg_url fixture fails or skips)."""
    url = server_from_env()
    return None if url is None else url.render_as_string(hide_password=False)


def asyncpg_dsn(url: str | URL) -> str:
    """``postgresql+asyncpg://...`` -> ``postgresql://...`` for ``asyncpg.connect``."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _fetch(url: str | URL, query: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=30)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


def sql(url: str | URL, query: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of one statement on the PostgreSQL database at ``url``."""
    return run_in_thread(_fetch(url, query, args), "pg-sql")


def server_url(url: str, database: str = "postgres") -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def database_name(url: str) -> str:
    name = make_url(url).database
    assert name
    return name


def clone_database(server: str, name: str, template: str) -> None:
    """CREATE DATABASE ... TEMPLATE, retrying while the template's last session ends."""
    deadline = time.monotonic() + 30
    while True:
        try:
            sql(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
        except Exception as exc:  # "source database is being accessed by other users"
            if "being accessed" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
