"""The application context every use case runs in: settings, policy, clock and database.

``now`` is fixed once per command (``--now`` or the real clock) so a command sees one
consistent moment; ``today`` is that moment's date in London, where deadlines live.
``clock()`` is ``now`` moving on in real time: leases and the sending rate are about
how long a sender has really been at work, which a fixed moment cannot see.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tracker.domain.calendar import LONDON
from tracker.errors import DatabaseUnavailable
from tracker.policy import Policy, load_policy
from tracker.settings import Settings, load_settings
from tracker.store.audit import ACTOR
from tracker.store.engine import READ_ONLY, create_engine, redact, session_factory
from tracker.store.schema import ensure_current


@dataclass
class App:
    settings: Settings
    policy: Policy
    now: datetime
    database_url: str
    #: ``--by``: who makes this command's changes (see :attr:`actor`).
    by: str | None = None
    #: Only reads (a web GET): on SQLite its transactions begin DEFERRED, so readers never
    #: queue for the write lock (see ``tracker.store.engine``); PostgreSQL is unaffected.
    read_only: bool = False
    _engine: AsyncEngine | None = field(default=None, repr=False)
    _sessions: async_sessionmaker[Any] | None = field(default=None, repr=False)
    #: (``now`` when the clock started, time.monotonic() then): see ``clock``.
    _origin: tuple[datetime, float] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Started with ``now`` itself, so two instances' clocks agree with real time.
        self._origin = (self.now, time.monotonic())

    def clock(self) -> datetime:
        """``now`` plus the real time elapsed since the clock started: what claims,
        leases, their renewal and the attempts' times use (what is *due* stays ``now``).

        ``--now`` shifts it like ``now``; setting ``now`` (the simulation steps it day
        by day) starts it again from the new moment.
        """
        if self._origin is None or self._origin[0] != self.now:
            self._origin = (self.now, time.monotonic())
        return self.now + timedelta(seconds=time.monotonic() - self._origin[1])

    @property
    def actor(self) -> str:
        """Who makes this command's changes: ``--by``, else TRACKER_ACTOR, else the OS user.

        Every change event and variation records it (``tracker.store.audit``)."""
        return self.by or self.settings.actor or os_user()

    @property
    def today(self) -> date:
        return self.now.astimezone(LONDON).date()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = create_engine(
                self.database_url, busy_timeout_ms=self.settings.sqlite_busy_timeout_ms
            )
        return self._engine

    def session(self) -> AsyncSession:
        if self._sessions is None:
            self._sessions = session_factory(self.engine)
        bind = self.engine.execution_options(**{READ_ONLY: True}) if self.read_only else None
        session: AsyncSession = self._sessions(bind=bind) if bind is not None else self._sessions()
        session.info[ACTOR] = self.actor
        return session

    async def open(self, *, check_schema: bool = True) -> None:
        """Connect and make sure the schema is current (created on first use)."""
        try:
            if check_schema:
                await ensure_current(self.engine)
            else:
                async with self.engine.connect():
                    pass
        except (OperationalError, DBAPIError, OSError) as exc:
            reason = f"cannot open it ({_first_line(exc)})"
            raise DatabaseUnavailable(redact(self.database_url), reason) from None

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessions = None


def os_user() -> str:
    """The login name of the process, or "unknown" where there is none (a container)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def database_error(url: str, exc: BaseException) -> DatabaseUnavailable:
    """One line for a database failure, with the URL's password hidden."""
    text = _first_line(exc)
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered:
        hint = "the database is read-only; nothing was written"
    elif "locked" in lowered:
        hint = "the database is busy (locked by another process); nothing was written, try again"
    else:
        hint = f"{text}; nothing was written"
    return DatabaseUnavailable(redact(url), hint)


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def make_app(
    *,
    db: str | None = None,
    config: Path | None = None,
    now: datetime | None = None,
    policy_file: Path | None = None,
    by: str | None = None,
) -> App:
    settings = load_settings(config)
    database_url = db or settings.resolved_database_url()
    if database_url.startswith("sqlite") and db is None and not settings.database_url:
        # The default embedded database lives in the user's data directory.
        settings_dir = Path(database_url.split("///", 1)[1]).parent
        settings_dir.mkdir(parents=True, exist_ok=True)
    return App(
        settings=settings,
        policy=load_policy(settings.policy, policy_file),
        now=(now or datetime.now(UTC)).astimezone(UTC),
        database_url=database_url,
        by=by,
    )


@asynccontextmanager
async def opened(app: App, *, check_schema: bool = True) -> AsyncIterator[App]:
    await app.open(check_schema=check_schema)
    try:
        yield app
    finally:
        await app.close()
