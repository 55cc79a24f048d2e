"""Engine and session factory: one place that knows how each backend must be opened."""

from __future__ import annotations

import sqlite3
import warnings
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from tracker.errors import ConfigError

#: Busy timeout for SQLite: a second process (a sweep beside a CLI command) waits this
#: long for the write lock instead of failing at once with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Money columns are Numeric(14, 2) and amounts stay below 10**12, which SQLite's NUMERIC
# affinity holds exactly (see tracker.store.types); the generic warning does not apply.
warnings.filterwarnings("ignore", message=r"Dialect sqlite\+aiosqlite does \*not\* support Decimal")


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    """WAL lets readers work beside a writer; foreign keys make cascades real; the busy
    timeout makes a second writer wait its turn instead of failing at once."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    return on_connect


#: Execution option of a connection that only reads (``App.read_only``: a web GET).
READ_ONLY = "tracker_read_only"


def _sqlite_begin(conn: Any) -> None:
    """Take the write lock at BEGIN so two writers queue on the busy timeout.

    pysqlite's default deferred BEGIN lets two transactions read, then both try to
    upgrade to a write lock and one fails at once ("database is locked") whatever the
    timeout; BEGIN IMMEDIATE makes the second wait its turn instead. A connection that
    only reads begins DEFERRED: under WAL it reads beside the writer and never queues
    for the lock (50 browsers on the web pages would otherwise wait in line, one page
    render at a time, and the last ones past the busy timeout).
    """
    conn.exec_driver_sql(
        "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
    )


#: Oldest SQLite the queries run on: UPDATE ... RETURNING (claims) needs 3.35.
SQLITE_MINIMUM = (3, 35, 0)


def _require_sqlite(version: tuple[int, int, int], text: str) -> None:
    """One clear line instead of a syntax error deep in the first sweep."""
    if version < SQLITE_MINIMUM:
        needed = ".".join(str(n) for n in SQLITE_MINIMUM)
        raise ConfigError(
            f"database URL: SQLite {needed} or later is needed; this Python uses SQLite {text}"
        )


def create_engine(url: str, *, busy_timeout_ms: int | None = None) -> AsyncEngine:
    """An async engine for a SQLite or PostgreSQL URL, configured for this product.

    ``busy_timeout_ms`` (SQLite only) defaults to :data:`SQLITE_BUSY_TIMEOUT_MS`.
    """
    timeout_ms = SQLITE_BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database URL: {url!r} is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _require_sqlite(sqlite3.sqlite_version_info, sqlite3.sqlite_version)
        if parsed.drivername != "sqlite+aiosqlite":
            parsed = parsed.set(drivername="sqlite+aiosqlite")
        engine = create_async_engine(parsed, connect_args={"timeout": timeout_ms / 1000})
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "connect", _sqlite_pragmas(timeout_ms))

        @event.listens_for(sync_engine, "connect")
        def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin).
            dbapi_connection.isolation_level = None

        event.listen(sync_engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        if parsed.drivername != "postgresql+asyncpg":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        # JIT off: the tracker's queries are short index lookups, but a correlated subquery
        # (the sweep's due query) carries a large cost estimate that makes PostgreSQL
        # JIT-compile it, ~200 ms at every sweep for a query that runs in under 1 ms.
        return create_async_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            connect_args={"server_settings": {"jit": "off"}},
        )
    raise ConfigError(
        f"database URL: {parsed.drivername!r} is not supported (use sqlite:/// or postgresql://)"
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    """Sessions that keep loaded objects usable after commit (we print them afterwards),
    stamping each change's actor and the contract's version (``tracker.store.audit``)."""
    from tracker.store.audit import TrackerSession

    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrackerSession)


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and status output."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"
