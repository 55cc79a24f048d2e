"""One short transaction of fixed statements, run straight on the database driver.

The sweep records every message it sends in its own transaction (an INSERT and an
UPDATE) before it sends the next one: that is what bounds a crash to one message sent
but unrecorded. Through SQLAlchemy's asyncio adapters each statement costs several
hand-offs (a cursor is made, entered, executed and closed: on aiosqlite each is a trip
to the database thread), ~0.7 ms a statement on a busy 2-core machine against 0.1 ms
for the driver's own ``execute``; benchmark 2 in ``bench/`` measured the per-message
record at a quarter of the sweep's time.

So the hot path compiles its statements once with SQLAlchemy (the same tables, types
and bind processing as everywhere else: :class:`Prepared`) and runs them on the
driver connection underneath the caller's :class:`~sqlalchemy.ext.asyncio.AsyncConnection`
(:class:`DirectConnection`): aiosqlite or asyncpg, the two drivers the product uses.
Driver errors are raised as SQLAlchemy's :class:`~sqlalchemy.exc.OperationalError`, so
callers handle them exactly as any other database error.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for one dialect: SQL text, parameter order, bind processors."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    #: Values of the statement's own literals (``status == 'sending'`` becomes a parameter).
    fixed: Mapping[str, Any]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> Prepared:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        names = tuple(compiled.positiontup or ())
        if not names or any(name not in compiled.binds for name in names):
            raise ValueError(f"{dialect.name}: not a positional statement: {compiled}")
        binds = compiled.binds
        processors = tuple(binds[name].type.bind_processor(dialect) for name in names)
        fixed = {name: binds[name].value for name in names if not binds[name].required}
        return cls(str(compiled), names, processors, fixed)

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """Positional arguments for the driver: ``params`` by name, then processed."""
        values = (params[name] if name in params else self.fixed[name] for name in self.names)
        return tuple(
            value if process is None else process(value)
            for value, process in zip(values, self.processors, strict=True)
        )


class DirectConnection:
    """The driver connection under an SQLAlchemy connection, for one hot path's transactions.

    The SQLAlchemy connection must not be in a transaction of its own while this is used.
    """

    def __init__(self, connection: AsyncConnection, driver: Any) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self._driver = driver

    @classmethod
    async def of(cls, connection: AsyncConnection) -> DirectConnection:
        raw = await connection.get_raw_connection()
        return cls(connection, raw.driver_connection)

    async def transaction(self, steps: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> list[int]:
        """Run ``steps`` in one transaction; the number of rows each changed."""
        arguments = [(prepared.sql, prepared.arguments(params)) for prepared, params in steps]
        try:
            if self.dialect.name == "postgresql":
                return await self._postgresql(arguments)
            return await self._sqlite(arguments)
        except Exception as error:
            sql = "; ".join(sql for sql, _ in arguments)
            if not self._statement_error(error):
                # The connection is in an unknown state (a dropped socket, a cancelled
                # call): the pool must not hand it out again.
                with contextlib.suppress(Exception):
                    await self.connection.invalidate()
            raise OperationalError(sql, None, error) from error

    def _statement_error(self, error: Exception) -> bool:
        """The server refused a statement (its transaction is rolled back, the connection
        is fine), as opposed to a connection that broke."""
        if self.dialect.name == "postgresql":
            import asyncpg  # type: ignore[import-untyped]

            return isinstance(error, asyncpg.PostgresError)
        return isinstance(error, sqlite3.Error)

    async def _sqlite(self, arguments: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        # BEGIN IMMEDIATE, as every write transaction of the tracker (see engine.py).
        await self._driver.execute("BEGIN IMMEDIATE")
        try:
            counts = []
            for sql, args in arguments:
                cursor = await self._driver.execute(sql, args)
                counts.append(cursor.rowcount)
            await self._driver.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                await self._driver.execute("ROLLBACK")
            raise
        return counts

    async def _postgresql(self, arguments: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        counts = []
        async with self._driver.transaction():
            for sql, args in arguments:
                status = await self._driver.execute(sql, *args)  # e.g. "UPDATE 1"
                counts.append(int(status.rsplit(" ", 1)[-1]))
        return counts
